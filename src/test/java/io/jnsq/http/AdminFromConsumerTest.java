package io.jnsq.http;

import static io.jnsq.http.HttpTestSupport.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.tcp.NsqTestClient;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pause, unpause, empty and delete over HTTP, as a subscribed TCP consumer experiences them. */
class AdminFromConsumerTest {
  private static Node node;

  @BeforeAll static void start() { node = HttpTestSupport.startNode(Map.of()); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static NsqTestClient subscribe(String topic, String channel) throws Exception {
    NsqTestClient c = NsqTestClient.connect(node.tcpAddress());
    c.line("SUB " + topic + " " + channel).line("RDY 10");
    assertEquals("[0] OK", c.read().toString());
    return c;
  }

  @Test
  void aPausedChannelStopsDeliveringUntilUnpaused() throws Exception {
    try (NsqTestClient c = subscribe("adm_pause", "c")) {
      assertEquals(200, post(node, "/pub?topic=adm_pause", "before").statusCode());
      assertEquals("before", c.read().body());
      assertEquals(200, post(node, "/channel/pause?topic=adm_pause&channel=c", null).statusCode());
      assertEquals(200, post(node, "/pub?topic=adm_pause", "while paused").statusCode());
      assertTrue(c.quietFor(300), "nothing while paused");
      assertEquals(200, post(node, "/channel/unpause?topic=adm_pause&channel=c", null).statusCode());
      assertEquals("while paused", c.read().body());
    }
  }

  @Test
  void aPausedTopicHoldsMessagesAndReleasesThemOnUnpause() throws Exception {
    try (NsqTestClient c = subscribe("adm_tpause", "c")) {
      assertEquals(200, post(node, "/topic/pause?topic=adm_tpause", null).statusCode());
      assertEquals(200, post(node, "/pub?topic=adm_tpause", "held").statusCode());
      assertTrue(c.quietFor(300));
      assertEquals(200, post(node, "/topic/unpause?topic=adm_tpause", null).statusCode());
      assertEquals("held", c.read().body());
    }
  }

  @Test
  void emptyingAChannelDropsWhatWasQueued() throws Exception {
    post(node, "/topic/create?topic=adm_empty", null);
    post(node, "/channel/create?topic=adm_empty&channel=c", null);
    post(node, "/mpub?topic=adm_empty", "a\nb\nc");
    assertEquals(200, post(node, "/channel/empty?topic=adm_empty&channel=c", null).statusCode());
    try (NsqTestClient c = subscribe("adm_empty", "c")) {
      assertTrue(c.quietFor(300), "the emptied messages are gone");
      post(node, "/pub?topic=adm_empty", "after");
      assertEquals("after", c.read().body());
    }
  }

  @Test
  void deletingAChannelClosesItsConsumers() throws Exception {
    try (NsqTestClient c = subscribe("adm_delete", "c")) {
      assertEquals(200, post(node, "/channel/delete?topic=adm_delete&channel=c", null).statusCode());
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void deletingATopicClosesTheConsumersOfAllItsChannels() throws Exception {
    try (NsqTestClient a = subscribe("adm_tdelete", "a"); NsqTestClient b = subscribe("adm_tdelete", "b")) {
      assertEquals(200, post(node, "/topic/delete?topic=adm_tdelete", null).statusCode());
      assertTrue(a.closedByServer());
      assertTrue(b.closedByServer());
    }
  }

  @Test
  void producersShowUpInStatsWithTheirPublishCounts() throws Exception {
    try (NsqTestClient p = NsqTestClient.connect(node.tcpAddress())) {
      p.withBody("MPUB adm_prod", NsqTestClient.mpubBody("x", "y"));
      assertEquals("[0] OK", p.read().toString());
      var stats = HttpTestSupport.json(HttpTestSupport.get(node, "/stats?format=json&topic=adm_prod"));
      var producer = stats.path("producers").path(0);
      assertEquals("adm_prod", producer.path("pub_counts").path(0).path("topic").asText());
      assertEquals(2, producer.path("pub_counts").path(0).path("count").asInt());
    }
  }
}
