package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One NSQ channel: its own copy of a topic's stream, shared by its consumers. It owns the queue, the
 * in-flight table (ordered by deadline), the deferred set and every consumer's RDY and in-flight count,
 * and hands messages out in batches: one {@link Deliveries} per consumer per dispatch round.
 *
 * <p>Unlike nsqd, a consumer that disconnects has its in-flight messages requeued at once rather than
 * after msg-timeout, so another consumer gets them without waiting.
 */
public final class Channel {

  /** Everything a channel understands. */
  public sealed interface Command {}

  /** Messages from the topic, to queue at once. */
  public record Put(List<Message> messages) implements Command {}

  /** Messages from the topic to hold back for {@code delayNanos} (DPUB, or a deferred publish held by a paused topic). */
  public record PutDeferred(List<Message> messages, long delayNanos) implements Command {}

  /** A connection subscribes; answered with {@link Subscribed} or {@link SubscribeRefused} to {@code consumer}. */
  public record Subscribe(ClientInfo info, ActorRef<ConsumerEvent> consumer, Duration msgTimeout) implements Command {}

  /** RDY: how many messages may be in flight to this connection at once. */
  public record Ready(long connectionId, long count) implements Command {}

  /** FIN/REQ/TOUCH of one connection, in the order sent; answered with one {@link OpsDone}. */
  public record Operate(long connectionId, List<Op> ops) implements Command {}

  /** CLS: stop sending to this connection; it may still FIN, REQ and TOUCH. */
  public record StartClose(long connectionId) implements Command {}

  /** The connection is gone: its in-flight messages go back to the queue at once. */
  public record Unsubscribe(long connectionId) implements Command {}

  /** Pause or unpause delivery. */
  public record SetPaused(boolean paused, ActorRef<Done> replyTo) implements Command {}

  /** Drop every queued, deferred and in-flight message. */
  public record Empty(ActorRef<Done> replyTo) implements Command {}

  /** Close every consumer, drop everything and stop. */
  public record Delete(ActorRef<Done> replyTo) implements Command {}

  /** A snapshot for {@code /stats}. */
  public record GetStats(boolean includeClients, ActorRef<Stats.Channel> replyTo) implements Command {}

  private record Scan() implements Command {}

  private record ConsumerTerminated(long connectionId) implements Command {}

  /** One of FIN, REQ, TOUCH; {@code id} is meaningful only when {@code hexId} held a parsable id. */
  public sealed interface Op {
    long id();
    String rawId();
    boolean parsed();
  }

  /** FIN. */
  public record Fin(long id, String rawId, boolean parsed) implements Op {}

  /** REQ with a delay already clamped to max-req-timeout. */
  public record Req(long id, String rawId, boolean parsed, long delayMs) implements Op {}

  /** TOUCH. */
  public record Touch(long id, String rawId, boolean parsed) implements Op {}

  /** What a channel tells a subscribed connection. */
  public sealed interface ConsumerEvent {}

  /** The subscription took; {@code channel} is where RDY, FIN and the rest go. */
  public record Subscribed(ActorRef<Command> channel) implements ConsumerEvent {}

  /** The subscription was refused; {@code error} is the whole error frame text. */
  public record SubscribeRefused(String error) implements ConsumerEvent {}

  /** Messages to write, attempts already counted. */
  public record Deliveries(List<Message> messages) implements ConsumerEvent {}

  /** The outcome of one {@link Operate}: error frame texts (non-fatal) in op order, empty when all went well. */
  public record OpsDone(List<String> errors) implements ConsumerEvent {}

  /** The channel was deleted: nsqd closes its consumers' connections. */
  public record ChannelGone() implements ConsumerEvent {}

  private static final Duration SCAN_INTERVAL = Duration.ofMillis(100);
  private static final String SCAN_KEY = "scan";

