package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The fault runner on a real node process: each fault does what it says, and closing kills even a paused node. */
class NodesIT {
  private static final List<String> JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private static int ping(NodeProcess n, Duration limit) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.http.getPort() + "/ping")).timeout(limit)
        .GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static boolean hasTopic(NodeProcess n, String topic) throws Exception {
    return n.get("/stats?format=json").body().contains("\"topic_name\":\"" + topic + "\"");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void eachFaultDoesWhatItSaysAndCloseKillsEveryProcess(@TempDir Path dir) throws Exception {
    Process first;
    Process last;
    try (Nodes nodes = Nodes.start(dir, 1, JVM, List.of())) {
      first = nodes.node(0).process;
      int tcpPort = nodes.node(0).tcp.getPort();
      assertEquals(200, nodes.node(0).post("/topic/create?topic=kept", "").statusCode());

      nodes.pause(0);
      assertThrows(HttpTimeoutException.class, () -> ping(nodes.node(0), Duration.ofMillis(700)),
          "a stopped process holds its sockets open and answers nothing");
      nodes.resume(0);
      assertEquals(200, ping(nodes.node(0), Duration.ofSeconds(10)));

      int code = nodes.terminate(0, Duration.ofSeconds(30));
      assertTrue(code == 0 || code == 143, "exit code after SIGTERM: " + code);
      nodes.restart(0);
      assertEquals(tcpPort, nodes.node(0).tcp.getPort(), "restarted on its ports");
      assertTrue(hasTopic(nodes.node(0), "kept"), "restarted on its data path");

      nodes.kill9(0);
      assertFalse(nodes.isRunning(0));
      nodes.deleteDataPath(0);
      try (Stream<Path> left = Files.list(nodes.node(0).dataPath)) {
        assertEquals(List.of(), left.toList(), "the data path is empty");
      }
      nodes.restart(0);
      assertFalse(hasTopic(nodes.node(0), "kept"), "a node on a wiped data path starts empty");

      nodes.pause(0);
      last = nodes.node(0).process;
    }
    assertFalse(first.isAlive());
    assertTrue(last.waitFor(10, TimeUnit.SECONDS), "a paused node is killed by close");
  }

  /** A restarted member of a cluster joins it again through a live node, not as a cluster of its own. */
  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void aClusterMemberKilledAndRestartedJoinsItsClusterAgain(@TempDir Path dir) throws Exception {
    try (Nodes nodes = Nodes.start(dir, 3, JVM, List.of())) {
      nodes.awaitMembers(2, 3, Duration.ofSeconds(60));
      nodes.kill9(0);   // the seed node: its restart must seed from node 1 or 2
      nodes.restart(0);   // seeded from itself it would form a cluster of one and never see 3
      nodes.awaitMembers(0, 3, Duration.ofSeconds(60));
      nodes.awaitMembers(2, 3, Duration.ofSeconds(60));
    }
  }
}
