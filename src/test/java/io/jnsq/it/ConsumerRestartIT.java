package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Producer;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM client's consumer under a node killed with SIGKILL (no clean close, no CLS) and started
 * again on the same ports: it notices the dead connection, redials with backoff, subscribes again and
 * receives what is published after the restart, and what a producer that lived through the kill held
 * while the node was down.
 */
class ConsumerRestartIT {
  private static final List<String> JVM = List.of("-Xmx256m");

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aConsumerReconnectsToANodeKilledAndRestarted(@TempDir Path dir) throws Exception {
    Set<String> got = ConcurrentHashMap.newKeySet();
    NodeProcess node = NodeProcess.start(dir, JVM, List.of());
    NodeProcess again = null;
    Consumer consumer = new Consumer("restarts", "ch", new ClientConfig().maxInFlight(50), m -> got.add(m.bodyAsString()));
    try {
      String address = "127.0.0.1:" + node.tcp.getPort();
      consumer.connectToNsqd(address);
      try (Producer producer = new Producer(address)) {
        for (int i = 0; i < 100; i++) producer.publish("restarts", "before-" + i).get(10, TimeUnit.SECONDS);
      }
      awaitCount(got, 100, 30);

      // one producer lives through the kill: what it is given while the node is down, it holds
      Producer survivor = new Producer(List.of(address), new ClientConfig().holdTimeout(java.time.Duration.ofSeconds(90)));
      try {
        survivor.publish("restarts", "warm-up").get(10, TimeUnit.SECONDS);
        node.kill9();
        awaitConnections(consumer, 0, 30);   // the reader saw the socket die
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (survivor.isConnected() && System.nanoTime() < until) Thread.sleep(20);
        List<java.util.concurrent.CompletableFuture<Void>> held = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) held.add(survivor.publish("restarts", "down-" + i));

        again = node.restart(dir, JVM, List.of());
        awaitConnections(consumer, 1, 60);   // redialled and subscribed again
        java.util.concurrent.CompletableFuture.allOf(held.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
            .get(60, TimeUnit.SECONDS);
        try (Producer producer = new Producer(address)) {
          for (int i = 0; i < 100; i++) producer.publish("restarts", "after-" + i).get(10, TimeUnit.SECONDS);
        }
      } finally {
        survivor.close();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!(got.containsAll(expected("after-")) && got.containsAll(expected("down-"))) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(got.containsAll(expected("after-")), "published after the restart: " + count(got, "after-"));
      assertTrue(got.containsAll(expected("down-")), "held by the producer while the node was down: " + count(got, "down-"));
      assertTrue(got.containsAll(expected("before-")));
    } finally {
      consumer.stop();
      node.close();
      if (again != null) again.close();
    }
  }

  private static long count(Set<String> got, String prefix) {
    return got.stream().filter(s -> s.startsWith(prefix)).count();
  }

  private static Set<String> expected(String prefix) {
    Set<String> s = new java.util.HashSet<>();
    for (int i = 0; i < 100; i++) s.add(prefix + i);
    return s;
  }

  private static void awaitCount(Set<String> got, int n, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (got.size() < n && System.nanoTime() < deadline) Thread.sleep(50);
    assertEquals(n, got.size());
  }

  private static void awaitConnections(Consumer consumer, int n, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (consumer.stats().connections() != n && System.nanoTime() < deadline) Thread.sleep(50);
    assertEquals(n, consumer.stats().connections(), "connections");
  }
}
