package io.jnsq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.tcp.TestNodes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Producer and Consumer against an in-process node over plain TCP, Snappy and Deflate. */
class ClientTest {
  private static Node node;
  private static String tcp;

  @BeforeAll
  static void start() {
    node = TestNodes.start(new HashMap<>(Map.of("broadcast-address", "127.0.0.1")));
    tcp = "127.0.0.1:" + node.tcpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
  }

  /** Takes {@code n} bodies from the queue, failing after 20 s without one. */
  static List<String> take(BlockingQueue<Message> q, int n) throws InterruptedException {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Message m = q.poll(20, TimeUnit.SECONDS);
      if (m == null) throw new AssertionError("only " + out.size() + " of " + n + " messages arrived");
      out.add(m.bodyAsString());
    }
    return out;
  }

  static void roundTrip(String topic, ClientConfig producerConfig, ClientConfig consumerConfig, String address) throws Exception {
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer(topic, "ch", consumerConfig.maxInFlight(50), got::add);
    try (Producer producer = new Producer(List.of(address), producerConfig)) {
      consumer.connectToNsqd(address);
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      for (int i = 0; i < 500; i++) acks.add(producer.publish(topic, "m" + i));
      acks.add(producer.multiPublish(topic, List.of("x1".getBytes(StandardCharsets.UTF_8), "x2".getBytes(StandardCharsets.UTF_8))));
      acks.add(producer.deferredPublish(topic, Duration.ofMillis(50), "later".getBytes(StandardCharsets.UTF_8)));
      CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
      Set<String> bodies = new HashSet<>(take(got, 503));
      assertEquals(503, bodies.size(), "every message exactly once");
      assertTrue(bodies.contains("m0") && bodies.contains("m499") && bodies.contains("x2") && bodies.contains("later"));
    } finally {
      consumer.stop();
    }
    assertEquals(503, consumer.stats().finished());
    assertEquals(0, consumer.stats().connections());
  }

  @Test
  void publishesAndConsumesOverPlainTcp() throws Exception {
    roundTrip("plain", new ClientConfig(), new ClientConfig(), tcp);
  }

  @Test
  void publishesAndConsumesWithSnappy() throws Exception {
    roundTrip("snappy", new ClientConfig().snappy(true), new ClientConfig().snappy(true), tcp);
  }

  @Test
  void publishesAndConsumesWithDeflate() throws Exception {
    roundTrip("deflate", new ClientConfig().deflate(true, 6), new ClientConfig().deflate(true, 3), tcp);
  }

  @Test
  void lingeringBatchesSinglePublishesIntoMpubsWithPerCallResults() throws Exception {
    try (Producer producer = new Producer(List.of(tcp), new ClientConfig().linger(Duration.ofMillis(20)).batchSize(10))) {
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      for (int i = 0; i < 95; i++) acks.add(producer.publish("batched", "b" + i));
      CompletableFuture<Void> bad = producer.publish("bad!topic", "x");
      CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
      CompletionException e = assertThrows(CompletionException.class, bad::join);
      assertEquals("E_BAD_TOPIC", ((NsqException) e.getCause()).code());
      // E_BAD_TOPIC is fatal: nsqd closes the connection and the producer dials again
      boolean published = false;
      for (int i = 0; i < 5 && !published; i++) {
        published = producer.publish("batched", "after").handle((ok, err) -> err == null).get(10, TimeUnit.SECONDS);
      }
      assertTrue(published, "the producer keeps publishing after a refusal");
    }
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer("batched", "ch", new ClientConfig().maxInFlight(100), got::add);
    consumer.connectToNsqd(tcp);
    try {
      List<String> bodies = take(got, 96);
      assertTrue(bodies.contains("after"));
      assertTrue(bodies.contains("b0") && bodies.contains("b94"));
    } finally {
      consumer.stop();
    }
  }

  @Test
  void aFailingHandlerRequeuesAndMaxAttemptsFinsWithoutTheHandler() throws Exception {
    List<Integer> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
    ClientConfig cfg = new ClientConfig().maxAttempts(3).defaultRequeueDelay(Duration.ZERO).backoffMultiplier(Duration.ofMillis(1));
    Consumer consumer = new Consumer("failing", "ch", cfg, m -> {
      attempts.add(m.attempts());
      throw new IllegalStateException("no");
    });
    try (Producer producer = new Producer(tcp)) {
      producer.publish("failing", "poison").get(10, TimeUnit.SECONDS);
      consumer.connectToNsqd(tcp);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (consumer.stats().finished() == 0 && System.nanoTime() < deadline) Thread.onSpinWait();
      assertEquals(List.of(1, 2, 3), attempts, "the handler sees attempts 1..max_attempts");
      assertEquals(1, consumer.stats().finished(), "the 4th delivery is FINed without the handler");
      assertEquals(3, consumer.stats().requeued());
    } finally {
      consumer.stop();
    }
  }

  @Test
  void consumerFindsNodesThroughLookupd() throws Exception {
    try (Producer producer = new Producer(tcp)) {
      producer.publish("discovered", "via lookupd").get(10, TimeUnit.SECONDS);
    }
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer("discovered", "ch", new ClientConfig(), got::add);
    consumer.connectToNsqLookupd("127.0.0.1:" + node.lookupHttpAddress().getPort());
    try {
      assertEquals(List.of("via lookupd"), take(got, 1));
    } finally {
      consumer.stop();
    }
  }

  @Test
  void idleConnectionsAnswerHeartbeatsAndStayUp() throws Exception {
    ClientConfig cfg = new ClientConfig().set("heartbeat_interval", "1s");   // nsqd's smallest
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer("heartbeats", "ch", cfg, got::add);
    try (Producer producer = new Producer(List.of(tcp), cfg)) {
      producer.publish("heartbeats", "before").get(10, TimeUnit.SECONDS);
      consumer.connectToNsqd(tcp);
      assertEquals(List.of("before"), take(got, 1));
      Thread.sleep(3500);   // idle for more than two heartbeat intervals: only NOPs keep the connections
      producer.publish("heartbeats", "after").get(10, TimeUnit.SECONDS);
      assertEquals(List.of("after"), take(got, 1));
      assertEquals(1, consumer.stats().connections());
      assertEquals(2, consumer.stats().received(), "no redelivery, no second connection");
    } finally {
      consumer.stop();
    }
  }

  @Test
  void producerFailsOverToTheNextAddress() throws Exception {
    try (Producer producer = new Producer(List.of("127.0.0.1:1", tcp), new ClientConfig())) {
      CompletableFuture<Void> first = producer.publish("failover", "x");
      // the first address refuses; the producer takes the next one at once
      first.get(10, TimeUnit.SECONDS);
      producer.publish("failover", "y").get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void badAddressesAndUnreachableNodesFailClearly() {
    assertThrows(IllegalArgumentException.class, () -> new Producer("no-port"));
    try (Producer p = new Producer(List.of("127.0.0.1:1"), new ClientConfig().holdTimeout(Duration.ofMillis(200)))) {
      CompletionException e = assertThrows(CompletionException.class, () -> p.publish("t", "x").join());
      assertTrue(e.getCause().getMessage().contains("cannot connect"), e.getCause().getMessage());
      assertTrue(e.getCause().getMessage().contains("hold_timeout"), e.getCause().getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new ClientConfig().set("max_in_flight", "many"));
    assertThrows(IllegalArgumentException.class, () -> new ClientConfig().setOption("no_such_option,1"));
    assertEquals(Duration.ofMillis(1500), ClientConfig.parseDuration("1.5s"));
    assertEquals(Duration.ofSeconds(90), ClientConfig.parseDuration("1m30s"));
  }
}
