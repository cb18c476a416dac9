package io.jnsq.client.pekko;

import io.jnsq.client.Producer;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Pekko Streams stages that publish with a {@link Producer}: up to {@code parallelism} publishes are
 * under way at once, which the producer batches into MPUBs, and an element counts as done only once
 * nsqd has said OK. A refused publish fails the stream with the {@link io.jnsq.client.NsqException}.
 */
public final class NsqSink {
  private NsqSink() {}

  /** A flow that publishes each body to {@code topic} and emits it, in order, once nsqd has accepted it. */
  public static Flow<byte[], byte[], NotUsed> publish(Producer producer, String topic, int parallelism) {
    return Flow.<byte[]>create().mapAsync(parallelism, body -> producer.publish(topic, body).thenApply(ok -> body));
  }

  /** A sink that publishes each body to {@code topic}; it completes when the last one is accepted. */
  public static Sink<byte[], CompletionStage<Done>> create(Producer producer, String topic, int parallelism) {
    return publish(producer, topic, parallelism).toMat(Sink.ignore(), Keep.right());
  }
}
