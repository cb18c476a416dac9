package io.jnsq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import io.jnsq.storage.TestStores;
import io.jnsq.tcp.TestNodes;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The consumer across node restarts, RDY spread over several nodes, and discovery over a 3-node cluster. */
class ClientResilienceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(20);   // polling a condition, not timing anything
    }
  }

  /** The RDY count of each consumer of topic/channel on this node. */
  static List<Integer> readyCounts(Node node, String topic) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort()
          + "/stats?format=json&topic=" + topic)).build(), HttpResponse.BodyHandlers.ofString());
      List<Integer> out = new ArrayList<>();
      for (JsonNode t : JSON.readTree(r.body()).path("topics")) {
        for (JsonNode c : t.path("channels")) for (JsonNode cl : c.path("clients")) out.add(cl.path("ready_count").asInt());
      }
      return out;
    } catch (Exception e) {
      return List.of();
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void consumerComesBackWhenItsNodeIsRestarted() throws Exception {
    int port = freePort();
    String dataPath = TestStores.freshDataPath();
    Map<String, Object> cfg = new HashMap<>(Map.of("tcp-address", "127.0.0.1:" + port, "data-path", dataPath));
    Node node = TestNodes.start(cfg);
    String tcp = "127.0.0.1:" + port;
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer("restarts", "ch", new ClientConfig().maxInFlight(5), got::add);
    try {
      try (Producer p = new Producer(tcp)) {
        p.publish("restarts", "before").get(10, TimeUnit.SECONDS);
      }
      consumer.connectToNsqd(tcp);
      assertEquals(List.of("before"), ClientTest.take(got, 1));
      node.stop().toCompletableFuture().join();
      await("the consumer to notice", () -> consumer.stats().connections() == 0);
      node = TestNodes.start(cfg);
      try (Producer p = new Producer(tcp)) {
        p.publish("restarts", "after").get(10, TimeUnit.SECONDS);
      }
      assertEquals(List.of("after"), ClientTest.take(got, 1), "the consumer redialled and subscribed again");
    } finally {
      consumer.stop();
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void maxInFlightIsSpreadOverConnectionsAndRespreadWhenOneGoes() throws Exception {
    Node a = TestNodes.start(new HashMap<>());
    Node b = TestNodes.start(new HashMap<>());
    Consumer consumer = new Consumer("spread", "ch", new ClientConfig().maxInFlight(10), m -> { });
    try {
      for (Node n : List.of(a, b)) {
        try (Producer p = new Producer("127.0.0.1:" + n.tcpAddress().getPort())) {
          p.publish("spread", "x").get(10, TimeUnit.SECONDS);
        }
        consumer.connectToNsqd("127.0.0.1:" + n.tcpAddress().getPort());
      }
      await("RDY 5 on each node", () -> readyCounts(a, "spread").equals(List.of(5)) && readyCounts(b, "spread").equals(List.of(5)));
      b.stop().toCompletableFuture().join();
      await("RDY 10 on the node left", () -> readyCounts(a, "spread").equals(List.of(10)));
    } finally {
      consumer.stop();
      a.stop().toCompletableFuture().join();
    }
  }

  @Test
  void oneLookupdAddressFindsEveryNodeOfACluster() throws Exception {
    List<Node> nodes = new ArrayList<>();
    Node first = cluster(List.of());
    nodes.add(first);
    String seed = first.cluster().clusterAddress().getHost().get() + ":" + first.cluster().clusterAddress().getPort().get();
    nodes.add(cluster(List.of(seed)));
    nodes.add(cluster(List.of(seed)));
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer("everywhere", "ch",
        new ClientConfig().maxInFlight(3).lookupdPollInterval(Duration.ofMillis(200)), got::add);
    try {
      for (int i = 0; i < 3; i++) {
        try (Producer p = new Producer("127.0.0.1:" + nodes.get(i).tcpAddress().getPort())) {
          p.publish("everywhere", "from node " + i).get(10, TimeUnit.SECONDS);
        }
      }
      consumer.connectToNsqLookupd("127.0.0.1:" + first.lookupHttpAddress().getPort());
      assertEquals(new HashSet<>(List.of("from node 0", "from node 1", "from node 2")), new HashSet<>(ClientTest.take(got, 3)));
      assertTrue(consumer.stats().connections() == 3);
    } finally {
      consumer.stop();
      for (Node n : nodes) n.stop().toCompletableFuture().join();
    }
  }

  @Test
  void producerDialsAgainAfterItsNodeRestarts() throws Exception {
    int port = freePort();
    Map<String, Object> cfg = new HashMap<>(Map.of("tcp-address", "127.0.0.1:" + port, "data-path", TestStores.freshDataPath()));
    Node node = TestNodes.start(cfg);
    try (Producer producer = new Producer("127.0.0.1:" + port)) {
      producer.publish("redial", "one").get(10, TimeUnit.SECONDS);
      node.stop().toCompletableFuture().join();
      node = TestNodes.start(cfg);
      boolean published = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!published && System.nanoTime() < deadline) {
        // the first publish after the restart may fail on the dead connection, or while the producer backs off
        published = producer.publish("redial", "two").handle((ok, e) -> e == null).get(10, TimeUnit.SECONDS);
        if (!published) Thread.sleep(50);
      }
      assertTrue(published, "the producer reconnected to the restarted node");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void autoTouchKeepsALongHandlersMessageInFlight() throws Exception {
    Node node = TestNodes.start(new HashMap<>(Map.of("msg-timeout", "1s")));
    String tcp = "127.0.0.1:" + node.tcpAddress().getPort();
    List<Integer> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    Consumer consumer = new Consumer("touched", "ch", new ClientConfig().autoTouch(true), m -> {
      attempts.add(m.attempts());
      Thread.sleep(2500);   // the handler's own work, longer than msg_timeout
      done.countDown();
    });
    try (Producer p = new Producer(tcp)) {
      p.publish("touched", "slow work").get(10, TimeUnit.SECONDS);
      consumer.connectToNsqd(tcp);
      assertTrue(done.await(20, TimeUnit.SECONDS));
      await("the FIN", () -> consumer.stats().finished() == 1);
      assertEquals(List.of(1), attempts, "TOUCH kept nsqd from timing the message out");
    } finally {
      consumer.stop();
      node.stop().toCompletableFuture().join();
    }
  }

  private static Node cluster(List<String> seeds) {
    return TestNodes.start(new HashMap<>(Map.of("broadcast-address", "127.0.0.1", "seed-node", seeds)));
  }
}
