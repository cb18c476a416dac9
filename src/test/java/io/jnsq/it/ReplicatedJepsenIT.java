package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.jepsen.Fault;
import io.jnsq.jepsen.Nemesis;
import io.jnsq.jepsen.Workload;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JepsenIT}'s queue test against three node processes with {@code --durable --replicas 3}: the
 * faults of issue 13 hit the topic's Raft leader (or a follower) of the moment, producers publish to
 * every node in turn, and consumers find the leader through {@code /lookup} at every redial, as NSQ
 * clients do (only the leader's channels deliver; a SUB on a follower is refused). Lost must be 0 and
 * every redelivery explained by a fault.
 */
class ReplicatedJepsenIT {
  private static final List<String> JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Short timeouts: a paused node must not hold a lookup or a leader query for long. */
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
  private static final String TOPIC = "jepsen";
  private static final String CHANNEL = "check";
  /**
   * A FIN reaches the other replicas in the leader's next channel checkpoint (every 100 ms, after the
   * cursor is saved, at once with --durable) once that entry commits; on this shared machine a commit
   * can take a few hundred ms, so a FIN sent less than 1 s before a leader's death may be undone.
   */
  private static final Duration FIN_SLACK = Duration.ofSeconds(1);

  /** One group (all topics on it) keeps three JVMs' Raft work small; --sync-timeout as in ReplicationIT. */
  private static Nodes cluster(Path dir) throws Exception {
    int[] raft = NodeProcess.freePorts(3);
    Nodes nodes = Nodes.start(dir, 3, JVM, i -> List.of("--durable", "--replicas", "3", "--raft-groups", "1",
        "--raft-address", "127.0.0.1:" + raft[i], "--replication-timeout", "3s", "--sync-timeout", "200ms"));
    try {
      nodes.awaitMembers(0, 3, Duration.ofSeconds(30));
      return nodes;
    } catch (Exception | Error e) {
      nodes.close();
      throw e;
    }
  }

  private static Nemesis.Plan plan(int rounds) {
    Nemesis.Plan p = Nemesis.Plan.rounds(rounds);
    return new Nemesis.Plan(p.rounds(), p.before(), p.faultFor(), p.recoverLimit(), p.drainQuiet(), p.drainLimit(),
        FIN_SLACK, p.seed());
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void theLeaderKilledWithSigkillLosesNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    try (Nodes nodes = cluster(dir)) {
      Nemesis.Outcome o = scenario("3 nodes --durable --replicas 3, leader kill -9 x3", nodes, plan(3),
          onLeader(nodes, t -> NodeFaults.kill9(nodes, t)));
      JepsenIT.assertSafe(o, nodes);
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void theLeaderKilledWithItsDataDeletedCatchesUpAndLosesNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    try (Nodes nodes = cluster(dir)) {
      Nemesis.Outcome o = scenario("3 nodes --durable --replicas 3, leader kill -9 + data deleted x2", nodes, plan(2),
          onLeader(nodes, t -> caughtUpAfter(nodes, NodeFaults.kill9AndWipe(nodes, t))));
      JepsenIT.assertSafe(o, nodes);
      awaitCaughtUp(nodes, Duration.ofSeconds(20));
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void theLeaderStoppedWithSigtermLosesNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    try (Nodes nodes = cluster(dir)) {
      Nemesis.Outcome o = scenario("3 nodes --durable --replicas 3, leader SIGTERM x3", nodes, plan(3),
          onLeader(nodes, t -> NodeFaults.terminate(nodes, t, Duration.ofSeconds(30))));
      JepsenIT.assertSafe(o, nodes);
    }
  }

  /** Ratis's election timeout is 1–2 s: a follower frozen for 4 s times its leader out and is left behind. */
  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aFollowerPausedLongerThanAnElectionTimeoutLosesNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    try (Nodes nodes = cluster(dir)) {
      Nemesis.Outcome o = scenario("3 nodes --durable --replicas 3, follower SIGSTOP 4 s x3", nodes,
          plan(3).holding(Duration.ofSeconds(4)), onFollower(nodes, t -> NodeFaults.pause(nodes, t)));
      JepsenIT.assertSafe(o, nodes);
    }
  }

  /**
   * The fault, healed only once every replica has caught up again: with three replicas one lost disk is
   * what Raft can repair, while a second one lost before the first is rebuilt leaves a single full copy.
   */
  private static Fault caughtUpAfter(Nodes nodes, Fault f) {
    return Fault.of(f.name(), f::inject, () -> {
      f.heal();
      awaitCaughtUp(nodes, Duration.ofSeconds(20));
    });
  }

  /**
   * Creates the topic, waits until its group has a leader that commits, creates the channel on that
   * leader, and runs the workload: producers over every node, consumers on the leader lookup lists.
   */
  private static Nemesis.Outcome scenario(String name, Nodes nodes, Nemesis.Plan plan, IntFunction<Fault> faults)
      throws Exception {
    // Creating a topic is not replicated: each node's copy must exist for its /stats to show the topic.
    for (int i = 0; i < nodes.size(); i++) {
      assertEquals(200, nodes.node(i).post("/topic/create?topic=" + TOPIC, "").statusCode());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    // A publish to another topic of the same (only) group proves that the group commits, without a
    // message in the checked topic that nobody attempted.
    while (!published(nodes, "warm-up") || leaderIndexOrMinusOne(nodes) < 0) {
      assertTrue(System.nanoTime() - deadline < 0, "the Raft group committed and showed a leader within 40 s" + nodes.logs(30));
      Thread.sleep(200);
    }
    int leader = leaderIndexOrMinusOne(nodes);
    assertEquals(200, nodes.node(leader).post("/channel/create?topic=" + TOPIC + "&channel=" + CHANNEL, "").statusCode());
    while (lookup(nodes).isEmpty()) {
      assertTrue(System.nanoTime() - deadline < 0, "lookup listed the topic's leader within 40 s" + nodes.logs(30));
      Thread.sleep(100);
    }
    Thread.sleep(300);   // the channel in the leader's next checkpoint, so a new leader has it too
    Nemesis.Outcome o = JepsenIT.run(name, plan, faults, Workload.Settings.of(TOPIC, CHANNEL), nodes::tcpAddresses,
        () -> consumerTargets(nodes));
    System.out.printf("jepsen: %s: deliveries resumed after (s): %s%n", name, deliveriesResumed(name));
    return o;
  }

  /** From the saved history: for each fault, the seconds until a consumer received a message after it. */
  private static String deliveriesResumed(String name) throws java.io.IOException {
    Path file = Path.of("target", "jepsen", name.replaceAll("[^A-Za-z0-9]+", "-") + ".history");
    List<String> out = new ArrayList<>();
    long fault = -1;
    for (String line : java.nio.file.Files.readAllLines(file)) {
      String[] f = line.split(" ", 4);
      if (f[2].equals("FAULT")) {
        if (fault >= 0) out.add("none");
        fault = Long.parseLong(f[1]);
      } else if (f[2].equals("DELIVER") && fault >= 0) {
        out.add(String.format("%.1f", (Long.parseLong(f[1]) - fault) / 1e9));
        fault = -1;
      }
    }
    if (fault >= 0) out.add("none");
    return String.join(", ", out);
  }

  private static boolean published(Nodes nodes, String topic) {
    try {
      return nodes.node(0).post("/pub?topic=" + topic, "warm").statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * The topic's leader of the moment, as the nodes' /stats show it (waits up to 15 s for exactly one),
   * picked when the round's fault is made, before the nemesis records it: so the fault's time in the
   * history is the kill's, not the kill's plus the queries that found the leader.
   */
  static NodeFaults.Target leader(Nodes nodes) throws Exception {
    int i = awaitOne(nodes, true);
    return new NodeFaults.Target("leader of " + TOPIC + " (node " + i + ")", n -> i);
  }

  /** A replica that is not the topic's leader at the moment, picked as {@link #leader} is. */
  static NodeFaults.Target follower(Nodes nodes) throws Exception {
    int i = awaitOne(nodes, false);
    return new NodeFaults.Target("follower of " + TOPIC + " (node " + i + ")", n -> i);
  }

  /** A round's fault, from a target picked at that moment. */
  @FunctionalInterface
  interface RoundFault {
    Fault on(NodeFaults.Target target);
  }

  private static IntFunction<Fault> onLeader(Nodes nodes, RoundFault f) {
    return r -> f.on(unchecked(() -> leader(nodes)));
  }

  private static IntFunction<Fault> onFollower(Nodes nodes, RoundFault f) {
    return r -> f.on(unchecked(() -> follower(nodes)));
  }

  private static <T> T unchecked(java.util.concurrent.Callable<T> c) {
    try {
      return c.call();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static int awaitOne(Nodes nodes, boolean leading) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() - deadline < 0) {
      int l = leaderIndexOrMinusOne(nodes);
      if (l >= 0) return leading ? l : (l + 1) % nodes.size();
      Thread.sleep(50);
    }
    throw new AssertionError("no single leader of " + TOPIC + " in /stats within 15 s" + nodes.logs(20));
  }

  /** The index of the one running node whose /stats says it leads the topic; -1 if none or several do. */
  private static int leaderIndexOrMinusOne(Nodes nodes) {
    int found = -1;
    for (int i = 0; i < nodes.size(); i++) {
      JsonNode r = replication(nodes, i);
      if (r != null && r.path("leading").asBoolean()) {
        if (found >= 0) return -1;
        found = i;
      }
    }
    return found;
  }

  private static JsonNode replication(Nodes nodes, int i) {
    try {
      HttpResponse<String> r = get(nodes.node(i).http, "/stats?format=json&topic=" + TOPIC);
      if (r.statusCode() != 200) return null;
      JsonNode topics = JSON.readTree(r.body()).path("topics");
      return topics.size() == 0 ? null : topics.get(0).path("replication");
    } catch (Exception e) {
      return null;
    }
  }

  /** What the first node whose lookup answers lists as the topic's producers (its leader); empty if none answers. */
  private static List<InetSocketAddress> lookup(Nodes nodes) {
    for (int i = 0; i < nodes.size(); i++) {
      try {
        HttpResponse<String> r = get(nodes.node(i).lookupHttp, "/lookup?topic=" + TOPIC);
        if (r.statusCode() != 200) continue;
        JsonNode body = JSON.readTree(r.body());
        JsonNode producers = body.has("producers") ? body.path("producers") : body.path("data").path("producers");
        List<InetSocketAddress> out = new ArrayList<>();
        for (JsonNode p : producers) out.add(new InetSocketAddress(p.path("broadcast_address").asText(), p.path("tcp_port").asInt()));
        if (!out.isEmpty()) return out;
      } catch (Exception e) {
        // down or paused: ask the next
      }
    }
    return List.of();
  }

  /** Consumers dial whom lookup lists, as NSQ clients do; while nobody is listed, any node (a SUB there fails and they redial). */
  private static List<InetSocketAddress> consumerTargets(Nodes nodes) {
    List<InetSocketAddress> listed = lookup(nodes);
    return listed.isEmpty() ? nodes.tcpAddresses() : listed;
  }

  /** Every running node's applied index reaches the leader's commit index (an emptied replica was sent the log). */
  private static void awaitCaughtUp(Nodes nodes, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    String last = "";
    while (System.nanoTime() - deadline < 0) {
      int l = leaderIndexOrMinusOne(nodes);
      JsonNode lead = l < 0 ? null : replication(nodes, l);
      if (lead != null) {
        long commit = lead.path("commit_index").asLong();
        boolean all = commit > 0;
        StringBuilder s = new StringBuilder("leader node " + l + " commit " + commit + ";");
        for (int i = 0; i < nodes.size(); i++) {
          JsonNode r = replication(nodes, i);
          long applied = r == null ? -1 : r.path("applied_index").asLong();
          s.append(" node ").append(i).append(" applied ").append(applied);
          if (applied < commit - 2) all = false;
        }
        last = s.toString();
        if (all) {
          System.out.println("jepsen: caught up: " + last);
          return;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("replicas did not catch up within " + limit + ": " + last + nodes.logs(30));
  }

  private static HttpResponse<String> get(InetSocketAddress at, String pathAndQuery) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + pathAndQuery))
        .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
