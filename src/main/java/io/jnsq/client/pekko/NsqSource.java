package io.jnsq.client.pekko;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.GraphStageWithMaterializedValue;
import scala.Tuple2;
import scala.jdk.javaapi.FutureConverters;

/**
 * A Pekko Streams {@link Source} of one channel's messages, on a {@link Consumer}, whose RDY follows
 * downstream demand: while downstream pulls (or nothing is waiting for it) the consumer's RDY is
 * {@code max_in_flight}; as soon as downstream stops pulling and a message is waiting, RDY drops to 0,
 * so nsqd stops sending, and it goes back up once downstream has taken what was waiting. Back-pressure
 * thus reaches nsqd through RDY itself: at most {@code max_in_flight} messages are ever out of nsqd
 * and not yet answered, and a stopped stream holds RDY 0. No handler thread waits for downstream.
 * Downstream answers each message ({@link Message#finish()}, {@link Message#requeue}); {@link #bodies}
 * FINs each one as it is emitted instead (at most once). Cancelling the stream or
 * {@link Control#stop()} requeues what downstream has not taken and stops the consumer (CLS, then
 * close) once the messages it took are answered.
 */
public final class NsqSource {
  private NsqSource() {}

  /** The materialized value: stops the consumer and completes the stream. */
  public static final class Control {
    private final Consumer consumer;
    private final CompletableFuture<AsyncCallback<Done>> stopper = new CompletableFuture<>();

    Control(Consumer consumer) {
      this.consumer = consumer;
    }

    /** Stops consuming; completes once the consumer has stopped, and the stream completes. */
    public CompletionStage<Void> stop() {
      stopper.thenAccept(cb -> cb.invoke(Done.getInstance()));
      return consumer.stopped();
    }

    /** The consumer underneath, for its stats and its current RDY ({@link Consumer#maxInFlight()}). */
    public Consumer consumer() { return consumer; }
  }

  /**
   * Messages of {@code topic}/{@code channel} from these nsqd TCP addresses and lookupd HTTP
   * addresses (either list may be empty, not both). The consumer starts when the stream is materialized.
   */
  public static Source<Message, Control> create(String topic, String channel, ClientConfig config,
                                                List<String> nsqdTcpAddresses, List<String> lookupdHttpAddresses) {
    if (nsqdTcpAddresses.isEmpty() && lookupdHttpAddresses.isEmpty()) throw new IllegalArgumentException("no nsqd or lookupd address");
    return Source.fromGraph(new Stage(topic, channel, config, List.copyOf(nsqdTcpAddresses), List.copyOf(lookupdHttpAddresses)));
  }

  /** Bodies of {@code topic}/{@code channel}, each FINed when it is emitted. */
  public static Source<byte[], Control> bodies(String topic, String channel, ClientConfig config,
                                               List<String> nsqdTcpAddresses, List<String> lookupdHttpAddresses) {
    return create(topic, channel, config, nsqdTcpAddresses, lookupdHttpAddresses).map(m -> {
      m.finish();
      return m.body();
    });
  }

  private static final class Stage extends GraphStageWithMaterializedValue<SourceShape<Message>, Control> {
    private final Outlet<Message> out = Outlet.create("NsqSource.out");
    private final SourceShape<Message> shape = SourceShape.of(out);
    private final String topic;
    private final String channel;
    private final ClientConfig config;
    private final List<String> nsqds;
    private final List<String> lookupds;

    Stage(String topic, String channel, ClientConfig config, List<String> nsqds, List<String> lookupds) {
      this.topic = topic;
      this.channel = channel;
      this.config = config;
      this.nsqds = nsqds;
      this.lookupds = lookupds;
    }

    @Override public SourceShape<Message> shape() { return shape; }

    @Override
    public Tuple2<GraphStageLogic, Control> createLogicAndMaterializedValue(Attributes attributes) {
      Logic logic = new Logic();
      return new Tuple2<>(logic, logic.control);
    }

    private final class Logic extends GraphStageLogic {
      private final int maxInFlight = config.maxInFlightValue();
      private final ArrayDeque<Message> waiting = new ArrayDeque<>();   // delivered, not yet pulled
      private final AsyncCallback<Message> onMessage = createAsyncCallback(this::arrived);
      private final AsyncCallback<Throwable> onFailure = createAsyncCallback(this::failed);
      private final Consumer consumer;
      private final Control control;
      private boolean finished;

      Logic() {
        super(shape);
        // starts at RDY 0: nothing is taken from nsqd before downstream's first pull
        consumer = new Consumer(topic, channel, config, m -> {
          m.disableAutoResponse();
          // a message that comes after the stage stopped goes back to nsqd, so the consumer's stop need not wait for it
          FutureConverters.asJava(onMessage.invokeWithFeedback(m)).whenComplete((done, stopped) -> {
            if (stopped != null) m.requeueWithoutBackoff(Duration.ZERO);
          });
        });
        consumer.changeMaxInFlight(0);
        control = new Control(consumer);
        setHandler(out, new AbstractOutHandler() {
          @Override public void onPull() {
            Message m = waiting.poll();
            if (m != null) push(out, m);
            adjustRdy();
          }

          @Override public void onDownstreamFinish(Throwable cause) {
            shutDown();
            completeStage();
          }
        });
      }

      @Override public void preStart() {
        control.stopper.complete(createAsyncCallback(done -> {
          shutDown();
          completeStage();
        }));
        CompletableFuture.runAsync(() -> {
          try {
            for (String a : nsqds) consumer.connectToNsqd(a);
            for (String a : lookupds) consumer.connectToNsqLookupd(a);
          } catch (IOException | RuntimeException e) {
            onFailure.invoke(e);
          }
        });
      }

      @Override public void postStop() {
        shutDown();   // also when the stream is torn down abruptly
      }

      private void arrived(Message m) {
        if (finished) {
          m.requeueWithoutBackoff(Duration.ZERO);
          return;
        }
        if (isAvailable(out) && waiting.isEmpty()) push(out, m);
        else waiting.add(m);
        adjustRdy();
      }

      private void failed(Throwable e) {
        shutDown();
        failStage(e);
      }

      /** RDY 0 once downstream stops pulling with a message waiting; max_in_flight otherwise. */
      private void adjustRdy() {
        if (finished) return;
        boolean stalled = !isAvailable(out) && !waiting.isEmpty();
        consumer.changeMaxInFlight(stalled ? 0 : maxInFlight);
      }

      private void shutDown() {
        if (finished) return;
        finished = true;
        consumer.changeMaxInFlight(0);
        Message m;
        while ((m = waiting.poll()) != null) m.requeueWithoutBackoff(Duration.ZERO);
        consumer.stopAsync();
      }
    }
  }
}
