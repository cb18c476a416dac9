package io.jnsq.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Producer;
import io.jnsq.tcp.TestNodes;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three nodes in this JVM, {@code --replicas 3}: a publish to a follower is committed and delivered by
 * the leader; the leader stops, another takes over within seconds and delivers again only what was not
 * finished; a replica restarted with an empty data path catches up; with no majority, publishing is
 * refused with a reason within the replication timeout.
 */
@Timeout(150)
class ReplicatedTopicsTest {
  private static final String TOPIC = "orders";
  private final List<Node> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() {
    for (Node n : nodes) {
      try {
        n.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // already stopped
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Node start(int raftPort, int clusterPort, List<String> seeds, String dataPath) {
    Map<String, Object> s = new HashMap<>();
    s.put("broadcast-address", "127.0.0.1");
    s.put("cluster-address", "127.0.0.1:" + clusterPort);
    s.put("seed-node", seeds);
    s.put("replicas", 3);
    s.put("raft-groups", 2);
    s.put("raft-address", "127.0.0.1:" + raftPort);
    s.put("replication-timeout", "3s");
    s.put("sync-timeout", "200ms");
    if (dataPath != null) s.put("data-path", dataPath);
    return TestNodes.start(s);
  }

  private static void await(String what, Duration limit, BooleanSupplier done) throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(50);
    }
  }

  private Node leader() {
    for (Node n : nodes) if (n.replication().status(TOPIC).leading()) return n;
    return null;
  }

  /** The TCP ports /lookup lists for the topic, through {@code n}'s lookup API. */
  private static List<Integer> lookupPorts(Node n) {
    try {
      java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + n.lookupHttpAddress().getPort() + "/lookup?topic=" + TOPIC)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) return List.of();
      List<Integer> ports = new ArrayList<>();
      for (var p : new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("producers")) {
        ports.add(p.path("tcp_port").asInt());
      }
      return ports;
    } catch (IOException | InterruptedException e) {
      return List.of();
    }
  }

  private Node follower(Node leader) { return nodes.stream().filter(n -> n != leader).findFirst().orElseThrow(); }

  private static String httpGet(Node n, String path) throws IOException, InterruptedException {
    return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + n.httpAddress().getPort() + path)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  private static String tcp(Node n) { return "127.0.0.1:" + n.tcpAddress().getPort(); }

  /** Records in the topic's log files under {@code dataPath}, read as a restart would (-1 when unreadable). */
  private static long recordsIn(String dataPath) {
    try {
      io.jnsq.storage.TopicLog log = io.jnsq.storage.TopicLog.open(new io.jnsq.storage.FileStorage(java.nio.file.Path.of(dataPath)),
          TOPIC, new io.jnsq.storage.TopicLog.Settings(100 << 20, 1 << 20), new io.jnsq.storage.BlockPool(1 << 20));
      long n = log.endSeq() - log.startSeq();
      log.closeFiles();
      return n;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  @Test
  void publishesSurviveTheLeaderAndAnEmptyReplicaCatchesUp() throws Exception {
    int[] raft = {freePort(), freePort(), freePort()};
    int[] clusterPorts = {freePort(), freePort(), freePort()};
    String seed = "127.0.0.1:" + clusterPorts[0];
    String[] data = new String[3];
    for (int i = 0; i < 3; i++) {
      data[i] = io.jnsq.storage.TestStores.freshDataPath();
      nodes.add(start(raft[i], clusterPorts[i], i == 0 ? List.of() : List.of(seed), data[i]));
    }
    await("a leader of the topic's group", Duration.ofSeconds(40), () -> leader() != null);
    Node leader = leader();
    // Lookup lists the leader alone as the topic's producer, so consumers connect where the channels deliver.
    try (Producer p = new Producer(tcp(leader))) {
      p.publish(TOPIC, "warm-up").get(10, TimeUnit.SECONDS);
    }
    await("lookup listing the leader", Duration.ofSeconds(15),
        () -> lookupPorts(nodes.get(2)).equals(List.of(leader.tcpAddress().getPort())));
    // /stats and /metrics tell the topic's replicas, leader and lag (fields nsqd does not have).
    var stats = new com.fasterxml.jackson.databind.ObjectMapper().readTree(httpGet(leader, "/stats?format=json"));
    var replication = stats.path("topics").get(0).path("replication");
    assertEquals(3, replication.path("replicas").size(), stats.toString());
    assertTrue(replication.path("leading").asBoolean(), stats.toString());
    assertTrue(replication.path("healthy").asBoolean(), stats.toString());
    assertEquals(3, replication.path("commit_lag").size(), stats.toString());
    assertTrue(httpGet(leader, "/metrics").contains("jnsq_topic_replication_leader{topic=\"orders\"} 1"));
    assertTrue(httpGet(follower(leader), "/metrics").contains("jnsq_topic_replication_leader{topic=\"orders\"} 0"));
    Node follower = follower(leader);

    // A consumer on the leader first, so its channel exists; the producer publishes on a follower.
    Set<String> finished = ConcurrentHashMap.newKeySet();
    Set<String> seenFirst = ConcurrentHashMap.newKeySet();
    Consumer first = new Consumer(TOPIC, "ch", new ClientConfig().maxInFlight(200), m -> {
      String body = m.bodyAsString();
      if (!body.startsWith("a-")) return;   // the warm-up: finished
      seenFirst.add(body);
      if (Integer.parseInt(body.substring(2)) < 50) finished.add(body); else m.disableAutoResponse();
    });
    first.connectToNsqd(tcp(leader));
    try (Producer p = new Producer(tcp(follower))) {
      for (int i = 0; i < 100; i++) p.publish(TOPIC, "a-" + i).get(10, TimeUnit.SECONDS);
    }
    await("the first 100 delivered by the leader", Duration.ofSeconds(20), () -> seenFirst.size() == 100);
    await("50 FINs and the warm-up's", Duration.ofSeconds(10), () -> first.stats().finished() == 51);
    Thread.sleep(1000);   // a cursor save (every --sync-timeout) and its checkpoint entry (every 100 ms)

    // The leader goes away; another takes over and publishing works again.
    // The leader's Raft server goes first, as in a crash (its replicas stop answering at once), then the rest.
    int gone = nodes.indexOf(leader);
    long stoppedAt = System.nanoTime();
    leader.replication().close();
    System.out.println("raft server closed in " + (System.nanoTime() - stoppedAt) / 1_000_000 + " ms");
    java.util.concurrent.CompletableFuture<?> stopping = leader.stop().toCompletableFuture();
    nodes.remove(leader);
    await("a new leader", Duration.ofSeconds(20), () -> leader() != null);
    Node second = leader();
    try (Producer p = new Producer(tcp(nodes.get(0)))) {
      for (int i = 0; i < 100; i++) {
        while (true) {
          try {
            p.publish(TOPIC, "b-" + i).get(10, TimeUnit.SECONDS);
            break;
          } catch (ExecutionException e) {
            assertTrue(System.nanoTime() - stoppedAt < TimeUnit.SECONDS.toNanos(20), "publishing works again: " + e);
            Thread.sleep(100);
          }
        }
      }
    }
    long failoverMs = (System.nanoTime() - stoppedAt) / 1_000_000;
    System.out.println("failover (leader's Raft server closed until 100 publishes were acknowledged): " + failoverMs + " ms");
    stopping.get(60, TimeUnit.SECONDS);
    first.stopAsync();   // its 50 unfinished messages would hold a stop() for its drain timeout
    await("lookup listing only the new leader", Duration.ofSeconds(15),
        () -> lookupPorts(nodes.get(0)).equals(List.of(second.tcpAddress().getPort())));

    Set<String> seenSecond = ConcurrentHashMap.newKeySet();
    Consumer again = new Consumer(TOPIC, "ch", new ClientConfig().maxInFlight(200), m -> seenSecond.add(m.bodyAsString()));
    again.connectToNsqd(tcp(second));
    try {
      await("the unfinished 50 and the new 100", Duration.ofSeconds(30), () -> seenSecond.size() >= 150);
      Thread.sleep(300);
      for (int i = 50; i < 100; i++) assertTrue(seenSecond.contains("a-" + i), "unfinished a-" + i + " delivered again");
      for (int i = 0; i < 100; i++) assertTrue(seenSecond.contains("b-" + i), "b-" + i + " delivered");
      for (String fin : finished) assertFalse(seenSecond.contains(fin), fin + " was finished: not delivered again");
    } finally {
      again.stop();
    }

    // The old leader's node comes back with an empty data path: it is sent the group's log.
    String backData = io.jnsq.storage.TestStores.freshDataPath();
    Node empty = start(raft[gone], clusterPorts[gone], List.of("127.0.0.1:" + clusterPorts[(gone + 1) % 3]), backData);
    nodes.add(empty);
    await("the empty replica caught up", Duration.ofSeconds(40), () -> recordsIn(backData) == 201);

    // A leader that is stopped (SIGTERM) hands its group over first: publishing goes on almost at once.
    await("a leader after the catch-up", Duration.ofSeconds(20), () -> leader() != null);
    Node draining = leader();
    if (draining != empty) {
      try (Producer p = new Producer(tcp(empty))) {
        p.publish(TOPIC, "before-drain").get(10, TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        java.util.concurrent.CompletableFuture<?> stoppingLeader = draining.stop().toCompletableFuture();
        nodes.remove(draining);
        await("a new leader after the hand-over", Duration.ofSeconds(20), () -> leader() != null && leader() != draining);
        p.publish(TOPIC, "after-drain").get(10, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("SIGTERM-like stop of the leader until a publish succeeded: " + ms + " ms");
        stoppingLeader.get(60, TimeUnit.SECONDS);
      }
    }

    // Two of three gone: no majority, publishing is refused with a reason, in bounded time.
    for (Node n : new ArrayList<>(nodes)) {
      if (n == empty) continue;
      n.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
      nodes.remove(n);
    }
    try (Producer p = new Producer(tcp(empty))) {
      long t0 = System.nanoTime();
      ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> p.publish(TOPIC, "c-0").get(20, TimeUnit.SECONDS));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(refused.getCause().getMessage().contains("E_PUB_FAILED"), refused.getCause().getMessage());
      assertTrue(refused.getCause().getMessage().contains("majority"), refused.getCause().getMessage());
      assertTrue(ms < 8000, "refused within the replication timeout, took " + ms + " ms");
    }
    assertEquals(3, raft.length);
  }
}
