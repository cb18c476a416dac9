package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import io.jnsq.storage.CursorFile;
import io.jnsq.storage.Health;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.TopicLog;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NSQ topic (nsqd's {@code topic.go}: publish and fan-out): stamps published bodies into records of
 * its log, once however many channels it has, and tells its channels how far they may read. A channel is
 * a cursor into that log; the first channel of a topic starts at the log's oldest record (it gets the
 * backlog), later ones at its end. While the topic is paused its channels see nothing new.
 *
 * <p>Publishes are answered once appended (the log's tail is in memory and written to its files in the
 * background), or with {@code --durable} once an fsync covers them, and only then can channels read
 * them. When the node's memory for logs is spent, publishes wait for the files to catch up.
 */
public final class Topic {
  private static final Logger log = LoggerFactory.getLogger(Topic.class);

  /** Everything a topic understands. */
  public sealed interface Command {}

  /**
   * PUB, MPUB or DPUB: all bodies are accepted together or none is. {@code seq} comes back in the
   * result so that a connection with several topics can match replies without a temporary actor per ask.
   */
  public record Publish(long seq, List<ByteString> bodies, long deferMs, ActorRef<PublishResult> replyTo, Stamp stamp)
      implements Command {
    public Publish(long seq, List<ByteString> bodies, long deferMs, ActorRef<PublishResult> replyTo) {
      this(seq, bodies, deferMs, replyTo, null);
    }
  }

  /**
   * Ids, timestamp and due time decided elsewhere (a replicated topic's Raft entry), so that every replica
   * appends the same records; a publish whose {@code firstId} the log already holds is a replay, answered
   * at once without appending again.
   */
  public record Stamp(long firstId, long timestampNanos, long dueEpochMs) {}

  /** Whether publish {@code seq} was accepted; {@code reason} goes after "PUB failed". */
  public record PublishResult(long seq, boolean accepted, String reason) {}

  /** Finds (and with {@code create}, makes) a channel. */
  public record GetChannel(String name, boolean create, ActorRef<ChannelLookup> replyTo) implements Command {}

  /** A channel's address, or null when it does not exist. */
  public record ChannelLookup(String name, ActorRef<Channel.Command> channel) {}

  /** Deletes a channel; answers false when there was none. */
  public record DeleteChannel(String name, ActorRef<Boolean> replyTo) implements Command {}

  /** Pauses or unpauses the topic: while paused, channels see nothing new. */
  public record SetPaused(boolean paused, ActorRef<Done> replyTo) implements Command {}

  /** Drops the messages no channel has received yet. */
  public record Empty(ActorRef<Done> replyTo) implements Command {}

  /** Deletes the topic with all its channels and their files. */
  public record Delete(ActorRef<Done> replyTo) implements Command {}

  /** A snapshot for {@code /stats}; {@code channel} (nullable) keeps only that channel. */
  public record GetStats(String channel, boolean includeClients, ActorRef<Stats.Topic> replyTo) implements Command {}

  /**
   * From a channel: it read up to {@code readPos}; when {@code floorPos} is not -1, nothing before
   * {@code floorPos} (sequence {@code floorSeq}) is needed by it any more.
   */
  public record ChannelProgress(String channel, long readPos, long floorPos, long floorSeq) implements Command {}

  /** From a channel: it was paused or unpaused (for the node's metadata). */
  public record ChannelPaused(String channel, boolean paused) implements Command {}

  /** Shutdown: stop taking messages, save every channel's cursor, write and fsync the log, answer. */
  public record Persist(ActorRef<Done> replyTo) implements Command {}

  /** What the node's metadata file must know of a topic; {@code deleted} when it is gone. */
  public record MetaChanged(String topic, boolean paused, Map<String, Boolean> channels, boolean deleted) {}

  /** The topic's settings and its channels' (those with their own), and where dead letters go. */
  public record ApplyPolicy(TopicPolicy policy, Map<String, ChannelPolicy> channels,
      ActorRef<DeadLetterOffice.Command> office) implements Command {}

  /** Dead letters from a channel (of this or another topic), appended with their origin in a record header. */
  public record AppendLetters(long seq, List<DeadLetters.Letter> letters, ActorRef<PublishResult> replyTo)
      implements Command {}

  /** Up to {@code count} visible records from sequence {@code fromSeq} on, headers included. */
  public record ReadLog(long fromSeq, int count, ActorRef<LogRead> replyTo) implements Command {}

