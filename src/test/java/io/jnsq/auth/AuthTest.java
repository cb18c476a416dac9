package io.jnsq.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.jnsq.app.Node;
import io.jnsq.tcp.NsqTestClient;
import io.jnsq.tcp.NsqTestClient.Frame;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** AUTH against a small auth server embedded in the test: nsqd's replies and errors, and the checks on PUB and SUB. */
class AuthTest {
  private static HttpServer authServer;
  private static final Map<String, String> replies = new ConcurrentHashMap<>();
  private static final AtomicInteger hits = new AtomicInteger();
  private static Node node;

  @BeforeAll
  static void start() throws Exception {
    authServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    authServer.createContext("/auth", ex -> {
      hits.incrementAndGet();
      Map<String, String> q = new HashMap<>();
      for (String kv : ex.getRequestURI().getRawQuery().split("&")) {
        String[] p = kv.split("=", 2);
        q.put(p[0], URLDecoder.decode(p.length > 1 ? p[1] : "", StandardCharsets.UTF_8));
      }
      String secret = q.get("secret");
      if (secret.equals("slow")) {
        try {
          Thread.sleep(3000);
        } catch (InterruptedException ignored) {
          // test ended
        }
      }
      String body = replies.get(secret);
      byte[] bytes = (body == null ? "{\"message\":\"NOT_AUTHORIZED\"}" : body).getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(body == null ? 403 : 200, bytes.length);
      ex.getResponseBody().write(bytes);
      ex.close();
    });
    authServer.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    authServer.start();
    replies.put("alice", "{\"ttl\":3600,\"identity\":\"alice\",\"identity_url\":\"https://example.invalid/alice\","
        + "\"authorizations\":[{\"topic\":\"clicks\",\"channels\":[\".*\"],\"permissions\":[\"publish\"]},"
        + "{\"topic\":\"clicks\",\"channels\":[\"archive\"],\"permissions\":[\"subscribe\"]}]}");
    replies.put("nobody", "{\"ttl\":3600,\"identity\":\"nobody\",\"identity_url\":\"\",\"authorizations\":[]}");
    replies.put("short", "{\"ttl\":1,\"identity\":\"short\",\"identity_url\":\"\","
        + "\"authorizations\":[{\"topic\":\"clicks\",\"channels\":[\".*\"],\"permissions\":[\"publish\"]}]}");
    replies.put("bad", "{\"ttl\":0,\"authorizations\":[]}");
    Map<String, Object> cfg = new HashMap<>(Map.of(
        "auth-http-address", List.of("127.0.0.1:" + authServer.getAddress().getPort()),
        "http-client-request-timeout", "500ms", "broadcast-address", "127.0.0.1"));
    node = io.jnsq.tcp.TestNodes.start(cfg);
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
    authServer.stop(0);
  }

  private static NsqTestClient client() throws Exception { return NsqTestClient.connect(node.tcpAddress()); }

  private static Frame auth(NsqTestClient c, String secret) throws Exception {
    return c.withBody("AUTH", secret.getBytes(StandardCharsets.UTF_8)).read();
  }

  private static void assertFatal(NsqTestClient c, Frame f, String text) throws Exception {
    assertEquals(1, f.type(), f.toString());
    assertEquals(text, f.text());
    assertTrue(c.closedByServer(), "connection closed after " + text);
  }

  @Test
  void identifySaysAuthIsRequired() throws Exception {
    try (NsqTestClient c = client()) {
      Frame f = c.withBody("IDENTIFY", "{\"feature_negotiation\":true}".getBytes(StandardCharsets.UTF_8)).read();
      assertTrue(f.text().contains("\"auth_required\":true"), f.text());
    }
  }

