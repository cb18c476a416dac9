package io.jnsq.cluster;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who replicates what, kept in Distributed Data beside the lookup state: every node with replication
 * advertises its Raft server ({@code raft id -> host:port}, written by that node only), and the cluster's
 * leader places the Raft groups on the live nodes once there are enough of them, once and for all
 * ({@code group -> raft ids}, majority write after a majority read; a group is never placed twice). Every
 * node hears both maps, restricted to its live members' nodes for the first, through {@code listener}.
 */
public final class RaftDirectory {
  private static final Logger log = LoggerFactory.getLogger(RaftDirectory.class);

  public sealed interface Command {}

  private record Tick() implements Command {}

  @SuppressWarnings("rawtypes")
  private record Got(Replicator.GetResponse response, boolean toPlace) implements Command {}

  @SuppressWarnings("rawtypes")
  private record Updated(Replicator.UpdateResponse response) implements Command {}

  static final Key<LWWMap<String, String>> NODES = LWWMapKey.create("jnsq-raft-nodes");
  static final Key<LWWMap<String, String>> GROUPS = LWWMapKey.create("jnsq-raft-groups");

  private static final Duration TICK = Duration.ofMillis(250);
  private static final Duration MAJORITY = Duration.ofSeconds(3);

  /**
   * Where replication is off ({@code raftId} null) this node only listens. {@code listener} gets (raft id to
   * address of live nodes, group index to raft ids) on every change, on this actor's thread: keep it short.
   */
  public static Behavior<Command> create(String raftId, String raftAddress, int replicas, int groups,
      BiConsumer<Map<String, String>, Map<Integer, List<String>>> listener) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Tick(), TICK);
      return new RaftDirectory(ctx, raftId, raftAddress, replicas, groups, listener).running();
    }));
  }

  private final ActorContext<Command> ctx;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final Cluster cluster;
  private final String raftId;
  private final String raftAddress;
  private final int replicas;
  private final int groups;
  private final BiConsumer<Map<String, String>, Map<Integer, List<String>>> listener;
  private Map<String, String> nodes = Map.of();     // member address -> raftId=host:port
  private Map<String, String> placed = Map.of();    // group -> comma-separated raft ids
  private Map<String, String> lastLive;
  private Map<Integer, List<String>> lastGroups;
  private boolean placing;

  private RaftDirectory(ActorContext<Command> ctx, String raftId, String raftAddress, int replicas, int groups,
      BiConsumer<Map<String, String>, Map<Integer, List<String>>> listener) {
    this.ctx = ctx;
    this.replicator = DistributedData.get(ctx.getSystem()).replicator();
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.cluster = Cluster.get(ctx.getSystem());
    this.raftId = raftId;
    this.raftAddress = raftAddress;
    this.replicas = replicas;
    this.groups = groups;
    this.listener = listener;
    if (raftId != null) advertise();
  }

  /** Keyed by the member's address (not its incarnation): a restarted node replaces its own entry. */
  private String selfKey() { return self.uniqueAddress().address().toString(); }

  private void advertise() {
    String value = raftId + "=" + raftAddress;
    @SuppressWarnings({"unchecked", "rawtypes"})
    Class<Replicator.UpdateResponse<LWWMap<String, String>>> type = (Class) Replicator.UpdateResponse.class;
    ctx.ask(type, replicator, MAJORITY, replyTo -> new Replicator.Update<>(NODES, LWWMap.create(), Replicator.writeLocal(),
        replyTo, cur -> value.equals(cur.getEntries().get(selfKey())) ? cur : cur.put(self, selfKey(), value)), (r, e) -> new Updated(r));
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Tick.class, t -> {
          read(NODES, Replicator.readLocal(), false);
          read(GROUPS, Replicator.readLocal(), false);
          if (raftId != null && !nodes.containsKey(selfKey())) advertise();
          maybePlace();
          publish();
          return Behaviors.same();
        })
        .onMessage(Got.class, this::onGot)
        .onMessage(Updated.class, u -> {
          if (!(u.response() instanceof Replicator.UpdateSuccess<?>)) log.debug("raft directory: update {}", u.response());
          return Behaviors.same();
        })
        .build();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void read(Key<LWWMap<String, String>> key, Replicator.ReadConsistency consistency, boolean toPlace) {
    ctx.ask(Replicator.GetResponse.class, replicator, MAJORITY.plusSeconds(1),
        replyTo -> new Replicator.Get(key, consistency, (ActorRef) replyTo), (r, e) -> new Got(r, toPlace));
  }

  @SuppressWarnings("unchecked")
  private Behavior<Command> onGot(Got g) {
    boolean isNodes = g.response() != null && g.response().key().equals(NODES);
    if (g.response() instanceof Replicator.GetSuccess<?> s) {
      Map<String, String> entries = ((LWWMap<String, String>) s.dataValue()).getEntries();
      if (isNodes) nodes = entries; else placed = entries;
    }
    if (g.toPlace()) {
      placing = false;
      // Only what a majority does not know yet is placed, so a group once placed keeps its replicas.
      if (g.response() instanceof Replicator.GetSuccess<?> || g.response() instanceof Replicator.NotFound<?>) place();
    }
    return Behaviors.same();
  }

  /** Raft ids of the nodes that are up and reachable members now. */
  private Map<String, String> live() {
    Set<String> up = new HashSet<>();
    Set<Member> unreachable = new HashSet<>();
    cluster.state().getUnreachable().forEach(unreachable::add);
    for (Member m : cluster.state().getMembers()) {
      if (m.status() == MemberStatus.up() && !unreachable.contains(m)) up.add(m.address().toString());
    }
    Map<String, String> out = new TreeMap<>();
    nodes.forEach((member, value) -> {
      int eq = value.indexOf('=');
      if (eq > 0 && up.contains(member)) out.put(value.substring(0, eq), value.substring(eq + 1));
    });
    return out;
  }

  private void maybePlace() {
    if (raftId == null || placing || placed.size() >= groups) return;
    if (!cluster.selfMember().address().equals(cluster.state().getLeader())) return;
    if (live().size() < replicas) return;
    placing = true;
    read(GROUPS, new Replicator.ReadMajority(MAJORITY), true);
  }

  private void place() {
    Map<String, String> live = live();
    if (live.size() < replicas) return;
    List<List<String>> all = Placement.placeAll(groups, live.keySet(), replicas);
    Map<String, String> missing = new TreeMap<>();
    for (int gi = 0; gi < groups; gi++) {
      if (!placed.containsKey(Integer.toString(gi))) missing.put(Integer.toString(gi), String.join(",", all.get(gi)));
    }
    if (missing.isEmpty()) return;
    log.info("raft directory: placing {} groups over {}", missing.size(), live.keySet());
    @SuppressWarnings({"unchecked", "rawtypes"})
    Class<Replicator.UpdateResponse<LWWMap<String, String>>> type = (Class) Replicator.UpdateResponse.class;
    ctx.ask(type, replicator, MAJORITY.plusSeconds(1), replyTo -> new Replicator.Update<>(GROUPS, LWWMap.create(),
        new Replicator.WriteMajority(MAJORITY), replyTo, cur -> {
          LWWMap<String, String> m = cur;
          for (var e : missing.entrySet()) if (!m.contains(e.getKey())) m = m.put(self, e.getKey(), e.getValue());
          return m;
        }), (r, e) -> new Updated(r));
  }

  private void publish() {
    Map<Integer, List<String>> groupsNow = new TreeMap<>();
    placed.forEach((g, peers) -> {
      try {
        groupsNow.put(Integer.parseInt(g), List.of(peers.split(",")));
      } catch (NumberFormatException ignored) {
        // not one of ours
      }
    });
    // Every node ever advertised keeps its address known (a dead replica stays in its groups' configuration).
    Map<String, String> all = new TreeMap<>();
    nodes.values().forEach(v -> {
      int eq = v.indexOf('=');
      if (eq > 0) all.put(v.substring(0, eq), v.substring(eq + 1));
    });
    if (all.equals(lastLive) && groupsNow.equals(lastGroups)) return;
    lastLive = all;
    lastGroups = groupsNow;
    listener.accept(Map.copyOf(all), Map.copyOf(groupsNow));
  }
}
