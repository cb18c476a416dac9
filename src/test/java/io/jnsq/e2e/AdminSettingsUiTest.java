package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import io.jnsq.tcp.NsqTestClient;
import io.jnsq.tcp.TestNodes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin UI's settings forms, rewind and dead-letter browser in a real browser (Chromium through
 * playwright-core): what the page saves is what the node's API then says, a rewind from the page
 * queues the kept history again, and "Move back" on a letter delivers it to its channel again.
 */
class AdminSettingsUiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Node node;

  @BeforeAll
  static void start() throws Exception {
    AdminUiTest.chromium();
    NsqjsClient.ensureInstalled("admin", "playwright-core");
    node = TestNodes.start(Map.of("broadcast-address", "127.0.0.1"));
  }

  @AfterAll
  static void stop() { if (node != null) node.stop().toCompletableFuture().join(); }

  private static JsonNode get(String path) throws Exception {
    return JSON.readTree(AdminUiTest.send(node.httpAddress(), "GET", path, null).body());
  }

  private static NsqjsClient.Run ui(String... flags) throws Exception {
    NsqjsClient.Run run = NsqjsClient.startIn("admin", "settings.js", flags);
    assertEquals(0, run.await(Duration.ofSeconds(120)), run.stderr());
    assertEquals(List.of(), run.events("console-error"), "the page logs no errors");
    return run;
  }

  @Test
  void settingsRewindAndDeadLettersFromThePage() throws Exception {
    String topic = "ui_jobs";
    String admin = "http://127.0.0.1:" + node.adminHttpAddress().getPort();
    assertEquals(200, AdminUiTest.send(node.httpAddress(), "POST", "/topic/create?topic=" + topic, null).statusCode());
    assertEquals(200, AdminUiTest.send(node.httpAddress(), "POST", "/channel/create?topic=" + topic + "&channel=work", null).statusCode());
    // Retention from before the first publish, so that what the channel finishes can be replayed; the page changes it.
    assertEquals(200, AdminUiTest.send(node.httpAddress(), "POST", "/topic/settings?topic=" + topic, "{\"retention\":\"1h\"}").statusCode());
    AdminUiTest.awaitJson(node.adminHttpAddress(), "/api/topics/" + topic + "/work", j -> j.path("nodes").size() == 1);
    try (NsqTestClient consumer = NsqTestClient.connect(node.tcpAddress())) {
      consumer.line("SUB " + topic + " work");
      assertEquals("OK", consumer.read().text());
      consumer.line("RDY 1");
      assertEquals(200, AdminUiTest.send(node.httpAddress(), "POST", "/pub?topic=" + topic, "first").statusCode());
      consumer.line("FIN " + consumer.read().id());

      ui("--admin", admin, "--topic", topic, "--channel", "work", "--dlq", "ui_jobs.dead", "--mode", "settings");
      JsonNode t = get("/topic/settings?topic=" + topic);
      assertEquals("2h0m0s", t.path("retention").asText());
      assertEquals(1000, t.path("max_messages").asInt());
      JsonNode c = get("/channel/settings?topic=" + topic + "&channel=work");
      assertEquals(3, c.path("max_attempts").asInt());
      assertEquals("ui_jobs.dead", c.path("dead_letter_topic").asText());
      assertEquals("1h0m0s", c.path("message_ttl").asText());
      NsqTestClient.Frame again = consumer.read();
      assertEquals("first", again.body(), "rewound to the earliest: the finished message comes again");
      consumer.line("FIN " + again.id());

      assertEquals(200, AdminUiTest.send(node.httpAddress(), "POST", "/pub?topic=" + topic, "poison").statusCode());
      for (int i = 0; i < 3; i++) consumer.line("REQ " + consumer.read().id() + " 0");
      AdminUiTest.awaitJson(node.httpAddress(), "/topic/dead-letters?topic=ui_jobs.dead", j -> j.path("letters").size() == 1);
      AdminUiTest.awaitJson(node.adminHttpAddress(), "/api/topics/ui_jobs.dead", j -> j.path("nodes").size() == 1);

      NsqjsClient.Run letters = ui("--admin", admin, "--topic", topic, "--channel", "work", "--dlq", "ui_jobs.dead", "--mode", "letters");
      JsonNode row = letters.events("letters").get(0).path("rows").path(0);
      assertEquals("ui_jobs/work", row.path(1).asText());
      assertEquals("3", row.path(2).asText());
      assertEquals("max_attempts", row.path(3).asText());
      assertEquals("poison", row.path(5).asText());
      NsqTestClient.Frame back = consumer.read();
      assertEquals("poison", back.body(), "moved back from the page: delivered to its channel again");
      assertEquals(1, back.attempts());
      consumer.line("FIN " + back.id());
      assertTrue(get("/topic/dead-letters?topic=ui_jobs.dead").path("letters").path(0).path("requeued").asBoolean());
    }
  }
}
