package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnsq.app.Node;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** nsqjs negotiates snappy or deflate in IDENTIFY, then publishes and consumes over the compressed stream. */
class NsqjsCompressionTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @ParameterizedTest
  @ValueSource(strings = {"--snappy", "--deflate"})
  void publishAndConsumeCompressed(String flag) throws Exception {
    NsqjsClient.ensureInstalled();
    Node node = io.jnsq.tcp.TestNodes.start(new HashMap<>());
    String port = String.valueOf(node.tcpAddress().getPort());
    String topic = "compressed_" + flag.substring(2);
    try {
      NsqjsClient.Run consumer = NsqjsClient.start("consume.js", "--port", port, "--topic", topic, "--channel", "c",
          "--expect", "2000", "--timeout", "50", flag);
      consumer.awaitEvent("connected", LIMIT);
      NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", port, "--topic", topic, "--count", "2000",
          "--batch", "100", flag);
      assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
      assertEquals(0, consumer.await(LIMIT), "consumer: " + consumer.stderr());
      Set<String> bodies = new HashSet<>();
      consumer.events("message").forEach(m -> bodies.add(m.path("body").asText()));
      assertEquals(2000, bodies.size());
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }
}
