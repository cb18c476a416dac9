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
import io.jnsq.tcp.TestNodes;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics}: read back by a third-party Prometheus parser, every figure equal to what
 * {@code /stats?format=json} reports, with Prometheus' names, types and labels, and the JVM's metrics.
 */
class MetricsTest {
  private static Node node;

  @BeforeAll static void start() { node = TestNodes.start(Map.of("e2e-processing-latency-percentile", List.of(0.99, 0.5))); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static HttpResponse<byte[]> scrape(Node n) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.httpAddress().getPort() + "/metrics")).build();
    return HttpTestSupport.HTTP.send(r, HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The value of the one sample of {@code name} with exactly these labels. */
  private static double value(Map<String, JsonNode> families, String name, String... labels) {
    JsonNode family = families.get(name);
    assertTrue(family != null, "no family " + name);
    for (JsonNode m : family.path("metrics")) {
      Map<String, String> have = new java.util.HashMap<>();
      m.path("labels").properties().forEach(e -> have.put(e.getKey(), e.getValue().asText()));
      Map<String, String> want = new java.util.HashMap<>();
      for (int i = 0; i < labels.length; i += 2) want.put(labels[i], labels[i + 1]);
      if (have.equals(want)) return Double.parseDouble(m.path("value").asText());
    }
    throw new AssertionError("no sample of " + name + " with labels " + List.of(labels) + " in " + family);
  }

  private static Set<String> labelNames(JsonNode family) {
    Set<String> names = new TreeSet<>();
    for (JsonNode m : family.path("metrics")) m.path("labels").fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** alpha: c1 with a consumer (1 finished, 1 deferred by REQ, 2 in flight, 1 queued), c2 paused; beta paused; gamma without channels. */
  private static NsqTestClient setUpTopics() throws Exception {
    post(node, "/topic/create?topic=alpha", null);
    post(node, "/channel/create?topic=alpha&channel=c1", null);
    post(node, "/channel/create?topic=alpha&channel=c2", null);
    post(node, "/channel/pause?topic=alpha&channel=c2", null);
    assertEquals(200, post(node, "/mpub?topic=alpha", "a\nb\nc\nd\ne").statusCode());
    post(node, "/topic/create?topic=beta", null);
    post(node, "/channel/create?topic=beta&channel=c1", null);
    post(node, "/topic/pause?topic=beta", null);
    post(node, "/pub?topic=beta", "x");
    post(node, "/pub?topic=beta", "yy");
    post(node, "/pub?topic=gamma", "z");

    NsqTestClient consumer = NsqTestClient.connect(node.tcpAddress());
    consumer.line("SUB alpha c1");
    assertEquals("OK", consumer.read().text());
    consumer.line("RDY 2");
    NsqTestClient.Frame first = consumer.read();
    NsqTestClient.Frame second = consumer.read();
    consumer.line("FIN " + first.id());
    consumer.line("REQ " + second.id() + " 60000");
    assertEquals(2, consumer.read().type());   // the two freed slots are filled again
    assertEquals(2, consumer.read().type());
    return consumer;
  }

  @Test
  void metricsParseAsPrometheusTextAndAgreeWithStats() throws Exception {
    NsqTestClient consumer = setUpTopics();   // stays connected: its in-flight messages are part of the figures
    try {
      HttpResponse<byte[]> r = scrape(node);
      JsonNode stats = json(get(node, "/stats?format=json"));
      assertEquals(200, r.statusCode());
      assertEquals(Optional.of("text/plain; version=0.0.4; charset=utf-8"), r.headers().firstValue("Content-Type"));
      Map<String, JsonNode> f = PrometheusTextParser.families(r.body());

      assertEquals(1.0, value(f, "jnsq_healthy"));
      assertEquals("OK", stats.path("health").asText());
      assertEquals(1.0, value(f, "jnsq_clients"));
      assertEquals(stats.path("topics").size(), (int) value(f, "jnsq_topics"));
      assertEquals(3, stats.path("topics").size());

      for (JsonNode t : stats.path("topics")) {
        String topic = t.path("topic_name").asText();
        assertEquals(t.path("depth").asDouble(), value(f, "jnsq_topic_depth", "topic", topic), topic);
        assertEquals(t.path("backend_depth").asDouble(), value(f, "jnsq_topic_backend_depth", "topic", topic));
        assertEquals(t.path("message_count").asDouble(), value(f, "jnsq_topic_messages_total", "topic", topic));
        assertEquals(t.path("message_bytes").asDouble(), value(f, "jnsq_topic_message_bytes_total", "topic", topic));
        assertEquals(t.path("paused").asBoolean() ? 1.0 : 0.0, value(f, "jnsq_topic_paused", "topic", topic));
        assertEquals(t.path("channels").size(), (int) value(f, "jnsq_topic_channels", "topic", topic));
        assertEquals(0.0, value(f, "jnsq_topic_corrupt_records_total", "topic", topic));
        assertLatency(f, "jnsq_topic_e2e_processing_latency", t.path("e2e_processing_latency"), "topic", topic);
        for (JsonNode c : t.path("channels")) {
          String[] l = {"topic", topic, "channel", c.path("channel_name").asText()};
          assertEquals(c.path("depth").asDouble(), value(f, "jnsq_channel_depth", l));
          assertEquals(c.path("backend_depth").asDouble(), value(f, "jnsq_channel_backend_depth", l));
          assertEquals(c.path("in_flight_count").asDouble(), value(f, "jnsq_channel_in_flight", l));
          assertEquals(c.path("deferred_count").asDouble(), value(f, "jnsq_channel_deferred", l));
          assertEquals(c.path("message_count").asDouble(), value(f, "jnsq_channel_messages_total", l));
          assertEquals(c.path("requeue_count").asDouble(), value(f, "jnsq_channel_requeued_total", l));
          assertEquals(c.path("timeout_count").asDouble(), value(f, "jnsq_channel_timed_out_total", l));
          assertEquals(c.path("client_count").asDouble(), value(f, "jnsq_channel_clients", l));
          assertEquals(c.path("paused").asBoolean() ? 1.0 : 0.0, value(f, "jnsq_channel_paused", l));
          assertEquals(0.0, value(f, "jnsq_channel_corrupt_records_total", l));
          assertLatency(f, "jnsq_channel_e2e_processing_latency", c.path("e2e_processing_latency"), l);
        }
      }

      // The scenario itself, so that the comparison above is not between two empty lists.
      assertEquals(2.0, value(f, "jnsq_channel_in_flight", "topic", "alpha", "channel", "c1"));
      assertEquals(1.0, value(f, "jnsq_channel_deferred", "topic", "alpha", "channel", "c1"));
      assertEquals(1.0, value(f, "jnsq_channel_depth", "topic", "alpha", "channel", "c1"));
      assertEquals(1.0, value(f, "jnsq_channel_requeued_total", "topic", "alpha", "channel", "c1"));
      assertEquals(1.0, value(f, "jnsq_channel_clients", "topic", "alpha", "channel", "c1"));
      assertEquals(1.0, value(f, "jnsq_channel_e2e_processing_latency_samples", "topic", "alpha", "channel", "c1"));
      assertEquals(5.0, value(f, "jnsq_channel_depth", "topic", "alpha", "channel", "c2"));
      assertEquals(1.0, value(f, "jnsq_channel_paused", "topic", "alpha", "channel", "c2"));
      assertEquals(5.0, value(f, "jnsq_topic_messages_total", "topic", "alpha"));
      assertEquals(3.0, value(f, "jnsq_topic_message_bytes_total", "topic", "beta"));
      assertEquals(1.0, value(f, "jnsq_topic_paused", "topic", "beta"));
      assertEquals(1.0, value(f, "jnsq_topic_depth", "topic", "gamma"));
      assertEquals(0.0, value(f, "jnsq_topic_channels", "topic", "gamma"));

      assertNamesTypesAndLabels(f);
      assertJvmMetrics(f);
    } finally {
      consumer.close();
    }
  }

  private static void assertLatency(Map<String, JsonNode> f, String name, JsonNode latency, String... labels) {
    assertEquals(latency.path("count").asDouble(), value(f, name + "_samples", labels));
    List<String> withQuantile = new ArrayList<>(List.of(labels));
    withQuantile.add("quantile");
    withQuantile.add("");
    for (JsonNode q : latency.path("percentiles")) {
      withQuantile.set(withQuantile.size() - 1, Double.toString(q.path("quantile").asDouble()));
      assertEquals(q.path("value").asDouble() / 1e9, value(f, name + "_seconds", withQuantile.toArray(String[]::new)), 1e-12);
    }
    assertEquals(2, latency.path("percentiles").size());
  }

  private static void assertNamesTypesAndLabels(Map<String, JsonNode> f) {
    Set<String> counters = Set.of("jnsq_topic_messages_total", "jnsq_topic_message_bytes_total", "jnsq_topic_corrupt_records_total",
        "jnsq_channel_messages_total", "jnsq_channel_requeued_total", "jnsq_channel_timed_out_total",
        "jnsq_channel_corrupt_records_total");
    Set<String> gauges = Set.of("jnsq_healthy", "jnsq_clients", "jnsq_topics", "jnsq_topic_depth", "jnsq_topic_backend_depth",
        "jnsq_topic_paused", "jnsq_topic_channels", "jnsq_topic_e2e_processing_latency_seconds",
        "jnsq_topic_e2e_processing_latency_samples", "jnsq_channel_depth", "jnsq_channel_backend_depth", "jnsq_channel_in_flight",
        "jnsq_channel_deferred", "jnsq_channel_clients", "jnsq_channel_paused", "jnsq_channel_e2e_processing_latency_seconds",
        "jnsq_channel_e2e_processing_latency_samples");
    Set<String> ours = new TreeSet<>();
    for (String name : f.keySet()) if (name.startsWith("jnsq_")) ours.add(name);
    Set<String> expected = new TreeSet<>(counters);
    expected.addAll(gauges);
    assertEquals(expected, ours);
    for (String name : ours) {
      JsonNode family = f.get(name);
      assertEquals(counters.contains(name) ? "COUNTER" : "GAUGE", family.path("type").asText(), name);
      assertFalse(family.path("help").asText().isBlank(), name + " has no help");
      Set<String> want = name.startsWith("jnsq_channel_") ? new TreeSet<>(Set.of("topic", "channel"))
          : name.startsWith("jnsq_topic_") ? new TreeSet<>(Set.of("topic")) : new TreeSet<>();
      if (name.endsWith("_latency_seconds")) want.add("quantile");
      assertEquals(want, labelNames(family), name);
    }
  }

  private static void assertJvmMetrics(Map<String, JsonNode> f) {
    assertEquals("GAUGE", f.get("jvm_memory_used_bytes").path("type").asText());
    assertTrue(labelNames(f.get("jvm_memory_used_bytes")).contains("area"));
    assertTrue(value(f, "jvm_memory_used_bytes", "area", "heap") > 0);
    assertEquals("GAUGE", f.get("jvm_threads_current").path("type").asText());
    assertEquals("SUMMARY", f.get("jvm_gc_collection_seconds").path("type").asText());
    assertEquals("GAUGE", f.get("jvm_runtime_info").path("type").asText());
    assertEquals("COUNTER", f.get("process_cpu_seconds_total").path("type").asText());
    assertTrue(value(f, "process_start_time_seconds") > 0);
    for (Iterator<String> it = f.keySet().iterator(); it.hasNext(); ) {
      String name = it.next();
      assertTrue(name.startsWith("jnsq_") || name.startsWith("jvm_") || name.startsWith("process_"), name);
      if (f.get(name).path("type").asText().equals("COUNTER")) assertTrue(name.endsWith("_total"), name);
    }
  }

  @Test
  void metricsIsOpenUnderAuthLikeStatsAndOnlyAnswersGet() throws Exception {
    // An auth server that is never there: /metrics must not need it, while /pub asks for a secret first.
    Node secured = TestNodes.start(Map.of("auth-http-address", List.of("127.0.0.1:1")));
    try {
      HttpResponse<byte[]> r = scrape(secured);
      assertEquals(200, r.statusCode());
      String text = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(text.contains("\njnsq_healthy 1.0\n"), text);
      assertFalse(text.contains("e2e_processing_latency"), "no latency metrics without --e2e-processing-latency-percentile");
      assertEquals(401, post(secured, "/pub?topic=t", "x").statusCode());
      HttpResponse<String> wrongMethod = post(secured, "/metrics", "");
      assertEquals(405, wrongMethod.statusCode());
      assertEquals(Optional.of("GET, OPTIONS"), wrongMethod.headers().firstValue("Allow"));
    } finally {
      secured.stop().toCompletableFuture().join();
    }
  }
}
