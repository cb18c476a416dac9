package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import io.jnsq.storage.DiskQueue;
import io.jnsq.storage.Health;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.Syncs;
import java.io.IOException;
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
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NSQ topic: stamps published bodies into messages and copies every batch to each of its channels.
 * While it has no channels, or is paused, it holds messages itself: up to {@code --mem-queue-size} in
 * memory, the rest in its disk queue; the first channel (or unpausing) receives that backlog.
 *
 * <p>What is on its way to a channel is bounded: the topic counts what it sent to each channel and the
 * channel reports back once it has stored it (in memory or on its own disk). While any channel is
 * behind, new messages wait in the topic's own queue, so neither mailboxes nor memory grow without bound.
 *
 * <p>With {@code --durable}, every publish goes to the topic's disk queue and is answered only once an
 * fsync covers it (one fsync answers every publish that arrived meanwhile), and the topic's read
 * position on disk moves only past messages every channel has itself stored durably.
 */
public final class Topic {
  private static final Logger log = LoggerFactory.getLogger(Topic.class);

  /** Everything a topic understands. */
  public sealed interface Command {}

  /**
   * PUB, MPUB or DPUB: all bodies are accepted together or none is. {@code seq} comes back in the
   * result so that a connection with several topics can match replies without a temporary actor per ask.
   */
  public record Publish(long seq, List<ByteString> bodies, long deferMs, ActorRef<PublishResult> replyTo)
      implements Command {}

  /** Whether publish {@code seq} was accepted; {@code reason} goes after "PUB failed". */
  public record PublishResult(long seq, boolean accepted, String reason) {}

  /** Finds (and with {@code create}, makes) a channel. */
  public record GetChannel(String name, boolean create, ActorRef<ChannelLookup> replyTo) implements Command {}

  /** A channel's address, or null when it does not exist. */
  public record ChannelLookup(String name, ActorRef<Channel.Command> channel) {}

  /** Deletes a channel; answers false when there was none. */
  public record DeleteChannel(String name, ActorRef<Boolean> replyTo) implements Command {}

  /** Pauses or unpauses the copying of messages to channels. */
  public record SetPaused(boolean paused, ActorRef<Done> replyTo) implements Command {}

  /** Drops the messages the topic itself holds (not those already in channels). */
  public record Empty(ActorRef<Done> replyTo) implements Command {}

  /** Deletes the topic with all its channels and their files. */
  public record Delete(ActorRef<Done> replyTo) implements Command {}

  /** A snapshot for {@code /stats}; {@code channel} (nullable) keeps only that channel. */
  public record GetStats(String channel, boolean includeClients, ActorRef<Stats.Topic> replyTo) implements Command {}

  /**
   * From a channel: it has stored {@code count} messages ({@code bytes} of bodies) this topic sent it,
   * through disk read sequence {@code throughSeq} (-1 when none came from disk).
   */
  public record ChannelDrained(String channel, long count, long bytes, long throughSeq) implements Command {}

  /**
   * From a channel: whether it wants more messages. A channel whose memory is full (or that is behind on
   * disk) says no, and while no channel wants more the topic keeps new messages in its own queue instead
   * of making every channel write its own copy to disk.
   */
  public record ChannelRoom(String channel, boolean wantsMore) implements Command {}

  /** From a channel: its disk queue failed ({@code error}) or works again (null); publishes wait meanwhile. */
  public record ChannelDiskState(String channel, String error) implements Command {}

  /** From a channel: it was paused or unpaused (for the node's metadata). */
  public record ChannelPaused(String channel, boolean paused) implements Command {}

  /** Shutdown: stop taking messages, write everything (the topic's and its channels') to disk, answer. */
  public record Persist(ActorRef<Done> replyTo) implements Command {}

  /** What the node's metadata file must know of a topic; {@code deleted} when it is gone. */
  public record MetaChanged(String topic, boolean paused, Map<String, Boolean> channels, boolean deleted) {}

  private record ChannelTerminated(String name, ActorRef<Channel.Command> ref) implements Command {}

  private record ChannelsPersisted(ActorRef<Done> replyTo) implements Command {}

  private record SyncFinished(DiskQueue.SyncJob job) implements Command {}

  private record SyncTick() implements Command {}

  private static final Duration STATS_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration PERSIST_TIMEOUT = Duration.ofSeconds(60);
  /** At most this much may be on its way to one channel (sent, not yet stored). */
  static final long TRANSIT_MESSAGES = 8192;
  static final long TRANSIT_BYTES = 16L << 20;
  private static final int READ_BATCH = 1024;

