package io.jnsq.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.jnsq.broker.TopicRegistry;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.ORSet;
import org.apache.pekko.cluster.ddata.ORSetKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lookup state of the whole cluster, one instance per node, replicated with Pekko Distributed Data.
 * Every node writes only its own keys: its producer entry, and the entries of nsqd processes that
 * registered with it over TCP. HTTP registrations and tombstones are shared sets any node may change.
 *
 * <p>Reads come from the local replica (read every 250 ms), filtered by membership: a node that is unreachable or gone is
 * hidden at once, and when a member is removed, the leader deletes its keys for good.
 */
public final class LookupState {
  private static final Logger log = LoggerFactory.getLogger(LookupState.class);

  public sealed interface Command {}

  /**
   * Follow this node's topic registry: publish its topics and channels as {@code producer}'s entry, and
   * answer its questions about the channels the cluster knows for a new topic.
   */
  public record Follow(ActorRef<TopicRegistry.Command> registry, Registry.Producer producer) implements Command {}

  private record OwnTopics(Map<String, List<String>> topics) implements Command {}

  private record ChannelsOf(TopicRegistry.ChannelQuery query) implements Command {}

  /** An nsqd connected over TCP registered, changed or pinged ({@code entry}), or went away (null). */
  public record SetExternal(String connection, Registry.Entry entry) implements Command {}

  /** {@code /topic/create}, {@code /channel/create}: {@code registration} is "topic" or "topic/channel". */
  public record Register(String registration, ActorRef<Done> replyTo) implements Command {}

  /** {@code /topic/delete} (channel null: the topic and its channels) and {@code /channel/delete}. */
  public record Unregister(String topic, String channel, ActorRef<Done> replyTo) implements Command {}

  /** {@code /topic/tombstone}: hide {@code node} (broadcast_address:http_port) from /lookup of {@code topic}. */
  public record Tombstone(String topic, String node, ActorRef<Done> replyTo) implements Command {}

  /** A snapshot for the HTTP API. */
  public record GetView(ActorRef<Registry.View> replyTo) implements Command {}

  /** The membership this node last saw while it was a member (asked for as its membership ends). */
  public record GetLastView(ActorRef<ClusterNode.LastView> replyTo) implements Command {}

  @SuppressWarnings("rawtypes")
  private record Updated(Replicator.UpdateResponse response) implements Command {}

  @SuppressWarnings("rawtypes")
  private record Got(Replicator.GetResponse response) implements Command {}

  private record Refresh() implements Command {}

  private static final Duration ASK = Duration.ofSeconds(5);

  /** How often the local replica is read: four local reads a second cost next to nothing and bound staleness. */
  private static final Duration REFRESH = Duration.ofMillis(250);

  private record MembershipChanged(Object event) implements Command {}

  static final Key<LWWMap<String, String>> NODES = LWWMapKey.create("jnsq-lookup-nodes");
  static final Key<ORSet<String>> REGISTRATIONS = ORSetKey.create("jnsq-lookup-registrations");
  static final Key<LWWMap<String, String>> TOMBSTONES = LWWMapKey.create("jnsq-lookup-tombstones");

