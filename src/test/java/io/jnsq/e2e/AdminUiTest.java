package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import io.jnsq.tcp.NsqTestClient;
import io.jnsq.tcp.TestNodes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin UI in a real browser (Debian's Chromium driven by playwright-core) against a live two-node
 * cluster: the figures it shows for a topic and a channel are the sums of both nodes' /stats, peek
 * shows the queued messages, and pausing the channel through the page (confirming the dialog) stops
 * delivery on both nodes. A screenshot of the channel page is saved as target/admin-ui.png.
 */
class AdminUiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Node a;
  private static Node b;

  /** The browser ui.js starts: $CHROMIUM, else Debian's /usr/bin/chromium (the path ui.js also uses). */
  static String chromium() {
    String env = System.getenv("CHROMIUM");
    String path = env == null || env.isBlank() ? "/usr/bin/chromium" : env;
    if (!java.nio.file.Files.isExecutable(java.nio.file.Path.of(path))) {
      throw new IllegalStateException("AdminUiTest needs Chromium at " + path + " and found none: install Debian's"
          + " package (sudo apt-get install chromium, as .ci/run does), or set CHROMIUM to a Chromium or Chrome"
          + " executable (playwright-core downloads no browser)");
    }
    return path;
  }

  @BeforeAll
  static void cluster() throws Exception {
    chromium();
    NsqjsClient.ensureInstalled("admin", "playwright-core");
    a = TestNodes.start(Map.of("broadcast-address", "127.0.0.1"));
    var seed = a.cluster().clusterAddress();
    b = TestNodes.start(Map.of("broadcast-address", "127.0.0.1",
        "seed-node", List.of(seed.getHost().get() + ":" + seed.getPort().get())));
  }

  @AfterAll
  static void stop() {
    if (b != null) b.stop().toCompletableFuture().join();
    if (a != null) a.stop().toCompletableFuture().join();
  }

  static HttpResponse<String> send(InetSocketAddress at, String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path)).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode awaitJson(InetSocketAddress at, String path, Predicate<JsonNode> ok) throws Exception {
    JsonNode last = null;
    for (int i = 0; i < 300; i++) {
      HttpResponse<String> r = send(at, "GET", path, null);
      if (r.statusCode() == 200) {
        last = JSON.readTree(r.body());
        if (ok.test(last)) return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(path + " never as expected; last: " + last);
  }

  /** The channel's figures summed over both nodes' own /stats. */
  static long sum(String topic, String channel, String field) throws Exception {
    long total = 0;
    for (Node n : List.of(a, b)) {
      JsonNode stats = JSON.readTree(send(n.httpAddress(), "GET", "/stats?format=json&topic=" + topic, null).body());
      for (JsonNode t : stats.path("topics")) {
        for (JsonNode c : t.path("channels")) if (c.path("channel_name").asText().equals(channel)) total += c.path(field).asLong();
      }
    }
    return total;
  }

  /** The topic's own figure summed over both nodes' /stats. */
  static long topicSum(String topic, String field) throws Exception {
    long total = 0;
    for (Node n : List.of(a, b)) {
      JsonNode stats = JSON.readTree(send(n.httpAddress(), "GET", "/stats?format=json&topic=" + topic, null).body());
      for (JsonNode t : stats.path("topics")) total += t.path(field).asLong();
    }
    return total;
  }

  private static long number(JsonNode n, String field) {
    return Long.parseLong(n.path(field).asText().replace(",", ""));
  }

  private static NsqjsClient.Run ui(String... flags) throws Exception {
    NsqjsClient.Run run = NsqjsClient.startIn("admin", "ui.js", flags);
    assertEquals(0, run.await(Duration.ofSeconds(120)), run.stderr());
    assertEquals(List.of(), run.events("console-error"), "the page logs no errors");
    return run;
  }

  @Test
  void theUiShowsTheClusterFiguresPeeksAndPausesAChannel() throws Exception {
    String topic = "ui_orders";
    String channel = "work";
    for (Node n : List.of(a, b)) {
      assertEquals(200, send(n.httpAddress(), "POST", "/topic/create?topic=" + topic, null).statusCode());
      assertEquals(200, send(n.httpAddress(), "POST", "/channel/create?topic=" + topic + "&channel=" + channel, null).statusCode());
    }
    assertEquals(200, send(a.httpAddress(), "POST", "/mpub?topic=" + topic, "a1\na2\na3\na4\na5").statusCode());
    assertEquals(200, send(b.httpAddress(), "POST", "/mpub?topic=" + topic, "b1\nb2\nb3\nb4\nb5\nb6\nb7").statusCode());
    // Node a's admin sees both nodes once lookup has replicated.
    awaitJson(a.adminHttpAddress(), "/api/topics/" + topic + "/" + channel, j -> j.path("nodes").size() == 2);

    Path shot = Path.of("target", "admin-ui.png").toAbsolutePath();
    Files.deleteIfExists(shot);
    String admin = "http://127.0.0.1:" + a.adminHttpAddress().getPort();
    NsqjsClient.Run run = ui("--admin", admin, "--topic", topic, "--channel", channel, "--screenshot", shot.toString(), "--peek");
    JsonNode clusterPage = run.events("cluster").get(0);
    assertEquals(2, clusterPage.path("nodes").size(), "the cluster page lists both nodes");
    for (JsonNode n : clusterPage.path("nodes")) assertEquals("OK", n.path("health").asText());
    assertEquals(topicSum(topic, "message_count"), number(clusterPage.path("topic"), "message_count"), "cluster page topic messages");
    assertEquals(topicSum(topic, "depth"), number(clusterPage.path("topic"), "depth"), "cluster page topic depth");
    assertEquals(sum(topic, channel, "depth"), number(clusterPage.path("topic"), "channel_depth"),
        "cluster page: what the topic's channels hold, beside the topic's own depth");
    JsonNode history = run.events("history").get(0);
    assertTrue(history.path("chart").asText().matches(".*(idle|waiting for a second reading|peak).*"), history.toString());
    for (JsonNode n : history.path("sparkPoints")) assertTrue(n.asInt() >= 2, "a sparkline is a line, not a dot: " + history);
    assertTrue(history.path("stored").asInt() > 0, "rate history kept for the session: " + history);
    assertTrue(history.path("storedAfterReload").asInt() >= history.path("stored").asInt(), "and still there after a reload: " + history);
    JsonNode lookup = run.events("lookup").get(0);
    assertEquals("Lookup", lookup.path("heading").asText());
    assertEquals(1, lookup.path("form").asInt(), "the lookup page offers to create a topic or channel");
    JsonNode cards = run.events("channel").get(0).path("cards");
    for (String f : List.of("depth", "in_flight_count", "deferred_count", "requeue_count", "timeout_count", "message_count", "client_count")) {
      assertEquals(sum(topic, channel, f), number(cards, f), "channel page " + f + " = the sum of the nodes' /stats");
    }
    assertEquals(12, number(cards, "message_count"));
    JsonNode row = run.events("topic").get(0).path("channels").path(channel);
    assertEquals(sum(topic, channel, "depth"), number(row, "depth"), "topic page channel depth");
    assertEquals(sum(topic, channel, "message_count"), number(row, "message_count"));
    List<String> bodies = JSON.convertValue(run.events("peeked").get(0).path("bodies"), JSON.getTypeFactory()
        .constructCollectionType(List.class, String.class));
    assertEquals(List.of("a1", "a2", "a3", "a4", "a5"), bodies.stream().filter(x -> x.startsWith("a")).toList(), "node a's next five, in order");
    assertEquals(List.of("b1", "b2", "b3", "b4", "b5"), bodies.stream().filter(x -> x.startsWith("b")).toList(), "node b's next five, in order");
    assertEquals(12, sum(topic, channel, "depth"), "peeking consumed nothing");
    assertTrue(Files.size(shot) > 10_000, "a screenshot was saved");

    try (NsqTestClient consumer = NsqTestClient.connect(a.tcpAddress())) {
      consumer.line("SUB " + topic + " " + channel);
      assertEquals("[0] OK", consumer.read().toString());
      consumer.line("RDY 100");
      for (int i = 0; i < 5; i++) consumer.line("FIN " + consumer.read().id());
      ui("--admin", admin, "--topic", topic, "--channel", channel, "--screenshot",
          shot.resolveSibling("admin-ui-paused.png").toString(), "--pause");
      for (Node n : List.of(a, b)) {
        JsonNode s = JSON.readTree(send(n.httpAddress(), "GET", "/stats?format=json&topic=" + topic + "&channel=" + channel, null).body());
        assertTrue(s.path("topics").get(0).path("channels").get(0).path("paused").asBoolean(), "paused on " + n.httpAddress());
      }
      assertEquals(200, send(a.httpAddress(), "POST", "/pub?topic=" + topic, "after-pause").statusCode());
      assertTrue(consumer.quietFor(1500), "a paused channel delivers nothing");

      assertEquals(200, send(a.adminHttpAddress(), "POST", "/api/topics/" + topic + "/" + channel, "{\"action\":\"unpause\"}").statusCode());
      assertEquals("after-pause", consumer.read().body(), "delivery resumes once unpaused");
    }
  }
}
