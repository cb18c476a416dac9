package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.app.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the NSQ tutorials do: curl messages in over HTTP, consume them with a client library over TCP. */
class HttpToNsqjsTest {
  private static Node node;

  @BeforeAll
  static void start() throws Exception {
    NsqjsClient.ensureInstalled();
    node = Node.start(Node.loadConfig(null, Map.of("jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath(), "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0", "jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0",
        "pekko.loglevel", "WARNING"))).toCompletableFuture().join();
  }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  @Test
  void messagesPublishedOverHttpReachAnNsqjsConsumer() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + node.httpAddress().getPort();
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/pub?topic=http_e2e"))
          .POST(HttpRequest.BodyPublishers.ofString("single-" + i)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals("OK", r.body());
    }
    HttpResponse<String> m = http.send(HttpRequest.newBuilder(URI.create(base + "/mpub?topic=http_e2e"))
        .POST(HttpRequest.BodyPublishers.ofString("multi-0\nmulti-1\nmulti-2\n")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("OK", m.body());
    NsqjsClient.Run c = NsqjsClient.start("consume.js", "--port", String.valueOf(node.tcpAddress().getPort()),
        "--topic", "http_e2e", "--channel", "ch", "--expect", "23", "--timeout", "60");
    assertEquals(0, c.await(Duration.ofSeconds(90)), c.stderr());
    Set<String> bodies = new HashSet<>();
    for (JsonNode n : c.events("message")) bodies.add(n.path("body").asText());
    assertEquals(23, bodies.size());
  }
}
