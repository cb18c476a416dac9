package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import io.jnsq.config.NodeSettings;
import io.jnsq.storage.BlockPool;
import io.jnsq.storage.TopicLog;
import io.jnsq.storage.Health;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.Storage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.DispatcherSelector;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's topics by name. Connections and routes ask it for a topic's address once and then talk to
 * the topic directly, so it is not on the per-message path.
 *
 * <p>It also keeps {@code nsqd.dat}: at start it recreates the topics and channels listed there (with
 * their paused flags) before any client is served, and it rewrites the file atomically whenever a
 * durable topic or channel is created, deleted, paused or unpaused.
 */
public final class TopicRegistry {
  private static final Logger log = LoggerFactory.getLogger(TopicRegistry.class);

  /** Everything the registry understands. */
  public sealed interface Command {}

  /** Finds (and with {@code create}, makes) a topic. */
  public record GetTopic(String name, boolean create, ActorRef<TopicLookup> replyTo) implements Command {}

  /** A topic's address, or null when it does not exist. */
  public record TopicLookup(String name, ActorRef<Topic.Command> topic) {}

  /** Every topic's name and address, sorted by name. */
  public record ListTopics(ActorRef<List<TopicLookup>> replyTo) implements Command {}

  /** Deletes a topic with its channels; answers false when there was none. */
  public record DeleteTopic(String name, ActorRef<Boolean> replyTo) implements Command {}

  /** Stats of all topics (or only {@code topic}), each filtered to {@code channel} when given. */
  public record GetStats(String topic, String channel, boolean includeClients, ActorRef<List<Stats.Topic>> replyTo)
      implements Command {}

  /** From now on, tell {@code watcher} this node's topics and channels, at once and on every change. */
  public record WatchTopics(String key, ActorRef<Topics> watcher) implements Command {}

  /** This node's topics, each with its channels (sorted), as watchers receive them. */
  public record Topics(Map<String, List<String>> topics) {}

  /**
   * From now on, ask {@code source} which channels the cluster knows for a topic before creating it (as
   * nsqd asks its lookup servers), and start the topic with them.
   */
  public record SetChannelSource(ActorRef<ChannelQuery> source) implements Command {}

  /** Which channels are known for {@code topic}? */
  public record ChannelQuery(String topic, ActorRef<List<String>> replyTo) {}

  /** The node's storage health: "OK" or "NOK - ...". */
  public record GetHealth(ActorRef<String> replyTo) implements Command {}

  /** Tell the watchers this node's topics again (a replicated topic's leadership moved: see {@link TopicFronts#listed}). */
  public record RefreshRegistrations() implements Command {}

  /** Shutdown: every topic and channel writes what it holds to disk, then nsqd.dat is written. */
  public record Persist(ActorRef<Done> replyTo) implements Command {}

  /** A topic's settings, or with {@code channel} a channel's; answered with {@link SettingsReply}. */
  public record GetSettings(String topic, String channel, ActorRef<SettingsReply> replyTo) implements Command {}

  /**
   * Changes what {@code change} (a JSON object) names of a topic's settings, or with {@code channel} a
   * channel's, creating the topic (and channel) when needed; answered once the settings file is written.
   */
  public record UpdateSettings(String topic, String channel, com.fasterxml.jackson.databind.JsonNode change,
      ActorRef<SettingsReply> replyTo) implements Command {}

  /**
   * Settings as they are now: the topic's, or the channel's own ({@code own}, null when it has none) and
   * what it applies ({@code effective}: its own or the node's defaults, with the topic's TTL).
   * {@code error} (not null): refused, nothing changed; {@code notFound}: no such topic or channel.
   */
  public record SettingsReply(TopicPolicy topic, ChannelPolicy own, ChannelPolicy effective, String error,
      boolean notFound) {}

  /** The node's dead-letter desk. */
  public record GetDeadLetterOffice(ActorRef<ActorRef<DeadLetterOffice.Command>> replyTo) implements Command {}

  private record SettingsLoaded(Map<String, PolicyJson.TopicEntry> saved, Throwable error) implements Command {}

  private record ChannelReady(UpdateSettings update, ChannelPolicy merged, boolean exists) implements Command {}

  private record TopicTerminated(String name, ActorRef<Topic.Command> ref) implements Command {}

  /** A deleted topic's files are gone (or its deletion timed out). */
  private record TopicDeleted(String name) implements Command {}

  private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(30);

  private record MetaChanged(Topic.MetaChanged change) implements Command {}

