package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import io.jnsq.storage.DiskQueue;
import io.jnsq.storage.Health;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.Syncs;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NSQ channel: its own copy of a topic's stream, shared by its consumers. It owns the queue, the
 * in-flight table (ordered by deadline), the deferred set and every consumer's RDY and in-flight count,
 * and hands messages out in batches: one {@link Deliveries} per consumer per dispatch round.
 *
 * <p>Its queue keeps up to {@code --mem-queue-size} messages in memory; beyond that (and while anything
 * is on disk, so that order is kept) messages go to the channel's own disk queue, which is read back
 * as consumers have room. Every message the topic sends is reported back as stored, which is what
 * lets the topic bound what is in transit. With {@code --durable}, every message goes through the
 * disk queue, is reported stored only after an fsync, and stays on disk until a consumer finishes it,
 * so in-flight, requeued and deferred messages survive a crash too.
 *
 * <p>Unlike nsqd, a consumer that disconnects has its in-flight messages requeued at once rather than
 * after msg-timeout, so another consumer gets them without waiting.
 */
public final class Channel {
  private static final Logger log = LoggerFactory.getLogger(Channel.class);

  /** Everything a channel understands. */
  public sealed interface Command {}

  /** Messages from the topic, to queue at once; {@code seq} is the topic's disk read sequence of the last, or -1. */
  public record Put(List<Message> messages, long seq) implements Command {}

  /** Messages from the topic to hold back for {@code delayNanos} (DPUB, or a deferred publish held by the topic). */
  public record PutDeferred(List<Message> messages, long delayNanos, long seq) implements Command {}

  /** Shutdown: stop delivering and write every unfinished message (queued, in flight, deferred) to disk. */
  public record Persist(ActorRef<Done> replyTo) implements Command {}

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

  /** The next {@code count} queued messages in delivery order, left where they are. */
  public record Peek(int count, ActorRef<Peeked> replyTo) implements Command {}

  /** Most bytes of message bodies one peek reads from disk (on the channel's own thread). */
  private static final long PEEK_DISK_BYTES = 4L << 20;

  /** A peeked message and whether it still sits in the disk queue. */
  public record Queued(Message message, boolean onDisk) {}

  /** What {@link Peek} saw: the messages and the channel's whole depth (memory and disk). */
  public record Peeked(List<Queued> messages, long depth) {}

  private record Scan() implements Command {}

  private record SyncFinished(DiskQueue.SyncJob job) implements Command {}

  private record SyncTick() implements Command {}

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
  private static final int READ_BATCH = 2048;