  /** A topic named {@code name}, new or restored with its channels (name to paused) and pause state. */
  public static Behavior<Command> create(String name, ChannelSettings settings, MessageIdSource ids, Clock clock,
      Persistence persistence, ActorRef<MetaChanged> meta, boolean paused, Map<String, Boolean> channels) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new Topic(ctx, timers, name, settings, ids, clock, persistence, meta, paused, channels).running()));
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
    boolean wantsMore = true;
    long outstanding;
    long outstandingBytes;
    long storedThrough;

    ChannelEntry(ActorRef<Channel.Command> ref, boolean ephemeral, boolean paused, long storedThrough) {
      this.ref = ref;
      this.ephemeral = ephemeral;
      this.paused = paused;
      this.storedThrough = storedThrough;
    }
  }

  /** Messages held in memory; {@code due} is the monotonic time a deferred batch may go out, or 0. */
  private record Held(List<Message> messages, long due, long bytes) {}

  /** A durable publish waiting for its fsync. */
  private record Waiting(long seq, ActorRef<PublishResult> replyTo) {}

  private final ActorContext<Command> ctx;
  private final String name;
  private final ChannelSettings settings;
  private final MessageIdSource ids;
  private final Clock clock;
  private final Persistence persistence;
  private final ActorRef<MetaChanged> meta;
  private final boolean ephemeral;
  private final boolean durable;
  private final TreeMap<String, ChannelEntry> channels = new TreeMap<>();
  private final TreeMap<String, String> failingChannels = new TreeMap<>();
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private DiskQueue disk;          // null: ephemeral, or the disk could not be opened
  private Syncs syncs;
  private List<Waiting> waiting = new ArrayList<>();
  private List<Waiting> syncing = List.of();
  private long heldCount;
  private long sentSeq;
  private boolean paused;
  private boolean closed;
  private String diskError;
  private long messageCount;
  private long messageBytes;
  private long childSeq;

  private Topic(ActorContext<Command> ctx, TimerScheduler<Command> timers, String name, ChannelSettings settings,
      MessageIdSource ids, Clock clock, Persistence persistence, ActorRef<MetaChanged> meta, boolean paused,
      Map<String, Boolean> restoredChannels) {
    this.ctx = ctx;
    this.name = name;
    this.settings = settings;
    this.ids = ids;
    this.clock = clock;
    this.persistence = persistence;
    this.meta = meta;
    this.ephemeral = name.endsWith("#ephemeral");
    this.durable = persistence.durable() && !ephemeral;
    this.paused = paused;
    if (!ephemeral) {
      try {
        disk = persistence.open(name);
        syncs = new Syncs(disk, persistence.io(), persistence.queue().syncTimeout().toNanos(), clock.nanoTime(),
            durable);
        timers.startTimerWithFixedDelay(new SyncTick(), persistence.queue().syncTimeout());
      } catch (IOException | RuntimeException e) {
        reportDisk("opening the disk queue of topic " + name + " failed: " + e);
      }
    }
    restoredChannels.forEach((channel, channelPaused) -> addChannel(channel, channelPaused));
    pump();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Publish.class, this::onPublish)
        .onMessage(ChannelDrained.class, this::onChannelDrained)
        .onMessage(ChannelPaused.class, this::onChannelPaused)
        .onMessage(ChannelRoom.class, r -> {
          ChannelEntry c = channels.get(r.channel());
          if (c != null) c.wantsMore = r.wantsMore();
          pump();
          return Behaviors.same();
        })
        .onMessage(ChannelDiskState.class, s -> {
          if (s.error() == null) failingChannels.remove(s.channel()); else failingChannels.put(s.channel(), s.error());
          return Behaviors.same();
        })
        .onMessage(GetChannel.class, this::onGetChannel)
        .onMessage(DeleteChannel.class, this::onDeleteChannel)
        .onMessage(ChannelTerminated.class, this::onChannelTerminated)
        .onMessage(SetPaused.class, this::onSetPaused)
        .onMessage(Empty.class, this::onEmpty)
        .onMessage(Delete.class, this::onDelete)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(SyncFinished.class, this::onSyncFinished)
        .onMessage(SyncTick.class, t -> {
          if (disk != null && disk.dirty() && !closed) sync(false);
          return Behaviors.same();
        })
        .onMessage(Persist.class, this::onPersist)
        .onMessage(ChannelsPersisted.class, this::onChannelsPersisted)
        .build();
  }

  // ---- publishing ----

  private Behavior<Command> onPublish(Publish p) {
    if (closed) {
      p.replyTo().tell(new PublishResult(p.seq(), false, "exiting"));
      return Behaviors.same();
    }
    if (!failingChannels.isEmpty()) {
      // A channel could not write its overflow to disk: refuse rather than grow its memory without bound.
      p.replyTo().tell(new PublishResult(p.seq(), false, failingChannels.firstEntry().getValue()));
      return Behaviors.same();
    }
    int k = p.bodies().size();
    long first = ids.reserve(k);
    long ts = clock.epochNanos();
    List<Message> batch = new ArrayList<>(k);
    long bytes = 0;
    for (int i = 0; i < k; i++) {
      ByteString body = p.bodies().get(i);
      batch.add(new Message(ids.id(first, i), ts, 0, body));
      bytes += body.size();
    }
    long deferNanos = p.deferMs() * 1_000_000L;
    String refusal = durable ? toDisk(batch, deferNanos) : enqueue(batch, bytes, deferNanos);
    if (refusal != null) {
      p.replyTo().tell(new PublishResult(p.seq(), false, refusal));
      return Behaviors.same();
    }
    messageCount += k;
    messageBytes += bytes;
    if (durable) {
      waiting.add(new Waiting(p.seq(), p.replyTo()));
      sync(false);
    } else {
      p.replyTo().tell(new PublishResult(p.seq(), true, ""));
      if (disk != null && disk.syncDue()) sync(false);
    }
    pump();
    return Behaviors.same();
  }

  /** Places a batch (non-durable): straight to the channels, else memory, else disk; returns a refusal or null. */
  private String enqueue(List<Message> batch, long bytes, long deferNanos) {
    if (held.isEmpty() && diskDepth() == 0 && canSend(batch.size(), bytes)) {
      send(batch, bytes, deferNanos, -1);
      return null;
    }
    if (diskDepth() == 0 && heldCount + batch.size() <= settings.memQueueSize()) {
      held.add(new Held(batch, deferNanos > 0 ? clock.nanoTime() + deferNanos : 0, bytes));
      heldCount += batch.size();
      return null;
    }
    if (ephemeral) {
      long room = settings.memQueueSize() - heldCount;   // an ephemeral topic drops what memory cannot hold
      if (room > 0) {
        List<Message> kept = batch.subList(0, (int) Math.min(room, batch.size()));
        held.add(new Held(kept, deferNanos > 0 ? clock.nanoTime() + deferNanos : 0, bytes));
        heldCount += kept.size();
      }
      return null;
    }
    if (disk == null) return diskError != null ? diskError : "mem-queue-size (" + settings.memQueueSize() + ") exceeded";
    return toDisk(batch, deferNanos);
  }

  private String toDisk(List<Message> batch, long deferNanos) {
    if (disk == null) return diskError != null ? diskError : "no disk queue";
    try {
      disk.append(batch, deferNanos > 0 ? clock.epochNanos() / 1_000_000L + deferNanos / 1_000_000L : 0);
      if (diskError != null) reportDisk(null);
      return null;
    } catch (IOException e) {
      reportDisk("writing to the disk queue of topic " + name + " failed: " + e.getMessage());
      return diskError;
    }
  }

  private void reportDisk(String error) {
    if (error != null) log.error(error);
    diskError = error;
    persistence.health().tell(new Health.Report("topic " + name, error));
  }

  private long diskDepth() { return disk == null ? 0 : disk.depth(); }

  /**
   * Whether {@code k} more messages should go to the channels now: every channel has room in transit,
   * and at least one wants more (the others, behind, keep their copy on their own disk).
   */
  private boolean canSend(long k, long bytes) {
    if (channels.isEmpty() || paused) return false;
    boolean wanted = false;
    for (ChannelEntry c : channels.values()) {
      if (c.outstanding > 0 && (c.outstanding + k > TRANSIT_MESSAGES || c.outstandingBytes + bytes > TRANSIT_BYTES)) {
        return false;
      }
      wanted |= c.wantsMore || c.ephemeral;
    }
    return wanted;
  }

  private void send(List<Message> batch, long bytes, long deferNanos, long seq) {
    Channel.Command put = deferNanos > 0 ? new Channel.PutDeferred(batch, deferNanos, seq) : new Channel.Put(batch, seq);
    for (ChannelEntry c : channels.values()) {
      c.ref.tell(put);
      c.outstanding += batch.size();
      c.outstandingBytes += bytes;
    }
  }

  /** Moves held and on-disk messages to the channels while they have room. */
  private void pump() {
    while (!closed && !paused && !channels.isEmpty()) {
      Held h = held.peek();
      if (h != null) {
        if (!canSend(h.messages().size(), h.bytes())) return;
        held.poll();
        heldCount -= h.messages().size();
        long now = clock.nanoTime();
        send(h.messages(), h.bytes(), h.due() > now ? h.due() - now : 0, -1);
        continue;
      }
      if (diskDepth() == 0) return;
      long room = TRANSIT_MESSAGES;
      for (ChannelEntry c : channels.values()) room = Math.min(room, TRANSIT_MESSAGES - c.outstanding);
      if (room <= 0 || !canSend(1, 0)) return;
      List<DiskQueue.Read> reads;
      try {
        reads = disk.read((int) Math.min(room, READ_BATCH));
      } catch (IOException e) {
        log.error("reading the disk queue of topic {} failed: {}", name, e.toString());
        return;
      }
      if (reads.isEmpty()) return;
      sendReads(reads);
      if (!durable) disk.commitAll();
    }
  }

  /** Sends records read from disk, each run of equal due time as one batch. */
  private void sendReads(List<DiskQueue.Read> reads) {
    long nowMs = clock.epochNanos() / 1_000_000L;
    int i = 0;
    while (i < reads.size()) {
      long due = reads.get(i).dueEpochMs();
      List<Message> batch = new ArrayList<>();
      long bytes = 0;
      int j = i;
      while (j < reads.size() && reads.get(j).dueEpochMs() == due) {
        Message m = reads.get(j).message();
        batch.add(m);
        bytes += m.body().size();
        j++;
      }
      long last = reads.get(j - 1).seq();
      send(batch, bytes, due > nowMs ? (due - nowMs) * 1_000_000L : 0, last);
      sentSeq = last;
      i = j;
    }
  }

  private Behavior<Command> onChannelDrained(ChannelDrained d) {
    ChannelEntry c = channels.get(d.channel());
    if (c != null) {
      c.outstanding = Math.max(0, c.outstanding - d.count());
      c.outstandingBytes = Math.max(0, c.outstandingBytes - d.bytes());
      if (d.throughSeq() > c.storedThrough) c.storedThrough = d.throughSeq();
      commitStored();
    }
    pump();
    return Behaviors.same();
  }

  /** Durable: the disk read position may move past what every channel has stored. */
  private void commitStored() {
    if (!durable || disk == null) return;
    long through = sentSeq;
    for (ChannelEntry c : channels.values()) if (!c.ephemeral) through = Math.min(through, c.storedThrough);
    disk.commitThrough(through);
  }

  // ---- fsync ----

  private void sync(boolean withMeta) {
    if (syncs == null) return;
    var job = syncs.start(clock.nanoTime(), withMeta);
    if (job == null) return;
    syncing = waiting;
    waiting = new ArrayList<>();
    ctx.pipeToSelf(job, (done, error) -> new SyncFinished(done));
  }

  private Behavior<Command> onSyncFinished(SyncFinished f) {
    syncs.finished(f.job());
    String error = f.job().error() == null ? null : "fsync of topic " + name + " failed: " + f.job().error().getMessage();
    if (error != null) reportDisk(error);
    for (Waiting w : syncing) w.replyTo().tell(new PublishResult(w.seq(), error == null, error == null ? "" : error));
    syncing = List.of();
    if (!closed && (!waiting.isEmpty() || disk.syncDue())) sync(false);
    return Behaviors.same();
  }

  // ---- channels ----

  private ChannelEntry addChannel(String channel, boolean channelPaused) {
    String childName = "channel-" + URLEncoder.encode(channel, StandardCharsets.UTF_8) + "-" + (childSeq++);
    ActorRef<Channel.Command> ref = ctx.spawn(
        Channel.create(name, channel, ctx.getSelf(), settings, clock, persistence, channelPaused), childName);
    ctx.watchWith(ref, new ChannelTerminated(channel, ref));
    ChannelEntry c = new ChannelEntry(ref, channel.endsWith("#ephemeral"), channelPaused, sentSeq);
    channels.put(channel, c);
    return c;
  }

  private Behavior<Command> onGetChannel(GetChannel get) {
    ChannelEntry c = channels.get(get.name());
    if (c == null && get.create() && !closed) {
      c = addChannel(get.name(), false);
      metaChanged();
      pump();
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
    failingChannels.remove(del.name());
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
      failingChannels.remove(t.name());
      metaChanged();
    }
    return afterChannelRemoved();
  }

  /** An ephemeral topic goes away with its last channel; the others may now move on. */
  private Behavior<Command> afterChannelRemoved() {
    if (ephemeral && channels.isEmpty() && !closed) {
      if (meta != null) meta.tell(new MetaChanged(name, paused, Map.of(), true));
      return Behaviors.stopped();
    }
    commitStored();
    pump();
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
    }
    pump();
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onEmpty(Empty e) {
    held.clear();
    heldCount = 0;
    if (disk != null) {
      try {
        disk.clear();
      } catch (IOException ex) {
        log.error("emptying the disk queue of topic {} failed: {}", name, ex.toString());
      }
    }
    e.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onDelete(Delete d) {
    for (ChannelEntry c : channels.values()) c.ref.tell(new Channel.Delete(ctx.getSystem().ignoreRef()));
    if (disk != null) {
      try {
        disk.destroy();
      } catch (IOException e) {
        log.error("deleting the files of topic {} failed: {}", name, e.toString());
      }
    }
    for (Waiting w : waiting) w.replyTo().tell(new PublishResult(w.seq(), false, "exiting"));
    if (meta != null) meta.tell(new MetaChanged(name, paused, Map.of(), true));
    d.replyTo().tell(Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> onPersist(Persist p) {
    if (closed) {
      p.replyTo().tell(Done.getInstance());
      return Behaviors.same();
    }
    closed = true;
    ActorRef<Command> self = ctx.getSelf();
    ActorRef<Done> replyTo = p.replyTo();
    ActorRef<Done> collector = Collector.spawn(ctx, Done.class, channels.size(), PERSIST_TIMEOUT,
        replies -> self.tell(new ChannelsPersisted(replyTo)));
    for (ChannelEntry c : channels.values()) c.ref.tell(new Channel.Persist(collector));
    return Behaviors.same();
  }

  /** The channels have stored everything they had; now the topic writes what it holds itself. */
  private Behavior<Command> onChannelsPersisted(ChannelsPersisted p) {
    if (disk != null) {
      long now = clock.nanoTime();
      long nowMs = clock.epochNanos() / 1_000_000L;
      String failure = null;
      try {
        for (Held h : held) disk.append(h.messages(), h.due() > now ? nowMs + (h.due() - now) / 1_000_000L : 0);
        held.clear();
        heldCount = 0;
        disk.commitAll();   // every message sent is now in a channel's own queue
        disk.close();
      } catch (IOException e) {
        log.error("writing topic {} to disk at shutdown failed: {}", name, e.toString());
        failure = "writing to disk at shutdown failed";
      }
      // Durable publishes still waiting for their fsync: close() forced everything.
      for (Waiting w : syncing) w.replyTo().tell(new PublishResult(w.seq(), failure == null, failure == null ? "" : failure));
      for (Waiting w : waiting) w.replyTo().tell(new PublishResult(w.seq(), failure == null, failure == null ? "" : failure));
      syncing = List.of();
      waiting = new ArrayList<>();
    } else if (heldCount > 0) {
      log.warn("topic {} drops {} messages at shutdown (no disk queue)", name, heldCount);
    }
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onGetStats(GetStats get) {
    List<ChannelEntry> asked = new ArrayList<>();
    for (var e : channels.entrySet()) {
      if (get.channel() == null || get.channel().equals(e.getKey())) asked.add(e.getValue());
    }
    String topicName = name;
    long backend = diskDepth();
    long depth = heldCount + backend;
    long count = messageCount;
    long bytes = messageBytes;
    boolean isPaused = paused;
    long corrupt = disk == null ? 0 : disk.corruptions();
    List<Double> quantiles = settings.e2ePercentiles();
    ActorRef<Stats.Topic> replyTo = get.replyTo();
    ActorRef<Stats.Channel> collector = Collector.spawn(ctx, Stats.Channel.class, asked.size(), STATS_TIMEOUT, replies -> {
      List<Stats.Channel> sorted = new ArrayList<>(replies);
      sorted.sort(Comparator.comparing(Stats.Channel::name));
      List<Stats.Latency> parts = new ArrayList<>();
      for (Stats.Channel ch : sorted) parts.add(ch.e2eLatency());
      replyTo.tell(new Stats.Topic(topicName, List.copyOf(sorted), depth, backend, count, bytes, isPaused,
          LatencyWindow.combine(quantiles, parts), corrupt));
    });
    for (ChannelEntry c : asked) c.ref.tell(new Channel.GetStats(get.includeClients(), collector));
    return Behaviors.same();
  }
}
