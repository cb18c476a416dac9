package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.util.ByteString;

/**
 * One NSQ topic: stamps published bodies into messages and copies every batch to each of its channels.
 * While it has no channels, or is paused, it holds messages itself; the first channel (or unpausing)
 * receives that backlog.
 *
 * <p>Memory is bounded by credit: the topic counts what it has put into each channel and the channel
 * reports back what has left its queue, so a publish that would take any channel (or the topic's own
 * backlog) past {@code --mem-queue-size} is refused instead of growing the heap. Ephemeral topics and
 * channels drop the overflow, as nsqd does.
 */
public final class Topic {

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

  /** Deletes the topic with all its channels. */
  public record Delete(ActorRef<Done> replyTo) implements Command {}

  /** A snapshot for {@code /stats}; {@code channel} (nullable) keeps only that channel. */
  public record GetStats(String channel, boolean includeClients, ActorRef<Stats.Topic> replyTo) implements Command {}

  /** From a channel: {@code count} messages this topic put there have left its queue. */
  public record ChannelDrained(String channel, long count) implements Command {}

  private record ChannelTerminated(String name, ActorRef<Channel.Command> ref) implements Command {}

  private static final Duration STATS_TIMEOUT = Duration.ofSeconds(3);

  /** A topic named {@code name}. */
  public static Behavior<Command> create(String name, ChannelSettings settings, MessageIdSource ids, Clock clock) {
    return Behaviors.setup(ctx -> new Topic(ctx, name, settings, ids, clock).running());
  }

  private static final class ChannelEntry {
    final ActorRef<Channel.Command> ref;
    final boolean ephemeral;
    long outstanding;

    ChannelEntry(ActorRef<Channel.Command> ref, boolean ephemeral) {
      this.ref = ref;
      this.ephemeral = ephemeral;
    }
  }

  /** Messages held by the topic; {@code due} is the monotonic time a deferred batch may go out, or 0. */
  private record Held(List<Message> messages, long due) {}

  private final ActorContext<Command> ctx;
  private final String name;
  private final ChannelSettings settings;
  private final MessageIdSource ids;
  private final Clock clock;
  private final boolean ephemeral;
  private final TreeMap<String, ChannelEntry> channels = new TreeMap<>();
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private long heldCount;
  private boolean paused;
  private long messageCount;
  private long messageBytes;
  private long childSeq;

