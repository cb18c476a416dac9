package io.jnsq.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.jnsq.app.Node;
import io.jnsq.tcp.TestCerts;
import io.jnsq.tcp.TestNodes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * nsqadmin's flags on the admin UI: --admin-base-path, --admin-user with --admin-acl-http-header,
 * --admin-notification-http-endpoint (nsqadmin's JSON), channel-aware topic depths, and reading
 * nodes under --tls-required over HTTPS with the node's own TLS settings.
 */
class AdminOptionsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
  private static final LinkedBlockingQueue<String> notifications = new LinkedBlockingQueue<>();
  private static HttpServer webhook;
  private static Node node;

  @BeforeAll
  static void start() throws Exception {
    webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    webhook.createContext("/audit", ex -> {
      notifications.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
          + "\n" + ex.getRequestHeaders().getFirst("Content-Type"));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    webhook.start();
    node = TestNodes.start(Map.of("broadcast-address", "127.0.0.1", "admin-base-path", "/nsqadmin/",
        "admin-user", List.of("alice"),
        "admin-notification-http-endpoint", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/audit"));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.stop().toCompletableFuture().join();
    if (webhook != null) webhook.stop(0);
  }

  private static HttpResponse<String> admin(Node n, String method, String path, String body, String user) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminHttpAddress().getPort() + path))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (user != null) b.header("X-Forwarded-User", user);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> nsqd(Node n, String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.httpAddress().getPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Polls /api/summary until the topic shows up (lookup replicates it within a moment). */
  private static JsonNode summaryOf(Node n, String prefix, String topic) throws Exception {
    long deadline = System.nanoTime() + 20_000_000_000L;
    String last = "";
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = admin(n, "GET", prefix + "/api/summary", null, null);
      last = r.statusCode() + " " + r.body();
      if (r.statusCode() == 200) {
        for (JsonNode t : JSON.readTree(r.body()).path("topics")) {
          if (t.path("topic_name").asText().equals(topic) && t.path("node_count").asInt() > 0) return t;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no " + topic + " in /api/summary: " + last);
  }

  @Test
  void everythingIsServedUnderTheBasePathAndNothingOutsideIt() throws Exception {
    assertEquals(200, admin(node, "GET", "/nsqadmin/api/topics", null, null).statusCode());
    assertEquals(200, admin(node, "GET", "/nsqadmin/static/app.js", null, null).statusCode());
    assertEquals(404, admin(node, "GET", "/api/topics", null, null).statusCode());
    HttpResponse<String> bare = admin(node, "GET", "/nsqadmin", null, null);
    assertEquals(301, bare.statusCode());
    assertEquals("/nsqadmin/", bare.headers().firstValue("Location").orElse(""));
    String page = admin(node, "GET", "/nsqadmin/topics", null, null).body();
    assertTrue(page.contains("<meta name=\"jnsq-base-path\" content=\"/nsqadmin\">"), page);
    assertTrue(page.contains("href=\"/nsqadmin/static/app.css\""), page);
    assertTrue(page.contains("<meta name=\"jnsq-is-admin\" content=\"false\">"), "no user header: not an admin");
    assertTrue(admin(node, "GET", "/nsqadmin/", null, "alice").body().contains("<meta name=\"jnsq-is-admin\" content=\"true\">"));
  }

  @Test
  void onlyAdminUsersActAndEveryActionIsReportedAsNsqadminDoes() throws Exception {
    HttpResponse<String> anonymous = admin(node, "POST", "/nsqadmin/api/topics", "{\"topic\":\"audited\"}", null);
    assertEquals(403, anonymous.statusCode());
    assertEquals("{\"message\":\"FORBIDDEN\"}", anonymous.body());
    assertEquals(403, admin(node, "POST", "/nsqadmin/api/topics", "{\"topic\":\"audited\"}", "mallory").statusCode());
    assertEquals(403, admin(node, "DELETE", "/nsqadmin/api/topics/audited", null, "mallory").statusCode());
    assertEquals(null, notifications.poll(300, TimeUnit.MILLISECONDS), "refused actions are not reported");

    HttpResponse<String> created = admin(node, "POST", "/nsqadmin/api/topics", "{\"topic\":\"audited\",\"channel\":\"ch\"}", "alice");
    assertEquals(200, created.statusCode(), created.body());
    String sent = notifications.poll(10, TimeUnit.SECONDS);
    assertTrue(sent != null, "the webhook got the action");
    String[] parts = sent.split("\n");
    assertEquals("application/json", parts[1]);
    JsonNode a = JSON.readTree(parts[0]);
    assertEquals("create_channel", a.path("action").asText());
    assertEquals("audited", a.path("topic").asText());
    assertEquals("ch", a.path("channel").asText());
    assertEquals("alice", a.path("user").asText());
    assertTrue(Math.abs(a.path("timestamp").asLong() - System.currentTimeMillis() / 1000) < 60, a.toString());
    assertEquals("127.0.0.1", a.path("remote_ip").asText());
    assertTrue(a.path("user_agent").asText().startsWith("Java-http-client"), a.toString());
    assertEquals("http://127.0.0.1:" + node.adminHttpAddress().getPort() + "/nsqadmin/api/topics", a.path("url").asText());
    assertTrue(a.has("via"), a.toString());
    assertTrue(!a.has("node"), "no node for a create: " + a);
  }

  @Test
  void aTopicsSummaryCountsWhatItsChannelsHold() throws Exception {
    assertEquals(200, nsqd(node, "POST", "/topic/create?topic=deep", null).statusCode());
    assertEquals(200, nsqd(node, "POST", "/channel/create?topic=deep&channel=slow", null).statusCode());
    assertEquals(200, nsqd(node, "POST", "/channel/create?topic=deep&channel=fast", null).statusCode());
    assertEquals(200, nsqd(node, "POST", "/mpub?topic=deep", "a\nb\nc\nd\ne").statusCode());
    long deadline = System.nanoTime() + 20_000_000_000L;
    JsonNode t = summaryOf(node, "/nsqadmin", "deep");
    while (t.path("channel_depth").asLong() != 10 && System.nanoTime() < deadline) {
      Thread.sleep(100);
      t = summaryOf(node, "/nsqadmin", "deep");
    }
    assertEquals(10, t.path("channel_depth").asLong(), "5 messages in each of 2 channels: " + t);
    assertEquals(5, t.path("max_channel_depth").asLong(), t.toString());
  }

  @Test
  void nodesThatRefusePlainHttpAreReadOverHttpsWithTheNodesTlsSettings() throws Exception {
    Path dir = Files.createTempDirectory("jnsq-admin-tls");
    Path[] files = TestCerts.make(dir);
    Node secure = TestNodes.start(Map.of("broadcast-address", "localhost", "tls-cert", files[0].toString(),
        "tls-key", files[1].toString(), "tls-root-ca-file", files[0].toString(), "tls-required", "true"));
    try {
      HttpResponse<String> plain = nsqd(secure, "POST", "/topic/create?topic=secret_topic", null);
      assertEquals(403, plain.statusCode(), "plain HTTP is refused: " + plain.body());
      // Create it through the admin API: the node reads and acts over HTTPS once told TLS_REQUIRED.
      HttpResponse<String> created = admin(secure, "POST", "/api/topics", "{\"topic\":\"secret_topic\"}", null);
      assertEquals(200, created.statusCode(), created.body());
      JsonNode t = summaryOf(secure, "", "secret_topic");
      assertEquals(1, t.path("node_count").asInt(), t.toString());
      JsonNode nodes = JSON.readTree(admin(secure, "GET", "/api/nodes", null, null).body());
      assertEquals("OK", nodes.path("nodes").path(0).path("health").asText(), nodes.toString());
      assertEquals("", nodes.path("message").asText(), "no node left unread: " + nodes);
    } finally {
      secure.stop().toCompletableFuture().join();
    }
  }
}