  /** A channel named {@code name} of {@code topic}, which it tells how many topic messages left its queue. */
  public static Behavior<Command> create(String topicName, String name, ActorRef<Topic.Command> topic,
      ChannelSettings settings, Clock clock, Persistence persistence, boolean paused) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new Channel(ctx, timers, topicName, name, topic, settings, clock, persistence, paused).running()));
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

  /** What the topic sent that is stored but not yet reported (durable: waiting for an fsync). */
  private static final class Credit {
    long count;
    long bytes;
    long seq = -1;

    void add(List<Message> messages, long topicSeq) {
      count += messages.size();
      for (Message m : messages) bytes += m.body().size();
      if (topicSeq > seq) seq = topicSeq;
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final String topicName;
  private final String name;
  private final ActorRef<Topic.Command> topic;
  private final ChannelSettings settings;
  private final Clock clock;
  private final boolean ephemeral;
  private final long maxMsgTimeoutNanos;
  private final Persistence persistence;
  private final boolean durable;
  private DiskQueue disk;          // null: ephemeral, or the disk could not be opened
  private Syncs syncs;
  private Credit credit = new Credit();
  private Credit syncingCredit;
  // Durable: the disk read sequence of each message read from disk and not yet finished, so the
  // committed read position never passes an unfinished message.
  private final HashMap<Long, Long> diskSeqOf = new HashMap<>();
  private final ArrayDeque<Long> unfinishedSeqs = new ArrayDeque<>();
  private final HashSet<Long> finishedSeqs = new HashSet<>();
  private boolean closed;
  private boolean reportedFull;
  private String diskError;

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
  private long messageCount;
  private long requeueCount;
  private long timeoutCount;
  private int rotation;

  private Channel(ActorContext<Command> ctx, TimerScheduler<Command> timers, String topicName, String name,
      ActorRef<Topic.Command> topic, ChannelSettings settings, Clock clock, Persistence persistence, boolean paused) {
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
    this.persistence = persistence;
    this.durable = persistence.durable() && !ephemeral;
    this.paused = paused;
    if (!ephemeral) {
      try {
        disk = persistence.open(topicName + ":" + name);
        syncs = new Syncs(disk, persistence.io(), persistence.queue().syncTimeout().toNanos(), clock.nanoTime(),
            durable);
        timers.startTimerWithFixedDelay(new SyncTick(), persistence.queue().syncTimeout());
      } catch (IOException | RuntimeException e) {
        reportDisk("opening the disk queue of channel " + topicName + ":" + name + " failed: " + e);
      }
    }
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
        .onMessage(Peek.class, this::onPeek)
        .onMessage(SyncFinished.class, this::onSyncFinished)
        .onMessage(SyncTick.class, t -> {
          if (diskError != null && !closed) retryDisk();
          if (disk != null && disk.dirty() && !closed) sync(false);
          return Behaviors.same();
        })
        .onMessage(Persist.class, this::onPersist)
        .build();
  }

  private Behavior<Command> onPut(Put put) {
    List<Message> messages = put.messages();
    messageCount += messages.size();
    if (closed) {
      toDisk(messages, 0);   // after shutdown began: straight to disk, nothing more is delivered
    } else if (durable) {
      if (!toDisk(messages, 0)) queue.addAll(messages);
    } else {
      List<Message> spill = null;
      for (Message m : messages) {
        if (diskDepth() == 0 && spill == null && queue.size() < settings.memQueueSize()) {
          queue.add(m);
        } else if (disk != null) {
          if (spill == null) spill = new ArrayList<>();
          spill.add(m);
        } else if (!ephemeral) {
          queue.add(m);   // no disk (it failed to open): keep it rather than lose it
        }
        // an ephemeral channel drops what it cannot hold in memory, as nsqd does
      }
      if (spill != null && !toDisk(spill, 0)) queue.addAll(spill);
    }
    stored(messages, put.seq());
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onPutDeferred(PutDeferred put) {
    messageCount += put.messages().size();
    if (durable || closed) {
      long dueMs = clock.epochNanos() / 1_000_000L + put.delayNanos() / 1_000_000L;
      if (toDisk(put.messages(), dueMs)) {
        stored(put.messages(), put.seq());
        dispatch();
        return Behaviors.same();
      }
    }
    long due = clock.nanoTime() + put.delayNanos();
    for (Message m : put.messages()) deferred.add(new DeferredEntry(due, deferredSeq++, m));
    ensureScanning();
    stored(put.messages(), put.seq());
    return Behaviors.same();
  }

  /** Appends to the disk queue; false (and the node marked unhealthy) when that failed. */
  private boolean toDisk(List<Message> messages, long dueEpochMs) {
    if (disk == null) return false;
    try {
      disk.append(messages, dueEpochMs);
      if (!durable && disk.syncDue()) sync(false);
      return true;
    } catch (IOException e) {
      reportDisk("writing to the disk queue of channel " + topicName + ":" + name + " failed: " + e.getMessage()
          + " (keeping the messages in memory)");
      return false;
    }
  }

  private void reportDisk(String error) {
    if (error != null && diskError == null) log.error(error);
    if (error == null && diskError != null) log.info("channel {}:{}: its disk queue works again", topicName, name);
    diskError = error;
    persistence.health().tell(new Health.Report("channel " + topicName + ":" + name, error));
    topic.tell(new Topic.ChannelDiskState(name, error));
  }

  /**
   * After a failed disk write: moves what memory holds beyond its bound (durable: everything that is
   * not on disk) to disk, and reports the disk healthy once that worked.
   */
  private void retryDisk() {
    List<Message> move = new ArrayList<>();
    if (durable) {
      for (Message m : queue) if (!diskSeqOf.containsKey(m.id())) move.add(m);
    } else {
      int excess = (int) Math.max(0, queue.size() - settings.memQueueSize());
      java.util.Iterator<Message> tail = queue.descendingIterator();
      for (int i = 0; i < excess; i++) move.add(tail.next());
      java.util.Collections.reverse(move);
    }
    if (!move.isEmpty()) {
      try {
        disk.append(move, 0);
      } catch (IOException e) {
        return;   // still failing; the topic keeps refusing publishes
      }
      java.util.Set<Message> moved = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      moved.addAll(move);
      queue.removeIf(moved::contains);
    }
    reportDisk(null);
  }

  private long diskDepth() { return disk == null ? 0 : disk.depth(); }

  /** Tells the topic these messages are stored; durable ones only once an fsync covers them. */
  private void stored(List<Message> messages, long topicSeq) {
    // Durable and the disk is failing: the topic must keep its own copy, so its read position stays.
    credit.add(messages, durable && diskError != null ? -1 : topicSeq);
    if (durable && disk != null && !closed) {
      sync(false);
    } else {
      reportCredit(credit);
      credit = new Credit();
    }
  }

  private void reportCredit(Credit c) {
    if (c.count > 0 || c.seq >= 0) topic.tell(new Topic.ChannelDrained(name, c.count, c.bytes, c.seq));
  }

  private void sync(boolean withMeta) {
    if (syncs == null) return;
    var job = syncs.start(clock.nanoTime(), withMeta);
    if (job == null) return;
    syncingCredit = credit;
    credit = new Credit();
    ctx.pipeToSelf(job, (done, error) -> new SyncFinished(done));
  }

  private Behavior<Command> onSyncFinished(SyncFinished f) {
    syncs.finished(f.job());
    if (f.job().error() != null) {
      reportDisk("fsync of channel " + topicName + ":" + name + " failed: " + f.job().error().getMessage());
    }
    // Reported even when the fsync failed: the messages are in this channel's memory either way, and
    // holding the credit back would stop the whole topic.
    if (syncingCredit != null) reportCredit(syncingCredit);
    syncingCredit = null;
    if (!closed && (credit.count > 0 || disk.syncDue())) sync(false);
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
      finished(o.id());
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
    if (paused != p.paused()) topic.tell(new Topic.ChannelPaused(name, p.paused()));
    paused = p.paused();
    dispatch();
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onEmpty(Empty empty) {
    queue.clear();
    deferred.clear();
    inFlight.clear();
    deadlines.clear();
    for (Consumer c : consumers.values()) c.inFlight = 0;
    diskSeqOf.clear();
    unfinishedSeqs.clear();
    finishedSeqs.clear();
    if (disk != null) {
      try {
        disk.clear();
      } catch (IOException e) {
        log.error("emptying the disk queue of channel {}:{} failed: {}", topicName, name, e.toString());
      }
    }
    empty.replyTo().tell(Done.getInstance());
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onDelete(Delete delete) {
    for (Consumer c : consumers.values()) c.ref.tell(new ChannelGone());
    if (disk != null) {
      try {
        disk.destroy();
      } catch (IOException e) {
        log.error("deleting the files of channel {}:{} failed: {}", topicName, name, e.toString());
      }
    }
    delete.replyTo().tell(Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> onPeek(Peek peek) {
    List<Queued> out = new ArrayList<>(Math.min(peek.count(), queue.size()));
    for (Message m : queue) {
      if (out.size() >= peek.count()) break;
      out.add(new Queued(m, false));
    }
    if (out.size() < peek.count() && diskDepth() > 0) {
      long nowMs = clock.epochNanos() / 1_000_000L;
      try {
        // Records not yet due go to the deferred set when read: they are not next.
        for (DiskQueue.Read r : disk.peek(peek.count() - out.size(), PEEK_DISK_BYTES)) {
          if (r.dueEpochMs() <= nowMs) out.add(new Queued(r.message(), true));
        }
      } catch (IOException e) {
        log.warn("peeking into the disk queue of channel {}:{} failed: {}", topicName, name, e.toString());
      }
    }
    peek.replyTo().tell(new Peeked(out, queue.size() + diskDepth()));
    return Behaviors.same();
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
    long backend = diskDepth();
    get.replyTo().tell(new Stats.Channel(name, queue.size() + backend, backend, inFlight.size(), deferred.size(),
        messageCount, requeueCount, timeoutCount, consumers.size(), clients, paused, latency.snapshot(now),
        disk == null ? 0 : disk.corruptions()));
    return Behaviors.same();
  }

  /**
   * Hands queued messages to consumers with room (in-flight below RDY), in fair shares, then sends each
   * consumer its whole share as one {@link Deliveries}: one actor message per consumer per round.
   */
  private void dispatch() {
    refill();
    if (!paused && !closed && !queue.isEmpty() && !consumers.isEmpty()) {
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
    reportRoom();
  }

  /**
   * Tells the topic when this channel turns full (what it holds reaches mem-queue-size, or what its
   * consumers have room for if that is more) and when it has drained to half of that again.
   */
  private void reportRoom() {
    if (ephemeral) return;
    long room = 0;
    for (Consumer c : consumers.values()) room += Math.max(0, c.capacity());
    long limit = Math.max(settings.memQueueSize(), room);
    long held = queue.size() + diskDepth();
    boolean full = closed || (reportedFull ? held >= limit / 2 : held >= limit);
    if (full != reportedFull) {
      reportedFull = full;
      topic.tell(new Topic.ChannelRoom(name, !full));
    }
  }

  /** Reads from disk what the consumers have room for beyond what the memory queue already holds. */
  private void refill() {
    if (paused || closed || diskDepth() == 0 || consumers.isEmpty()) return;
    long room = 0;
    for (Consumer c : consumers.values()) room += Math.max(0, c.capacity());
    long want = Math.min(room - queue.size(), READ_BATCH);
    if (want <= 0) return;
    List<DiskQueue.Read> reads;
    try {
      reads = disk.read((int) want);
    } catch (IOException e) {
      log.error("reading the disk queue of channel {}:{} failed: {}", topicName, name, e.toString());
      return;
    }
    long now = clock.nanoTime();
    long nowMs = clock.epochNanos() / 1_000_000L;
    for (DiskQueue.Read r : reads) {
      Message m = r.message();
      if (durable) {
        diskSeqOf.put(m.id(), r.seq());
        unfinishedSeqs.add(r.seq());
      }
      if (r.dueEpochMs() > nowMs) {
        deferred.add(new DeferredEntry(now + (r.dueEpochMs() - nowMs) * 1_000_000L, deferredSeq++, m));
        ensureScanning();
      } else {
        queue.add(m);
      }
    }
    if (!durable) disk.commitAll();
  }

  /** Durable: message {@code id} is done with; the disk read position may pass it. */
  private void finished(long id) {
    Long seq = diskSeqOf.remove(id);
    if (seq == null) return;
    finishedSeqs.add(seq);
    long through = -1;
    while (!unfinishedSeqs.isEmpty() && finishedSeqs.remove(unfinishedSeqs.peekFirst())) through = unfinishedSeqs.pollFirst();
    if (through >= 0) disk.commitThrough(through);
  }

  private Behavior<Command> onPersist(Persist p) {
    if (!closed) {
      closed = true;
      if (disk != null) {
        long now = clock.nanoTime();
        long nowMs = clock.epochNanos() / 1_000_000L;
        List<InFlightHeap.Entry> flying = new ArrayList<>(inFlight.values());
        flying.sort((a, b) -> Long.compare(a.deliveredAt, b.deliveredAt));
        List<Message> unfinished = new ArrayList<>(flying.size() + queue.size());
        for (InFlightHeap.Entry e : flying) unfinished.add(e.message);
        unfinished.addAll(queue);
        try {
          disk.append(unfinished, 0);
          for (DeferredEntry d : deferred) disk.append(List.of(d.message), nowMs + Math.max(0, d.due - now) / 1_000_000L);
          disk.commitAll();   // everything read is finished or written again above
          disk.close();
          queue.clear();
          inFlight.clear();
          deadlines.clear();
          deferred.clear();
        } catch (IOException e) {
          log.error("writing channel {}:{} to disk at shutdown failed: {}", topicName, name, e.toString());
        }
      } else if (!queue.isEmpty() || !inFlight.isEmpty() || !deferred.isEmpty()) {
        log.info("channel {}:{} drops {} messages at shutdown (it keeps nothing on disk)", topicName, name,
            queue.size() + inFlight.size() + deferred.size());
      }
      if (syncingCredit != null) reportCredit(syncingCredit);
      reportCredit(credit);
      syncingCredit = null;
      credit = new Credit();
    }
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private void hand(Consumer c, Message m, long now) {
    int rate = c.info.sampleRate();
    if (rate > 0 && ThreadLocalRandom.current().nextInt(100) > rate) {
      finished(m.id());
      return;   // sampled out, as nsqd does
    }
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


}
