package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes with {@code --replicas 3}: while a producer publishes to a follower and a consumer
 * reads through lookup, the leader is killed with SIGKILL; publishing resumes through the new leader, the
 * killed node comes back with its data directory deleted and catches up, and no acknowledged message is
 * lost (every one is delivered to the consumer at least once).
 */
class ReplicationIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> JVM = List.of("-Xmx256m");
  private static final String TOPIC = "payments";
  private final List<NodeProcess> started = new ArrayList<>();

  private NodeProcess start(Path data, List<String> flags) throws Exception {
    NodeProcess n = NodeProcess.start(data, JVM, flags);
    started.add(n);
    return n;
  }

  private static List<String> flags(int raftPort, List<String> extra) {
    List<String> f = new ArrayList<>(List.of("--replicas", "3", "--raft-groups", "4", "--raft-address", "127.0.0.1:" + raftPort,
        "--replication-timeout", "3s", "--sync-timeout", "200ms"));
    f.addAll(extra);
    return f;
  }

  private static JsonNode replication(NodeProcess n) {
    try {
      HttpResponse<String> r = n.get("/stats?format=json&topic=" + TOPIC);
      if (r.statusCode() != 200) return null;
      JsonNode topics = JSON.readTree(r.body()).path("topics");
      return topics.size() == 0 ? null : topics.get(0).path("replication");
    } catch (Exception e) {
      return null;
    }
  }

  private NodeProcess leader(List<NodeProcess> nodes) {
    for (NodeProcess n : nodes) {
      JsonNode r = replication(n);
      if (r != null && r.path("leading").asBoolean()) return n;
    }
    return null;
  }

  private static boolean pub(NodeProcess n, String body) {
    try {
      return n.post("/pub?topic=" + TOPIC, body).statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  private String logs() {
    StringBuilder out = new StringBuilder();
    for (NodeProcess n : started) {
      try {
        List<String> lines = Files.readAllLines(n.log);
        out.append("\n--- ").append(n.log.getFileName()).append(" (tcp ").append(n.tcp.getPort()).append(")\n");
        for (String l : lines.subList(Math.max(0, lines.size() - 30), lines.size())) {
          out.append(l, 0, Math.min(l.length(), 300)).append('\n');
        }
      } catch (java.io.IOException e) {
        out.append("(unreadable ").append(n.log).append(")\n");
      }
    }
    return out.toString();
  }

  @Test
  void aKilledLeaderLosesNoAcknowledgedMessageAndComesBackEmpty(@TempDir Path dir) throws Exception {
    try {
      run(dir);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(e.getMessage() + logs(), e);
    } finally {
      for (NodeProcess n : started) n.close();
    }
  }

  private void run(Path dir) throws Exception {
    int[] raft = NodeProcess.freePorts(3);
    NodeProcess n1 = start(dir.resolve("n1"), flags(raft[0], List.of()));
    List<String> seed = List.of("--seed-node", "127.0.0.1:" + n1.clusterPort);
    NodeProcess n2 = start(dir.resolve("n2"), flags(raft[1], seed));
    NodeProcess n3 = start(dir.resolve("n3"), flags(raft[2], seed));
    List<NodeProcess> nodes = new ArrayList<>(List.of(n1, n2, n3));
    Map<NodeProcess, Integer> raftOf = new java.util.HashMap<>(Map.of(n1, raft[0], n2, raft[1], n3, raft[2]));

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!pub(n1, "warm-up")) {
      assertTrue(System.nanoTime() < deadline, "the first publish committed within 60 s");
      Thread.sleep(200);
    }
    NodeProcess leader = null;
    while ((leader = leader(nodes)) == null) {
      assertTrue(System.nanoTime() < deadline, "a leader shown in /stats");
      Thread.sleep(100);
    }

    // A consumer that knows only a follower's lookup address, and a producer on another follower.
    NodeProcess lookupVia = nodes.stream().filter(n -> n != leader(nodes)).findFirst().orElseThrow();
    Set<String> received = ConcurrentHashMap.newKeySet();
    AtomicLong deliveries = new AtomicLong();
    Consumer consumer = new Consumer(TOPIC, "audit", new ClientConfig().maxInFlight(100)
        .lookupdPollInterval(Duration.ofMillis(500)), m -> {
      received.add(m.bodyAsString());
      deliveries.incrementAndGet();
    });
    consumer.connectToNsqLookupd("127.0.0.1:" + lookupVia.lookupHttp.getPort());

    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong lastAckNanos = new AtomicLong(System.nanoTime());
    List<Long> gaps = new ArrayList<>();
    NodeProcess victim = leader;
    NodeProcess producerNode = nodes.stream().filter(n -> n != victim && n != lookupVia).findFirst().orElse(lookupVia);
    Thread producer = new Thread(() -> {
      for (int i = 0; !stop.get() && i < 20_000; i++) {
        String body = "m-" + i;
        long t0 = System.nanoTime();
        while (!stop.get() && !pub(producerNode, body)) {
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          }
        }
        if (stop.get()) return;
        long now = System.nanoTime();
        synchronized (gaps) {
          gaps.add(now - lastAckNanos.get());
        }
        lastAckNanos.set(now);
        acknowledged.add(body);
        if (now - t0 < 0) return;
      }
    }, "replication-it-producer");
    producer.start();
    Thread.sleep(3000);

    long killedAt = System.nanoTime();
    victim.kill9();
    long acksAtKill = acknowledged.size();
    long resumeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (acknowledged.size() <= acksAtKill + 10) {
      assertTrue(System.nanoTime() < resumeDeadline, "publishing resumed within 20 s of the kill");
      Thread.sleep(20);
    }
    long failoverMs;
    synchronized (gaps) {
      failoverMs = gaps.stream().max(Comparator.naturalOrder()).orElse(0L) / 1_000_000;
    }
    System.out.println("kill -9 of the leader: longest gap between two acknowledged publishes " + failoverMs + " ms"
        + " (killed " + (System.nanoTime() - killedAt) / 1_000_000 + " ms ago)");
    Thread.sleep(2000);

    // Its data directory is lost; it comes back on the same addresses and is sent the group's log.
    nodes.remove(victim);
    Path victimData = dir.resolve(victim == n1 ? "n1" : victim == n2 ? "n2" : "n3");
    deleteTree(victimData);
    NodeProcess back = victim.restart(victimData, JVM, flags(raftOf.get(victim),
        List.of("--seed-node", "127.0.0.1:" + nodes.get(0).clusterPort)));
    started.add(back);
    nodes.add(back);
    Thread.sleep(3000);
    stop.set(true);
    producer.join(30_000);

    long caughtUpDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      NodeProcess l = leader(nodes);
      JsonNode mine = replication(back);
      JsonNode theirs = l == null ? null : replication(l);
      if (mine != null && theirs != null && mine.path("applied_index").asLong() >= theirs.path("commit_index").asLong() - 2
          && theirs.path("commit_index").asLong() > 0) {
        break;
      }
      assertTrue(System.nanoTime() < caughtUpDeadline, "the emptied replica caught up: " + mine + " vs " + theirs);
      Thread.sleep(200);
    }

    long consumeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!received.containsAll(acknowledged)) {
      assertTrue(System.nanoTime() < consumeDeadline, "every acknowledged message delivered; missing "
          + acknowledged.stream().filter(a -> !received.contains(a)).limit(20).toList());
      Thread.sleep(100);
    }
    consumer.stopAsync();
    long lost = acknowledged.stream().filter(a -> !received.contains(a)).count();
    System.out.println("acknowledged " + acknowledged.size() + ", lost " + lost + ", delivered " + deliveries.get()
        + " times for " + received.size() + " distinct bodies (duplicates " + (deliveries.get() - received.size()) + ")");
    assertEquals(0, lost);
    assertTrue(acknowledged.size() > acksAtKill + 10);
  }

  private static void deleteTree(Path p) throws java.io.IOException {
    if (!Files.exists(p)) return;
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }
}
