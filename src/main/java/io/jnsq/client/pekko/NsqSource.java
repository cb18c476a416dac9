package io.jnsq.client.pekko;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;

/**
 * A Pekko Streams {@link Source} of one channel's messages, on a {@link Consumer}. A message goes
 * downstream only when downstream asks for one; until then the handler thread that holds it waits, so
 * at most {@code max_in_flight} messages are ever taken from nsqd and not yet answered, and a slow
 * stream slows nsqd down instead of buffering. Downstream answers each message ({@link Message#finish()},
 * {@link Message#requeue}); {@link #bodies} FINs each one as it is emitted instead (at most once).
 * Cancelling the stream or {@link Control#stop()} stops the consumer (CLS, then close).
 */
public final class NsqSource {
  private NsqSource() {}

  /** The materialized value: stops the consumer and completes the stream. */
  public static final class Control {
    private final Consumer consumer;
    private final SourceQueueWithComplete<Message> queue;

    Control(Consumer consumer, SourceQueueWithComplete<Message> queue) {
      this.consumer = consumer;
      this.queue = queue;
    }

    /** Stops consuming; the stream completes once the consumer has stopped. */
    public CompletionStage<Void> stop() {
      return consumer.stopAsync().whenComplete((v, e) -> queue.complete());
    }

    /** The consumer underneath, for its stats. */
    public Consumer consumer() { return consumer; }
  }

  /**
   * Messages of {@code topic}/{@code channel} from these nsqd TCP addresses and lookupd HTTP
   * addresses (either list may be empty, not both). The consumer starts when the stream is materialized.
   */
  public static Source<Message, Control> create(String topic, String channel, ClientConfig config,
                                                List<String> nsqdTcpAddresses, List<String> lookupdHttpAddresses) {
    if (nsqdTcpAddresses.isEmpty() && lookupdHttpAddresses.isEmpty()) throw new IllegalArgumentException("no nsqd or lookupd address");
    int concurrency = config.concurrencyValue();
    return Source.<Message>queue(1, OverflowStrategy.backpressure(), Math.max(1, concurrency))
        .mapMaterializedValue(queue -> {
          Consumer consumer = new Consumer(topic, channel, config, m -> {
            m.disableAutoResponse();
            QueueOfferResult r = queue.offer(m).toCompletableFuture().join();   // waits for downstream demand
            if (r != QueueOfferResult.enqueued()) m.requeueWithoutBackoff(java.time.Duration.ZERO);   // stream is gone
          });
          queue.watchCompletion().whenComplete((d, e) -> consumer.stopAsync());
          CompletableFuture.runAsync(() -> {
            try {
              for (String a : nsqdTcpAddresses) consumer.connectToNsqd(a);
              for (String a : lookupdHttpAddresses) consumer.connectToNsqLookupd(a);
            } catch (IOException | RuntimeException e) {
              queue.fail(e);
              consumer.stopAsync();
            }
          });
          return new Control(consumer, queue);
        });
  }

  /** Bodies of {@code topic}/{@code channel}, each FINed when it is emitted. */
  public static Source<byte[], Control> bodies(String topic, String channel, ClientConfig config,
                                               List<String> nsqdTcpAddresses, List<String> lookupdHttpAddresses) {
    return create(topic, channel, config, nsqdTcpAddresses, lookupdHttpAddresses).map(m -> {
      m.finish();
      return m.body();
    });
  }
}
