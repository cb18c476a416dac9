package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dead letters, TTL, rewind and bounded topics as an unmodified nsqjs 0.13.0 consumer and producer see
 * them: nothing in the client knows of any of it.
 */
class NsqjsPolicyTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Node node;
  private static String port;

  @BeforeAll
  static void start() throws Exception {
    NsqjsClient.ensureInstalled();
    node = Node.start(Node.loadConfig(null, Map.of("jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath(),
        "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0",
        "jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0", "pekko.loglevel", "WARNING")))
        .toCompletableFuture().join();
    port = String.valueOf(node.tcpAddress().getPort());
  }

  @AfterAll
  static void stop() { node.stop().toCompletableFuture().join(); }

  private static HttpResponse<String> http(String method, String pathAndQuery, String body) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + pathAndQuery))
        .method(method, HttpRequest.BodyPublishers.ofString(body == null ? "" : body)).build();
    return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode channelStats(String topic, String channel) throws Exception {
    JsonNode s = JSON.readTree(http("GET", "/stats?format=json&topic=" + topic + "&channel=" + channel, null).body());
    return s.path("topics").path(0).path("channels").path(0);
  }

  private static NsqjsClient.Run publish(String topic, String prefix, int count) throws Exception {
    return NsqjsClient.start("publish.js", "--port", port, "--topic", topic, "--prefix", prefix, "--count", String.valueOf(count),
        "--batch", "3", "--timeout", "30");
  }

  private static NsqjsClient.Run consume(String topic, String channel, int expect) throws Exception {
    return NsqjsClient.start("consume.js", "--port", port, "--topic", topic, "--channel", channel, "--expect",
        String.valueOf(expect), "--timeout", "30");
  }

  private static Set<String> bodies(NsqjsClient.Run r) {
    Set<String> out = new HashSet<>();
    for (JsonNode m : r.events("message")) out.add(m.path("body").asText());
    return out;
  }

  @Test
  void aMessageRequeuedForeverEndsInTheDeadLetterTopicAfterMaxAttempts() throws Exception {
    assertEquals(200, http("POST", "/channel/settings?topic=js_dlq&channel=work",
        "{\"max_attempts\":4,\"dead_letter_topic\":\"js_dlq.dead\"}").statusCode());
    NsqjsClient.Run requeuer = NsqjsClient.start("requeue.js", "--port", port, "--topic", "js_dlq", "--channel", "work", "--for", "4");
    requeuer.awaitEvent("connected", LIMIT);
    NsqjsClient.Run pub = publish("js_dlq", "poison", 1);
    assertEquals(0, pub.await(LIMIT), pub.stderr());
    assertEquals(0, requeuer.await(LIMIT), requeuer.stderr());
    List<Integer> attempts = new ArrayList<>();
    for (JsonNode m : requeuer.events("message")) attempts.add(m.path("attempts").asInt());
    assertEquals(List.of(1, 2, 3, 4), attempts, "four deliveries, then no more");
    assertEquals(1, channelStats("js_dlq", "work").path("dead_lettered_count").asInt());

    NsqjsClient.Run dead = consume("js_dlq.dead", "inspect", 1);
    assertEquals(0, dead.await(LIMIT), dead.stderr());
    JsonNode letter = dead.events("message").get(0);
    assertEquals("poison-0", letter.path("body").asText(), "the dead-letter topic delivers the original body");
    assertEquals(1, letter.path("attempts").asInt());
    JsonNode shown = JSON.readTree(http("GET", "/topic/dead-letters?topic=js_dlq.dead", null).body()).path("letters").path(0);
    assertEquals(4, shown.path("attempts").asInt());
    assertEquals("work", shown.path("origin_channel").asText());
  }

  @Test
  void anExpiredMessageIsNeverDelivered() throws Exception {
    assertEquals(200, http("POST", "/channel/settings?topic=js_ttl&channel=c", "{\"message_ttl\":\"500ms\"}").statusCode());
    assertEquals(0, publish("js_ttl", "stale", 3).await(LIMIT));
    Thread.sleep(700);   // real time on a real node: the three are older than their TTL now
    assertEquals(0, publish("js_ttl", "fresh", 2).await(LIMIT));
    NsqjsClient.Run c = consume("js_ttl", "c", 2);
    assertEquals(0, c.await(LIMIT), c.stderr());
    assertEquals(Set.of("fresh-0", "fresh-1"), bodies(c));
    assertEquals(2, c.events("message").size(), "nothing stale came, not even once");
    assertEquals(3, channelStats("js_ttl", "c").path("expired_count").asInt());
  }

  @Test
  void aRewoundChannelRedeliversExactlyWhatWasPublishedSinceTheTime() throws Exception {
    // Retention keeps what the channel finished, so there is something to go back to.
    assertEquals(200, http("POST", "/topic/settings?topic=js_rewind", "{\"retention\":\"1h\"}").statusCode());
    assertEquals(200, http("POST", "/channel/create?topic=js_rewind&channel=c", null).statusCode());
    assertEquals(0, publish("js_rewind", "old", 10).await(LIMIT));
    NsqjsClient.Run first = consume("js_rewind", "c", 10);
    assertEquals(0, first.await(LIMIT), first.stderr());
    Thread.sleep(20);
    long since = System.currentTimeMillis();
    Thread.sleep(5);
    assertEquals(0, publish("js_rewind", "new", 7).await(LIMIT));
    NsqjsClient.Run second = consume("js_rewind", "c", 7);
    assertEquals(0, second.await(LIMIT), second.stderr());
    assertEquals(0, channelStats("js_rewind", "c").path("depth").asInt());

    assertEquals(200, http("POST", "/channel/rewind?topic=js_rewind&channel=c&to=" + since, null).statusCode());
    NsqjsClient.Run again = consume("js_rewind", "c", 7);
    assertEquals(0, again.await(LIMIT), again.stderr());
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < 7; i++) expected.add("new-" + i);
    assertEquals(expected, bodies(again));
    assertEquals(7, again.events("message").size(), "exactly those, each once");
  }

  @Test
  void aFullTopicRefusesTheProducerOrDropsTheOldestAsConfigured() throws Exception {
    assertEquals(200, http("POST", "/topic/settings?topic=js_full", "{\"max_messages\":5,\"when_full\":\"refuse\"}").statusCode());
    assertEquals(0, publish("js_full", "a", 5).await(LIMIT));
    NsqjsClient.Run refused = publish("js_full", "b", 1);
    assertNotEquals(0, refused.await(LIMIT));
    assertTrue(refused.stderr().contains("E_PUB_FAILED"), refused.stderr());

    assertEquals(200, http("POST", "/topic/settings?topic=js_drop", "{\"max_messages\":5,\"when_full\":\"drop-oldest\"}").statusCode());
    assertEquals(200, http("POST", "/channel/create?topic=js_drop&channel=c", null).statusCode());
    for (int i = 0; i < 8; i++) assertEquals(0, publish("js_drop", "m" + i, 1).await(LIMIT));
    JsonNode topic = JSON.readTree(http("GET", "/stats?format=json&topic=js_drop", null).body()).path("topics").path(0);
    assertEquals(3, topic.path("dropped_count").asInt(), topic.toString());
    NsqjsClient.Run c = consume("js_drop", "c", 5);
    assertEquals(0, c.await(LIMIT), c.stderr());
    assertEquals(Set.of("m3-0", "m4-0", "m5-0", "m6-0", "m7-0"), bodies(c));
  }
}
