package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.e2e.NsqjsClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes on loopback form a cluster: a topic published on node 1 is found through node 3's
 * lookup API, a third-party client that knows only node 3's lookup address consumes it, and node 1
 * killed with SIGKILL disappears from node 3's /lookup and /nodes; started again, it re-registers.
 */
class ClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> JVM = List.of("-Xmx256m");
  /** Every node process of the running test, whose logs a failure shows. */
  private final List<NodeProcess> started = new java.util.ArrayList<>();

  private NodeProcess start(Path dataPath, List<String> flags) throws Exception {
    NodeProcess n = NodeProcess.start(dataPath, JVM, flags);
    started.add(n);
    return n;
  }

  /** The end of each node's log, so that a failure on CI says what the cluster did. */
  private String logs() {
    StringBuilder out = new StringBuilder();
    for (NodeProcess n : started) {
      try {
        List<String> lines = Files.readAllLines(n.log);
        out.append("\n--- ").append(n.log.getFileName()).append(" (tcp ").append(n.tcp.getPort()).append(", cluster ")
            .append(n.clusterPort).append(")\n");
        for (String l : lines.subList(Math.max(0, lines.size() - 40), lines.size())) {
          out.append(l, 0, Math.min(l.length(), 300)).append('\n');
        }
      } catch (java.io.IOException e) {
        out.append("\n(").append(n.log).append(" unreadable: ").append(e).append(")\n");
      }
    }
    return out.toString();
  }

  private static HttpResponse<String> await(NodeProcess n, String path, Predicate<HttpResponse<String>> ok, Duration limit)
      throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    HttpResponse<String> r = null;
    while (System.nanoTime() < deadline) {
      r = n.lookup(path);
      if (ok.test(r)) return r;
      Thread.sleep(100);
    }
    throw new AssertionError(path + " not as expected within " + limit + "; last: " + (r == null ? "-" : r.statusCode() + " " + r.body()));
  }

  private static boolean lists(HttpResponse<String> r, NodeProcess n) {
    return r.statusCode() == 200 && r.body().contains("\"tcp_port\":" + n.tcp.getPort() + ",");
  }

  private static int producers(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body()).path("producers").size();
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  void threeNodesShareLookupAndDropAKilledOne(@TempDir Path dir) throws Exception {
    try {
      threeNodes(dir);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + logs(), e);
    }
  }

  private void threeNodes(Path dir) throws Exception {
    NsqjsClient.ensureInstalled();
    Path d1 = Files.createDirectories(dir.resolve("n1"));
    NodeProcess n1 = start(d1, List.of());
    String seed = "127.0.0.1:" + n1.clusterPort;
    try (NodeProcess n2 = start(Files.createDirectories(dir.resolve("n2")), List.of("--seed-node", seed));
         NodeProcess n3 = start(Files.createDirectories(dir.resolve("n3")), List.of("--seed-node", seed))) {
      long formed = System.nanoTime();
      await(n3, "/nodes", r -> producers(r) == 3, Duration.ofSeconds(60));
      double formSeconds = (System.nanoTime() - formed) / 1e9;

      assertEquals(200, n1.post("/topic/create?topic=orders", "").statusCode());
      assertEquals(200, n1.post("/channel/create?topic=orders&channel=work", "").statusCode());
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 20; i++) body.append("order-").append(i).append('\n');
      assertEquals(200, n1.post("/mpub?topic=orders", body.toString()).statusCode());
      long published = System.nanoTime();
      // The topic and its channel replicate as one entry per change: wait for the state with both.
      HttpResponse<String> found = await(n3, "/lookup?topic=orders", r -> lists(r, n1) && r.body().contains("\"work\""),
          Duration.ofSeconds(30));
      double seenSeconds = (System.nanoTime() - published) / 1e9;
      JsonNode lookup = JSON.readTree(found.body());
      assertEquals("[\"work\"]", lookup.path("channels").toString());

      // A consumer that knows only node 3's lookup address gets node 1's messages.
      NsqjsClient.Run consumer = NsqjsClient.start("consume.js", "--lookupd", "127.0.0.1:" + n3.lookupHttp.getPort(),
          "--topic", "orders", "--channel", "work", "--expect", "20", "--timeout", "60");
      assertEquals(0, consumer.await(Duration.ofSeconds(90)), consumer.stderr());
      assertEquals(20, consumer.events("message").stream().map(m -> m.path("body").asText()).distinct().count());

      n1.kill9();
      long killed = System.nanoTime();
      await(n3, "/lookup?topic=orders", r -> !lists(r, n1), Duration.ofSeconds(60));
      double hiddenSeconds = (System.nanoTime() - killed) / 1e9;
      await(n3, "/nodes", r -> producers(r) == 2, Duration.ofSeconds(60));
      double removedSeconds = (System.nanoTime() - killed) / 1e9;

      NodeProcess again = start(d1, List.of("--seed-node", "127.0.0.1:" + n2.clusterPort));
      try {
        long restarted = System.nanoTime();
        await(n3, "/lookup?topic=orders", r -> lists(r, again), Duration.ofSeconds(60));
        double backSeconds = (System.nanoTime() - restarted) / 1e9;
        System.out.printf("cluster: 3 nodes formed in %.1f s; a topic on node 1 seen on node 3 after %.2f s; node 1 "
            + "killed: hidden from node 3's /lookup after %.1f s, removed from /nodes after %.1f s; restarted, listed "
            + "again after %.1f s%n", formSeconds, seenSeconds, hiddenSeconds, removedSeconds, backSeconds);
        assertTrue(hiddenSeconds <= 15, "a killed node is dropped from /lookup within 15 s: " + hiddenSeconds);
      } finally {
        again.close();
      }
    } finally {
      n1.close();
    }
  }
}