  @Test
  void publishingOrSubscribingBeforeAuthIsRefused() throws Exception {
    try (NsqTestClient c = client()) {
      assertFatal(c, c.withBody("PUB clicks", "x".getBytes()).read(), "E_AUTH_FIRST AUTH required before PUB");
    }
    try (NsqTestClient c = client()) {
      assertFatal(c, c.line("SUB clicks archive").read(), "E_AUTH_FIRST AUTH required before SUB");
    }
  }

  @Test
  void grantedTopicsAndChannelsAreAllowedAndNothingElse() throws Exception {
    try (NsqTestClient c = client()) {
      Frame ok = auth(c, "alice");
      assertEquals(0, ok.type());
      assertEquals("{\"identity\":\"alice\",\"identity_url\":\"https://example.invalid/alice\",\"permission_count\":2}", ok.text());
      assertEquals("OK", c.withBody("PUB clicks", "x".getBytes()).read().text());
      assertFatal(c, c.withBody("PUB secrets", "x".getBytes()).read(), "E_UNAUTHORIZED AUTH failed for PUB on \"secrets\" \"\"");
    }
    try (NsqTestClient c = client()) {
      auth(c, "alice");
      // Whole-name matching: a grant for "clicks" does not open "xclicksy" (nsqd's unanchored match would).
      assertFatal(c, c.withBody("MPUB xclicksy", NsqTestClient.mpubBody("a")).read(),
          "E_UNAUTHORIZED AUTH failed for MPUB on \"xclicksy\" \"\"");
    }
    try (NsqTestClient c = client()) {
      auth(c, "alice");
      assertEquals("OK", c.line("SUB clicks archive").read().text());
    }
    try (NsqTestClient c = client()) {
      auth(c, "alice");
      assertFatal(c, c.line("SUB clicks other").read(), "E_UNAUTHORIZED AUTH failed for SUB on \"clicks\" \"other\"");
    }
  }

  @Test
  void authErrorsAreNsqds() throws Exception {
    try (NsqTestClient c = client()) {
      auth(c, "alice");
      assertFatal(c, auth(c, "alice"), "E_INVALID AUTH already set");
    }
    try (NsqTestClient c = client()) {
      assertFatal(c, auth(c, "wrong"), "E_AUTH_FAILED AUTH failed");
    }
    try (NsqTestClient c = client()) {
      assertFatal(c, auth(c, "nobody"), "E_UNAUTHORIZED AUTH no authorizations found");
    }
    try (NsqTestClient c = client()) {
      assertFatal(c, auth(c, "bad"), "E_AUTH_FAILED AUTH failed");   // ttl 0 is an invalid reply
    }
  }

  @Test
  void aSlowAuthServerFailsTheAuthWithinTheTimeoutAndOthersAreServedMeanwhile() throws Exception {
    try (NsqTestClient slow = client(); NsqTestClient other = client()) {
      slow.setTimeout(10_000);
      slow.withBody("AUTH", "slow".getBytes());
      assertEquals(0, auth(other, "alice").type(), "another client is served while the first waits");
      assertFatal(slow, slow.read(), "E_AUTH_FAILED AUTH failed");
    }
  }

