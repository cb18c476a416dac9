package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.jnsq.app.Node;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Producer;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our JVM client and nsqjs in both directions through a node with TLS (test certificates made for
 * the run) and AUTH (an auth server in the test): every connection upgrades to TLS in IDENTIFY (the
 * node's /stats shows each consumer's {@code tls}) and sends AUTH before it may publish or subscribe.
 */
class NsqjsSecureInteropTest {
  private static final Duration LIMIT = Duration.ofSeconds(90);
  private static final String SECRET = "s3cret";
  private static HttpServer auth;
  private static Node node;
  private static String tcp;

  @BeforeAll
  static void start() throws Exception {
    NsqjsClient.ensureInstalled();
    auth = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    auth.createContext("/auth", ex -> {
      boolean ok = ex.getRequestURI().getRawQuery().contains("secret=" + SECRET);
      byte[] body = (ok ? "{\"ttl\":60,\"identity\":\"interop\",\"identity_url\":\"\",\"authorizations\":[{\"topic\":\".*\","
          + "\"channels\":[\".*\"],\"permissions\":[\"publish\",\"subscribe\"]}]}" : "{}").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(ok ? 200 : 403, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    auth.start();
    Path[] files = TestCerts.make(Files.createTempDirectory("jnsq-interop-tls"));
    node = TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString(),
        "auth-http-address", List.of("127.0.0.1:" + auth.getAddress().getPort()))));
    tcp = "127.0.0.1:" + node.tcpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
    auth.stop(0);
  }

  private static ClientConfig secure() {
    return new ClientConfig().set("tls_v1", "true").set("tls_insecure_skip_verify", "true").authSecret(SECRET);
  }

  /** The channel's clients in the node's /stats, once it has one (a client's SUB may still be on its way). */
  private static JsonNode clients(String topic, String channel) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String body;
    do {
      body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort()
          + "/stats?format=json&topic=" + topic + "&channel=" + channel)).build(), HttpResponse.BodyHandlers.ofString()).body();
      for (JsonNode t : new ObjectMapper().readTree(body).path("topics")) {
        for (JsonNode c : t.path("channels")) {
          if (c.path("channel_name").asText().equals(channel) && c.path("clients").size() > 0) return c.path("clients");
        }
      }
      Thread.sleep(20);   // polling a condition
    } while (System.nanoTime() < deadline);
    throw new AssertionError("no client on channel " + channel + " in " + body);
  }

  @Test
  void withoutTheSecretNeitherClientMayPublish() throws Exception {
    NsqjsClient.Run refused = NsqjsClient.start("publish.js", "--port", String.valueOf(node.tcpAddress().getPort()),
        "--topic", "secure_refused", "--count", "1", "--tls", "--auth-secret", "wrong", "--timeout", "20");
    assertTrue(refused.await(LIMIT) != 0, "a wrong secret cannot publish");
    try (Producer producer = new Producer(List.of(tcp), secure().authSecret("wrong"))) {
      java.util.concurrent.CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.CompletionException.class, () -> producer.publish("secure_refused", "x").join());
      assertTrue(e.getCause().getMessage().contains("AUTH"), e.getCause().getMessage());
    }
  }

  @Test
  void nsqjsPublishesOverTlsWithAuthAndOurConsumerReadsEverything() throws Exception {
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", String.valueOf(node.tcpAddress().getPort()),
        "--topic", "secure_from_nsqjs", "--count", "500", "--batch", "50", "--prefix", "js", "--tls", "--auth-secret", SECRET);
    assertEquals(0, pub.await(LIMIT), pub.stderr());
    Set<String> seen = ConcurrentHashMap.newKeySet();
    CompletableFuture<Void> all = new CompletableFuture<>();
    Consumer consumer = new Consumer("secure_from_nsqjs", "ch", secure().maxInFlight(100), m -> {
      seen.add(m.bodyAsString());
      if (seen.size() == 500) all.complete(null);
    });
    try {
      consumer.connectToNsqd(tcp);
      all.get(60, TimeUnit.SECONDS);
      assertTrue(seen.contains("js-0") && seen.contains("js-499"), "bodies as nsqjs wrote them");
      JsonNode clients = clients("secure_from_nsqjs", "ch");
      assertEquals(1, clients.size());
      assertTrue(clients.get(0).path("tls").asBoolean(), "our consumer is on TLS: " + clients);
    } finally {
      consumer.stop();
    }
  }

  @Test
  void ourProducerPublishesOverTlsWithAuthAndNsqjsReadsEverything() throws Exception {
    NsqjsClient.Run reader = NsqjsClient.start("consume.js", "--port", String.valueOf(node.tcpAddress().getPort()),
        "--topic", "secure_to_nsqjs", "--channel", "ch", "--expect", "500", "--timeout", "80", "--tls", "--auth-secret", SECRET);
    reader.awaitEvent("connected", LIMIT);
    JsonNode clients = clients("secure_to_nsqjs", "ch");
    assertEquals(1, clients.size());
    assertTrue(clients.get(0).path("tls").asBoolean(), "nsqjs is on TLS: " + clients);
    try (Producer producer = new Producer(List.of(tcp), secure())) {
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      for (int i = 0; i < 490; i++) acks.add(producer.publish("secure_to_nsqjs", "jvm-" + i));
      List<byte[]> batch = new ArrayList<>();
      for (int i = 490; i < 500; i++) batch.add(("jvm-" + i).getBytes(StandardCharsets.UTF_8));
      acks.add(producer.multiPublish("secure_to_nsqjs", batch));
      CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    }
    assertEquals(0, reader.await(LIMIT), reader.stderr());
    Set<String> bodies = new HashSet<>();
    reader.events("message").forEach(n -> bodies.add(n.path("body").asText()));
    assertEquals(500, bodies.size());
    assertTrue(bodies.contains("jvm-0") && bodies.contains("jvm-499"));
  }
}
