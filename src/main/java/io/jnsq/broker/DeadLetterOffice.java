package io.jnsq.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.TopicLog;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's dead-letter desk: channels post their dead letters here and it appends them to the
 * dead-letter topic (created when needed); the admin API browses a dead-letter topic and moves letters
 * back into the channel they came from, one or all. Which letters were moved back is remembered in
 * {@value #FILE}, so "all" does not move the same letter twice, across restarts too.
 */
public final class DeadLetterOffice {
  private static final Logger log = LoggerFactory.getLogger(DeadLetterOffice.class);
  public static final String FILE = "jnsq-dead-letters.json";
  private static final Duration ASK = Duration.ofSeconds(5);
  /** The most letters one "requeue all" moves; the rest wait for the next. */
  public static final int REQUEUE_MAX = 100_000;

  /** Everything the desk understands. */
  public sealed interface Command {}

  /** Append {@code letters} to {@code topic}; answers whether they are in (durable: fsync'd). */
  public record Post(String topic, List<DeadLetters.Letter> letters, ActorRef<Boolean> replyTo) implements Command {}

  /** Up to {@code count} records of {@code topic} from sequence {@code fromSeq} (or its oldest). */
  public record Browse(String topic, long fromSeq, int count, ActorRef<Browsed> replyTo) implements Command {}

  /** Moves letter {@code seq} (or, with -1, every one not moved yet) of {@code topic} back to its channel. */
  public record Requeue(String topic, long seq, ActorRef<Requeued> replyTo) implements Command {}

  /** A record of a dead-letter topic: its place, its id there, and the letter (null: not a dead letter). */
  public record Shown(long seq, long id, long timestamp, org.apache.pekko.util.ByteString body,
      DeadLetters.Letter letter, boolean requeued) {}

  /** What {@link Browse} found; {@code found} false: no such topic. */
  public record Browsed(boolean found, List<Shown> records, long startSeq, long endSeq) {}

  /** What {@link Requeue} did: how many letters went back, and how many could not (their channel is gone). */
  public record Requeued(boolean found, int requeued, int skipped) {}

  private record Loaded(Map<String, Marks> marks) implements Command {}

  private record TopicFound(Post post, ActorRef<Topic.Command> topic) implements Command {}

  private record Appended(Topic.PublishResult result) implements Command {}

  private record RequeueDone(Requeue request, boolean found, List<Long> moved, int skipped, long allBelow) implements Command {}

  private record Saved(Requeue request, Requeued result) implements Command {}

  /** Letters moved back: every one below {@code below}, and these above it. */
  record Marks(long below, TreeSet<Long> seqs) {
    boolean has(long seq) { return seq < below || seqs.contains(seq); }
  }

  public static Behavior<Command> create(ActorRef<TopicRegistry.Command> registry, Persistence persistence, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withStash(10_000, stash ->
        new DeadLetterOffice(ctx, stash, registry, persistence, clock).loading()));
  }

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final ActorRef<TopicRegistry.Command> registry;
  private final Persistence persistence;
  private final Clock clock;
  private final Scheduler scheduler;
  private final ActorRef<Topic.PublishResult> appended;
  private final Map<String, Marks> marks = new HashMap<>();
  private final Map<Long, ActorRef<Boolean>> posting = new HashMap<>();
  private final java.util.ArrayDeque<Requeue> requeues = new java.util.ArrayDeque<>();
  private boolean requeueing;
  private long postSeq;

  private DeadLetterOffice(ActorContext<Command> ctx, StashBuffer<Command> stash, ActorRef<TopicRegistry.Command> registry,
      Persistence persistence, Clock clock) {
    this.ctx = ctx;
    this.stash = stash;
    this.registry = registry;
    this.persistence = persistence;
    this.clock = clock;
    this.scheduler = ctx.getSystem().scheduler();
    this.appended = ctx.messageAdapter(Topic.PublishResult.class, Appended::new);
  }

  private Behavior<Command> loading() {
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        byte[] json = persistence.storage().load(FILE);
        return json == null ? Map.<String, Marks>of() : parse(json);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (m, error) -> {
      if (error != null) log.error("cannot read {} ({}): letters moved back before are not known", FILE, error.toString());
      return new Loaded(m == null ? Map.of() : m);
    });
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, l -> {
          marks.putAll(l.marks());
          return stash.unstashAll(running());
        })
        .onAnyMessage(m -> {
          if (!stash.isFull()) stash.stash(m);
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Post.class, this::onPost)
        .onMessage(TopicFound.class, this::onTopicFound)
        .onMessage(Appended.class, this::onAppended)
        .onMessage(Browse.class, this::onBrowse)
        .onMessage(Requeue.class, this::onRequeue)
        .onMessage(RequeueDone.class, this::onRequeueDone)
        .onMessage(Saved.class, this::onSaved)
        .build();
  }

  // ---- posting ----

  private Behavior<Command> onPost(Post p) {
    ctx.ask(TopicRegistry.TopicLookup.class, registry, ASK, r -> new TopicRegistry.GetTopic(p.topic(), true, r),
        (found, error) -> new TopicFound(p, found == null ? null : found.topic()));
    return Behaviors.same();
  }

  private Behavior<Command> onTopicFound(TopicFound f) {
    if (f.topic() == null) {
      log.warn("dead-letter topic {} cannot be had now; {} letters stay with their channel", f.post().topic(), f.post().letters().size());
      f.post().replyTo().tell(false);
      return Behaviors.same();
    }
    long seq = postSeq++;
    posting.put(seq, f.post().replyTo());
    f.topic().tell(new Topic.AppendLetters(seq, f.post().letters(), appended));
    return Behaviors.same();
  }

  private Behavior<Command> onAppended(Appended a) {
    ActorRef<Boolean> replyTo = posting.remove(a.result().seq());
    if (replyTo != null) replyTo.tell(a.result().accepted());
    if (!a.result().accepted()) log.warn("appending dead letters failed: {}", a.result().reason());
    return Behaviors.same();
  }

  // ---- browsing ----

  private CompletionStage<ActorRef<Topic.Command>> topicRef(String name) {
    CompletionStage<TopicRegistry.TopicLookup> r = AskPattern.ask(registry,
        (ActorRef<TopicRegistry.TopicLookup> replyTo) -> new TopicRegistry.GetTopic(name, false, replyTo), ASK, scheduler);
    return r.thenApply(TopicRegistry.TopicLookup::topic);
  }

  private CompletionStage<Topic.LogRead> readLog(ActorRef<Topic.Command> topic, long fromSeq, int count) {
    return AskPattern.ask(topic, (ActorRef<Topic.LogRead> replyTo) -> new Topic.ReadLog(fromSeq, count, replyTo), ASK, scheduler);
  }

  private Behavior<Command> onBrowse(Browse b) {
    Marks m = copy(marks.get(b.topic()));
    topicRef(b.topic()).thenCompose(ref -> ref == null ? CompletableFuture.completedFuture(null)
        : readLog(ref, b.fromSeq(), b.count())).whenComplete((read, error) -> {
          if (read == null) {
            b.replyTo().tell(new Browsed(false, List.of(), 0, 0));
            return;
          }
          List<Shown> out = new ArrayList<>();
          for (TopicLog.Entry e : read.entries()) {
            out.add(new Shown(e.seq(), e.id(), e.timestamp(), e.body(), DeadLetters.fromRecord(e.header(), e.body()), m.has(e.seq())));
          }
          b.replyTo().tell(new Browsed(true, out, read.startSeq(), read.endSeq()));
        });
    return Behaviors.same();
  }

  // ---- moving letters back ----

  private Behavior<Command> onRequeue(Requeue r) {
    if (requeueing) {
      requeues.add(r);   // one at a time, so two "all" never move a letter twice
      return Behaviors.same();
    }
    requeueing = true;
    Marks m = copy(marks.get(r.topic()));
    boolean all = r.seq() < 0;
    long nowNanos = clock.epochNanos();
    topicRef(r.topic()).thenCompose(ref -> {
      if (ref == null) return CompletableFuture.completedFuture((RequeueDone) null);
      return readLog(ref, all ? m.below() : r.seq(), all ? REQUEUE_MAX : 1).thenCompose(read -> {
        Map<List<String>, List<TopicLog.Entry>> byChannel = new LinkedHashMap<>();
        long end = all ? m.below() : -1;
        for (TopicLog.Entry e : read.entries()) {
          if (all) end = e.seq() + 1;
          if (all ? m.has(e.seq()) : e.seq() != r.seq()) continue;
          DeadLetters.Letter l = DeadLetters.fromRecord(e.header(), e.body());
          if (l == null) continue;
          byChannel.computeIfAbsent(List.of(l.topic(), l.channel()), k -> new ArrayList<>()).add(e);
        }
        List<CompletableFuture<List<Long>>> moves = new ArrayList<>();
        int[] skipped = {0};
        for (var group : byChannel.entrySet()) moves.add(inject(group.getKey().get(0), group.getKey().get(1), group.getValue(), nowNanos)
            .toCompletableFuture());
        long allBelow = end;
        return CompletableFuture.allOf(moves.toArray(new CompletableFuture[0])).thenApply(v -> {
          List<Long> moved = new ArrayList<>();
          int total = 0;
          for (var group : byChannel.values()) total += group.size();
          for (CompletableFuture<List<Long>> f : moves) moved.addAll(f.join());
          skipped[0] = total - moved.size();
          return new RequeueDone(r, true, moved, skipped[0], skipped[0] == 0 ? allBelow : -1);
        });
      });
    }).whenComplete((done, error) -> {
      if (error != null) log.warn("moving dead letters of {} back failed: {}", r.topic(), error.toString());
      ctx.getSelf().tell(done != null ? done : new RequeueDone(r, error != null, List.of(), 0, -1));
    });
    return Behaviors.same();
  }

  /** Puts the letters back into their channel; the sequences that went back (none when the channel is gone). */
  private CompletionStage<List<Long>> inject(String topic, String channel, List<TopicLog.Entry> entries, long nowNanos) {
    List<Message> messages = new ArrayList<>(entries.size());
    List<Long> seqs = new ArrayList<>(entries.size());
    for (TopicLog.Entry e : entries) {
      DeadLetters.Letter l = DeadLetters.fromRecord(e.header(), e.body());
      // Attempts start again, and so does the age: a letter that expired is meant to be delivered now.
      messages.add(new Message(l.id(), nowNanos, 0, e.body()));
      seqs.add(e.seq());
    }
    return topicRef(topic).thenCompose(t -> {
      if (t == null) return CompletableFuture.completedFuture(List.<Long>of());
      CompletionStage<Topic.ChannelLookup> lookup = AskPattern.ask(t,
          (ActorRef<Topic.ChannelLookup> replyTo) -> new Topic.GetChannel(channel, false, replyTo), ASK, scheduler);
      return lookup.thenCompose(l -> {
        if (l.channel() == null) return CompletableFuture.completedFuture(List.<Long>of());
        CompletionStage<Done> injected = AskPattern.ask(l.channel(),
            (ActorRef<Done> replyTo) -> new Channel.Inject(List.copyOf(messages), replyTo), ASK, scheduler);
        return injected.thenApply(d -> seqs);
      });
    }).exceptionally(e -> List.of());
  }

  private Behavior<Command> onRequeueDone(RequeueDone d) {
    Requeue r = d.request();
    if (!d.found()) return finish(r, new Requeued(false, 0, 0));
    Marks old = marks.get(r.topic());
    long below = old == null ? 0 : old.below();
    TreeSet<Long> seqs = old == null ? new TreeSet<>() : new TreeSet<>(old.seqs());
    seqs.addAll(d.moved());
    if (d.allBelow() > below) below = d.allBelow();
    long b = below;
    seqs.removeIf(s -> s < b);
    marks.put(r.topic(), new Marks(below, seqs));
    byte[] json = toJson(marks);
    Requeued result = new Requeued(true, d.moved().size(), d.skipped());
    ctx.pipeToSelf(CompletableFuture.runAsync(() -> {
      try {
        persistence.storage().storeAtomically(FILE, json);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), (ok, error) -> {
      if (error != null) log.error("writing {} failed: {}", FILE, error.toString());
      return new Saved(r, result);
    });
    return Behaviors.same();
  }

  private Behavior<Command> onSaved(Saved s) { return finish(s.request(), s.result()); }

  private Behavior<Command> finish(Requeue r, Requeued result) {
    if (result.requeued() > 0) log.info("moved {} dead letters of {} back to their channels", result.requeued(), r.topic());
    r.replyTo().tell(result);
    requeueing = false;
    Requeue next = requeues.poll();
    if (next != null) onRequeue(next);
    return Behaviors.same();
  }

  // ---- the file ----

  private static Marks copy(Marks m) { return m == null ? new Marks(0, new TreeSet<>()) : new Marks(m.below(), new TreeSet<>(m.seqs())); }

  static byte[] toJson(Map<String, Marks> all) {
    ObjectNode root = PolicyJson.JSON.createObjectNode();
    ObjectNode topics = root.putObject("requeued");
    new java.util.TreeMap<>(all).forEach((t, m) -> {
      ObjectNode o = topics.putObject(t);
      o.put("below", m.below());
      var list = o.putArray("seqs");
      for (long s : m.seqs()) list.add(s);
    });
    try {
      return PolicyJson.JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, Marks> parse(byte[] json) throws IOException {
    JsonNode root = PolicyJson.JSON.readTree(json);
    Map<String, Marks> out = new HashMap<>();
    if (root == null) return out;
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("requeued").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      TreeSet<Long> seqs = new TreeSet<>();
      for (JsonNode s : e.getValue().path("seqs")) seqs.add(s.asLong());
      out.put(e.getKey(), new Marks(e.getValue().path("below").asLong(0), seqs));
    }
    return out;
  }
}