  @Test
  void anAuthServerThatIsDownFailsAuthAndTheNodeKeepsServing() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    Node lonely = io.jnsq.tcp.TestNodes.start(new HashMap<>(Map.of("auth-http-address", List.of("127.0.0.1:" + closedPort))));
    try (NsqTestClient c = NsqTestClient.connect(lonely.tcpAddress())) {
      assertFatal(c, auth(c, "alice"), "E_AUTH_FAILED AUTH failed");
      try (NsqTestClient again = NsqTestClient.connect(lonely.tcpAddress())) {
        assertEquals("OK", again.line("NOP").quietFor(200) ? "OK" : "no");
      }
    } finally {
      lonely.stop().toCompletableFuture().join();
    }
  }

  private static int http(String method, String pathAndQuery, String bearer) throws Exception {
    var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + pathAndQuery))
        .method(method, java.net.http.HttpRequest.BodyPublishers.ofString("body"));
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    var r = java.net.http.HttpClient.newHttpClient().send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    lastBody = r.body();
    return r.statusCode();
  }

  private static String lastBody;

  private static int admin(String method, String path, String json, String bearer) throws Exception {
    var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.adminHttpAddress().getPort() + path))
        .header("Content-Type", "application/json")
        .method(method, json == null ? java.net.http.HttpRequest.BodyPublishers.noBody() : java.net.http.HttpRequest.BodyPublishers.ofString(json));
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    var r = java.net.http.HttpClient.newHttpClient().send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    lastBody = r.body();
    return r.statusCode();
  }

  @Test
  void theAdminApiPassesTheCallersSecretToTheNodesAndReadsStayOpen() throws Exception {
    assertEquals(200, http("POST", "/topic/create?topic=clicks", "alice"));
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (admin("GET", "/api/topics/clicks", null, null) != 200 && System.nanoTime() < deadline) Thread.sleep(50);
    assertEquals(200, admin("GET", "/api/topics/clicks", null, null), "reading stays open, as /stats does");
    assertEquals(401, admin("POST", "/api/topics/clicks", "{\"action\":\"pause\"}", null));
    assertEquals("{\"message\":\"AUTH_REQUIRED\"}", lastBody);
    assertEquals(403, admin("POST", "/api/topics/clicks", "{\"action\":\"pause\"}", "nobody"));
    assertEquals(200, admin("POST", "/api/topics/clicks", "{\"action\":\"pause\"}", "alice"));
    assertEquals(200, admin("POST", "/api/topics/clicks", "{\"action\":\"unpause\"}", "alice"));
    assertEquals(401, admin("DELETE", "/api/nodes/127.0.0.1:" + node.httpAddress().getPort(), "{\"topic\":\"clicks\"}", null),
        "a tombstone changes only lookup, and is checked all the same");
    assertEquals(403, admin("POST", "/api/topics", "{\"topic\":\"secrets\"}", "alice"), "alice may not create secrets");
    assertEquals(401, admin("DELETE", "/api/topics/clicks", null, null));
  }

  @Test
  void theHttpApiNeedsABearerSecretToChangeAnythingAndStaysOpenForReading() throws Exception {
    assertEquals(401, http("POST", "/pub?topic=clicks", null));
    assertEquals("{\"message\":\"AUTH_REQUIRED\"}", lastBody);
    assertEquals(200, http("POST", "/pub?topic=clicks", "alice"));
    assertEquals(403, http("POST", "/pub?topic=secrets", "alice"));
    assertEquals("{\"message\":\"UNAUTHORIZED\"}", lastBody);
    assertEquals(403, http("POST", "/mpub?topic=clicks", "wrong"));
    assertEquals("{\"message\":\"AUTH_FAILED\"}", lastBody);
    assertEquals(401, http("POST", "/topic/pause?topic=clicks", null));
    assertEquals(200, http("POST", "/topic/pause?topic=clicks", "alice"));
    assertEquals(200, http("POST", "/topic/unpause?topic=clicks", "alice"));
    assertEquals(200, http("POST", "/channel/create?topic=clicks&channel=archive", "alice"));
    assertEquals(403, http("POST", "/channel/empty?topic=clicks&channel=other", "alice"));
    assertEquals(401, http("PUT", "/config/log_level", null));
    assertEquals(200, http("GET", "/stats", null));
    assertEquals(200, http("GET", "/ping", null));
  }

  @Test
  void anExpiredGrantIsAskedForAgain() throws Exception {
    try (NsqTestClient c = client()) {
      auth(c, "short");
      int before = hits.get();
      Thread.sleep(1100);   // the grant's ttl is 1 s
      assertEquals("OK", c.withBody("PUB clicks", "x".getBytes()).read().text());
      assertTrue(hits.get() > before, "the auth server was asked again");
    }
  }
}
