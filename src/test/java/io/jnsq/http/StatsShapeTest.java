package io.jnsq.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.app.Node;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our {@code /info} and {@code /stats?format=json} against responses captured from a real nsqd 1.3.0
 * (src/test/resources/samples): the same keys in the same order with the same JSON types, all the way down.
 */
class StatsShapeTest {
  private static Node node;

  @BeforeAll static void start() { node = HttpTestSupport.startNode(Map.of()); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static JsonNode sample(String name) throws Exception {
    try (InputStream in = StatsShapeTest.class.getResourceAsStream("/samples/" + name)) {
      return HttpTestSupport.JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** Same keys, order and types; arrays compared by their first elements when both have one. */
  static void assertSameShape(String where, JsonNode expected, JsonNode actual) {
    if (expected.getNodeType() != actual.getNodeType() && !(expected.isNumber() && actual.isNumber())) {
      fail(where + ": expected " + expected.getNodeType() + " but was " + actual.getNodeType() + " (" + actual + ")");
    }
    if (expected.isObject()) {
      List<String> ek = new ArrayList<>();
      List<String> ak = new ArrayList<>();
      expected.fieldNames().forEachRemaining(ek::add);
      actual.fieldNames().forEachRemaining(ak::add);
      assertEquals(ek, ak, where + ": keys");
      for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        assertSameShape(where + "." + k, expected.get(k), actual.get(k));
      }
    } else if (expected.isArray() && expected.size() > 0 && actual.size() > 0) {
      assertSameShape(where + "[0]", expected.get(0), actual.get(0));
    }
  }

  @Test
  void infoHasNsqdsShape() throws Exception {
    assertSameShape("info", sample("02-nsqd-info.json"), HttpTestSupport.json(HttpTestSupport.get(node, "/info")));
  }

  @Test
  void statsWithAConsumerHasNsqdsShape() throws Exception {
    HttpTestSupport.post(node, "/topic/create?topic=sample_topic", null);
    HttpTestSupport.post(node, "/channel/create?topic=sample_topic&channel=sample_channel", null);
    HttpTestSupport.post(node, "/pub?topic=sample_topic", "hello");
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", node.tcpAddress().getPort())) {
      s.getOutputStream().write("  V2SUB sample_topic tail_channel\nRDY 1\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      byte[] ok = s.getInputStream().readNBytes(10);
      assertEquals("OK", new String(ok, 8, 2, StandardCharsets.US_ASCII));
      JsonNode ours = HttpTestSupport.json(HttpTestSupport.get(node, "/stats?format=json&topic=sample_topic"));
      assertSameShape("stats", sample("22-nsqd-stats-json-with-client.json"), ours);
      JsonNode noClients = HttpTestSupport.json(HttpTestSupport.get(node, "/stats?format=json&include_clients=false&include_mem=false"));
      assertSameShape("stats", sample("21-nsqd-stats-json-include-clients-false.json"), noClients);
    }
  }
}