  private Topic(ActorContext<Command> ctx, String name, ChannelSettings settings, MessageIdSource ids, Clock clock) {
    this.ctx = ctx;
    this.name = name;
    this.settings = settings;
    this.ids = ids;
    this.clock = clock;
    this.ephemeral = name.endsWith("#ephemeral");
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Publish.class, this::onPublish)
        .onMessage(ChannelDrained.class, this::onChannelDrained)
        .onMessage(GetChannel.class, this::onGetChannel)
        .onMessage(DeleteChannel.class, this::onDeleteChannel)
        .onMessage(ChannelTerminated.class, this::onChannelTerminated)
        .onMessage(SetPaused.class, this::onSetPaused)
        .onMessage(Empty.class, this::onEmpty)
        .onMessage(Delete.class, this::onDelete)
        .onMessage(GetStats.class, this::onGetStats)
        .build();
  }

  private Behavior<Command> onPublish(Publish p) {
    int k = p.bodies().size();
    String refusal = admit(k);
    if (refusal != null) {
      p.replyTo().tell(new PublishResult(p.seq(), false, refusal));
      return Behaviors.same();
    }
    long first = ids.reserve(k);
    long ts = clock.epochNanos();
    List<Message> batch = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      ByteString body = p.bodies().get(i);
      batch.add(new Message(ids.id(first, i), ts, 0, body));
      messageBytes += body.size();
    }
    messageCount += k;
    long deferNanos = p.deferMs() * 1_000_000L;
    if (channels.isEmpty() || paused) {
      hold(batch, deferNanos > 0 ? clock.nanoTime() + deferNanos : 0);
    } else {
      Channel.Command put = deferNanos > 0 ? new Channel.PutDeferred(batch, deferNanos) : new Channel.Put(batch);
      for (ChannelEntry c : channels.values()) {
        c.ref.tell(put);
        c.outstanding += k;
      }
    }
    p.replyTo().tell(new PublishResult(p.seq(), true, ""));
    return Behaviors.same();
  }

  /** Returns why {@code k} more messages cannot be taken, or null when they can. */
  private String admit(int k) {
    long max = settings.memQueueSize();
    if (channels.isEmpty() || paused) {
      if (!ephemeral && heldCount + k > max) return "mem-queue-size (" + max + ") exceeded";
      return null;
    }
    for (ChannelEntry c : channels.values()) {
      if (!c.ephemeral && c.outstanding + k > max) return "mem-queue-size (" + max + ") exceeded";
    }
    return null;
  }

  private void hold(List<Message> batch, long due) {
    if (ephemeral) {
      long room = settings.memQueueSize() - heldCount;
      if (room <= 0) return;   // an ephemeral topic drops what it cannot hold in memory
      if (room < batch.size()) batch = batch.subList(0, (int) room);
    }
    held.add(new Held(batch, due));
    heldCount += batch.size();
  }

  /** Sends everything held to the channels, keeping what is left of each deferral. */
  private void releaseHeld() {
    if (held.isEmpty() || channels.isEmpty() || paused) return;
    long now = clock.nanoTime();
    for (Held h : held) {
      Channel.Command put = h.due() > now ? new Channel.PutDeferred(h.messages(), h.due() - now) : new Channel.Put(h.messages());
      for (ChannelEntry c : channels.values()) {
        c.ref.tell(put);
        c.outstanding += h.messages().size();
      }
    }
    held.clear();
    heldCount = 0;
  }

  private Behavior<Command> onChannelDrained(ChannelDrained d) {
    ChannelEntry c = channels.get(d.channel());
    if (c != null) c.outstanding = Math.max(0, c.outstanding - d.count());
    return Behaviors.same();
  }

  private Behavior<Command> onGetChannel(GetChannel get) {
    ChannelEntry c = channels.get(get.name());
    if (c == null && get.create()) {
      String childName = "channel-" + URLEncoder.encode(get.name(), StandardCharsets.UTF_8) + "-" + (childSeq++);
      ActorRef<Channel.Command> ref = ctx.spawn(Channel.create(name, get.name(), ctx.getSelf(), settings, clock), childName);
      ctx.watchWith(ref, new ChannelTerminated(get.name(), ref));
      c = new ChannelEntry(ref, get.name().endsWith("#ephemeral"));
      channels.put(get.name(), c);
      releaseHeld();
    }
    get.replyTo().tell(new ChannelLookup(get.name(), c == null ? null : c.ref));
    return Behaviors.same();
  }

  private Behavior<Command> onDeleteChannel(DeleteChannel del) {
    ChannelEntry c = channels.remove(del.name());
    if (c != null) c.ref.tell(new Channel.Delete(ctx.getSystem().ignoreRef()));
    del.replyTo().tell(c != null);
    return afterChannelRemoved();
  }

  private Behavior<Command> onChannelTerminated(ChannelTerminated t) {
    ChannelEntry c = channels.get(t.name());
    if (c != null && c.ref.equals(t.ref())) channels.remove(t.name());
    return afterChannelRemoved();
  }

  /** An ephemeral topic goes away with its last channel. */
  private Behavior<Command> afterChannelRemoved() {
    return ephemeral && channels.isEmpty() ? Behaviors.stopped() : Behaviors.same();
  }

  private Behavior<Command> onSetPaused(SetPaused p) {
    paused = p.paused();
    releaseHeld();
    p.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onEmpty(Empty e) {
    held.clear();
    heldCount = 0;
    e.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  private Behavior<Command> onDelete(Delete d) {
    for (ChannelEntry c : channels.values()) c.ref.tell(new Channel.Delete(ctx.getSystem().ignoreRef()));
    d.replyTo().tell(Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> onGetStats(GetStats get) {
    List<ChannelEntry> asked = new ArrayList<>();
    for (var e : channels.entrySet()) {
      if (get.channel() == null || get.channel().equals(e.getKey())) asked.add(e.getValue());
    }
    String topicName = name;
    long depth = heldCount;
    long count = messageCount;
    long bytes = messageBytes;
    boolean isPaused = paused;
    List<Double> quantiles = settings.e2ePercentiles();
    ActorRef<Stats.Topic> replyTo = get.replyTo();
    ActorRef<Stats.Channel> collector = Collector.spawn(ctx, Stats.Channel.class, asked.size(), STATS_TIMEOUT, replies -> {
      List<Stats.Channel> sorted = new ArrayList<>(replies);
      sorted.sort(Comparator.comparing(Stats.Channel::name));
      List<Stats.Latency> parts = new ArrayList<>();
      for (Stats.Channel ch : sorted) parts.add(ch.e2eLatency());
      replyTo.tell(new Stats.Topic(topicName, List.copyOf(sorted), depth, 0, count, bytes, isPaused,
          LatencyWindow.combine(quantiles, parts)));
    });
    for (ChannelEntry c : asked) c.ref.tell(new Channel.GetStats(get.includeClients(), collector));
    return Behaviors.same();
  }
}
