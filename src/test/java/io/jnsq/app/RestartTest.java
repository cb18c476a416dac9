package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.tcp.NsqTestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A clean stop writes every topic, channel and message to --data-path, and a restart delivers them all once. */
class RestartTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Node start(Path dataPath, Map<String, Object> extra) {
    Map<String, Object> all = new HashMap<>(Map.of("jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0", "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0",
        "jnsq.data-path", dataPath.toString(), "pekko.loglevel", "WARNING"));
    extra.forEach((k, v) -> all.put("jnsq." + k, v));
    return Node.start(Node.loadConfig(null, all)).toCompletableFuture().join();
  }

  private static JsonNode channel(JsonNode stats, String topic, String channel) {
    for (JsonNode t : stats.path("topics")) {
      if (!t.path("topic_name").asText().equals(topic)) continue;
      for (JsonNode c : t.path("channels")) if (c.path("channel_name").asText().equals(channel)) return c;
    }
    throw new AssertionError("no channel " + topic + ":" + channel + " in " + stats);
  }

  private static JsonNode topic(JsonNode stats, String topic) {
    for (JsonNode t : stats.path("topics")) if (t.path("topic_name").asText().equals(topic)) return t;
    throw new AssertionError("no topic " + topic + " in " + stats);
  }

  @Test
  void aCleanRestartKeepsTopicsChannelsPauseStateAndEveryUnfinishedMessageOnce(@TempDir Path dir) throws Exception {
    Node a = start(dir, Map.of("mem-queue-size", 50));
    var http = a.httpAddress();
    assertEquals(200, NodeClient.post(http, "/topic/create?topic=orders", "").statusCode());
    assertEquals(200, NodeClient.post(http, "/channel/create?topic=orders&channel=audit", "").statusCode());
    assertEquals(200, NodeClient.post(http, "/channel/create?topic=orders&channel=work", "").statusCode());
    assertEquals(200, NodeClient.post(http, "/channel/create?topic=orders&channel=tail%23ephemeral", "").statusCode());
    assertEquals(200, NodeClient.post(http, "/channel/pause?topic=orders&channel=audit", "").statusCode());
    assertEquals(200, NodeClient.post(http, "/topic/create?topic=frozen", "").statusCode());
    assertEquals(200, NodeClient.post(http, "/topic/pause?topic=frozen", "").statusCode());
    StringBuilder mpub = new StringBuilder();
    for (int i = 0; i < 300; i++) mpub.append("m").append(i).append('\n');
    assertEquals(200, NodeClient.post(http, "/mpub?topic=orders", mpub.toString()).statusCode());
    assertEquals(200, NodeClient.post(http, "/pub?topic=frozen", "held by a paused topic").statusCode());
    long deferredAt = System.currentTimeMillis();
    assertEquals(200, NodeClient.post(http, "/pub?topic=orders&defer=3000", "later").statusCode());

    // A consumer finishes 10 of 20 and leaves 10 in flight when the node stops.
    List<String> finished = new ArrayList<>();
    NsqTestClient consumer = NodeClient.subscribe(a.tcpAddress(), "orders", "work", 20);
    for (int i = 0; i < 20; i++) {
      NsqTestClient.Frame f = consumer.read();
      if (i % 2 == 0) {
        consumer.line("FIN " + f.id());
        finished.add(f.body());
      }
    }
    NodeClient.get(http, "/stats");   // a round trip, so the FINs have been applied
    a.stop().toCompletableFuture().join();
    consumer.close();

    JsonNode meta = JSON.readTree(Files.readAllBytes(dir.resolve("nsqd.dat")));
    assertEquals("1.3.0", meta.path("version").asText());
    assertFalse(meta.toString().contains("ephemeral"), "ephemeral channels are not saved: " + meta);

    Node b = start(dir, Map.of("mem-queue-size", 50));
    try {
      JsonNode stats = JSON.readTree(NodeClient.get(b.httpAddress(), "/stats?format=json").body());
      assertTrue(topic(stats, "frozen").path("paused").asBoolean());
      assertEquals(1, topic(stats, "frozen").path("depth").asLong());
      JsonNode audit = channel(stats, "orders", "audit");
      assertTrue(audit.path("paused").asBoolean());
      assertEquals(301, audit.path("depth").asLong(), "300 messages and the deferred one");
      assertFalse(channel(stats, "orders", "work").path("paused").asBoolean());

      List<NodeClient.Received> got = NodeClient.drain(b.tcpAddress(), "orders", "work", 5000, 1000);
      Map<String, Integer> seen = new HashMap<>();
      for (NodeClient.Received r : got) seen.merge(r.body(), 1, Integer::sum);
      for (int i = 0; i < 300; i++) {
        String body = "m" + i;
        int expected = finished.contains(body) ? 0 : 1;
        assertEquals(expected, seen.getOrDefault(body, 0), body + " delivered " + expected + " time(s) after the restart");
      }
      assertEquals(1, seen.getOrDefault("later", 0));
      long laterAt = got.stream().filter(r -> r.body().equals("later")).findFirst().orElseThrow().atMillis();
      assertTrue(laterAt >= deferredAt + 3000, "the deferred message kept its delay across the restart");
      assertTrue(got.stream().anyMatch(r -> r.frame().attempts() >= 2), "in-flight messages come back as redeliveries");
    } finally {
      b.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aSecondNodeCannotUseTheSameDataPath(@TempDir Path dir) {
    Node a = start(dir, Map.of());
    try {
      Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> start(dir, Map.of()));
      assertTrue(String.valueOf(e.getMessage()).contains("in use"), e.toString());
    } finally {
      a.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aDataPathThatCannotBeWrittenStopsTheNodeAtStartWithAClearError(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("plain-file"), "not a directory");
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> start(file.resolve("data"), Map.of()));
    assertTrue(String.valueOf(e.getMessage()).contains("--data-path"), e.toString());
  }
}
