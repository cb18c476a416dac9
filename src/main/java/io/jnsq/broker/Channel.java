package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import io.jnsq.storage.CursorFile;
import io.jnsq.storage.Health;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.TopicLog;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NSQ channel: a cursor into its topic's log, shared by its consumers. It reads what its consumers
 * have room for, owns the in-flight table (ordered by deadline), the requeued and deferred messages and
 * every consumer's RDY and in-flight count, and hands messages out in batches: one {@link Deliveries} per
 * consumer per dispatch round (nsqd's {@code channel.go}: put, finish, requeue, touch and the scans).
 *
 * <p>Its place in the log is saved with every record before it that is not finished ({@link CursorFile}):
 * with {@code --durable} after every change, fsync'd, so a crash delivers again only what was in flight,
 * requeued or deferred; otherwise every {@code --sync-timeout} and at shutdown.
 *
 * <p>Unlike nsqd, a consumer that disconnects has its in-flight messages requeued at once rather than
 * after msg-timeout, so another consumer gets them without waiting.
 */
public final class Channel {
  private static final Logger log = LoggerFactory.getLogger(Channel.class);

  /** Everything a channel understands. */
  public sealed interface Command {}

  /** From the topic: records up to {@code pos} (sequence {@code seq}) may be read. */
  public record Appended(long pos, long seq) implements Command {}

  /** From the topic: the records from {@code from} to {@code to} are one deferred publish, about to be visible. */
  public record Deferred(long from, long fromSeq, long to, long toSeq) implements Command {}

  /** From the topic: the records between {@code from} and {@code to} were emptied from the topic. */
  public record Skip(long from, long to, long toSeq) implements Command {}

  /** Shutdown: stop delivering and save the cursor with every unfinished message. */
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

  /** A peeked message and whether it is read from the log's files (not memory). */
  public record Queued(Message message, boolean onDisk) {}

  /** What {@link Peek} saw: the messages and the channel's whole depth. */
  public record Peeked(List<Queued> messages, long depth) {}

  /** From the topic: the policy this channel applies (see {@link ChannelPolicy}) and where dead letters go. */
  public record ApplyPolicy(ChannelPolicy policy, ActorRef<DeadLetterOffice.Command> office) implements Command {}

  /** Dead letters moved back: queued for delivery again, kept with their bodies until finished. */
  public record Inject(List<Message> messages, ActorRef<Done> replyTo) implements Command {}

  /** From the topic: read on from record {@code pos} (sequence {@code seq}), forward or back. */
  public record Rewind(long pos, long seq, ActorRef<Rewound> replyTo) implements Command {}

  /** A rewind done ({@code found} false: no such channel); {@code depth} is what is now queued. */
  public record Rewound(boolean found, long depth) {}

  private record LettersPosted(List<DeadLetters.Letter> letters, boolean ok) implements Command {}

  private record Scan() implements Command {}

  private record Tick() implements Command {}

  private record ConsumerTerminated(long connectionId) implements Command {}

  private record DiskRead(long fromPos, TopicLog.Batch batch, Throwable error) implements Command {}

  private record PeekRead(Peek peek, List<Queued> head, TopicLog.Batch batch) implements Command {}

  private record Saved(Throwable error, long floorPos, long floorSeq) implements Command {}

  private record Restored(CursorFile.State state, List<Held> unfinished, Throwable error) implements Command {}

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

  /** Where a new channel starts reading and how far it may read; {@code restore}: look for a saved cursor first. */
  public record Start(TopicLog log, long pos, long seq, long limitPos, long limitSeq, boolean restore) {}

  private static final Duration SCAN_INTERVAL = Duration.ofMillis(100);
  private static final String SCAN_KEY = "scan";
  private static final int READ_COUNT = 4096;
  /** Beyond what consumers have room for, a channel reads this many ahead (bounded by its consumers' RDY), so
   * that the next read from the files is under way while the last one is being delivered. */
  private static final long READ_AHEAD = 4096;
  private static final int READ_BYTES = 1 << 20;
  private static final long PROGRESS_BYTES = 1 << 20;
  /** Past this many deferred messages the channel stops reading ahead until some come due. */
  private static final int DEFERRED_READ_LIMIT = 100_000;

  public static Behavior<Command> create(String topicName, String name, ActorRef<Topic.Command> topic,
      ChannelSettings settings, Clock clock, Persistence persistence, boolean paused, Start start) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(1 << 16, stash ->
        new Channel(ctx, timers, stash, topicName, name, topic, settings, clock, persistence, paused, start).opening())));
  }

  /** A message this channel holds, with its place in the log (-1 when it was saved with its body). */
  record Held(Message message, long pos, long seq) {}

  record DeferredEntry(long due, long order, Held held) {}

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

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final StashBuffer<Command> stash;
  private final String topicName;
  private final String name;
  private final String key;
  private final ActorRef<Topic.Command> topic;
  private final ChannelSettings settings;
  private final Clock clock;
  private final Persistence persistence;
  private final boolean ephemeral;
  private final boolean saves;
  private final boolean durable;
  private final long maxMsgTimeoutNanos;
  private final Start start;
  private final Cursor cursor;

  // All owned by this actor alone.
  private final ArrayDeque<Held> ready = new ArrayDeque<>();
  private final PriorityQueue<DeferredEntry> deferred = new PriorityQueue<>(
      (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.order, b.order));
  private final HashMap<Long, InFlightHeap.Entry> inFlight = new HashMap<>();
  private final InFlightHeap deadlines = new InFlightHeap();
  private final LinkedHashMap<Long, Consumer> consumers = new LinkedHashMap<>();
  private final LatencyWindow latency;
  /** Sequences of restored messages ahead of the cursor (deferred publishes taken early): skipped when read. */
  private final java.util.HashSet<Long> heldAhead = new java.util.HashSet<>();
  private long deferredOrder;
  private boolean paused;
  private boolean closed;
  private boolean scanning;
  private boolean reading;
  private boolean readFailing;
  private boolean saving;
  private boolean dirty;
  private String saveError;
  private ActorRef<Done> persistReply;
  private long reportedPos = -1;
  private long messageCount;
  private long requeueCount;
  private long timeoutCount;
  private int rotation;
  // Policy (dead letters, TTL): nothing is checked until the topic sends one that is active.
  private ChannelPolicy policy = ChannelPolicy.NONE;
  private ActorRef<DeadLetterOffice.Command> office;
  private List<DeadLetters.Letter> letters = new ArrayList<>();
  private boolean dropped;
  private boolean saveStale;
  private long deadLetteredCount;
  private long expiredCount;
  /** The owner of a message on its way to the dead-letter topic: in flight to nobody until the topic has it. */
  private static final long LETTER_OWNER = Long.MIN_VALUE;
  private static final Duration LETTER_TIMEOUT = Duration.ofSeconds(30);

  private Channel(ActorContext<Command> ctx, TimerScheduler<Command> timers, StashBuffer<Command> stash,
      String topicName, String name, ActorRef<Topic.Command> topic, ChannelSettings settings, Clock clock,
      Persistence persistence, boolean paused, Start start) {
    this.ctx = ctx;
    this.timers = timers;
    this.stash = stash;
    this.topicName = topicName;
    this.name = name;
    this.key = topicName + ":" + name;
    this.topic = topic;
    this.settings = settings;
    this.clock = clock;
    this.persistence = persistence;
    this.ephemeral = name.endsWith("#ephemeral");
    this.saves = !ephemeral && !start.log().memoryOnly();
    this.durable = saves && persistence.durable();
    this.maxMsgTimeoutNanos = settings.maxMsgTimeout().toNanos();
    this.latency = new LatencyWindow(settings.e2ePercentiles(), settings.e2eWindow().toNanos(), clock.nanoTime());
    this.paused = paused;
    this.start = start;
    this.cursor = new Cursor(start.log(), start.pos(), start.seq(), start.limitPos(), start.limitSeq());
  }

  // ---- starting: a restored channel reads its saved cursor first ----

  private Behavior<Command> opening() {
    if (!start.restore() || !saves) return running();
    TopicLog topicLog = start.log();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        ChannelCheckpoint.Loaded l = ChannelCheckpoint.load(persistence.storage(), key, topicLog);
        return new Restored(l.state(), l.unfinished(), null);
      } catch (java.io.IOException | RuntimeException e) {
        return new Restored(null, List.of(), e);
      }
    }, persistence.io()), (restored, error) -> restored != null ? restored : new Restored(null, List.of(), error));
    return Behaviors.receive(Command.class)
        .onMessage(Restored.class, this::onRestored)
        .onMessage(Appended.class, a -> {
          cursor.extend(a.pos(), a.seq());
          return Behaviors.same();
        })
        .onAnyMessage(m -> {
          if (stash.isFull()) {
            log.warn("channel {}: still starting, dropping {}", key, m.getClass().getSimpleName());
          } else {
            stash.stash(m);
          }
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onRestored(Restored r) {
    if (r.error() != null) {
      log.error("channel {}: reading its saved cursor failed ({}); it starts at the log's oldest record", key, r.error().toString());
    } else if (r.state() != null) {
      cursor.restore(r.state().readPos(), r.state().readSeq());
      for (CursorFile.Skip k : r.state().skips()) cursor.skipSaved(k);
      long nowMs = clock.epochNanos() / 1_000_000L;
      long now = clock.nanoTime();
      List<CursorFile.Unfinished> saved = r.state().unfinished();
      int i = 0;
      for (Held h : r.unfinished()) {
        if (h.seq() >= cursor.seq()) heldAhead.add(h.seq());
        while (i < saved.size() && saved.get(i).seq() != h.seq()) i++;
        long due = i < saved.size() ? saved.get(i).dueEpochMs() : 0;
        if (due > nowMs) {
          deferred.add(new DeferredEntry(now + (due - nowMs) * 1_000_000L, deferredOrder++, h));
        } else {
          ready.add(h);
        }
      }
      if (!r.unfinished().isEmpty()) {
        log.info("channel {}: {} unfinished messages from before the restart are delivered again", key, r.unfinished().size());
      }
    }
    return stash.unstashAll(running());
  }

  private Behavior<Command> running() {
    if (!timers.isTimerActive("tick")) timers.startTimerWithFixedDelay("tick", new Tick(), persistence.syncTimeout());
    if (!deferred.isEmpty()) ensureScanning();
    return Behaviors.receive(Command.class)
        .onMessage(Appended.class, this::onAppended)
        .onMessage(Skip.class, this::onSkip)
        .onMessage(Deferred.class, this::onDeferred)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Ready.class, this::onReady)
        .onMessage(Operate.class, this::onOperate)
        .onMessage(StartClose.class, this::onStartClose)
        .onMessage(Unsubscribe.class, u -> removeConsumer(u.connectionId()))
        .onMessage(ConsumerTerminated.class, t -> removeConsumer(t.connectionId()))
        .onMessage(DiskRead.class, this::onDiskRead)
        .onMessage(Scan.class, this::onScan)
        .onMessage(Tick.class, this::onTick)
        .onMessage(Saved.class, this::onSaved)
        .onMessage(SetPaused.class, this::onSetPaused)
        .onMessage(Empty.class, this::onEmpty)
        .onMessage(Delete.class, this::onDelete)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(Peek.class, this::onPeek)
        .onMessage(PeekRead.class, this::onPeekRead)
        .onMessage(Persist.class, this::onPersist)
        .onMessage(ApplyPolicy.class, a -> {
          policy = a.policy();
          office = a.office();
          dispatch();
          return Behaviors.same();
        })
        .onMessage(Inject.class, this::onInject)
        .onMessage(Rewind.class, this::onRewind)
        .onMessage(LettersPosted.class, this::onLettersPosted)
        .build();
  }

  // ---- the log ----

  private Behavior<Command> onAppended(Appended a) {
    cursor.extend(a.pos(), a.seq());
    // An ephemeral channel keeps no backlog beyond mem-queue-size: like nsqd, it drops the rest.
    if (ephemeral && cursor.remaining() > settings.memQueueSize()) cursor.toEnd();
    dispatch();
    return Behaviors.same();
  }

  /** A deferred publish goes into the deferred set now (not when the cursor gets there), and is skipped by the cursor. */
  private Behavior<Command> onDeferred(Deferred d) {
    if (cursor.pos() > d.from()) return Behaviors.same();
    TopicLog.Batch b = cursor.log().readMemory(d.from(), d.fromSeq(), d.to(), Integer.MAX_VALUE, (int) Math.min(d.to() - d.from(), 64 << 20));
    if (b == null || b.nextPos() != d.to()) return Behaviors.same();   // not in memory: read when the cursor gets there
    long nowMs = clock.epochNanos() / 1_000_000L;
    long now = clock.nanoTime();
    for (TopicLog.Entry e : b.entries()) place(e, nowMs, now);
    cursor.skip(d.from(), d.to(), d.toSeq());
    changed();
    return Behaviors.same();
  }

  private Behavior<Command> onSkip(Skip s) {
    cursor.skip(s.from(), s.to(), s.toSeq());
    dirty = true;
    return Behaviors.same();
  }

  /**
   * Reads from the log what consumers have room for beyond what is ready: from memory at once, from the
   * files on the I/O executor (the answer comes back as {@link DiskRead}). False when nothing more can
   * be read now.
   */
  private boolean readMore(long want) {
    if (reading || closed || cursor.atEnd() || want <= 0 || deferred.size() >= DEFERRED_READ_LIMIT) return false;
    TopicLog topicLog = cursor.log();
    int count = (int) Math.min(want, READ_COUNT);
    long from = cursor.pos();
    long fromSeq = cursor.seq();
    long limit = cursor.readLimit();
    TopicLog.Batch b = topicLog.readMemory(from, fromSeq, limit, count, READ_BYTES);
    if (b != null) {
      take(b);
      return true;
    }
    if (topicLog.memoryOnly()) {
      cursor.toEnd();   // cannot happen while trim frees only what every channel read; never spin on it
      return false;
    }
    reading = true;
    ctx.pipeToSelf(readDisk(topicLog, from, fromSeq, limit, count, READ_BYTES), (batch, error) -> new DiskRead(from, batch, error));
    return false;
  }

  private Behavior<Command> onDiskRead(DiskRead r) {
    reading = false;
    if (r.error() != null) {
      if (!readFailing) log.error("channel {}: reading the topic's log failed: {}", key, r.error().toString());
      readFailing = true;
      persistence.health().tell(new Health.Report("channel " + key, "reading the log failed: " + r.error().getMessage()));
      return Behaviors.same();   // tried again with the next change (a FIN, RDY or publish)
    }
    if (readFailing) {
      readFailing = false;
      persistence.health().tell(new Health.Report("channel " + key, saveError));
    }
    if (r.fromPos() == cursor.pos()) take(r.batch());
    dispatch();
    return Behaviors.same();
  }

  private void take(TopicLog.Batch b) {
    long nowMs = clock.epochNanos() / 1_000_000L;
    long now = clock.nanoTime();
    for (TopicLog.Entry e : b.entries()) {
      if (!heldAhead.isEmpty() && heldAhead.remove(e.seq())) continue;   // already held since the restart
      place(e, nowMs, now);
    }
    cursor.advance(b);
    dirty = true;
    // A memory-only log counts what it holds against mem-queue-size, so it hears more often.
    long every = cursor.log().memoryOnly() ? PROGRESS_BYTES / 16 : PROGRESS_BYTES;
    if (cursor.pos() - reportedPos >= every) reportProgress(-1, -1);   // the rest: on the next tick
  }

  /** A record read from the log: ready now, or deferred until it is due. */
  private void place(TopicLog.Entry e, long nowMs, long now) {
    Held h = new Held(new Message(e.id(), e.timestamp(), e.attempts(), e.body()), e.pos(), e.seq());
    messageCount++;
    if (e.dueEpochMs() > nowMs) {
      deferred.add(new DeferredEntry(now + (e.dueEpochMs() - nowMs) * 1_000_000L, deferredOrder++, h));
      ensureScanning();
    } else {
      ready.add(h);
    }
  }

  /** Reads from the log's files on the I/O executor. */
  private CompletableFuture<TopicLog.Batch> readDisk(TopicLog topicLog, long from, long fromSeq, long limit, int count,
      int bytes) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return topicLog.readDisk(from, fromSeq, limit, count, bytes);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io());
  }

  /** Tells the topic how far this channel read (it frees memory) and, when known, its ack floor (it frees files). */
  private void reportProgress(long floorPos, long floorSeq) {
    reportedPos = cursor.pos();
    topic.tell(new Topic.ChannelProgress(name, cursor.pos(), floorPos, floorSeq));
  }

  // ---- saving the cursor ----

  private CursorFile.State snapshot() {
    return ChannelCheckpoint.snapshot(cursor, inFlight.values(), ready, deferred, clock.epochNanos() / 1_000_000L,
        clock.nanoTime());
  }

  /** Saves the cursor on the I/O executor unless a save is running (then the next one follows it). */
  private void save(boolean force) {
    if (!saves || saving) return;
    saveStale = false;
    CursorFile.State state = snapshot();
    long floorPos = state.floorPos();
    long floorSeq = ChannelCheckpoint.floorSeq(state);
    saving = true;
    dirty = false;
    long fp = floorPos;
    long fs = floorSeq;
    ctx.pipeToSelf(CompletableFuture.runAsync(() -> {
      try {
        CursorFile.store(persistence.storage(), key, state, force);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (ok, error) -> new Saved(error, fp, fs));
  }

  private Behavior<Command> onSaved(Saved s) {
    saving = false;
    if (s.error() != null) {
      String error = "saving the cursor of channel " + key + " failed: " + s.error().getMessage();
      if (saveError == null) log.error(error);
      saveError = error;
      persistence.health().tell(new Health.Report("channel " + key, error));
      dirty = true;
    } else {
      if (saveError != null) persistence.health().tell(new Health.Report("channel " + key, null));
      saveError = null;
      if (saveStale) {
        dirty = true;   // saved from before a rewind: its floor is not this channel's any more
      } else {
        reportProgress(s.floorPos(), s.floorSeq());
      }
    }
    if (persistReply != null) {
      if (dirty && s.error() == null) {
        save(true);
      } else {
        persistReply.tell(Done.getInstance());
        persistReply = null;
      }
    } else if (dirty && durable && s.error() == null) {
      save(true);   // changes that came while this save ran
    }
    return Behaviors.same();
  }

  private Behavior<Command> onTick(Tick t) {
    if (closed) return Behaviors.same();
    if (readFailing) dispatch();   // try the log's files again
    if (saves) {
      if (dirty) save(durable);   // reports the progress once saved
    } else if (dirty || cursor.pos() != reportedPos) {
      // Nothing is saved: the floor is what is read and not finished, reported for the topic's trimming.
      dirty = false;
      CursorFile.State state = snapshot();
      reportProgress(state.floorPos(), ChannelCheckpoint.floorSeq(state));
    }
    return Behaviors.same();
  }

  private void changed() {
    dirty = true;
    if (durable) save(true);
  }

  // ---- consumers ----

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
    boolean finished = false;
    for (Op o : op.ops()) {
      String error = apply(op.connectionId(), c, o, now);
      if (error != null) {
        if (errors.isEmpty()) errors = new ArrayList<>();
        errors.add(error);
      } else if (!(o instanceof Touch)) {
        finished = true;
      }
    }
    if (c != null) c.ref.tell(new OpsDone(errors.isEmpty() ? List.of() : List.copyOf(errors)));
    if (finished) changed();
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
      Held h = new Held(e.message, e.pos, e.seq);
      if (delayMs <= 0) {
        ready.add(h);
      } else {
        deferred.add(new DeferredEntry(now + delayMs * 1_000_000L, deferredOrder++, h));
        ensureScanning();
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
        ready.add(new Held(e.message, e.pos, e.seq));
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
      ready.add(new Held(e.message, e.pos, e.seq));
    }
    DeferredEntry d;
    while ((d = deferred.peek()) != null && d.due <= now) {
      deferred.poll();
      ready.add(d.held());
    }
    dispatch();
    if (deadlines.isEmpty() && deferred.isEmpty()) {
      timers.cancel(SCAN_KEY);
      scanning = false;
    }
    return Behaviors.same();
  }

  // ---- administration ----

  private Behavior<Command> onSetPaused(SetPaused p) {
    if (paused != p.paused()) topic.tell(new Topic.ChannelPaused(name, p.paused()));
    paused = p.paused();
    dispatch();
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onEmpty(Empty empty) {
    ready.clear();
    heldAhead.clear();
    deferred.clear();
    inFlight.clear();
    deadlines.clear();
    for (Consumer c : consumers.values()) c.inFlight = 0;
    cursor.toEnd();
    changed();
    reportProgress(-1, -1);
    empty.replyTo().tell(Done.getInstance());
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onDelete(Delete delete) {
    for (Consumer c : consumers.values()) c.ref.tell(new ChannelGone());
    if (saves) {
      CompletableFuture.runAsync(() -> {
        try {
          CursorFile.delete(persistence.storage(), key);
        } catch (java.io.IOException e) {
          log.warn("deleting the cursor of channel {} failed: {}", key, e.toString());
        }
      }, persistence.io());
    }
    delete.replyTo().tell(Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> onPeek(Peek peek) {
    List<Queued> out = new ArrayList<>(Math.min(peek.count(), ready.size()));
    for (Held h : ready) {
      if (out.size() >= peek.count()) break;
      out.add(new Queued(h.message(), false));
    }
    int want = peek.count() - out.size();
    if (want > 0 && !cursor.atEnd()) {
      TopicLog topicLog = cursor.log();
      long from = cursor.pos();
      long fromSeq = cursor.seq();
      long limit = cursor.readLimit();
      TopicLog.Batch b = topicLog.readMemory(from, fromSeq, limit, want, 4 << 20);
      if (b == null && !topicLog.memoryOnly()) {
        ctx.pipeToSelf(readDisk(topicLog, from, fromSeq, limit, want, 4 << 20), (batch, error) -> new PeekRead(peek, out, batch));
        return Behaviors.same();
      }
      return onPeekRead(new PeekRead(peek, out, b));
    }
    peek.replyTo().tell(new Peeked(out, depth()));
    return Behaviors.same();
  }

  private Behavior<Command> onPeekRead(PeekRead r) {
    List<Queued> out = new ArrayList<>(r.head());
    if (r.batch() != null) {
      long nowMs = clock.epochNanos() / 1_000_000L;
      long inMemoryFrom = cursor.log().cacheStartSeq();
      for (TopicLog.Entry e : r.batch().entries()) {
        // Records not yet due go to the deferred set when read: they are not next.
        if (e.dueEpochMs() <= nowMs && out.size() < r.peek().count()) {
          out.add(new Queued(new Message(e.id(), e.timestamp(), e.attempts(), e.body()), e.seq() < inMemoryFrom));
        }
      }
    }
    r.peek().replyTo().tell(new Peeked(out, depth()));
    return Behaviors.same();
  }

  private long depth() { return ready.size() + cursor.remaining(); }

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
    get.replyTo().tell(new Stats.Channel(name, depth(), cursor.remainingOnDisk(), inFlight.size(), deferred.size(),
        messageCount + cursor.remaining(), requeueCount, timeoutCount, consumers.size(), clients, paused, latency.snapshot(now),
        cursor.corrupt(), policy, deadLetteredCount, expiredCount));
    return Behaviors.same();
  }

  private Behavior<Command> onPersist(Persist p) {
    closed = true;
    if (!saves) {
      long held = ready.size() + inFlight.size() + deferred.size();
      if (held > 0 && !ephemeral) log.info("channel {} drops {} messages at shutdown (it keeps nothing on disk)", key, held);
      p.replyTo().tell(Done.getInstance());
      return Behaviors.same();
    }
    persistReply = p.replyTo();
    dirty = true;
    if (!saving) save(true);
    return Behaviors.same();
  }

  // ---- delivery ----

  /**
   * Hands ready messages (requeued first, then what is read from the log) to consumers with room
   * (in-flight below RDY), in fair shares, then sends each consumer its whole share as one
   * {@link Deliveries}: one actor message per consumer per round.
   */
  private void dispatch() {
    if (!paused && !closed && !consumers.isEmpty()) {
      long room = 0;
      for (Consumer c : consumers.values()) room += Math.max(0, c.capacity());
      long target = room + Math.min(room, READ_AHEAD);
      while (ready.size() < target && readMore(target - ready.size())) {
        // read from memory until consumers have what they have room for, and a little more
      }
      if (!ready.isEmpty() && room > 0) handOut();
    }
    if (!deadlines.isEmpty()) ensureScanning();
  }

  private void handOut() {
    List<Consumer> withRoom = new ArrayList<>(consumers.size());
    for (Consumer c : consumers.values()) if (c.capacity() > 0) withRoom.add(c);
    if (withRoom.isEmpty()) return;
    long now = clock.nanoTime();
    int n = withRoom.size();
    int first = Math.floorMod(rotation++, n);
    boolean progress = true;
    while (progress && !ready.isEmpty()) {
      progress = false;
      long share = Math.max(1, ready.size() / n);
      for (int i = 0; i < n && !ready.isEmpty(); i++) {
        Consumer c = withRoom.get((first + i) % n);
        long take = Math.min(share, c.capacity());
        for (long k = 0; k < take && !ready.isEmpty(); k++) {
          hand(c, ready.poll(), now);
          progress = true;
        }
      }
    }
    for (Consumer c : withRoom) {
      if (c.batch != null) {
        c.ref.tell(new Deliveries(c.batch));
        c.batch = null;
      }
    }
    if (!letters.isEmpty()) postLetters();
    if (dropped) {
      dropped = false;
      changed();
    }
  }

  private void hand(Consumer c, Held h, long now) {
    int rate = c.info.sampleRate();
    if (rate > 0 && ThreadLocalRandom.current().nextInt(100) > rate) {
      dirty = true;
      return;   // sampled out, as nsqd does
    }
    if (policy.active()) {
      DeadLetters.Verdict v = DeadLetters.verdict(policy, h.message(), clock.epochNanos());
      if (v != DeadLetters.Verdict.DELIVER) {
        divert(h, v, now);
        return;
      }
    }
    Message sent = h.message().withNextAttempt();
    InFlightHeap.Entry e = new InFlightHeap.Entry(sent, h.pos(), h.seq(), c.info.connectionId(), now, now + c.msgTimeoutNanos);
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

  // ---- policy: dead letters, TTL, moving letters back, rewinding ----

  /**
   * A message that expired or had its deliveries: with a dead-letter topic it is held in flight (to
   * nobody) until that topic has it, so a crash meanwhile delivers it again rather than losing it;
   * without one it is finished here.
   */
  private void divert(Held h, DeadLetters.Verdict v, long now) {
    if (policy.deadLetterTopic() == null || office == null) {
      if (v == DeadLetters.Verdict.EXPIRED) expiredCount++; else deadLetteredCount++;
      dropped = true;
      return;
    }
    Message m = h.message();
    InFlightHeap.Entry e = new InFlightHeap.Entry(m, h.pos(), h.seq(), LETTER_OWNER, now, now + LETTER_TIMEOUT.toNanos());
    inFlight.put(m.id(), e);
    deadlines.add(e);
    letters.add(DeadLetters.letter(m, v, topicName, name, clock.epochNanos()));
  }

  private void postLetters() {
    List<DeadLetters.Letter> batch = letters;
    letters = new ArrayList<>();
    ctx.ask(Boolean.class, office, LETTER_TIMEOUT, r -> new DeadLetterOffice.Post(policy.deadLetterTopic(), batch, r),
        (ok, error) -> new LettersPosted(batch, ok != null && ok));
  }

  /** The dead-letter topic has them: finished here. Refused: they come back when their time in flight is up. */
  private Behavior<Command> onLettersPosted(LettersPosted p) {
    if (!p.ok()) {
      log.warn("channel {}: {} dead letters were not taken by {}; trying again in {}s", key, p.letters().size(),
          policy.deadLetterTopic(), LETTER_TIMEOUT.toSeconds());
      return Behaviors.same();
    }
    for (DeadLetters.Letter l : p.letters()) {
      InFlightHeap.Entry e = inFlight.get(l.id());
      if (e == null || e.connectionId != LETTER_OWNER) continue;
      inFlight.remove(l.id());
      deadlines.remove(e);
      if (l.reason().equals("expired")) expiredCount++; else deadLetteredCount++;
    }
    changed();
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onInject(Inject i) {
    for (Message m : i.messages()) ready.add(new Held(m, -1, -1));
    changed();
    dispatch();
    i.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  /** What was read from the log and not delivered is dropped; the cursor reads again from there. In flight stays. */
  private Behavior<Command> onRewind(Rewind r) {
    ready.removeIf(h -> h.pos() >= 0);
    deferred.removeIf(d -> d.held().pos() >= 0);
    heldAhead.clear();
    cursor.moveTo(r.pos(), r.seq());
    saveStale = saving;
    changed();
    log.info("channel {}: rewound to position {} ({} queued)", key, r.pos(), depth());
    r.replyTo().tell(new Rewound(true, depth()));
    dispatch();
    return Behaviors.same();
  }
}