  /** A lookup state; {@code tombstoneLifetime} and {@code inactiveTimeout} are nsqlookupd's. */
  public static Behavior<Command> create(Duration tombstoneLifetime, Duration inactiveTimeout) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Refresh(), REFRESH);
      return new LookupState(ctx, tombstoneLifetime, inactiveTimeout).running();
    }));
  }

  /** The cluster-wide key of a member: its address and incarnation. */
  static String memberKey(UniqueAddress a) { return a.address() + "#" + a.longUid(); }

  private final ActorContext<Command> ctx;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final String selfKey;
  private final long tombstoneMs;
  private final long inactiveMs;
  private final Cluster cluster;

  private Map<String, String> nodes = Map.of();
  private Set<String> registrations = Set.of();
  private Map<String, String> tombstones = Map.of();
  private final Map<String, Registry.Entry> parsed = new HashMap<>();   // by the JSON it was read from
  private Set<String> live = new HashSet<>();
  private Set<String> members = new HashSet<>();
  /** Every member this node has seen: only these can have departed (a joining node may be unknown yet). */
  private final Set<String> seen = new HashSet<>();
  private Registry.Entry ownEntry;   // what this node last published of itself
  private Registry.Producer producer;   // this node, once it is followed
  private ClusterNode.LastView lastView;
  private boolean selfDown;

  private LookupState(ActorContext<Command> ctx, Duration tombstoneLifetime, Duration inactiveTimeout) {
    this.ctx = ctx;
    this.replicator = DistributedData.get(ctx.getSystem()).replicator();

    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.selfKey = memberKey(self.uniqueAddress());
    this.tombstoneMs = tombstoneLifetime.toMillis();
    this.inactiveMs = inactiveTimeout.toMillis();
    this.cluster = Cluster.get(ctx.getSystem());

    // Adapted by the event class, not Object: an adapter for Object would also swallow every other reply.
    ActorRef<ClusterEvent.ClusterDomainEvent> events = ctx.messageAdapter(ClusterEvent.ClusterDomainEvent.class, MembershipChanged::new);
    cluster.subscriptions().tell(Subscribe.create(events.narrow(), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(events.narrow(), ClusterEvent.ReachabilityEvent.class));
    recomputeMembership();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Follow.class, m -> {
          producer = m.producer();
          m.registry().tell(new TopicRegistry.WatchTopics("cluster-lookup",
              ctx.messageAdapter(TopicRegistry.Topics.class, t -> new OwnTopics(t.topics()))));
          m.registry().tell(new TopicRegistry.SetChannelSource(
              ctx.messageAdapter(TopicRegistry.ChannelQuery.class, ChannelsOf::new)));
          return Behaviors.same();
        })
        .onMessage(OwnTopics.class, m -> {
          if (producer != null) {
            ownEntry = new Registry.Entry(producer, m.topics(), System.currentTimeMillis());
            putNode(selfKey, ownEntry);
          }
          return Behaviors.same();
        })
        .onMessage(ChannelsOf.class, m -> {
          m.query().replyTo().tell(view().channels(m.query().topic()));
          return Behaviors.same();
        })
        .onMessage(SetExternal.class, m -> {
          String key = selfKey + "|" + m.connection();
          if (m.entry() == null) removeNode(key); else putNode(key, m.entry());
          return Behaviors.same();
        })
        .onMessage(Register.class, m -> {
          update(REGISTRATIONS, ORSet.<String>create(), cur -> cur.add(self, m.registration()));
          registrations = with(registrations, m.registration());
          m.replyTo().tell(Done.getInstance());
          return Behaviors.same();
        })
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(Tombstone.class, m -> {
          String key = m.topic() + "|" + m.node();
          String until = Long.toString(System.currentTimeMillis() + tombstoneMs);
          update(TOMBSTONES, LWWMap.<String, String>create(), cur -> cur.put(self, key, until));
          Map<String, String> t = new HashMap<>(tombstones);
          t.put(key, until);
          tombstones = t;
          m.replyTo().tell(Done.getInstance());
          return Behaviors.same();
        })
        .onMessage(GetView.class, m -> {
          m.replyTo().tell(view());
          return Behaviors.same();
        })
        .onMessage(GetLastView.class, m -> {
          // Stopped before it ever saw itself a member: nothing seen, so it rejoins as configured.
          m.replyTo().tell(lastView != null ? lastView
              : new ClusterNode.LastView(self.uniqueAddress().address(), List.of(), false));
          return Behaviors.same();
        })
        .onMessage(Got.class, this::onGot)
        .onMessage(Refresh.class, r -> {
          for (Key<?> key : List.of(NODES, REGISTRATIONS, TOMBSTONES)) read(key);
          // The cluster's state is published apart from its events and may lag the one that woke us:
          // looking again on every refresh bounds that lag (a node marked unreachable was once missed
          // until it was downed, 7 s later).
          recomputeMembership();
          return Behaviors.same();
        })
        .onMessage(Updated.class, m -> Behaviors.same())
        .onMessage(MembershipChanged.class, m -> {
          recomputeMembership();
          return Behaviors.same();
        })
        .build();
  }

  private static Set<String> with(Set<String> set, String element) {
    Set<String> out = new HashSet<>(set);
    out.add(element);
    return out;
  }

  @SuppressWarnings("unchecked")
  private Behavior<Command> onGot(Got m) {
    if (m.response() instanceof Replicator.GetSuccess<?> g) apply(g.key(), g.dataValue());
    return Behaviors.same();
  }

  @SuppressWarnings("unchecked")
  private void apply(Key<?> key, Object value) {
    if (key.equals(NODES)) {
      nodes = ((LWWMap<String, String>) value).getEntries();
      parsed.keySet().retainAll(nodes.values());
      // Deleted by a member that took this node for departed (a race while it joined): publish again.
      if (ownEntry != null && !nodes.containsKey(selfKey)) {
        log.info("lookup: this node's entry was missing from the replicated state; publishing it again");
        putNode(selfKey, ownEntry);
      }
    } else if (key.equals(REGISTRATIONS)) {
      registrations = ((ORSet<String>) value).getElements();
    } else if (key.equals(TOMBSTONES)) {
      tombstones = ((LWWMap<String, String>) value).getEntries();
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void read(Key key) {
    ctx.ask(Replicator.GetResponse.class, replicator, ASK,
        replyTo -> new Replicator.Get(key, Replicator.readLocal(), (ActorRef) replyTo), (r, e) -> new Got(r));
  }

  /** A local write, spread by gossip. */
  private <T extends org.apache.pekko.cluster.ddata.ReplicatedData> void update(Key<T> key, T initial,
      java.util.function.Function<T, T> modify) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    Class<Replicator.UpdateResponse<T>> type = (Class) Replicator.UpdateResponse.class;
    ctx.ask(type, replicator, ASK, replyTo -> new Replicator.Update<>(key, initial, Replicator.writeLocal(), replyTo, modify),
        (r, e) -> new Updated(r));
  }

  private void putNode(String key, Registry.Entry entry) {
    String json = entry.toJson();
    update(NODES, LWWMap.<String, String>create(), cur -> cur.put(self, key, json));
    Map<String, String> n = new HashMap<>(nodes);
    n.put(key, json);
    nodes = n;
  }

  private void removeNode(String key) {
    update(NODES, LWWMap.<String, String>create(), cur -> cur.remove(self, key));
    Map<String, String> n = new HashMap<>(nodes);
    n.remove(key);
    nodes = n;
  }

  private Behavior<Command> onUnregister(Unregister m) {
    List<String> gone = new ArrayList<>();
    for (String r : registrations) {
      if (m.channel() == null ? r.equals(m.topic()) || r.startsWith(m.topic() + "/") : r.equals(m.topic() + "/" + m.channel())) {
        gone.add(r);
      }
    }
    if (!gone.isEmpty()) {
      update(REGISTRATIONS, ORSet.<String>create(), cur -> {
        ORSet<String> out = cur;
        for (String g : gone) out = out.remove(self, g);
        return out;
      });
      Set<String> left = new HashSet<>(registrations);
      gone.forEach(left::remove);
      registrations = left;
    }
    m.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  /**
   * Members that are up and reachable; when one this node saw was removed, the leader deletes its
   * entries. (Entries of owners never seen are left alone: they may be a node still joining.)
   */
  private void recomputeMembership() {
    ClusterEvent.CurrentClusterState state = cluster.state();
    Set<String> now = new HashSet<>();
    Set<String> all = new HashSet<>();
    Set<String> unreachable = new HashSet<>();
    for (Member m : state.getUnreachable()) unreachable.add(memberKey(m.uniqueAddress()));
    rememberView(state);
    for (Member m : state.getMembers()) {
      String key = memberKey(m.uniqueAddress());
      all.add(key);
      MemberStatus s = m.status();
      boolean active = s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.joining();
      if (active && !unreachable.contains(key)) now.add(key);
    }
    now.add(selfKey);
    Set<String> lost = new HashSet<>(live);
    lost.removeAll(now);
    if (!lost.isEmpty()) log.info("lookup: hiding nodes no longer up and reachable: {}", lost);
    live = now;
    members = all;
    seen.addAll(all);
    Set<String> departed = new HashSet<>(seen);
    departed.removeAll(all);
    boolean leader = state.getLeader() == null || state.getLeader().equals(self.uniqueAddress().address());
    if (leader && !departed.isEmpty()) {
      for (String key : List.copyOf(nodes.keySet())) {
        String owner = key.contains("|") ? key.substring(0, key.indexOf('|')) : key;
        if (departed.contains(owner) && !owner.equals(selfKey)) {
          log.info("lookup: removing the registrations of departed node {}", owner);
          removeNode(key);
        }
      }
    }
  }

  /**
   * Keeps what a rejoin needs: the other members and whether all of them were going down. The view is
   * frozen once this node is seen down, since the shutdown that follows empties the cluster's state.
   */
  private void rememberView(ClusterEvent.CurrentClusterState state) {
    if (selfDown) return;
    org.apache.pekko.actor.Address me = self.uniqueAddress().address();
    List<org.apache.pekko.actor.Address> peers = new ArrayList<>();
    boolean allDown = true;
    boolean present = false;
    for (Member m : state.getMembers()) {
      MemberStatus s = m.status();
      if (m.address().equals(me)) {
        present = true;
        selfDown = s == MemberStatus.down();
        continue;
      }
      // Members leaving for good will not be there to join; the others either stay or were downed with us.
      if (s == MemberStatus.leaving() || s == MemberStatus.exiting() || s == MemberStatus.removed()) continue;
      peers.add(m.address());
      if (s != MemberStatus.down()) allDown = false;
    }
    if (present) lastView = new ClusterNode.LastView(me, List.copyOf(peers), allDown);
  }

  private Registry.View view() {
    long now = System.currentTimeMillis();
    List<Registry.Entry> entries = new ArrayList<>();
    for (Map.Entry<String, String> e : nodes.entrySet()) {
      String key = e.getKey();
      String owner = key.contains("|") ? key.substring(0, key.indexOf('|')) : key;
      if (!live.contains(owner)) continue;
      Registry.Entry entry = parsed.computeIfAbsent(e.getValue(), LookupState::parse);
      if (entry == null) continue;
      if (key.contains("|") && now - entry.updatedMs() > inactiveMs) continue;   // an nsqd that stopped pinging
      entries.add(entry);
    }
    Map<String, Long> tombs = new HashMap<>();
    tombstones.forEach((k, v) -> tombs.put(k, Long.parseLong(v)));
    return new Registry.View(entries, Set.copyOf(registrations), tombs);
  }

  private static Registry.Entry parse(String json) {
    try {
      return Registry.Entry.fromJson(json);
    } catch (Exception e) {
      log.warn("lookup: unreadable entry {}", json);
      return null;
    }
  }
}
