package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnsq.app.Node;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * nsqjs upgrades to TLS in IDENTIFY (certificates made for the test run, never committed), alone and
 * with snappy or deflate on top, and publishes and consumes through it.
 */
class NsqjsTlsTest {
  private static final Duration LIMIT = Duration.ofSeconds(30);
  private static Node node;
  private static String port;

  @BeforeAll
  static void start() throws Exception {
    NsqjsClient.ensureInstalled();
    Path dir = java.nio.file.Files.createTempDirectory("jnsq-tls");
    Path[] files = io.jnsq.tcp.TestCerts.make(dir);
    node = io.jnsq.tcp.TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString())));
    port = String.valueOf(node.tcpAddress().getPort());
  }

  @AfterAll
  static void stop() { node.stop().toCompletableFuture().join(); }

  @ParameterizedTest
  @ValueSource(strings = {"", "--snappy", "--deflate"})
  void publishAndConsumeOverTls(String compression) throws Exception {
    String topic = "tls" + compression.replace("-", "_");
    List<String> extra = new ArrayList<>(List.of("--tls"));
    if (!compression.isEmpty()) extra.add(compression);
    List<String> c = new ArrayList<>(List.of("--port", port, "--topic", topic, "--channel", "c", "--expect", "500", "--timeout", "25"));
    c.addAll(extra);
    NsqjsClient.Run consumer = NsqjsClient.start("consume.js", c.toArray(String[]::new));
    consumer.awaitEvent("connected", LIMIT);
    List<String> p = new ArrayList<>(List.of("--port", port, "--topic", topic, "--count", "500", "--batch", "50"));
    p.addAll(extra);
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", p.toArray(String[]::new));
    assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
    assertEquals(0, consumer.await(LIMIT), "consumer: " + consumer.stderr());
    Set<String> bodies = new HashSet<>();
    consumer.events("message").forEach(m -> bodies.add(m.path("body").asText()));
    assertEquals(500, bodies.size());
  }
}
