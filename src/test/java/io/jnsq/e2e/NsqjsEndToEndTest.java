package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.app.Node;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An unmodified third-party client, nsqjs 0.13.0 from npm, publishing and consuming through a node:
 * fan-out to channels, sharing within a channel, msg-timeout redelivery and deferred publishing.
 */
class NsqjsEndToEndTest {
  private static final Duration LIMIT = Duration.ofSeconds(90);
  private static Node node;
  private static String port;

  @BeforeAll
  static void start() throws Exception {
    NsqjsClient.ensureInstalled();
    node = Node.start(Node.loadConfig(null, Map.of("jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath(), "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0",
        "jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0",
        "jnsq.msg-timeout", "1s", "pekko.loglevel", "WARNING"))).toCompletableFuture().join();
    port = String.valueOf(node.tcpAddress().getPort());
  }

  @AfterAll
  static void stop() { node.stop().toCompletableFuture().join(); }

  private static NsqjsClient.Run consumer(String topic, String channel, String... extra) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("--port", port, "--topic", topic, "--channel", channel, "--timeout", "80"));
    args.addAll(List.of(extra));
    return NsqjsClient.start("consume.js", args.toArray(String[]::new));
  }

  @Test
  void tenThousandMessagesReachBothChannelsThroughThreeConsumersEach() throws Exception {
    String topic = "e2e_fanout";
    NsqjsClient.Run a = consumer(topic, "a", "--readers", "3", "--expect", "10000", "--max-in-flight", "300");
    NsqjsClient.Run b = consumer(topic, "b", "--readers", "3", "--expect", "10000", "--max-in-flight", "300");
    for (NsqjsClient.Run c : List.of(a, b)) {
      long deadline = System.nanoTime() + LIMIT.toNanos();
      while (c.events("connected").size() < 3 && System.nanoTime() < deadline) Thread.sleep(20);
      assertEquals(3, c.events("connected").size(), "three connections per channel; stderr: " + c.stderr());
    }
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", port, "--topic", topic, "--count", "10000", "--batch", "100");
    assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
    assertEquals(10000, pub.events("published").get(0).path("published").asInt());

    for (NsqjsClient.Run c : List.of(a, b)) {
      assertEquals(0, c.await(LIMIT), "consumer: " + c.stderr());
      Set<String> bodies = new HashSet<>();
      Map<Integer, Integer> perReader = new HashMap<>();
      for (JsonNode m : c.events("message")) {
        bodies.add(m.path("body").asText());
        perReader.merge(m.path("reader").asInt(), 1, Integer::sum);
      }
      Set<String> expected = new HashSet<>();
      for (int i = 0; i < 10000; i++) expected.add("msg-" + i);
      assertEquals(expected, bodies, "every message on every channel");
      assertEquals(3, perReader.size(), "all three consumers of the channel got messages: " + perReader);
    }
  }

  @Test
  void messagesAConsumerNeverFinishesGoToAnotherAfterMsgTimeout() throws Exception {
    String topic = "e2e_timeout";
    NsqjsClient.Run holder = consumer(topic, "ch", "--no-fin", "--take", "5", "--max-in-flight", "5");
    holder.awaitEvent("connected", LIMIT);
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", port, "--topic", topic, "--count", "20", "--batch", "4");
    assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
    holder.awaitEvent("paused", LIMIT);
    Set<String> held = new HashSet<>();
    for (JsonNode m : holder.events("message")) held.add(m.path("body").asText());
    assertEquals(5, held.size());

    NsqjsClient.Run finisher = consumer(topic, "ch", "--expect", "20", "--max-in-flight", "10");
    assertEquals(0, finisher.await(LIMIT), "finisher: " + finisher.stderr());
    holder.kill();
    Set<String> all = new HashSet<>();
    for (JsonNode m : finisher.events("message")) {
      String body = m.path("body").asText();
      all.add(body);
      if (held.contains(body)) {
        assertTrue(m.path("attempts").asInt() >= 2, "a timed-out message comes back with another attempt: " + m);
      }
    }
    assertTrue(all.containsAll(held), "the held messages were redelivered to the other consumer");
    assertEquals(20, all.size());
  }

  @Test
  void deferredPublishesArriveAfterTheirDelay() throws Exception {
    String topic = "e2e_defer";
    NsqjsClient.Run c = consumer(topic, "ch", "--expect", "3");
    c.awaitEvent("connected", LIMIT);
    long sent = System.nanoTime();
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", port, "--topic", topic, "--count", "0",
        "--deferred", "3", "--defer-ms", "700");
    assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
    assertEquals(0, c.await(LIMIT), "consumer: " + c.stderr());
    assertTrue(System.nanoTime() - sent >= 600_000_000L, "not delivered before the delay");
    Set<String> bodies = new HashSet<>();
    for (JsonNode m : c.events("message")) bodies.add(m.path("body").asText());
    assertEquals(Set.of("msg-deferred-0", "msg-deferred-1", "msg-deferred-2"), bodies);
  }

  /** The Quickstart's consume example: what it reports is FINished before it closes, and it sums up once. */
  @Test
  void theQuickstartConsumerFinishesEverythingItReportsAndSumsUpOnce() throws Exception {
    String topic = "e2e_quickstart";
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", port, "--topic", topic, "--count", "10");
    assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
    NsqjsClient.Run c = consumer(topic, "ch", "--expect", "10");
    assertEquals(0, c.await(LIMIT), "consumer: " + c.stderr());
    assertEquals(1, c.events("summary").size(), "one summary line");
    assertEquals(10, c.events("message").size());
    for (JsonNode m : c.events("message")) assertEquals(1, m.path("attempts").asInt(), "first delivery: " + m);
    // Had a FIN been lost, closing would have requeued that message: depth or in-flight would show it.
    java.net.http.HttpResponse<String> stats = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.httpAddress().getPort()
            + "/stats?format=json&topic=" + topic + "&channel=ch")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    JsonNode channel = new com.fasterxml.jackson.databind.ObjectMapper().readTree(stats.body())
        .path("topics").path(0).path("channels").path(0);
    assertEquals("ch", channel.path("channel_name").asText(), stats.body());
    assertEquals(0, channel.path("depth").asInt(), stats.body());
    assertEquals(0, channel.path("in_flight_count").asInt(), stats.body());
    assertEquals(10, channel.path("message_count").asInt(), stats.body());
  }
}
