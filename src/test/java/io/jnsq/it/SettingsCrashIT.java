package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.tcp.NsqTestClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Topic and channel settings, and dead letters, survive kill -9 of a durable node and a SIGTERM restart. */
class SettingsCrashIT {
  private static final List<String> JVM = List.of("-Xmx256m");
  private static final List<String> DURABLE = List.of("--durable");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static long deadLettered(NodeProcess node) throws Exception {
    JsonNode s = JSON.readTree(node.get("/stats?format=json&topic=orders&channel=work").body());
    return s.path("topics").path(0).path("channels").path(0).path("dead_lettered_count").asLong();
  }

  @Test
  void settingsAndDeadLettersSurviveKill9AndARestart(@TempDir Path dir) throws Exception {
    String channelSettings = "{\"max_attempts\":2,\"dead_letter_topic\":\"orders.dead\",\"message_ttl\":\"1h0m0s\",\"source\":\"channel\"}";
    String topicSettings;
    try (NodeProcess node = NodeProcess.start(dir, JVM, DURABLE)) {
      assertEquals(200, node.post("/channel/settings?topic=orders&channel=work",
          "{\"max_attempts\":2,\"dead_letter_topic\":\"orders.dead\",\"message_ttl\":\"1h\"}").statusCode());
      topicSettings = node.post("/topic/settings?topic=orders", "{\"retention\":\"24h\",\"max_bytes\":\"1GiB\"}").body();
      try (NsqTestClient c = NsqTestClient.connect(node.tcp)) {
        c.line("SUB orders work");
        assertEquals("OK", c.read().text());
        c.line("RDY 1");
        assertEquals(200, node.post("/pub?topic=orders", "cannot be done").statusCode());
        for (int i = 0; i < 2; i++) c.line("REQ " + c.read().id() + " 0");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (deadLettered(node) < 1 && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(1, deadLettered(node));
      }
      // Answered once written: a kill at once after the answer keeps it.
      assertEquals(200, node.post("/channel/settings?topic=orders&channel=audit", "{\"max_attempts\":9}").statusCode());
      node.kill9();
    }
    try (NodeProcess node = NodeProcess.start(dir, JVM, DURABLE)) {
      assertEquals(channelSettings, node.get("/channel/settings?topic=orders&channel=work").body());
      assertEquals(topicSettings, node.get("/topic/settings?topic=orders").body());
      assertEquals(9, JSON.readTree(node.get("/channel/settings?topic=orders&channel=audit").body()).path("max_attempts").asInt());
      JsonNode letters = JSON.readTree(node.get("/topic/dead-letters?topic=orders.dead").body()).path("letters");
      assertEquals(1, letters.size(), letters.toString());
      assertEquals("cannot be done", letters.path(0).path("body").asText());
      assertEquals("work", letters.path(0).path("origin_channel").asText());
      assertEquals(0, JSON.readTree(node.get("/stats?format=json&topic=orders&channel=work").body())
          .path("topics").path(0).path("channels").path(0).path("depth").asInt(), "the dead letter is not back in the channel");
      int code = node.terminate(60);
      assertTrue(code == 0 || code == 143, "exit code " + code);
    }
    try (NodeProcess node = NodeProcess.start(dir, JVM, List.of())) {
      assertEquals(channelSettings, node.get("/channel/settings?topic=orders&channel=work").body());
      assertEquals(topicSettings, node.get("/topic/settings?topic=orders").body());
    }
  }
}
