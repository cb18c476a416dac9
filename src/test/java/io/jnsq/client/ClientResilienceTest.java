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

/** The consumer and the producer across node restarts, RDY spread over several nodes, and discovery over a 3-node cluster. */
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
  void producerHoldsPublishesWhileItsNodeIsDownAndSendsThemWhenItIsBack() throws Exception {
    int port = freePort();
    String dataPath = TestStores.freshDataPath();
    Map<String, Object> cfg = new HashMap<>(Map.of("tcp-address", "127.0.0.1:" + port, "data-path", dataPath));
    Node node = TestNodes.start(cfg);
    String tcp = "127.0.0.1:" + port;
    Producer producer = new Producer(List.of(tcp), new ClientConfig().holdTimeout(Duration.ofSeconds(30)));
    try {
      producer.publish("held", "first").get(10, TimeUnit.SECONDS);
      node.stop().toCompletableFuture().join();
      await("the producer to notice", () -> !producer.isConnected());

      // nsqd is gone: publishes wait for it instead of failing
      List<java.util.concurrent.CompletableFuture<Void>> acks = new ArrayList<>();
      for (int i = 0; i < 50; i++) acks.add(producer.publish("held", "while-down-" + i));
      acks.add(producer.multiPublish("held", List.of("mpub-a".getBytes(), "mpub-b".getBytes())));
      acks.add(producer.deferredPublish("held", Duration.ofMillis(1), "dpub".getBytes()));
      Thread.sleep(300);   // a few failed redials happen meanwhile (a negative check needs some real time)
      for (var a : acks) assertTrue(!a.isDone(), "held, neither sent nor failed, while nsqd is down");

      node = TestNodes.start(cfg);
      java.util.concurrent.CompletableFuture.allOf(acks.toArray(new java.util.concurrent.CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
      BlockingQueue<Message> got = new LinkedBlockingQueue<>();
      Consumer consumer = new Consumer("held", "ch", new ClientConfig().maxInFlight(100), got::add);
      try {
        consumer.connectToNsqd(tcp);
        List<String> bodies = new ArrayList<>();   // "first" may come too: the node kept it across its clean stop
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (bodies.stream().filter(x -> !x.equals("first")).count() < 53 && System.nanoTime() < deadline) {
          Message m = got.poll(100, TimeUnit.MILLISECONDS);
          if (m != null) bodies.add(m.bodyAsString());
        }
        for (int i = 0; i < 50; i++) assertTrue(bodies.contains("while-down-" + i), "while-down-" + i);
        int firstHeld = bodies.indexOf("while-down-0");
        assertTrue(firstHeld < bodies.indexOf("while-down-49"), "held publishes keep their order");
        assertTrue(bodies.containsAll(List.of("mpub-a", "mpub-b", "dpub")), bodies.toString());
      } finally {
        consumer.stop();
      }
    } finally {
      producer.close();
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void heldPublishesFailAfterHoldTimeoutAndBeyondHoldSize() throws Exception {
    int port = freePort();   // nothing listens there
    try (Producer producer = new Producer(List.of("127.0.0.1:" + port),
        new ClientConfig().holdTimeout(Duration.ofMillis(300)).holdSize(2))) {
      var a = producer.publish("t", "a");
      var b = producer.publish("t", "b");
      var c = producer.publish("t", "c");
      java.util.concurrent.ExecutionException full = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class, () -> c.get(10, TimeUnit.SECONDS));
      assertTrue(full.getCause().getMessage().contains("hold_size"), full.getCause().getMessage());
      for (var f : List.of(a, b)) {
        java.util.concurrent.ExecutionException late = org.junit.jupiter.api.Assertions.assertThrows(
            java.util.concurrent.ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertTrue(late.getCause().getMessage().contains("hold_timeout"), late.getCause().getMessage());
        assertTrue(late.getCause().getMessage().contains("cannot connect"), late.getCause().getMessage());
      }
    }
    try (Producer producer = new Producer(List.of("127.0.0.1:" + port), new ClientConfig().holdTimeout(Duration.ZERO))) {
      java.util.concurrent.ExecutionException now = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class, () -> producer.publish("t", "x").get(10, TimeUnit.SECONDS));
      assertTrue(now.getCause().getMessage().contains("not connected"), now.getCause().getMessage());
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
