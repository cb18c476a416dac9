package io.jnsq.http;

import static io.jnsq.http.HttpTestSupport.get;
import static io.jnsq.http.HttpTestSupport.json;
import static io.jnsq.http.HttpTestSupport.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.app.Node;
import io.jnsq.tcp.NsqTestClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Settings, rewind, bounded topics and dead letters through the HTTP API, with a raw TCP consumer. */
class SettingsApiTest {
  private static Node node;

  @BeforeAll static void start() { node = HttpTestSupport.startNode(Map.of()); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static JsonNode channelStats(String topic, String channel) throws Exception {
    return json(get(node, "/stats?format=json&topic=" + topic + "&channel=" + channel)).path("topics").path(0).path("channels").path(0);
  }

  private static NsqTestClient subscribe(String topic, String channel, int rdy) throws Exception {
    NsqTestClient c = NsqTestClient.connect(node.tcpAddress());
    c.line("SUB " + topic + " " + channel);
    assertEquals("OK", c.read().text());
    c.line("RDY " + rdy);
    return c;
  }

  @Test
  void settingsAreSetReadBackAndBadValuesChangeNothing() throws Exception {
    HttpResponse<String> r = post(node, "/channel/settings?topic=s1&channel=c",
        "{\"max_attempts\":5,\"dead_letter_topic\":\"s1.dead\",\"message_ttl\":\"1h\"}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"max_attempts\":5,\"dead_letter_topic\":\"s1.dead\",\"message_ttl\":\"1h0m0s\",\"source\":\"channel\"}", r.body());
    assertEquals(r.body(), get(node, "/channel/settings?topic=s1&channel=c").body());
    HttpResponse<String> bad = post(node, "/channel/settings?topic=s1&channel=c", "{\"max_attempts\":5,\"message_ttl\":\"soon\"}");
    assertEquals(400, bad.statusCode());
    assertTrue(json(bad).path("message").asText().startsWith("INVALID_SETTINGS: message_ttl"), bad.body());
    assertEquals(400, post(node, "/channel/settings?topic=s1&channel=c", "not json").statusCode());
    assertEquals(400, post(node, "/channel/settings?topic=s1&channel=c", "{\"max_attempts\":1.5}").statusCode());
    assertEquals(r.body(), get(node, "/channel/settings?topic=s1&channel=c").body(), "a refused change changes nothing");

    HttpResponse<String> t = post(node, "/topic/settings?topic=s1", "{\"retention\":\"24h\",\"max_bytes\":\"10GiB\",\"when_full\":\"drop-oldest\"}");
    assertEquals(200, t.statusCode(), t.body());
    JsonNode ts = json(get(node, "/topic/settings?topic=s1"));
    assertEquals("24h0m0s", ts.path("retention").asText());
    assertEquals("10GiB", ts.path("max_bytes").asText());
    assertEquals("drop-oldest", ts.path("when_full").asText());
    assertEquals(400, post(node, "/topic/settings?topic=s1", "{\"when_full\":\"sometimes\"}").statusCode());
    assertEquals(400, post(node, "/topic/settings?topic=s1", "{\"size\":1}").statusCode());
    assertEquals(404, get(node, "/topic/settings?topic=never_made").statusCode());
    assertEquals(404, get(node, "/channel/settings?topic=s1&channel=never_made").statusCode());
    assertEquals(400, get(node, "/channel/settings?topic=s1").statusCode());

    JsonNode stats = json(get(node, "/stats?format=json&topic=s1"));
    assertEquals("24h0m0s", stats.path("topics").path(0).path("settings").path("retention").asText());
    assertEquals(5, stats.path("topics").path(0).path("channels").path(0).path("settings").path("max_attempts").asInt());
    assertEquals(0, stats.path("topics").path(0).path("channels").path(0).path("dead_lettered_count").asInt(-1));
    String metrics = get(node, "/metrics").body();
    assertTrue(metrics.contains("jnsq_channel_max_attempts{channel=\"c\",topic=\"s1\"} 5.0"), metrics);
    assertTrue(metrics.contains("jnsq_topic_retention_seconds{topic=\"s1\"} 86400.0"), metrics);
  }

  @Test
  void aMessageRequeuedForeverEndsInTheDeadLetterTopicAndIsMovedBack() throws Exception {
    assertEquals(200, post(node, "/channel/settings?topic=d1&channel=c", "{\"max_attempts\":2,\"dead_letter_topic\":\"d1.dead\"}").statusCode());
    try (NsqTestClient c = subscribe("d1", "c", 1)) {
      assertEquals(200, post(node, "/pub?topic=d1", "bad order").statusCode());
      for (int i = 1; i <= 2; i++) {
        NsqTestClient.Frame m = c.read();
        assertEquals(i, m.attempts());
        c.line("REQ " + m.id() + " 0");
      }
      assertTrue(c.quietFor(300), "no third delivery");
      assertEquals(1, channelStats("d1", "c").path("dead_lettered_count").asInt());
      JsonNode letters = json(get(node, "/topic/dead-letters?topic=d1.dead"));
      assertEquals(1, letters.path("letters").size(), letters.toString());
      JsonNode l = letters.path("letters").path(0);
      assertEquals("bad order", l.path("body").asText());
      assertEquals("d1", l.path("origin_topic").asText());
      assertEquals("c", l.path("origin_channel").asText());
      assertEquals(2, l.path("attempts").asInt());
      assertEquals("max_attempts", l.path("reason").asText());
      assertFalse(l.path("requeued").asBoolean());
      HttpResponse<String> back = post(node, "/topic/dead-letters/requeue?topic=d1.dead&seq=" + l.path("seq").asLong(), "");
      assertEquals("{\"requeued\":1,\"skipped\":0}", back.body());
      NsqTestClient.Frame again = c.read();
      assertEquals("bad order", again.body());
      assertEquals(1, again.attempts());
      c.line("FIN " + again.id());
      assertTrue(json(get(node, "/topic/dead-letters?topic=d1.dead")).path("letters").path(0).path("requeued").asBoolean());
      assertEquals(400, post(node, "/topic/dead-letters/requeue?topic=d1.dead", "").statusCode());
      assertEquals(404, post(node, "/topic/dead-letters/requeue?topic=nope&all=true", "").statusCode());
    }
  }

  @Test
  void aFullTopicRefusesOverHttpAndTcpWithAReason() throws Exception {
    assertEquals(200, post(node, "/topic/settings?topic=full1", "{\"max_messages\":2}").statusCode());
    assertEquals(200, post(node, "/pub?topic=full1", "1").statusCode());
    assertEquals(200, post(node, "/pub?topic=full1", "2").statusCode());
    HttpResponse<String> refused = post(node, "/pub?topic=full1", "3");
    assertEquals(503, refused.statusCode());
    assertEquals("{\"message\":\"TOPIC_FULL\"}", refused.body());
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      c.withBody("PUB full1", "3".getBytes());
      NsqTestClient.Frame f = c.read();
      assertEquals(1, f.type());
      assertEquals("E_PUB_FAILED PUB failed topic full1 is full (max_messages 2)", f.text());
    }
  }