  /** What {@link ReadLog} read, and the log's visible extent (sequences). */
  public record LogRead(List<TopicLog.Entry> entries, long startSeq, long endSeq) {}

  /** Moves a channel's cursor to the first record published at or after {@code epochMs} ({@link #EARLIEST}: the oldest kept). */
  public record RewindChannel(String channel, long epochMs, ActorRef<Channel.Rewound> replyTo) implements Command {}

  public static final long EARLIEST = Long.MIN_VALUE;

  private record Located(RewindChannel rewind, LogSearch.Found at) implements Command {}

  private record DropFound(LogSearch.Found at) implements Command {}

  private record RetentionFound(LogSearch.Found floor) implements Command {}

  /** The opened log and, for a paused topic, how far its channels could read when it was paused. */
  private record Opened(TopicLog log, CursorFile.State pausedAt, Throwable error) implements Command {}

  private record ChannelTerminated(String name, ActorRef<Channel.Command> ref) implements Command {}

  private record ChannelsPersisted(ActorRef<Done> replyTo) implements Command {}

  private record Flushed(TopicLog.FlushJob job) implements Command {}

  private record SyncTick() implements Command {}

  private static final Duration STATS_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration PERSIST_TIMEOUT = Duration.ofSeconds(60);
  /** Bytes of publishes that may wait for memory before further ones are refused. */
  private static final long WAITING_BYTES = 64L << 20;