  /** A channel named {@code name} of {@code topic}, which it tells how many topic messages left its queue. */
  public static Behavior<Command> create(
      String topicName, String name, ActorRef<Topic.Command> topic, ChannelSettings settings, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new Channel(ctx, timers, topicName, name, topic, settings, clock).running()));
  }

  private static final class Consumer {
    final ClientInfo info;
    final ActorRef<ConsumerEvent> ref;
    final long msgTimeoutNanos;
    long ready;
    long inFlight;
    long messageCount;
    long finishCount;
    long requeueCount;
    boolean closing;
    List<Message> batch;

    Consumer(ClientInfo info, ActorRef<ConsumerEvent> ref, long msgTimeoutNanos) {
      this.info = info;
      this.ref = ref;
      this.msgTimeoutNanos = msgTimeoutNanos;
    }

    long capacity() { return closing ? 0 : ready - inFlight; }
  }

  private record DeferredEntry(long due, long seq, Message message) {}

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final String topicName;
  private final String name;
  private final ActorRef<Topic.Command> topic;
  private final ChannelSettings settings;
  private final Clock clock;
  private final boolean ephemeral;
  private final long maxMsgTimeoutNanos;

  // All owned by this actor alone.
  private final ArrayDeque<Message> queue = new ArrayDeque<>();
  private final PriorityQueue<DeferredEntry> deferred = new PriorityQueue<>(
      (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
  private final HashMap<Long, InFlightHeap.Entry> inFlight = new HashMap<>();
  private final InFlightHeap deadlines = new InFlightHeap();
  private final LinkedHashMap<Long, Consumer> consumers = new LinkedHashMap<>();
  private final LatencyWindow latency;
  private long deferredSeq;
  private boolean paused;
  private boolean scanning;
  private long drainedFromTopic;
  private long messageCount;
  private long requeueCount;
  private long timeoutCount;
  private int rotation;

  private Channel(ActorContext<Command> ctx, TimerScheduler<Command> timers, String topicName, String name,
      ActorRef<Topic.Command> topic, ChannelSettings settings, Clock clock) {
    this.ctx = ctx;
    this.timers = timers;
    this.topicName = topicName;
    this.name = name;
    this.topic = topic;
    this.settings = settings;
    this.clock = clock;
    this.ephemeral = name.endsWith("#ephemeral");
    this.maxMsgTimeoutNanos = settings.maxMsgTimeout().toNanos();
    this.latency = new LatencyWindow(settings.e2ePercentiles(), settings.e2eWindow().toNanos(), clock.nanoTime());
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Put.class, this::onPut)
        .onMessage(PutDeferred.class, this::onPutDeferred)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Ready.class, this::onReady)
        .onMessage(Operate.class, this::onOperate)
        .onMessage(StartClose.class, this::onStartClose)
        .onMessage(Unsubscribe.class, u -> removeConsumer(u.connectionId()))
        .onMessage(ConsumerTerminated.class, t -> removeConsumer(t.connectionId()))
        .onMessage(Scan.class, this::onScan)
        .onMessage(SetPaused.class, this::onSetPaused)
        .onMessage(Empty.class, this::onEmpty)
        .onMessage(Delete.class, this::onDelete)
        .onMessage(GetStats.class, this::onGetStats)
        .build();
  }

  private Behavior<Command> onPut(Put put) {
    List<Message> messages = put.messages();
    messageCount += messages.size();
    for (Message m : messages) {
      if (ephemeral && queue.size() >= settings.memQueueSize()) {
        drainedFromTopic++;   // nsqd drops what an ephemeral channel cannot hold in memory
      } else {
        queue.add(m);
      }
    }
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onPutDeferred(PutDeferred put) {
    messageCount += put.messages().size();
    long due = clock.nanoTime() + put.delayNanos();
    for (Message m : put.messages()) deferred.add(new DeferredEntry(due, deferredSeq++, m));
    ensureScanning();
    return Behaviors.same();
  }

  private Behavior<Command> onSubscribe(Subscribe sub) {
    long id = sub.info().connectionId();
    if (settings.maxChannelConsumers() > 0 && consumers.size() >= settings.maxChannelConsumers()
        && !consumers.containsKey(id)) {
      sub.consumer().tell(new SubscribeRefused("E_SUB_FAILED SUB failed consumers for " + topicName + ":" + name
          + " exceeds limit of " + settings.maxChannelConsumers()));
      return Behaviors.same();
    }
    consumers.put(id, new Consumer(sub.info(), sub.consumer(), sub.msgTimeout().toNanos()));
    ctx.watchWith(sub.consumer(), new ConsumerTerminated(id));
    sub.consumer().tell(new Subscribed(ctx.getSelf()));
    return Behaviors.same();
  }

  private Behavior<Command> onReady(Ready rdy) {
    Consumer c = consumers.get(rdy.connectionId());
    if (c != null && !c.closing) {
      c.ready = rdy.count();
      dispatch();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onOperate(Operate op) {
    Consumer c = consumers.get(op.connectionId());
    List<String> errors = List.of();
    long now = clock.nanoTime();
    for (Op o : op.ops()) {
      String error = apply(op.connectionId(), c, o, now);
      if (error != null) {
        if (errors.isEmpty()) errors = new ArrayList<>();
        errors.add(error);
      }
    }
    if (c != null) c.ref.tell(new OpsDone(errors.isEmpty() ? List.of() : List.copyOf(errors)));
    dispatch();
    return Behaviors.same();
  }

  /** Applies one op; returns the non-fatal error frame text, or null. */
  private String apply(long connectionId, Consumer c, Op o, long now) {
    InFlightHeap.Entry e = o.parsed() ? inFlight.get(o.id()) : null;
    String problem = e == null ? "ID not in flight" : e.connectionId != connectionId ? "client does not own message" : null;
    if (problem != null) {
      if (o instanceof Fin) return "E_FIN_FAILED FIN " + o.rawId() + " failed " + problem;
      if (o instanceof Req) return "E_REQ_FAILED REQ " + o.rawId() + " failed " + problem;
      return "E_TOUCH_FAILED TOUCH " + o.rawId() + " failed " + problem;
    }
    if (o instanceof Touch) {
      e.deadline = Math.min(now + c.msgTimeoutNanos, e.deliveredAt + maxMsgTimeoutNanos);
      deadlines.update(e);
      return null;
    }
    inFlight.remove(o.id());
    deadlines.remove(e);
    c.inFlight--;
    if (o instanceof Fin) {
      c.finishCount++;
      latency.record(clock.epochNanos() - e.message.timestamp(), now);
    } else {
      long delayMs = ((Req) o).delayMs();
      c.requeueCount++;
      requeueCount++;
      if (delayMs <= 0) {
        queue.add(e.message);
      } else {
        deferred.add(new DeferredEntry(now + delayMs * 1_000_000L, deferredSeq++, e.message));
      }
    }
    return null;
  }

  private Behavior<Command> onStartClose(StartClose cls) {
    Consumer c = consumers.get(cls.connectionId());
    if (c != null) {
      c.closing = true;
      c.ready = 0;
    }
    return Behaviors.same();
  }

  private Behavior<Command> removeConsumer(long connectionId) {
    Consumer c = consumers.remove(connectionId);
    if (c == null) return Behaviors.same();
    ctx.unwatch(c.ref);
    if (c.inFlight > 0) {
      List<InFlightHeap.Entry> owned = new ArrayList<>();
      for (InFlightHeap.Entry e : inFlight.values()) if (e.connectionId == connectionId) owned.add(e);
      owned.sort((a, b) -> Long.compare(a.deliveredAt, b.deliveredAt));
      for (InFlightHeap.Entry e : owned) {
        inFlight.remove(e.message.id());
        deadlines.remove(e);
        queue.add(e.message);
      }
    }
    if (ephemeral && consumers.isEmpty()) {
      reportDrained(true);
      return Behaviors.stopped();   // the topic sees Terminated and forgets this channel
    }
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onScan(Scan scan) {
    long now = clock.nanoTime();
    InFlightHeap.Entry e;
    while ((e = deadlines.peek()) != null && e.deadline <= now) {
      deadlines.remove(e);
      inFlight.remove(e.message.id());
      Consumer c = consumers.get(e.connectionId);
      if (c != null) c.inFlight--;
      timeoutCount++;
      queue.add(e.message);
    }
    DeferredEntry d;
    while ((d = deferred.peek()) != null && d.due <= now) {
      deferred.poll();
      queue.add(d.message);
    }
    dispatch();
    if (deadlines.isEmpty() && deferred.isEmpty()) {
      timers.cancel(SCAN_KEY);
      scanning = false;
    }
    return Behaviors.same();
  }

  private Behavior<Command> onSetPaused(SetPaused p) {
    paused = p.paused();
    dispatch();
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onEmpty(Empty empty) {
    for (Message m : queue) if (m.attempts() == 0) drainedFromTopic++;
    for (DeferredEntry d : deferred) if (d.message.attempts() == 0) drainedFromTopic++;
    queue.clear();
    deferred.clear();
    inFlight.clear();
    deadlines.clear();
    for (Consumer c : consumers.values()) c.inFlight = 0;
    reportDrained(true);
    empty.replyTo().tell(Done.getInstance());
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onDelete(Delete delete) {
    for (Consumer c : consumers.values()) c.ref.tell(new ChannelGone());
    delete.replyTo().tell(Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> onGetStats(GetStats get) {
    long now = clock.nanoTime();
    List<Stats.Client> clients = null;
    if (get.includeClients()) {
      clients = new ArrayList<>(consumers.size());
      for (Consumer c : consumers.values()) {
        clients.add(new Stats.Client(c.info, c.closing ? 4 : 3, c.ready, c.inFlight, c.messageCount,
            c.finishCount, c.requeueCount));
      }
    }
    get.replyTo().tell(new Stats.Channel(name, queue.size(), 0, inFlight.size(), deferred.size(), messageCount,
        requeueCount, timeoutCount, consumers.size(), clients, paused, latency.snapshot(now)));
    return Behaviors.same();
  }

  /**
   * Hands queued messages to consumers with room (in-flight below RDY), in fair shares, then sends each
   * consumer its whole share as one {@link Deliveries}: one actor message per consumer per round.
   */
  private void dispatch() {
    if (!paused && !queue.isEmpty() && !consumers.isEmpty()) {
      List<Consumer> ready = new ArrayList<>(consumers.size());
      for (Consumer c : consumers.values()) if (c.capacity() > 0) ready.add(c);
      if (!ready.isEmpty()) {
        long now = clock.nanoTime();
        int n = ready.size();
        int start = Math.floorMod(rotation++, n);
        boolean progress = true;
        while (progress && !queue.isEmpty()) {
          progress = false;
          long share = Math.max(1, queue.size() / n);
          for (int i = 0; i < n && !queue.isEmpty(); i++) {
            Consumer c = ready.get((start + i) % n);
            long take = Math.min(share, c.capacity());
            for (long k = 0; k < take && !queue.isEmpty(); k++) {
              hand(c, queue.poll(), now);
              progress = true;
            }
          }
        }
        for (Consumer c : ready) {
          if (c.batch != null) {
            c.ref.tell(new Deliveries(c.batch));
            c.batch = null;
          }
        }
      }
    }
    if (!deadlines.isEmpty()) ensureScanning();
    reportDrained(false);
  }

  private void hand(Consumer c, Message m, long now) {
    if (m.attempts() == 0) drainedFromTopic++;
    int rate = c.info.sampleRate();
    if (rate > 0 && ThreadLocalRandom.current().nextInt(100) > rate) return;   // sampled out, as nsqd does
    Message sent = m.withNextAttempt();
    InFlightHeap.Entry e = new InFlightHeap.Entry(sent, c.info.connectionId(), now, now + c.msgTimeoutNanos);
    inFlight.put(sent.id(), e);
    deadlines.add(e);
    c.inFlight++;
    c.messageCount++;
    if (c.batch == null) c.batch = new ArrayList<>();
    c.batch.add(sent);
  }

  private void ensureScanning() {
    if (!scanning) {
      timers.startTimerWithFixedDelay(SCAN_KEY, new Scan(), SCAN_INTERVAL);
      scanning = true;
    }
  }

  /** Gives the topic back credit for topic messages that left the queue, so it can bound memory. */
  private void reportDrained(boolean always) {
    if (drainedFromTopic > 0 || always) {
      topic.tell(new Topic.ChannelDrained(name, drainedFromTopic));
      drainedFromTopic = 0;
    }
  }
}