  @Test
  void rewindRedeliversWhatWasPublishedSinceTheTimeAndCreateFromReadsHistory() throws Exception {
    assertEquals(200, post(node, "/topic/settings?topic=rw", "{\"retention\":\"1h\"}").statusCode());
    try (NsqTestClient c = subscribe("rw", "c", 10)) {
      assertEquals(200, post(node, "/pub?topic=rw", "before").statusCode());
      NsqTestClient.Frame first = c.read();
      c.line("FIN " + first.id());
      Thread.sleep(20);   // a millisecond boundary between the two publishes on the real clock
      long since = System.currentTimeMillis();
      Thread.sleep(5);
      assertEquals(200, post(node, "/mpub?topic=rw", "after1\nafter2").statusCode());
      for (int i = 0; i < 2; i++) c.line("FIN " + c.read().id());
      HttpResponse<String> r = post(node, "/channel/rewind?topic=rw&channel=c&to=" + since, "");
      assertEquals(200, r.statusCode(), r.body());
      List<String> again = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        NsqTestClient.Frame f = c.read();
        again.add(f.body());
        c.line("FIN " + f.id());
      }
      assertEquals(List.of("after1", "after2"), again);
      assertTrue(c.quietFor(300), "nothing before the time");
      String rfc3339 = java.time.Instant.ofEpochMilli(since).toString();
      assertEquals(200, post(node, "/channel/rewind?topic=rw&channel=c&to=" + rfc3339, "").statusCode());
      assertEquals(2, channelStats("rw", "c").path("depth").asInt() + channelStats("rw", "c").path("in_flight_count").asInt());
    }
    assertEquals(400, post(node, "/channel/rewind?topic=rw&channel=c&to=yesterday", "").statusCode());
    assertEquals(404, post(node, "/channel/rewind?topic=rw&channel=nope&to=earliest", "").statusCode());
    // Retention kept everything the channel finished, so a new channel can read it from the start.
    assertEquals(200, post(node, "/channel/create?topic=rw&channel=history&from=earliest", "").statusCode());
    assertEquals(3, channelStats("rw", "history").path("depth").asInt());
  }

  @Test
  void anExpiredMessageIsNeverDelivered() throws Exception {
    assertEquals(200, post(node, "/channel/settings?topic=ttl1&channel=c", "{\"message_ttl\":\"300ms\"}").statusCode());
    assertEquals(200, post(node, "/pub?topic=ttl1", "stale").statusCode());
    Thread.sleep(400);   // the node's real clock: the message is older than its TTL now
    assertEquals(200, post(node, "/pub?topic=ttl1", "fresh").statusCode());
    try (NsqTestClient c = subscribe("ttl1", "c", 10)) {
      assertEquals("fresh", c.read().body());
      assertTrue(c.quietFor(300));
    }
    assertEquals(1, channelStats("ttl1", "c").path("expired_count").asInt());
  }
}