  /** A topic named {@code name}, new or restored with its channels (name to paused) and pause state. */
  public static Behavior<Command> create(String name, ChannelSettings settings, MessageIdSource ids, Clock clock,
      Persistence persistence, ActorRef<MetaChanged> meta, boolean paused, Map<String, Boolean> channels) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(1 << 16, stash ->
        new Topic(ctx, timers, stash, name, settings, ids, clock, persistence, meta, paused, channels).opening())));
  }

  /** A new topic that reports no metadata (tests). */
  public static Behavior<Command> create(String name, ChannelSettings settings, MessageIdSource ids, Clock clock,
      Persistence persistence) {
    return create(name, settings, ids, clock, persistence, null, false, Map.of());
  }

  private static final class ChannelEntry {
    final ActorRef<Channel.Command> ref;
    final boolean ephemeral;
    boolean paused;
    long readPos;
    long floorPos;
    long floorSeq;

    ChannelEntry(ActorRef<Channel.Command> ref, boolean ephemeral, boolean paused, long pos, long seq) {
      this.ref = ref;
      this.ephemeral = ephemeral;
      this.paused = paused;
      this.readPos = pos;
      this.floorPos = pos;
      this.floorSeq = seq;
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final StashBuffer<Command> stash;
  private final String name;
  private final ChannelSettings settings;
  private final MessageIdSource ids;
  private final Clock clock;
  private final Persistence persistence;
  private final ActorRef<MetaChanged> meta;
  private final boolean ephemeral;
  private final Map<String, Boolean> restoredChannels;
  private final TreeMap<String, ChannelEntry> channels = new TreeMap<>();
  private final ArrayDeque<Publish> waitingForMemory = new ArrayDeque<>();
  private final ArrayDeque<Channel.Deferred> deferredRanges = new ArrayDeque<>();
  private TopicWriter writer;
  private long waitingBytes;
  private long visiblePos;
  private long visibleSeq;
  private boolean paused;
  private boolean closed;
  private String diskError;
  private ActorRef<Done> persistReply;
  private long messageCount;
  private long messageBytes;
  private long childSeq;
  private final TopicPolicies policies;

  private Topic(ActorContext<Command> ctx, TimerScheduler<Command> timers, StashBuffer<Command> stash, String name,
      ChannelSettings settings, MessageIdSource ids, Clock clock, Persistence persistence, ActorRef<MetaChanged> meta,
      boolean paused, Map<String, Boolean> restoredChannels) {
    this.ctx = ctx;
    this.timers = timers;
    this.stash = stash;
    this.name = name;
    this.settings = settings;
    this.ids = ids;
    this.clock = clock;
    this.persistence = persistence;
    this.meta = meta;
    this.ephemeral = name.endsWith("#ephemeral");
    this.paused = paused;
    this.restoredChannels = restoredChannels;
    this.policies = new TopicPolicies(name, settings);
  }

  // ---- starting: the log is opened (and recovered) on the I/O executor ----

  private Behavior<Command> opening() {
    TopicLog.Settings logSettings = persistence.log();
    if (ephemeral) return opened(new Opened(TopicLog.memoryOnly(name, logSettings, persistence.pool()), null, null));
    boolean wasPaused = paused;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        TopicLog opened = TopicLog.open(persistence.storage(), name, logSettings, persistence.pool());
        return new Opened(opened, wasPaused ? CursorFile.load(persistence.storage(), name) : null, null);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (opened, error) -> opened != null ? opened : new Opened(null, null, error));
    return Behaviors.receive(Command.class)
        .onMessage(Opened.class, this::opened)
        .onAnyMessage(m -> {
          if (stash.isFull()) {
            if (m instanceof Publish p) p.replyTo().tell(new PublishResult(p.seq(), false, "topic still starting"));
          } else {
            stash.stash(m);
          }
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> opened(Opened o) {
    TopicLog topicLog = o.log();
    if (topicLog == null) {
      reportDisk("opening the log of topic " + name + " failed: " + o.error());
      topicLog = TopicLog.memoryOnly(name, persistence.log(), persistence.pool());
    }
    writer = new TopicWriter(topicLog, persistence, persistence.durable() && !topicLog.memoryOnly());
    visiblePos = writer.visiblePos();
    visibleSeq = writer.visibleSeq();
    CursorFile.State pausedAt = o.pausedAt();
    if (paused && pausedAt != null && pausedAt.readPos() <= visiblePos && pausedAt.readPos() >= topicLog.startPos()) {
      visiblePos = pausedAt.readPos();   // what was published while paused stays with the topic
      visibleSeq = pausedAt.readSeq();
    }
    if (!topicLog.memoryOnly()) timers.startTimerWithFixedDelay(new SyncTick(), persistence.syncTimeout());
    TopicLog l = topicLog;
    restoredChannels.forEach((channel, channelPaused) ->
        addChannel(channel, channelPaused, new Channel.Start(l, l.startPos(), l.startSeq(), visiblePos, visibleSeq, true)));
    return stash.unstashAll(running());
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Flushed.class, this::onFlushed)
        .onMessage(SyncTick.class, t -> {
          if (!closed) flush(true);
          trim();
          retain();
          return Behaviors.same();
        })
        .onMessage(ChannelProgress.class, this::onChannelProgress)
        .onMessage(ChannelPaused.class, this::onChannelPaused)
        .onMessage(GetChannel.class, this::onGetChannel)
        .onMessage(DeleteChannel.class, this::onDeleteChannel)
        .onMessage(ChannelTerminated.class, this::onChannelTerminated)
        .onMessage(SetPaused.class, this::onSetPaused)
        .onMessage(Empty.class, this::onEmpty)
        .onMessage(Delete.class, this::onDelete)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(Persist.class, this::onPersist)
        .onMessage(ChannelsPersisted.class, this::onChannelsPersisted)
        .onMessage(ApplyPolicy.class, this::onApplyPolicy)
        .onMessage(AppendLetters.class, this::onAppendLetters)
        .onMessage(ReadLog.class, this::onReadLog)
        .onMessage(RewindChannel.class, this::onRewindChannel)
        .onMessage(Located.class, this::onLocated)
        .onMessage(DropFound.class, this::onDropFound)
        .onMessage(RetentionFound.class, r -> {
          policies.retentionComputed(r.floor());
          releaseSegments();   // what every channel finished and retention lets go
          return Behaviors.same();
        })
        .build();
  }

  private TopicLog topicLog() { return writer.log(); }

  // ---- publishing ----

  private Behavior<Command> onPublish(Publish p) {
    if (closed) {
      p.replyTo().tell(new PublishResult(p.seq(), false, "exiting"));
    } else if (p.stamp() != null && waitingForMemory.isEmpty() && p.stamp().firstId() <= topicLog().lastId()) {
      p.replyTo().tell(new PublishResult(p.seq(), true, ""));   // a replay of what the log already holds
    } else if (diskError != null && !topicLog().memoryOnly() && !writer.durable()) {
      // The log's files could not be written: refuse until a retry (every --sync-timeout) works again.
      // (Durable: every publish is a write that is answered by its own outcome.)
      p.replyTo().tell(new PublishResult(p.seq(), false, diskError));
    } else if (policies.refusal(topicLog(), p.bodies()) != null) {
      p.replyTo().tell(new PublishResult(p.seq(), false, policies.refusal(topicLog(), p.bodies())));
    } else if (!waitingForMemory.isEmpty() || !tryAppend(p)) {
      long bytes = bytesOf(p);
      if (waitingBytes + bytes > WAITING_BYTES && p.stamp() == null) {   // a committed entry is never refused
        p.replyTo().tell(new PublishResult(p.seq(), false, diskError != null ? diskError
            : "the node's memory for messages is full and its disk is behind"));
      } else {
        waitingForMemory.add(p);
        waitingBytes += bytes;
        trim();
      }
    }
    return Behaviors.same();
  }

  private static long bytesOf(Publish p) {
    long n = 0;
    for (ByteString b : p.bodies()) n += b.size();
    return n;
  }

  /** Appends and answers (or, durable, queues the answer for the fsync); false when memory is spent. */
  private boolean tryAppend(Publish p) {
    TopicLog l = topicLog();
    List<ByteString> bodies = p.bodies();
    if (l.memoryOnly()) {
      // Memory only (ephemeral): what goes beyond mem-queue-size is dropped and answered OK, as nsqd does.
      long room = settings.memQueueSize() - (l.endSeq() - l.cacheStartSeq());
      if (room < bodies.size()) bodies = bodies.subList(0, (int) Math.max(0, room));
      if (bodies.isEmpty()) {
        p.replyTo().tell(new PublishResult(p.seq(), true, ""));
        return true;
      }
    }
    int k = bodies.size();
    Stamp stamp = p.stamp();
    long first = stamp != null ? stamp.firstId() : ids.id(ids.reserve(k), 0);
    long due = stamp != null ? stamp.dueEpochMs() : p.deferMs() > 0 ? clock.epochNanos() / 1_000_000L + p.deferMs() : 0;
    long fromPos = l.endPos();
    long fromSeq = l.endSeq();
    if (!writer.append(first, stamp != null ? stamp.timestampNanos() : clock.epochNanos(), bodies, due)) {
      if (l.memoryOnly()) {
        p.replyTo().tell(new PublishResult(p.seq(), true, ""));   // memory only: dropped, as nsqd drops for ephemeral
        return true;
      }
      return false;
    }
    messageCount += k;
    for (ByteString b : bodies) messageBytes += b.size();
    dropOldest();
    if (due > 0) deferredRanges.add(new Channel.Deferred(fromPos, fromSeq, l.endPos(), l.endSeq()));
    if (writer.durable()) {
      writer.await(p.seq(), p.replyTo());
    } else {
      p.replyTo().tell(new PublishResult(p.seq(), true, ""));
      makeVisible();
    }
    flush(false);
    return true;
  }

  private void drainWaiting() {
    while (!closed && !waitingForMemory.isEmpty()) {
      Publish p = waitingForMemory.peek();
      if (!tryAppend(p)) return;
      waitingForMemory.poll();
      waitingBytes -= bytesOf(p);
    }
  }

  /** Lets channels read what was appended (durable: what was fsync'd), unless paused. */
  private void makeVisible() {
    if (paused) return;
    long pos = writer.visiblePos();
    if (pos <= visiblePos) return;
    visiblePos = pos;
    visibleSeq = writer.visibleSeq();
    // Deferred publishes are taken into each channel's deferred set at once, as nsqd counts them.
    while (!deferredRanges.isEmpty() && deferredRanges.peek().to() <= visiblePos) {
      Channel.Deferred d = deferredRanges.poll();
      for (ChannelEntry c : channels.values()) c.ref.tell(d);
    }
    Channel.Appended a = new Channel.Appended(visiblePos, visibleSeq);
    for (ChannelEntry c : channels.values()) c.ref.tell(a);
  }

  // ---- writing the log's files ----

  private void flush(boolean syncNow) {
    CompletionStage<TopicLog.FlushJob> job = writer.flush(syncNow);
    if (job != null) ctx.pipeToSelf(job, (done, error) -> new Flushed(done));
  }

  private Behavior<Command> onFlushed(Flushed f) {
    String error = writer.finished(f.job());
    if (error != null) {
      reportDisk("topic " + name + ": " + error);
    } else if (diskError != null) {
      reportDisk(null);
    }
    makeVisible();
    trim();   // and the publishes waiting for memory go on
    if (persistReply != null) {
      finishPersist();
    } else if (error == null && topicLog().unflushed()) {
      flush(false);
    }
    return Behaviors.same();
  }

  private void reportDisk(String error) {
    if (error != null && diskError == null) log.error(error);
    if (error == null && diskError != null) log.info("topic {}: its log can be written again", name);
    diskError = error;
    persistence.health().tell(new Health.Report("topic " + name, error));
  }

  /** Gives back memory of what every channel read (or, under pressure, of whatever is on disk). */
  private void trim() {
    topicLog().trim(consumedPos());
    drainWaiting();
  }

  private long consumedPos() {
    if (channels.isEmpty()) return topicLog().startPos();
    long min = Long.MAX_VALUE;
    for (ChannelEntry c : channels.values()) min = Math.min(min, c.readPos);
    return min;
  }

  private Behavior<Command> onChannelProgress(ChannelProgress p) {
    ChannelEntry c = channels.get(p.channel());
    if (c == null) return Behaviors.same();
    c.readPos = Math.max(c.readPos, p.readPos());
    if (p.floorPos() >= 0) {
      c.floorPos = p.floorPos();
      c.floorSeq = p.floorSeq();
      releaseSegments();
    }
    trim();
    return Behaviors.same();
  }

  /** Deletes the segments below every channel's ack floor. */
  private void releaseSegments() {
    if (channels.isEmpty()) return;
    ChannelEntry lowest = null;
    for (ChannelEntry c : channels.values()) if (lowest == null || c.floorPos < lowest.floorPos) lowest = c;
    LogSearch.Found floor = policies.releaseFloor(lowest.floorPos, lowest.floorSeq);
    deleteFiles(topicLog().release(floor.pos(), floor.seq()));
  }

  private void deleteFiles(List<String> files) {
    if (files.isEmpty()) return;
    TopicLog l = topicLog();
    CompletableFuture.runAsync(() -> l.deleteFiles(files), persistence.io());
  }

  // ---- channels ----

  private ChannelEntry addChannel(String channel, boolean channelPaused, Channel.Start start) {
    String childName = "channel-" + URLEncoder.encode(channel, StandardCharsets.UTF_8) + "-" + (childSeq++);
    ActorRef<Channel.Command> ref = ctx.spawn(
        Channel.create(name, channel, ctx.getSelf(), settings, clock, persistence, channelPaused, start), childName);
    ctx.watchWith(ref, new ChannelTerminated(channel, ref));
    if (policies.office() != null) ref.tell(new Channel.ApplyPolicy(policies.forChannel(channel), policies.office()));
    ChannelEntry c = new ChannelEntry(ref, channel.endsWith("#ephemeral"), channelPaused, start.pos(), start.seq());
    channels.put(channel, c);
    return c;
  }

  private Behavior<Command> onGetChannel(GetChannel get) {
    ChannelEntry c = channels.get(get.name());
    if (c == null && get.create() && !closed) {
      TopicLog l = topicLog();
      // NSQ's rule: the first channel gets what the topic holds, later ones start at the end.
      Channel.Start start = channels.isEmpty()
          ? new Channel.Start(l, l.startPos(), l.startSeq(), visiblePos, visibleSeq, false)
          : new Channel.Start(l, visiblePos, visibleSeq, visiblePos, visibleSeq, false);
      c = addChannel(get.name(), false, start);
      metaChanged();
    }
    get.replyTo().tell(new ChannelLookup(get.name(), c == null ? null : c.ref));
    return Behaviors.same();
  }

  private Behavior<Command> onChannelPaused(ChannelPaused p) {
    ChannelEntry c = channels.get(p.channel());
    if (c != null && c.paused != p.paused()) {
      c.paused = p.paused();
      metaChanged();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onDeleteChannel(DeleteChannel del) {
    ChannelEntry c = channels.remove(del.name());
    if (c != null) {
      c.ref.tell(new Channel.Delete(ctx.getSystem().ignoreRef()));
      metaChanged();
    }
    del.replyTo().tell(c != null);
    return afterChannelRemoved();
  }

  private Behavior<Command> onChannelTerminated(ChannelTerminated t) {
    ChannelEntry c = channels.get(t.name());
    if (c != null && c.ref.equals(t.ref())) {
      channels.remove(t.name());
      metaChanged();
    }
    return afterChannelRemoved();
  }

  /** An ephemeral topic goes away with its last channel; otherwise what the channels held is released. */
  private Behavior<Command> afterChannelRemoved() {
    if (ephemeral && channels.isEmpty() && !closed) {
      if (meta != null) meta.tell(new MetaChanged(name, paused, Map.of(), true));
      topicLog().releaseMemory();
      return Behaviors.stopped();
    }
    if (channels.isEmpty()) {
      // What the last channel had received is gone with it; the next first channel starts here.
      TopicLog l = topicLog();
      LogSearch.Found floor = policies.releaseFloor(visiblePos, visibleSeq);
      deleteFiles(l.release(floor.pos(), floor.seq()));   // which moves the log's start there
    } else {
      releaseSegments();
    }
    trim();
    return Behaviors.same();
  }

  /** Tells the registry this topic's channels and pause flags (for nsqd.dat and lookup). */
  private void metaChanged() {
    if (meta == null) return;
    Map<String, Boolean> all = new LinkedHashMap<>();
    channels.forEach((n, c) -> all.put(n, c.paused));
    meta.tell(new MetaChanged(name, paused, Map.copyOf(all), false));
  }

  // ---- administration ----

  private Behavior<Command> onSetPaused(SetPaused p) {
    if (paused != p.paused()) {
      paused = p.paused();
      metaChanged();
      savePausedAt();
    }
    makeVisible();
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  /** A paused topic remembers how far its channels may read, so a restart does not show them what came since. */
  private void savePausedAt() {
    TopicLog l = topicLog();
    if (l.memoryOnly()) return;
    CursorFile.State at = paused ? new CursorFile.State(visiblePos, visibleSeq, List.of()) : null;
    CompletableFuture.runAsync(() -> {
      try {
        if (at != null) CursorFile.store(persistence.storage(), name, at, true); else CursorFile.delete(persistence.storage(), name);
      } catch (java.io.IOException e) {
        log.warn("topic {}: saving where it was paused failed: {}", name, e.toString());
      }
    }, persistence.io());
  }

  private Behavior<Command> onEmpty(Empty e) {
    TopicLog l = topicLog();
    deferredRanges.clear();
    if (channels.isEmpty()) {
      deleteFiles(l.skipAll());
      visiblePos = Math.max(visiblePos, writer.visiblePos());
      visibleSeq = Math.max(visibleSeq, writer.visibleSeq());
    } else if (writer.visiblePos() > visiblePos) {
      // Paused: what the channels have not seen yet is skipped by them.
      Channel.Skip skip = new Channel.Skip(visiblePos, writer.visiblePos(), writer.visibleSeq());
      visiblePos = writer.visiblePos();
      visibleSeq = writer.visibleSeq();
      Channel.Appended a = new Channel.Appended(visiblePos, visibleSeq);
      for (ChannelEntry c : channels.values()) {
        c.ref.tell(skip);
        c.ref.tell(a);
      }
      savePausedAt();
    }
    e.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onDelete(Delete d) {
    for (ChannelEntry c : channels.values()) c.ref.tell(new Channel.Delete(ctx.getSystem().ignoreRef()));
    writer.failWaiting("exiting");
    for (Publish p : waitingForMemory) p.replyTo().tell(new PublishResult(p.seq(), false, "exiting"));
    waitingForMemory.clear();
    TopicLog l = topicLog();
    ActorRef<Done> replyTo = d.replyTo();
    CompletableFuture.runAsync(() -> {
      l.destroy();
      try {
        if (!l.memoryOnly()) CursorFile.delete(persistence.storage(), name);
      } catch (java.io.IOException e) {
        log.warn("topic {}: deleting where it was paused failed: {}", name, e.toString());
      }
    }, persistence.io()).whenComplete((ok, error) -> replyTo.tell(Done.getInstance()));   // once its files are gone
    if (meta != null) meta.tell(new MetaChanged(name, paused, Map.of(), true));
    return Behaviors.stopped();
  }

  private Behavior<Command> onPersist(Persist p) {
    if (closed) {
      p.replyTo().tell(Done.getInstance());
      return Behaviors.same();
    }
    closed = true;
    for (Publish w : waitingForMemory) w.replyTo().tell(new PublishResult(w.seq(), false, "exiting"));
    waitingForMemory.clear();
    ActorRef<Command> self = ctx.getSelf();
    ActorRef<Done> replyTo = p.replyTo();
    ActorRef<Done> collector = Collector.spawn(ctx, Done.class, channels.size(), PERSIST_TIMEOUT,
        replies -> self.tell(new ChannelsPersisted(replyTo)));
    for (ChannelEntry c : channels.values()) c.ref.tell(new Channel.Persist(collector));
    return Behaviors.same();
  }

  /** The channels saved their cursors; now the log is written and fsync'd, then closed. */
  private Behavior<Command> onChannelsPersisted(ChannelsPersisted p) {
    persistReply = p.replyTo();
    finishPersist();
    return Behaviors.same();
  }

  private void finishPersist() {
    TopicLog l = topicLog();
    if (l.flushing()) return;   // onFlushed comes back here
    if (!l.memoryOnly() && diskError == null && writer.pending()) {
      flush(true);
      if (l.flushing()) return;
    }
    if (l.memoryOnly() && l.endSeq() > l.startSeq() && channels.isEmpty() && !ephemeral) {
      log.warn("topic {} drops {} messages at shutdown (its log could not be opened)", name, l.endSeq() - l.startSeq());
    }
    writer.failWaiting(diskError != null ? diskError : "exiting");
    ActorRef<Done> replyTo = persistReply;
    persistReply = null;
    CursorFile.State pausedAt = paused && !l.memoryOnly() ? new CursorFile.State(visiblePos, visibleSeq, List.of()) : null;
    CompletableFuture.runAsync(() -> {
      if (pausedAt != null) {
        try {
          CursorFile.store(persistence.storage(), name, pausedAt, true);
        } catch (java.io.IOException e) {
          log.warn("topic {}: saving where it was paused failed: {}", name, e.toString());
        }
      }
      l.closeFiles();
      l.releaseMemory();
    }, persistence.io()).whenComplete((ok, error) -> replyTo.tell(Done.getInstance()));
  }

  private Behavior<Command> onGetStats(GetStats get) {
    List<ChannelEntry> asked = new ArrayList<>();
    for (var e : channels.entrySet()) {
      if (get.channel() == null || get.channel().equals(e.getKey())) asked.add(e.getValue());
    }
    TopicLog l = topicLog();
    // As nsqd: a topic's depth is what no channel has received yet.
    long from = channels.isEmpty() ? l.startSeq() : visibleSeq;
    long depth = Math.max(0, l.endSeq() - from);
    long backend = l.memoryOnly() ? 0 : Math.max(0, Math.min(l.endSeq(), l.cacheStartSeq()) - from);
    String topicName = name;
    long count = messageCount;
    long bytes = messageBytes;
    boolean isPaused = paused;
    long corrupt = l.corruptions();
    TopicPolicy policy = policies.policy();
    long dropped = policies.droppedCount();
    List<Double> quantiles = settings.e2ePercentiles();
    ActorRef<Stats.Topic> replyTo = get.replyTo();
    ActorRef<Stats.Channel> collector = Collector.spawn(ctx, Stats.Channel.class, asked.size(), STATS_TIMEOUT, replies -> {
      List<Stats.Channel> sorted = new ArrayList<>(replies);
      sorted.sort(Comparator.comparing(Stats.Channel::name));
      List<Stats.Latency> parts = new ArrayList<>();
      for (Stats.Channel ch : sorted) parts.add(ch.e2eLatency());
      replyTo.tell(new Stats.Topic(topicName, List.copyOf(sorted), depth, backend, count, bytes, isPaused,
          LatencyWindow.combine(quantiles, parts), corrupt, policy, dropped));
    });
    for (ChannelEntry c : asked) c.ref.tell(new Channel.GetStats(get.includeClients(), collector));
    return Behaviors.same();
  }

  // ---- settings: dead letters, bounds, retention, rewind (the logic is in TopicPolicies and LogSearch) ----

  private Behavior<Command> onApplyPolicy(ApplyPolicy a) {
    policies.apply(a.policy(), a.channels(), a.office());
    channels.forEach((n, c) -> c.ref.tell(new Channel.ApplyPolicy(policies.forChannel(n), a.office())));
    retain();
    return Behaviors.same();
  }

  private Behavior<Command> onAppendLetters(AppendLetters a) {
    if (closed) {
      a.replyTo().tell(new PublishResult(a.seq(), false, "exiting"));
      return Behaviors.same();
    }
    long now = clock.epochNanos();
    for (DeadLetters.Letter letter : a.letters()) {
      // A new id here: the same message may be dead-lettered by two channels into this topic.
      if (!writer.appendWithHeader(ids.id(ids.reserve(1), 0), now, letter.body(), DeadLetters.header(letter))) {
        a.replyTo().tell(new PublishResult(a.seq(), false, "the node's memory for messages is full"));
        return Behaviors.same();
      }
      messageCount++;
      messageBytes += letter.body().size();
    }
    if (writer.durable()) {
      writer.await(a.seq(), a.replyTo());
    } else {
      a.replyTo().tell(new PublishResult(a.seq(), true, ""));
      makeVisible();
    }
    flush(false);
    return Behaviors.same();
  }

  private Behavior<Command> onReadLog(ReadLog r) {
    TopicLog l = topicLog();
    long limitPos = visiblePos;
    long limitSeq = visibleSeq;
    long startSeq = l.startSeq();
    CompletableFuture.supplyAsync(() -> {
      try {
        return LogSearch.readFrom(l, r.fromSeq(), r.count(), limitPos, limitSeq);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()).whenComplete((entries, error) -> {
      if (error != null) log.warn("topic {}: reading its log failed: {}", name, error.toString());
      r.replyTo().tell(new LogRead(entries == null ? List.of() : entries, startSeq, limitSeq));
    });
    return Behaviors.same();
  }

  private Behavior<Command> onRewindChannel(RewindChannel r) {
    if (!channels.containsKey(r.channel())) {
      r.replyTo().tell(new Channel.Rewound(false, 0));
      return Behaviors.same();
    }
    TopicLog l = topicLog();
    if (r.epochMs() == EARLIEST) return onLocated(new Located(r, new LogSearch.Found(l.startPos(), l.startSeq())));
    long limitPos = visiblePos;
    long limitSeq = visibleSeq;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        return LogSearch.seekTime(l, r.epochMs() * 1_000_000L, limitPos, limitSeq);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (at, error) -> new Located(r, at));
    return Behaviors.same();
  }

  /** The cursor goes there; the channel's floor is lowered at once so that no segment it needs is released meanwhile. */
  private Behavior<Command> onLocated(Located located) {
    ChannelEntry c = channels.get(located.rewind().channel());
    if (c == null || located.at() == null) {
      located.rewind().replyTo().tell(new Channel.Rewound(false, 0));
      return Behaviors.same();
    }
    TopicLog l = topicLog();
    LogSearch.Found at = located.at().pos() < l.startPos() ? new LogSearch.Found(l.startPos(), l.startSeq()) : located.at();
    if (at.pos() < c.floorPos) {
      c.floorPos = at.pos();
      c.floorSeq = at.seq();
    }
    c.readPos = Math.min(c.readPos, at.pos());
    c.ref.tell(new Channel.Rewind(at.pos(), at.seq(), located.rewind().replyTo()));
    return Behaviors.same();
  }

  /** drop-oldest: once over the bound, the oldest records are found (on the I/O executor) and skipped by every channel. */
  private void dropOldest() {
    TopicLog l = topicLog();
    long[] target = policies.dropTarget(l);
    if (target == null) return;
    long limitPos = l.endPos();
    long limitSeq = l.endSeq();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        LogSearch.Found bySeq = LogSearch.seekSeq(l, target[0], limitPos, limitSeq);
        if (target[1] <= bySeq.pos()) return bySeq;
        return LogSearch.seekPos(l, target[1], limitPos, limitSeq);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (at, error) -> new DropFound(at));
  }

  private Behavior<Command> onDropFound(DropFound d) {
    TopicLog l = topicLog();
    if (policies.dropped(l, d.at())) {
      Channel.Skip skip = new Channel.Skip(0, d.at().pos(), d.at().seq());
      for (ChannelEntry c : channels.values()) c.ref.tell(skip);
      if (channels.isEmpty()) deleteFiles(l.release(d.at().pos(), d.at().seq()));
    }
    dropOldest();   // more may have come meanwhile
    return Behaviors.same();
  }

  /** With retention: works out (on the I/O executor) which segments are older than it. */
  private void retain() {
    TopicLog l = topicLog();
    if (l.memoryOnly() || !policies.startRetention()) return;
    long cutoff = clock.epochNanos() - policies.policy().retention().toNanos();
    long limitPos = visiblePos;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        return policies.retentionFloor(l, cutoff, limitPos);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (floor, error) -> new RetentionFound(floor));
  }
}
