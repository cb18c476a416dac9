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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.Done;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.GraphStageWithMaterializedValue;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import scala.Tuple2;

/**
 * A Pekko Streams {@link Source} of one channel's messages, on a {@link Consumer}, whose RDY follows
 * downstream demand. It starts at RDY 0 and goes to {@code max_in_flight} on downstream's first pull.
 * When downstream falls behind (half of {@code max_in_flight} delivered and waiting for a pull) or
 * stops pulling (messages waiting and no pull for 100 ms), RDY drops to 0 and nsqd stops sending; once
 * downstream pulls again and has taken all but a quarter of what waited, RDY is {@code max_in_flight}
 * again. Back-pressure thus reaches nsqd through RDY itself: at most {@code max_in_flight} messages
 * are ever out of nsqd and not yet answered, a stopped stream holds RDY 0, and a stream that keeps up
 * sends no RDY at all after the first. No handler thread waits for downstream.
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

  /** How long messages may wait with no pull from downstream before RDY goes to 0. */
  static final Duration STALL_AFTER = Duration.ofMillis(100);
  private static final String STALL_CHECK = "stall-check";

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

    private final class Logic extends TimerGraphStageLogic {
      private final int maxInFlight = config.maxInFlightValue();
      private final int high = Math.max(1, maxInFlight / 2);   // this many waiting: downstream is behind, RDY 0
      private final int low = high / 2;   // back down to this many (and pulling): RDY max_in_flight again
      private final ArrayDeque<Message> waiting = new ArrayDeque<>();   // delivered, not yet pulled
      private boolean lowered = true;   // RDY 0 until downstream's first pull
      private long pulls;
      private long pullsAtCheck = -1;   // pulls when the stall check was scheduled, -1 if none is
      // handler threads add here and wake the stage (one wake at a time); the stage takes them in order
      private final ConcurrentLinkedQueue<Message> incoming = new ConcurrentLinkedQueue<>();
      private final AtomicBoolean wakePending = new AtomicBoolean();
      private final AsyncCallback<Done> onIncoming = createAsyncCallback(d -> takeIncoming());
      private final AsyncCallback<Throwable> onFailure = createAsyncCallback(this::failed);
      private final Consumer consumer;
      private final Control control;
      private volatile boolean finished;   // written by the stage only

      Logic() {
        super(shape);
        // starts at RDY 0: nothing is taken from nsqd before downstream's first pull
        consumer = new Consumer(topic, channel, config, m -> {
          m.disableAutoResponse();
          incoming.add(m);
          if (finished) requeueIncoming();   // the stage stopped: it may not take this one any more
          else if (wakePending.compareAndSet(false, true)) onIncoming.invoke(Done.getInstance());
        });
        consumer.changeMaxInFlight(0);
        control = new Control(consumer);
        setHandler(out, new AbstractOutHandler() {
          @Override public void onPull() {
            pulls++;
            Message m = waiting.poll();
            if (m != null) push(out, m);
            if (lowered && waiting.size() <= low) setRdy(false);
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

      private void takeIncoming() {
        wakePending.set(false);   // before taking, so a message added after this wakes the stage again
        Message m;
        while (!finished && (m = incoming.poll()) != null) arrived(m);
      }

      /** Sends back what the stage will not take (after it stopped: set finished first, then drain). */
      private void requeueIncoming() {
        Message m;
        while ((m = incoming.poll()) != null) m.requeueWithoutBackoff(Duration.ZERO);
      }

      private void arrived(Message m) {
        if (isAvailable(out) && waiting.isEmpty()) {
          push(out, m);
          return;
        }
        waiting.add(m);
        if (lowered) return;
        if (waiting.size() >= high) setRdy(true);
        else if (pullsAtCheck < 0) scheduleStallCheck();
      }

      private void scheduleStallCheck() {
        pullsAtCheck = pulls;
        scheduleOnce(STALL_CHECK, STALL_AFTER);
      }

      /** Messages have waited STALL_AFTER: if downstream pulled none meanwhile it has stopped, so RDY 0. */
      @Override public void onTimer(Object key) {
        boolean stopped = pulls == pullsAtCheck;
        pullsAtCheck = -1;
        if (finished || lowered || waiting.isEmpty()) return;
        if (stopped) setRdy(true);
        else scheduleStallCheck();
      }

      private void failed(Throwable e) {
        shutDown();
        failStage(e);
      }

      private void setRdy(boolean lower) {
        if (finished) return;
        lowered = lower;
        consumer.changeMaxInFlight(lower ? 0 : maxInFlight);
      }

      private void shutDown() {
        if (finished) return;
        finished = true;
        consumer.changeMaxInFlight(0);
        Message m;
        while ((m = waiting.poll()) != null) m.requeueWithoutBackoff(Duration.ZERO);
        requeueIncoming();
        consumer.stopAsync();
      }
    }
  }
}
