package io.jnsq.replication;

import io.jnsq.broker.Topic;
import io.jnsq.broker.TopicFronts;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.cluster.Placement;
import io.jnsq.config.ReplicationSettings;
import io.jnsq.storage.CursorFile;
import io.jnsq.storage.Storage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicated topics on this node: one Ratis {@link RaftServer} (gRPC) holding this node's replicas of the
 * Raft groups placed on it (multi-raft: {@code --raft-groups} groups, many topics each, by a hash of the
 * topic's name), a {@link RaftClient} per group for publishing from any node, and the fronts that stand in
 * for the replicated topics in the broker's registry ({@link TopicFronts}).
 *
 * <p>Membership and placement come from the lookup cluster (cluster.RaftDirectory): which nodes replicate,
 * at which Raft address, and which nodes each group has. This node adds a group to its server as soon as it
 * learns it is one of the group's replicas (also after its data was lost: it then starts empty and is sent
 * the group's log).
 */
public final class Replication implements TopicFronts, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Replication.class);
  private static final Duration APPLY_TIMEOUT = Duration.ofSeconds(120);
  private static final long CHECKPOINT_EVERY_MS = 100;

  private final ReplicationSettings settings;
  private final RaftPeerId self;
  private final String address;
  private final Storage storage;
  private final boolean durable;
  private final Path raftDir;
  private final Map<RaftGroupId, Integer> groupIndex = new HashMap<>();
  private final ConcurrentHashMap<Integer, GroupStateMachine> machines = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, RaftClient> clients = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Set<ActorRef<Object>>> fronts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ActorRef<Topic.Command>> topics = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Map<String, byte[]>> checkpoints = new ConcurrentHashMap<>();
  // Under the lock of checkpoints: which save each cursor file's latest is (to resend only the latest).
  private final Map<String, Long> savedVersions = new HashMap<>();
  private long checkpointVersion;
  private final Set<Integer> adding = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "jnsq-replication");
    t.setDaemon(true);
    return t;
  });
  private volatile Map<String, String> addresses = Map.of();
  private volatile Map<Integer, List<String>> placement = Map.of();
  private volatile ActorSystem<?> system;
  private volatile ActorRef<TopicRegistry.Command> registry;
  private final String bindHost;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private RaftServer server;
  /** Who this node's own publishes are from when it submits them to its Raft server directly (Ratis's retry cache keys on it). */
  private final ClientId localClient = ClientId.randomId();
  private final java.util.concurrent.atomic.AtomicLong localCalls = new java.util.concurrent.atomic.AtomicLong();

  /** The name of a node's Raft replicas: derived from its Raft address, which therefore must stay the same. */
  public static String peerId(String address) { return "n-" + address.replaceAll("[^A-Za-z0-9.-]", "_"); }

  /**
   * {@code address} is where the others reach this node's Raft server, {@code storage} the node's store
   * (cursor files of checkpoints are written into it), {@code raftDir} the Raft logs' directory.
   */
  public Replication(ReplicationSettings settings, String address, Storage storage, boolean durable, Path raftDir) {
    this.bindHost = settings.raftAddress().host();
    this.settings = settings;
    this.address = address;
    this.self = RaftPeerId.valueOf(peerId(address));
    this.storage = storage;
    this.durable = durable;
    this.raftDir = raftDir;
    for (int g = 0; g < settings.raftGroups(); g++) groupIndex.put(groupId(g), g);
  }

  public String selfId() { return self.toString(); }

  public String address() { return address; }

  public ReplicationSettings settings() { return settings; }

  static RaftGroupId groupId(int group) {
    return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("jnsq-raft-group-" + group).getBytes(StandardCharsets.UTF_8)));
  }

  private RaftProperties properties() {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    // gRPC's flow-control window bounds the bytes in flight on one stream (leader to follower, client to
    // leader) per round trip: Ratis's 1 MB is 25 MPUBs of 200 x 200 B, which at the 60-70 ms round trips
    // measured on a busy machine (docs/SCALING.md) would cap a group near 70k msg/s. 8 MB is used only when needed.
    GrpcConfigKeys.setFlowControlWindow(p, SizeInBytes.valueOf("8MB"));
    // One try of a request: a dead leader is given up within a second and the next peer tried.
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(Math.min(1000, settings.timeout().toMillis()), TimeUnit.MILLISECONDS));
    return p;
  }

  /** Starts this node's Raft server with the groups it already has on disk (RECOVER); new ones come with placement. */
  public void start(ActorSystem<?> system, ActorRef<TopicRegistry.Command> registry) throws IOException {
    this.system = system;
    this.registry = registry;
    RaftProperties p = properties();
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    GrpcConfigKeys.Server.setPort(p, port);
    GrpcConfigKeys.Server.setHost(p, bindHost);
    RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
    // Elections within 1-2 s of a leader's loss: heartbeats every ~half the minimum timeout.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2000, TimeUnit.MILLISECONDS));
    // Memory per replica (a node holds groups x replicas / nodes of them, see docs/SCALING.md): the recent log
    // entries kept in memory for followers that lag are capped at 2 segments of 8 MB (Ratis: 6 of 32 MB,
    // up to 200 MB); the write buffer stays at Ratis's 8 MB, above the largest MPUB (--max-body-size 5 MB).
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8MB"));
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, SizeInBytes.valueOf("16MB"));
    // No snapshots yet, so the log is kept whole: a replica that lost its disk is sent all of it.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, false);
    RaftServerConfigKeys.Log.setPurgeGap(p, Integer.MAX_VALUE);
    server = RaftServer.newBuilder()
        .setServerId(self)
        .setProperties(p)
        .setStateMachineRegistry(gid -> new GroupStateMachine(this, groupIndex.getOrDefault(gid, -1)))
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    server.start();
    timer.scheduleWithFixedDelay(this::sendCheckpoints, CHECKPOINT_EVERY_MS, CHECKPOINT_EVERY_MS, TimeUnit.MILLISECONDS);
    log.info("replication: Raft server {} listening on {} (--replicas {}, {} groups)", self, address,
        settings.replicas(), settings.raftGroups());
  }

  // ---- membership and placement (from cluster.RaftDirectory) ----

  /** What the cluster knows: every replicating node's Raft address, and each placed group's nodes. */
  public void onDirectory(Map<String, String> nodes, Map<Integer, List<String>> groups) {
    addresses = nodes;
    placement = groups;
    groups.forEach((g, peers) -> {
      if (g < settings.raftGroups() && peers.contains(self.toString())) addGroup(g);
    });
  }

  private RaftGroup raftGroup(int g) {
    List<String> peers = placement.get(g);
    if (peers == null) return null;
    List<RaftPeer> out = new ArrayList<>();
    Map<String, String> known = addresses;
    for (int i = 0; i < peers.size(); i++) {
      String a = known.get(peers.get(i));
      if (a == null) return null;   // an address still on its way: the next update brings it
      // The first of a group's nodes is its preferred leader, which spreads the leaders over the nodes.
      out.add(RaftPeer.newBuilder().setId(peers.get(i)).setAddress(a).setPriority(peers.size() - i).build());
    }
    return RaftGroup.valueOf(groupId(g), out);
  }

  private void addGroup(int g) {
    RaftServer s = server;
    if (s == null) return;
    RaftGroupId gid = groupId(g);
    for (RaftGroupId have : s.getGroupIds()) if (have.equals(gid)) return;
    RaftGroup group = raftGroup(g);
    if (group == null || !adding.add(g)) return;
    timer.execute(() -> {
      try (RaftClient c = RaftClient.newBuilder().setProperties(properties())
          .setRaftGroup(RaftGroup.valueOf(gid, group.getPeer(self))).build()) {
        RaftClientReply r = c.getGroupManagementApi(self).add(group, true);
        log.info("replication: this node now holds a replica of group {} ({}){}", g, placement.get(g),
            r.isSuccess() ? "" : ": " + r.getException());
      } catch (IOException | RuntimeException e) {
        log.warn("replication: adding group {} failed: {}", g, e.toString());
      } finally {
        adding.remove(g);
      }
    });
  }

  private RaftClient client(int g) {
    RaftClient c = clients.get(g);
    if (c != null) return c;
    RaftGroup group = raftGroup(g);
    if (group == null) return null;
    long sleepMs = 100;
    int retries = (int) Math.max(1, settings.timeout().toMillis() / sleepMs);
    GroupStateMachine m = machines.get(g);
    RaftPeerId hint = m == null ? null : m.leader();   // a replica knows the leader: the first request goes there
    return clients.computeIfAbsent(g, x -> {
      RaftClient.Builder b = RaftClient.newBuilder().setProperties(properties()).setRaftGroup(group)
          .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(retries, TimeDuration.valueOf(sleepMs, TimeUnit.MILLISECONDS)));
      if (hint != null && group.getPeer(hint) != null) b.setLeaderId(hint);
      return b.build();
    });
  }

  /**
   * A client's requests are ordered: one stuck on a dead leader holds back every later one until its
   * retries end. After a failure the next publish therefore gets a new client, which starts at the leader
   * this node knows of now.
   */
  private void dropClient(int g, RaftClient c) {
    if (!clients.remove(g, c)) return;
    timer.execute(() -> {
      try {
        c.close();
      } catch (IOException | RuntimeException ignored) {
        // its requests fail; they were answered already
      }
    });
  }

  // ---- TopicFronts ----

  /** Whether a topic is replicated: every topic but ephemeral ones, when replication is on. */
  static boolean replicated(String topic) { return !topic.endsWith("#ephemeral"); }

  public int groupOf(String topic) { return Placement.groupOf(topic, settings.raftGroups()); }

  @Override
  public Behavior<Topic.Command> front(String topic, LocalTopic local, ActorRef<TopicRegistry.Command> registry) {
    if (!replicated(topic)) return null;
    return ReplicatedTopic.create(this, topic, groupOf(topic), local, registry);
  }

  @Override
  public boolean listed(String topic) { return !replicated(topic) || leads(groupOf(topic)); }

  boolean leads(int group) {
    GroupStateMachine m = machines.get(group);
    return m != null && m.leading();
  }

  void register(String topic, int group, ActorRef<Object> front) {
    topics.put(topic, front.narrow());
    fronts.computeIfAbsent(group, g -> ConcurrentHashMap.newKeySet()).add(front);
  }

  void unregister(String topic, int group, ActorRef<Object> front) {
    topics.remove(topic, front.<Topic.Command>narrow());
    Set<ActorRef<Object>> s = fronts.get(group);
    if (s != null) s.remove(front);
  }

  void attach(GroupStateMachine m) { if (m.group() >= 0) machines.put(m.group(), m); }

  void detach(GroupStateMachine m) { machines.remove(m.group(), m); }

  void leadershipChanged(GroupStateMachine m) {
    Set<ActorRef<Object>> s = fronts.get(m.group());
    ReplicatedTopic.Leading event = new ReplicatedTopic.Leading(m.leading());
    if (s != null) for (ActorRef<Object> f : s) f.tell(event);
    ActorRef<TopicRegistry.Command> r = registry;
    if (r != null) r.tell(new TopicRegistry.RefreshRegistrations());
  }

  // ---- publishing ----

  /** Commits {@code entry} in group {@code g}; completes with null once committed, else with the reason. */
  CompletableFuture<String> submit(int g, String topic, byte[] entry) {
    Message message = Message.valueOf(UnsafeByteOperations.unsafeWrap(entry));
    RaftServer s = server;
    if (s != null && leads(g)) {
      // This node leads the group: the entry goes straight into its own Raft server rather than through a
      // RaftClient, which would send it over gRPC to this very process and the reply back (two loopback
      // hops, the entry serialized twice, several thread hand-offs, each slow on a busy machine: see
      // docs/SCALING.md). Ratis answers the same way (after commit on a majority and apply here);
      // a leader not ready yet refuses before appending, and the entry then takes the client path. A
      // NotLeaderException is not retried here: a leader stepping down answers it also for entries it had
      // appended, which the new leader may commit, and a resubmission under another client id would escape
      // Ratis's retry cache and append them twice; the publish fails instead (the producer retries: at-least-once).
      RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(localClient).setServerId(self)
          .setGroupId(groupId(g)).setCallId(localCalls.incrementAndGet()).setMessage(message)
          .setType(RaftClientRequest.writeRequestType()).build();
      CompletableFuture<RaftClientReply> direct;
      try {
        direct = s.submitClientRequestAsync(request);
      } catch (IOException | RuntimeException e) {
        direct = CompletableFuture.failedFuture(e);
      }
      return direct.orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS).thenCompose(reply -> {
        if (reply.getLeaderNotReadyException() != null) {
          return viaClient(g, topic, message);   // not appended here: safe to send through the leader
        }
        if (reply.getNotLeaderException() != null) {
          return CompletableFuture.completedFuture("this node stopped leading its Raft group before a majority of its replicas "
              + "committed it (it may still be committed); replicas " + placement.getOrDefault(g, List.of()) + " of Raft group " + g);
        }
        return CompletableFuture.completedFuture(outcome(g, reply, null));
      }).exceptionally(error -> noCommit(g, error));
    }
    return viaClient(g, topic, message);
  }

  private CompletableFuture<String> viaClient(int g, String topic, Message message) {
    RaftClient c = client(g);
    if (c == null) {
      return CompletableFuture.completedFuture("topic " + topic + " is replicated (--replicas " + settings.replicas()
          + ") but its Raft group has no replicas yet: fewer than " + settings.replicas() + " replicating nodes have joined");
    }
    return c.async().send(message)
        .orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .handle((reply, error) -> {
          if (error != null || !reply.isSuccess()) dropClient(g, c);
          return outcome(g, reply, error);
        });
  }

  /** Null once committed (and applied without complaint), else why not. */
  private String outcome(int g, RaftClientReply reply, Throwable error) {
    if (error != null) return noCommit(g, error);
    if (!reply.isSuccess()) return noCommit(g, reply.getException());
    String text = reply.getMessage() == null ? "" : reply.getMessage().getContent().toStringUtf8();
    return text.isEmpty() ? null : text;
  }

  private String noCommit(int g, Throwable error) {
    Throwable e = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
    String why = e instanceof java.util.concurrent.TimeoutException ? "no majority of its replicas committed it within "
        + settings.timeout().toMillis() + " ms" : "its replicas did not commit it (" + e.getClass().getSimpleName() + ")";
    return why + "; replicas " + placement.getOrDefault(g, List.of()) + " of Raft group " + g;
  }

  /** Applies a committed publish entry to this node's copy of its topic (on the group's apply thread). */
  CompletableFuture<Message> apply(long index, Entries.Publish p) {
    ActorRef<Topic.Command> front = frontOf(p.topic());
    if (front == null) return CompletableFuture.completedFuture(Message.valueOf("exiting"));
    ActorSystem<?> sys = system;
    List<CompletableFuture<Topic.PublishResult>> results = new ArrayList<>();
    int offset = 0;
    for (Entries.Part part : p.parts()) {
      Topic.Stamp stamp = new Topic.Stamp(Entries.id(index, offset), p.timestampNanos(), part.dueEpochMs());
      offset += part.bodies().size();
      results.add(AskPattern.<Topic.Command, Topic.PublishResult>ask(front,
          replyTo -> new Topic.Publish(0, part.bodies(), 0, replyTo, stamp), APPLY_TIMEOUT, sys.scheduler()).toCompletableFuture());
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).handle((ok, error) -> {
      if (error != null) return Message.valueOf("not appended on the leader: " + error);
      for (CompletableFuture<Topic.PublishResult> r : results) {
        Topic.PublishResult result = r.join();
        if (!result.accepted()) return Message.valueOf(result.reason());
      }
      return Message.EMPTY;
    });
  }

  /** The front of a topic, made by the registry on first use (blocking: only on Ratis's apply thread). */
  private ActorRef<Topic.Command> frontOf(String topic) {
    ActorRef<Topic.Command> f = topics.get(topic);
    if (f != null) return f;
    try {
      TopicRegistry.TopicLookup found = AskPattern.<TopicRegistry.Command, TopicRegistry.TopicLookup>ask(registry,
          replyTo -> new TopicRegistry.GetTopic(topic, true, replyTo), Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().get(15, TimeUnit.SECONDS);
      return found.topic();
    } catch (Exception e) {
      log.warn("replication: topic {} could not be started: {}", topic, e.toString());
      return null;
    }
  }

  // ---- channel checkpoints ----

  /** From the store: a channel of a topic this node leads saved (or, null, deleted) its cursor file. */
  void checkpoint(String file, byte[] content) {
    String topic = topicOfCursor(file);
    if (topic == null || !replicated(topic)) return;
    int g = groupOf(topic);
    if (!leads(g)) return;
    checkpoints.computeIfAbsent(g, x -> new LinkedHashMap<>());
    synchronized (checkpoints) {
      checkpoints.get(g).put(file, content);
      savedVersions.put(file, ++checkpointVersion);
    }
  }

  /** {@code <topic>:<channel>.cursor} gives the topic; other files (and a paused topic's own cursor) none. */
  static String topicOfCursor(String file) {
    if (!file.endsWith(".cursor")) return null;
    int colon = file.indexOf(':');
    return colon > 0 ? file.substring(0, colon) : null;
  }

  /** Every 100 ms: the cursors saved since, one entry per group (many FINs, one entry). */
  private void sendCheckpoints() {
    for (Integer g : checkpoints.keySet()) {
      List<Entries.File> files = new ArrayList<>();
      long version;
      synchronized (checkpoints) {
        Map<String, byte[]> pending = checkpoints.get(g);
        if (pending == null || pending.isEmpty()) continue;
        pending.forEach((name, content) -> files.add(new Entries.File(name, content)));
        pending.clear();
        version = checkpointVersion;
      }
      // Through submit(), as publishes go: a leader hands the entry to its own Raft server, so neither a
      // placement not learnt yet (a leader restarted on its data leads before it knows it) nor a client
      // left broken by an earlier leader's death can hold the cursors back; otherwise the client is
      // dropped on failure and made again.
      submit(g, "cursor checkpoint", Entries.checkpoint(files)).whenComplete((error, failure) -> {
        if (failure == null && error == null) return;
        log.debug("replication: a checkpoint of group {} was not committed ({}); sent again", g, failure != null ? failure : error);
        // Again with the next round, unless a newer save of the same cursor came meanwhile (which is
        // pending, or was sent: this older one must then never follow it).
        synchronized (checkpoints) {
          Map<String, byte[]> pending = checkpoints.get(g);
          for (Entries.File f : files) {
            Long saved = savedVersions.get(f.name());
            if (saved != null && saved <= version) pending.putIfAbsent(f.name(), f.content());
          }
        }
      });
    }
  }

  /** A follower writes the leader's cursors into its store, where a new leader's channels read them. */
  void storeCheckpoint(List<Entries.File> files) throws IOException {
    for (Entries.File f : files) {
      if (f.content() == null) storage.delete(f.name()); else storage.storeAtomically(f.name(), f.content(), durable);
    }
  }

  /** The channels of {@code topic} that have cursors here (name to paused = false). */
  CompletableFuture<Map<String, Boolean>> channelsOf(String topic) {
    return CompletableFuture.supplyAsync(() -> {
      Map<String, Boolean> out = new TreeMap<>();
      try {
        for (String f : storage.list()) {
          if (topic.equals(topicOfCursor(f))) out.put(f.substring(topic.length() + 1, f.length() - ".cursor".length()), false);
        }
      } catch (IOException e) {
        log.warn("replication: listing the cursors of {} failed: {}", topic, e.toString());
      }
      return Map.copyOf(out);
    }, timer);
  }

  // ---- status ----

  /** One group's state as this node sees it, for /stats and /metrics. */
  public record GroupStatus(int group, List<String> replicas, String leader, boolean leading, long commitIndex,
      long appliedIndex, Map<String, Long> followerLag, boolean healthy) {}

  /** The status of the group of {@code topic}. */
  public GroupStatus status(String topic) {
    int g = groupOf(topic);
    List<String> peers = placement.getOrDefault(g, List.of());
    GroupStateMachine m = machines.get(g);
    if (m == null || server == null) return new GroupStatus(g, peers, "", false, -1, -1, Map.of(), false);
    try {
      RaftServer.Division d = server.getDivision(groupId(g));
      long commit = d.getRaftLog().getLastCommittedIndex();
      Map<String, Long> lag = new TreeMap<>();
      for (var ci : d.getCommitInfos()) {
        lag.put(RaftPeerId.valueOf(ci.getServer().getId()).toString(), Math.max(0, commit - ci.getCommitIndex()));
      }
      String leader = d.getInfo().getLeaderId() == null ? "" : d.getInfo().getLeaderId().toString();
      long live = lag.values().stream().filter(l -> l < 1000).count();
      return new GroupStatus(g, peers, leader, m.leading(), commit, d.getInfo().getLastAppliedIndex(), lag,
          !leader.isEmpty() && live * 2 > peers.size());
    } catch (IOException | RuntimeException e) {   // a division still starting has no log yet
      return new GroupStatus(g, peers, "", false, -1, -1, Map.of(), false);
    }
  }

  /**
   * A clean drain (SIGTERM): the groups this node leads are handed to another of their replicas first, so
   * publishing moves on at once instead of after an election timeout. Blocking, a few seconds at most.
   */
  public void handOverLeadership() {
    for (GroupStateMachine m : machines.values()) {
      if (!m.leading()) continue;
      int g = m.group();
      RaftGroup group = raftGroup(g);
      if (group == null) continue;
      // Ratis moves leadership only to the replica of highest priority among the others: try them in order.
      List<RaftPeer> others = new ArrayList<>();
      for (RaftPeer p : group.getPeers()) if (!p.getId().equals(self)) others.add(p);
      others.sort(java.util.Comparator.comparingInt(RaftPeer::getPriority).reversed());
      String outcome = "not handed over; the others elect a leader";
      try (RaftClient c = RaftClient.newBuilder().setProperties(properties()).setRaftGroup(group).setLeaderId(self)
          .setRetryPolicy(RetryPolicies.noRetry()).build()) {
        for (RaftPeer to : others) {
          try {
            if (c.admin().transferLeadership(to.getId(), 2000).isSuccess()) {
              outcome = "handed over to " + to.getId();
              break;
            }
          } catch (IOException | RuntimeException e) {
            outcome = "not handed over (" + e.getClass().getSimpleName() + "); the others elect a leader";
          }
        }
      } catch (IOException | RuntimeException e) {
        outcome = "not handed over (" + e + "); the others elect a leader";
      }
      log.info("replication: leadership of group {} {}", g, outcome);
    }
  }

  /** Stops the Raft server and clients (their threads are not daemons). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    timer.shutdownNow();
    for (RaftClient c : clients.values()) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    clients.clear();
    if (server != null) {
      try {
        server.close();
      } catch (IOException e) {
        log.warn("replication: closing the Raft server: {}", e.toString());
      }
    }
  }

  /** For tests: this node's Raft directory. */
  File raftDir() { return raftDir.toFile(); }
}