  private record KnownChannels(String topic, List<String> channels) implements Command {}

  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(2);

  private record TopicsPersisted(ActorRef<Done> replyTo) implements Command {}


  private static final Duration STATS_TIMEOUT = Duration.ofSeconds(4);

  private static final Duration PERSIST_TIMEOUT = Duration.ofSeconds(90);

  /**
   * The node's registry: its topics keep their overflow in {@code storage}; fsyncs run on the
   * {@code jnsq-io-dispatcher} and storage failures go to a health child actor.
   */
  public static Behavior<Command> create(ChannelSettings settings, MessageIdSource ids, Clock clock, Storage storage,
      TopicLog.Settings logSettings, long syncEvery, Duration syncTimeout, boolean durable, BlockPool pool) {
    return create(settings, ids, clock, storage, logSettings, syncEvery, syncTimeout, durable, pool, null);
  }

  /** The same, with replicated topics standing in for some of the node's topics ({@code fronts}, may be null). */
  public static Behavior<Command> create(ChannelSettings settings, MessageIdSource ids, Clock clock, Storage storage,
      TopicLog.Settings logSettings, long syncEvery, Duration syncTimeout, boolean durable, BlockPool pool,
      TopicFronts fronts) {
    return Behaviors.setup(ctx -> {
      ActorRef<Health.Command> health = ctx.spawn(Health.create(), "health");
      Executor io = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig("jnsq-io-dispatcher"));
      Persistence persistence = new Persistence(storage, logSettings, syncEvery, syncTimeout, durable, io, health, pool);
      TopicRegistry r = new TopicRegistry(ctx, settings, ids, clock, persistence);
      r.fronts = fronts;
      return r.starting();
    });
  }

  /** A registry whose topics use {@code settings} and keep their overflow through {@code persistence}. */
  public static Behavior<Command> create(ChannelSettings settings, MessageIdSource ids, Clock clock,
      Persistence persistence) {
    return Behaviors.setup(ctx -> new TopicRegistry(ctx, settings, ids, clock, persistence).starting());
  }

  private final ActorContext<Command> ctx;
  private final ChannelSettings settings;
  private final MessageIdSource ids;
  private final Clock clock;
  private final Persistence persistence;
  private final ActorRef<Topic.MetaChanged> metaListener;
  private final TreeMap<String, ActorRef<Topic.Command>> topics = new TreeMap<>();
  private final TreeMap<String, NodeMetadata.TopicMeta> meta = new TreeMap<>();
  private CompletableFuture<Void> lastSave = CompletableFuture.completedFuture(null);
  private boolean persisted;
  private ActorRef<ChannelQuery> channelSource;   // null: none (yet)
  private final Map<String, ActorRef<Topics>> watchers = new java.util.HashMap<>();
  private final Map<String, List<GetTopic>> creating = new java.util.HashMap<>();
  private final Map<String, List<GetTopic>> deleting = new java.util.HashMap<>();
  private long childSeq;
  private final TreeMap<String, PolicyJson.TopicEntry> policies = new TreeMap<>();
  private ActorRef<DeadLetterOffice.Command> office;
  private CompletableFuture<Void> lastSettingsSave = CompletableFuture.completedFuture(null);
  private TopicFronts fronts;   // null: every topic is this node's alone

  private TopicRegistry(ActorContext<Command> ctx, ChannelSettings settings, MessageIdSource ids, Clock clock,
      Persistence persistence) {
    this.ctx = ctx;
    this.settings = settings;
    this.ids = ids;
    this.clock = clock;
    this.persistence = persistence;
    this.metaListener = ctx.messageAdapter(Topic.MetaChanged.class, MetaChanged::new);
  }

  private record Loaded(Map<String, NodeMetadata.TopicMeta> saved, Throwable error) implements Command {}

  /** Reads nsqd.dat on the I/O executor; everything else waits (no client is served before it is restored). */
  private Behavior<Command> starting() {
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        byte[] json = persistence.storage().load(NodeMetadata.FILE);
        return json == null ? Map.<String, NodeMetadata.TopicMeta>of() : NodeMetadata.parse(json);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), Loaded::new);
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        byte[] json = persistence.storage().load(PolicyJson.FILE);
        return json == null ? Map.<String, PolicyJson.TopicEntry>of() : PolicyJson.parseFile(json);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io()), SettingsLoaded::new);
    office = ctx.spawn(DeadLetterOffice.create(ctx.getSelf(), persistence, clock), "dead-letters");
    Loaded[] topicsLoaded = {null};
    SettingsLoaded[] settingsLoaded = {null};
    return Behaviors.withStash(1 << 16, stash -> Behaviors.receive(Command.class)
        .onMessage(Loaded.class, l -> {
          topicsLoaded[0] = l;
          if (settingsLoaded[0] == null) return Behaviors.same();
          restoreSettings(settingsLoaded[0]);
          restore(l);
          return stash.unstashAll(running());
        })
        .onMessage(SettingsLoaded.class, l -> {
          settingsLoaded[0] = l;
          if (topicsLoaded[0] == null) return Behaviors.same();
          restoreSettings(l);
          restore(topicsLoaded[0]);
          return stash.unstashAll(running());
        })
        .onAnyMessage(m -> {
          stash.stash(m);
          return Behaviors.same();
        })
        .build());
  }

  /** Recreates the topics and channels of nsqd.dat. */
  private void restore(Loaded loaded) {
    if (loaded.error() != null) {
      log.error("cannot read {} ({}); starting without its topics, their logs stay where they are",
          NodeMetadata.FILE, loaded.error().toString());
      return;
    }
    Map<String, NodeMetadata.TopicMeta> saved = loaded.saved();
    if (saved.isEmpty()) return;
    saved.forEach((name, t) -> {
      spawnTopic(name, t.paused(), t.channels());
      meta.put(name, new NodeMetadata.TopicMeta(t.paused(), Map.copyOf(t.channels())));
    });
    log.info("restored {} topics from {}", meta.size(), NodeMetadata.FILE);
  }

  private ActorRef<Topic.Command> spawnTopic(String name, boolean paused, Map<String, Boolean> channels) {
    String childName = "topic-" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "-" + (childSeq++);
    // Default supervision (stop on failure): a topic that hits a bug stops, its producers and consumers
    // see it terminate, and the next PUB creates it afresh, rather than restarting with half its state.
    Behavior<Topic.Command> behavior = fronts == null ? null : fronts.front(name,
        restored -> Topic.create(name, settings, ids, clock, persistence, metaListener, false, restored), ctx.getSelf());
    if (behavior == null) behavior = Topic.create(name, settings, ids, clock, persistence, metaListener, paused, channels);
    ActorRef<Topic.Command> ref = ctx.spawn(behavior, childName);
    ctx.watchWith(ref, new TopicTerminated(name, ref));
    topics.put(name, ref);
    applyPolicy(name, ref);
    return ref;
  }

  private void publishRegistrations() {
    if (watchers.isEmpty()) return;
    Map<String, List<String>> out = new TreeMap<>();
    for (String t : topics.keySet()) {
      if (fronts != null && !fronts.listed(t)) continue;
      NodeMetadata.TopicMeta m = meta.get(t);
      out.put(t, m == null ? List.of() : List.copyOf(new java.util.TreeSet<>(m.channels().keySet())));
    }
    Topics topics = new Topics(java.util.Collections.unmodifiableMap(out));
    for (ActorRef<Topics> w : watchers.values()) w.tell(topics);
  }

  /** Writes nsqd.dat on the I/O executor, one write after the other; tells lookup too. */
  private CompletableFuture<Void> saveMeta() {
    publishRegistrations();
    byte[] json = NodeMetadata.toJson(meta, NodeSettings.NSQ_VERSION);
    lastSave = lastSave.thenRunAsync(() -> {
      try {
        persistence.storage().storeAtomically(NodeMetadata.FILE, json);
      } catch (IOException e) {
        log.error("writing {} failed: {}", NodeMetadata.FILE, e.toString());
      }
    }, persistence.io());
    return lastSave;
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(GetTopic.class, this::onGetTopic)
        .onMessage(ListTopics.class, this::onListTopics)
        .onMessage(DeleteTopic.class, this::onDeleteTopic)
        .onMessage(TopicTerminated.class, this::onTopicTerminated)
        .onMessage(TopicDeleted.class, this::onTopicDeleted)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(MetaChanged.class, this::onMetaChanged)
        .onMessage(KnownChannels.class, this::onKnownChannels)
        .onMessage(WatchTopics.class, w -> {
          watchers.put(w.key(), w.watcher());   // the same key again (a restarted watcher) replaces the old one
          publishRegistrations();
          return Behaviors.same();
        })
        .onMessage(SetChannelSource.class, s -> {
          channelSource = s.source();
          return Behaviors.same();
        })
        .onMessage(GetHealth.class, g -> {
          persistence.health().tell(new Health.Get(g.replyTo()));
          return Behaviors.same();
        })
        .onMessage(RefreshRegistrations.class, r -> {
          publishRegistrations();
          return Behaviors.same();
        })
        .onMessage(Persist.class, this::onPersist)
        .onMessage(TopicsPersisted.class, this::onTopicsPersisted)
        .onMessage(GetSettings.class, this::onGetSettings)
        .onMessage(UpdateSettings.class, this::onUpdateSettings)
        .onMessage(ChannelReady.class, this::onChannelReady)
        .onMessage(GetDeadLetterOffice.class, g -> {
          g.replyTo().tell(office);
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onGetTopic(GetTopic get) {
    List<GetTopic> afterDelete = deleting.get(get.name());
    if (afterDelete != null) {
      afterDelete.add(get);   // the deleted topic's files are still going: a new one must not find them
      return Behaviors.same();
    }
    ActorRef<Topic.Command> ref = topics.get(get.name());
    if (ref == null && get.create() && !persisted) {
      if (channelSource != null && !isEphemeral(get.name())) {
        // As nsqd: a new topic first learns the channels lookup knows for it, and starts with them, so
        // no channel of the cluster misses what is published here before its consumers arrive.
        List<GetTopic> waiting = creating.get(get.name());
        if (waiting != null) {
          waiting.add(get);
          return Behaviors.same();
        }
        creating.put(get.name(), new ArrayList<>(List.of(get)));
        String name = get.name();
        @SuppressWarnings("unchecked")
        Class<List<String>> listType = (Class<List<String>>) (Class<?>) List.class;
        ctx.ask(listType, channelSource, LOOKUP_TIMEOUT, replyTo -> new ChannelQuery(name, replyTo),
            (channels, error) -> new KnownChannels(name, channels == null ? List.of() : channels));
        return Behaviors.same();
      }
      ref = createTopic(get.name(), List.of());
    }
    get.replyTo().tell(new TopicLookup(get.name(), ref));
    return Behaviors.same();
  }

  private static boolean isEphemeral(String name) { return name.endsWith("#ephemeral"); }

  private ActorRef<Topic.Command> createTopic(String name, List<String> channels) {
    Map<String, Boolean> initial = new LinkedHashMap<>();
    for (String c : channels) if (!isEphemeral(c)) initial.put(c, false);
    ActorRef<Topic.Command> ref = spawnTopic(name, false, initial);
    meta.put(name, new NodeMetadata.TopicMeta(false, Map.copyOf(initial)));
    saveMeta();
    return ref;
  }

  private Behavior<Command> onKnownChannels(KnownChannels k) {
    List<GetTopic> waiting = creating.remove(k.topic());
    if (waiting == null) return Behaviors.same();
    ActorRef<Topic.Command> ref = topics.get(k.topic());
    if (ref == null && !persisted) ref = createTopic(k.topic(), k.channels());
    for (GetTopic g : waiting) g.replyTo().tell(new TopicLookup(g.name(), ref));
    return Behaviors.same();
  }

  private Behavior<Command> onListTopics(ListTopics list) {
    List<TopicLookup> out = new ArrayList<>(topics.size());
    topics.forEach((name, ref) -> out.add(new TopicLookup(name, ref)));
    list.replyTo().tell(List.copyOf(out));
    return Behaviors.same();
  }

  private Behavior<Command> onDeleteTopic(DeleteTopic del) {
    ActorRef<Topic.Command> ref = topics.remove(del.name());
    if (ref != null) {
      String name = del.name();
      deleting.putIfAbsent(name, new ArrayList<>());
      ctx.ask(Done.class, ref, DELETE_TIMEOUT, Topic.Delete::new, (done, error) -> new TopicDeleted(name));
    }
    if (meta.remove(del.name()) != null) saveMeta();
    if (policies.remove(del.name()) != null) saveSettings();
    del.replyTo().tell(ref != null);
    return Behaviors.same();
  }

  private Behavior<Command> onTopicDeleted(TopicDeleted d) {
    List<GetTopic> waiting = deleting.remove(d.name());
    if (waiting != null) for (GetTopic g : waiting) onGetTopic(g);
    return Behaviors.same();
  }

  private Behavior<Command> onTopicTerminated(TopicTerminated t) {
    if (t.ref().equals(topics.get(t.name()))) {
      topics.remove(t.name());
      if (isEphemeral(t.name()) && meta.remove(t.name()) != null) saveMeta();
      else publishRegistrations();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onMetaChanged(MetaChanged m) {
    Topic.MetaChanged c = m.change();
    if (persisted) return Behaviors.same();
    boolean known = topics.containsKey(c.topic());
    if (c.deleted() || !known) {
      if (meta.remove(c.topic()) == null) return Behaviors.same();
    } else {
      meta.put(c.topic(), new NodeMetadata.TopicMeta(c.paused(), c.channels()));
    }
    forgetDeletedChannels(c);
    saveMeta();
    return Behaviors.same();
  }

  private Behavior<Command> onPersist(Persist p) {
    ActorRef<Command> self = ctx.getSelf();
    ActorRef<Done> replyTo = p.replyTo();
    ActorRef<Done> collector = Collector.spawn(ctx, Done.class, topics.size(), PERSIST_TIMEOUT,
        replies -> self.tell(new TopicsPersisted(replyTo)));
    for (ActorRef<Topic.Command> t : topics.values()) t.tell(new Topic.Persist(collector));
    return Behaviors.same();
  }

  private Behavior<Command> onTopicsPersisted(TopicsPersisted p) {
    CompletableFuture<Void> saved = saveMeta();
    persisted = true;
    ActorRef<Done> replyTo = p.replyTo();
    saved.whenComplete((ok, error) -> replyTo.tell(Done.getInstance()));
    return Behaviors.same();
  }

  private Behavior<Command> onGetStats(GetStats get) {
    List<ActorRef<Topic.Command>> asked = new ArrayList<>();
    if (get.topic() == null) {
      asked.addAll(topics.values());
    } else if (topics.containsKey(get.topic())) {
      asked.add(topics.get(get.topic()));
    }
    ActorRef<List<Stats.Topic>> replyTo = get.replyTo();
    String channel = get.channel();
    ActorRef<Stats.Topic> collector = Collector.spawn(ctx, Stats.Topic.class, asked.size(), STATS_TIMEOUT, replies -> {
      List<Stats.Topic> sorted = new ArrayList<>();
      for (Stats.Topic t : replies) {
        // With a channel filter, topics lacking that channel are left out, as nsqd does.
        if (channel == null || !t.channels().isEmpty()) sorted.add(t);
      }
      sorted.sort(Comparator.comparing(Stats.Topic::name));
      replyTo.tell(List.copyOf(sorted));
    });
    for (ActorRef<Topic.Command> t : asked) t.tell(new Topic.GetStats(channel, get.includeClients(), collector));
    return Behaviors.same();
  }

  // ---- topic and channel settings (jnsq-settings.json beside nsqd.dat) ----

  private void restoreSettings(SettingsLoaded l) {
    if (l.error() != null) {
      log.error("cannot read {} ({}); topics and channels start without their settings", PolicyJson.FILE, l.error().toString());
      return;
    }
    policies.putAll(l.saved());
    if (!policies.isEmpty()) log.info("restored the settings of {} topics from {}", policies.size(), PolicyJson.FILE);
  }

  private PolicyJson.TopicEntry entry(String topic) {
    PolicyJson.TopicEntry e = policies.get(topic);
    return e != null ? e : new PolicyJson.TopicEntry(TopicPolicy.NONE, Map.of());
  }

  private void applyPolicy(String name, ActorRef<Topic.Command> ref) {
    PolicyJson.TopicEntry e = entry(name);
    ref.tell(new Topic.ApplyPolicy(e.topic(), e.channels(), office));
  }

  /** Writes the settings file on the I/O executor, one write after the other. */
  private CompletableFuture<Void> saveSettings() {
    byte[] json = PolicyJson.fileJson(policies);
    lastSettingsSave = lastSettingsSave.thenRunAsync(() -> {
      try {
        persistence.storage().storeAtomically(PolicyJson.FILE, json);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, persistence.io());
    CompletableFuture<Void> saved = lastSettingsSave;
    lastSettingsSave = saved.exceptionally(e -> null);   // the next write goes ahead after a failed one
    return saved;
  }

  /** A channel deleted from its topic takes its settings with it. */
  private void forgetDeletedChannels(Topic.MetaChanged c) {
    PolicyJson.TopicEntry e = policies.get(c.topic());
    if (e == null || c.deleted()) return;
    Map<String, ChannelPolicy> kept = new LinkedHashMap<>(e.channels());
    if (kept.keySet().retainAll(c.channels().keySet())) {
      policies.put(c.topic(), new PolicyJson.TopicEntry(e.topic(), Map.copyOf(kept)));
      saveSettings();
    }
  }

  private ChannelPolicy effective(String topic, String channel) {
    PolicyJson.TopicEntry e = entry(topic);
    ChannelPolicy own = e.channels().get(channel);
    return (own != null ? own : ChannelPolicy.nodeDefault(settings, topic)).withTopicTtl(e.topic().messageTtl());
  }

  private Behavior<Command> onGetSettings(GetSettings g) {
    if (!topics.containsKey(g.topic())) {
      g.replyTo().tell(new SettingsReply(null, null, null, null, true));
    } else if (g.channel() != null && !meta.getOrDefault(g.topic(), new NodeMetadata.TopicMeta(false, Map.of()))
        .channels().containsKey(g.channel())) {
      g.replyTo().tell(new SettingsReply(null, null, null, null, true));
    } else {
      PolicyJson.TopicEntry e = entry(g.topic());
      g.replyTo().tell(new SettingsReply(e.topic(), g.channel() == null ? null : e.channels().get(g.channel()),
          g.channel() == null ? null : effective(g.topic(), g.channel()), null, false));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onUpdateSettings(UpdateSettings u) {
    PolicyJson.TopicEntry e = entry(u.topic());
    try {
      if (u.channel() == null) {
        TopicPolicy merged = PolicyJson.merge(e.topic(), u.change());
        ActorRef<Topic.Command> ref = topics.get(u.topic());
        if (ref == null && !persisted) ref = createTopic(u.topic(), List.of());
        if (ref == null) throw new IllegalArgumentException("the node is shutting down");
        return store(u, new PolicyJson.TopicEntry(merged, e.channels()), ref);
      }
      ChannelPolicy own = e.channels().getOrDefault(u.channel(), ChannelPolicy.nodeDefault(settings, u.topic()));
      ChannelPolicy merged = PolicyJson.merge(own, u.change(), u.topic());
      ActorRef<Topic.Command> ref = topics.get(u.topic());
      if (ref == null && !persisted) ref = createTopic(u.topic(), List.of());   // as nsqd's /channel/create does
      if (ref == null) {
        u.replyTo().tell(new SettingsReply(null, null, null, null, true));
        return Behaviors.same();
      }
      // The channel is made first (so the topic's metadata has it before its settings are kept).
      ctx.ask(Topic.ChannelLookup.class, ref, LOOKUP_TIMEOUT, r -> new Topic.GetChannel(u.channel(), true, r),
          (found, error) -> new ChannelReady(u, merged, found != null && found.channel() != null));
    } catch (IllegalArgumentException bad) {
      u.replyTo().tell(new SettingsReply(null, null, null, bad.getMessage(), false));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onChannelReady(ChannelReady r) {
    ActorRef<Topic.Command> ref = topics.get(r.update().topic());
    if (!r.exists() || ref == null) {
      r.update().replyTo().tell(new SettingsReply(null, null, null, "the channel could not be created", false));
      return Behaviors.same();
    }
    PolicyJson.TopicEntry e = entry(r.update().topic());
    Map<String, ChannelPolicy> channels = new LinkedHashMap<>(e.channels());
    channels.put(r.update().channel(), r.merged());
    return store(r.update(), new PolicyJson.TopicEntry(e.topic(), Map.copyOf(channels)), ref);
  }

  /** Keeps the new settings, tells the topic, and answers once the file is written. */
  private Behavior<Command> store(UpdateSettings u, PolicyJson.TopicEntry updated, ActorRef<Topic.Command> ref) {
    if (updated.topic().equals(TopicPolicy.NONE) && updated.channels().isEmpty()) {
      policies.remove(u.topic());
    } else {
      policies.put(u.topic(), updated);
    }
    applyPolicy(u.topic(), ref);
    SettingsReply reply = new SettingsReply(updated.topic(), u.channel() == null ? null : updated.channels().get(u.channel()),
        u.channel() == null ? null : effective(u.topic(), u.channel()), null, false);
    ActorRef<SettingsReply> replyTo = u.replyTo();
    saveSettings().whenComplete((ok, error) -> {
      if (error != null) log.error("writing {} failed: {}", PolicyJson.FILE, error.toString());
      replyTo.tell(error == null ? reply : new SettingsReply(null, null, null, "writing the settings failed: " + error.getMessage(), false));
    });
    return Behaviors.same();
  }
}
