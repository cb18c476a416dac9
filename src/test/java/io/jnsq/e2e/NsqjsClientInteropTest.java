package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Producer;
import io.jnsq.tcp.TestNodes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Our JVM client and the third-party nsqjs in both directions through a node: nsqjs publishes, we read, and back. */
class NsqjsClientInteropTest {
  private static final Duration LIMIT = Duration.ofSeconds(90);
  private static Node node;
  private static String tcp;

  @BeforeAll
  static void start() throws Exception {
    NsqjsClient.ensureInstalled();
    node = TestNodes.start(new HashMap<>());
    tcp = "127.0.0.1:" + node.tcpAddress().getPort();
  }

  @AfterAll
  static void stop() { node.stop().toCompletableFuture().join(); }

  @Test
  void nsqjsPublishesWithSnappyAndOurConsumerReadsEverything() throws Exception {
    NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", String.valueOf(node.tcpAddress().getPort()),
        "--topic", "from_nsqjs", "--count", "1000", "--prefix", "js", "--snappy");
    assertEquals(0, pub.await(LIMIT), pub.stderr());
    Set<String> seen = ConcurrentHashMap.newKeySet();
    CompletableFuture<Void> all = new CompletableFuture<>();
    Consumer consumer = new Consumer("from_nsqjs", "ch", new ClientConfig().maxInFlight(200).snappy(true), m -> {
      seen.add(m.bodyAsString());
      if (seen.size() == 1000) all.complete(null);
    });
    try {
      consumer.connectToNsqd(tcp);
      all.get(60, TimeUnit.SECONDS);
      assertEquals(1000, seen.size());
      assertTrue(seen.contains("js-0") && seen.contains("js-999"), "bodies as nsqjs wrote them");
    } finally {
      consumer.stop();
    }
  }

  @Test
  void ourProducerPublishesWithDeflateAndNsqjsReadsEverything() throws Exception {
    NsqjsClient.Run reader = NsqjsClient.start("consume.js", "--port", String.valueOf(node.tcpAddress().getPort()),
        "--topic", "to_nsqjs", "--channel", "ch", "--expect", "1000", "--deflate", "--timeout", "80");
    reader.awaitEvent("connected", LIMIT);
    try (Producer producer = new Producer(List.of(tcp), new ClientConfig().deflate(true, 6))) {
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      for (int i = 0; i < 990; i++) acks.add(producer.publish("to_nsqjs", "jvm-" + i));
      List<byte[]> batch = new ArrayList<>();
      for (int i = 990; i < 1000; i++) batch.add(("jvm-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      acks.add(producer.multiPublish("to_nsqjs", batch));
      CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    }
    assertEquals(0, reader.await(LIMIT), reader.stderr());
    Set<String> bodies = new HashSet<>();
    reader.events("message").forEach(n -> bodies.add(n.path("body").asText()));
    assertEquals(1000, bodies.size());
  }
}
