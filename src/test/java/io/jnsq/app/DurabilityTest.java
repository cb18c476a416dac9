package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.it.Load;
import io.jnsq.storage.MemoryStorage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code --durable} against simulated power cuts: the store keeps only what was fsync'd (plus a random
 * torn part of the rest), taken at a random moment while producers publish and a consumer works.
 * Every acknowledged message that was not finished before the cut must come back.
 */
class DurabilityTest {

  static Node start(MemoryStorage storage, Map<String, Object> extra) {
    Map<String, Object> all = new HashMap<>(Map.of("jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0", "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0",
        "jnsq.durable", true, "jnsq.mem-queue-size", 100, "jnsq.max-bytes-per-file", 64 * 1024, "pekko.loglevel", "WARNING"));
    extra.forEach((k, v) -> all.put("jnsq." + k, v));
    return Node.start(Node.loadConfig(null, all), storage).toCompletableFuture().join();
  }

  @Test
  void repeatedPowerCutsLoseNoAcknowledgedMessage() throws Exception {
    Random random = new Random(20261126);
    MemoryStorage storage = new MemoryStorage();
    Set<String> mustSurvive = new HashSet<>();
    Set<String> finishedEver = new HashSet<>();
    long totalAcked = 0;
    for (int round = 0; round < 3; round++) {
      Node node = start(storage, Map.of());
      assertEquals(200, NodeClient.post(node.httpAddress(), "/topic/create?topic=orders", "").statusCode());
      assertEquals(200, NodeClient.post(node.httpAddress(), "/channel/create?topic=orders&channel=work", "").statusCode());
      Set<String> acked = ConcurrentHashMap.newKeySet();
      Set<String> finished = ConcurrentHashMap.newKeySet();
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      for (int p = 0; p < 3; p++) threads.add(Load.producer(node.tcpAddress(), "orders", "r" + round + "p" + p, acked, stop, 20_000));
      threads.add(Load.halfFinisher(node.tcpAddress(), "orders", "work", finished, stop));
      Thread.sleep(300 + random.nextInt(700));
      // What was acknowledged before the cut must be in the copy; copy the sets first.
      Set<String> ackedBefore = new HashSet<>(acked);
      Set<String> finishedBefore = new HashSet<>(finished);
      MemoryStorage afterCut = storage.crashCopy(random);
      stop.set(true);
      node.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
      for (Thread t : threads) t.join(10_000);
      totalAcked += ackedBefore.size();
      mustSurvive.addAll(ackedBefore);
      finishedEver.addAll(finishedBefore);
      storage = afterCut;
    }
    mustSurvive.removeAll(finishedEver);
    Node last = start(storage, Map.of());
    try {
      List<NodeClient.Received> got = NodeClient.drain(last.tcpAddress(), "orders", "work", 3000, 1_000_000);
      Map<String, Integer> seen = new HashMap<>();
      for (NodeClient.Received r : got) seen.merge(r.body(), 1, Integer::sum);
      Set<String> lost = new HashSet<>(mustSurvive);
      lost.removeAll(seen.keySet());
      long duplicates = seen.values().stream().mapToInt(v -> v - 1).sum();
      System.out.printf("durability: %d acknowledged over 3 cuts, %d unfinished at their cut, %d delivered after, "
          + "%d lost, %d duplicates, %d redelivered although finished before a cut%n", totalAcked, mustSurvive.size(),
          got.size(), lost.size(), duplicates, seen.keySet().stream().filter(finishedEver::contains).count());
      assertTrue(totalAcked > 100, "the producers got going: " + totalAcked);
      long finishedAgain = seen.keySet().stream().filter(finishedEver::contains).count();
      assertTrue(finishedAgain <= 3 * 2000, "redelivered although finished before a cut: " + finishedAgain);
      assertEquals(Set.of(), lost.size() > 20 ? Set.of(lost.size() + " messages, e.g. " + lost.iterator().next()) : lost,
          "acknowledged messages lost by a power cut");
    } finally {
      last.stop().toCompletableFuture().join();
    }
  }
}
