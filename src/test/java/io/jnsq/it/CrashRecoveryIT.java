package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real node processes stopped the hard way while producers publish and a consumer leaves half its
 * messages in flight: kill -9 in durable mode (repeated), and SIGTERM in the default mode.
 */
class CrashRecoveryIT {
  private static final List<String> JVM = List.of("-Xmx512m");

  private record Outcome(long acked, long required, long delivered, long lost, long duplicates, String example) {}

  /** Runs {@code rounds} of publish-and-stop, then drains the channel of a fresh node and compares. */
  private static Outcome run(Path dir, List<String> flags, int rounds, boolean kill, long seed) throws Exception {
    Random random = new Random(seed);
    Set<String> required = new HashSet<>();
    Set<String> finishedEver = new HashSet<>();
    long ackedTotal = 0;
    for (int round = 0; round < rounds; round++) {
      try (NodeProcess node = NodeProcess.start(dir, JVM, flags)) {
        assertEquals(200, node.post("/topic/create?topic=orders", "").statusCode());
        assertEquals(200, node.post("/channel/create?topic=orders&channel=work", "").statusCode());
        Set<String> acked = ConcurrentHashMap.newKeySet();
        Set<String> finished = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < 3; p++) threads.add(Load.producer(node.tcp, "orders", "r" + round + "p" + p, acked, stop, 2_000_000));
        threads.add(Load.halfFinisher(node.tcp, "orders", "work", finished, stop));
        Thread.sleep(1500 + random.nextInt(1500));
        if (kill) {
          node.kill9();
        } else {
          int code = node.terminate(90);
          assertTrue(code == 0 || code == 143, "exit code after SIGTERM: " + code);
        }
        stop.set(true);
        for (Thread t : threads) t.join(30_000);
        // Acknowledgements read after the stop were sent before it, so the sets are complete now.
        ackedTotal += acked.size();
        required.addAll(acked);
        finishedEver.addAll(finished);
      }
    }
    required.removeAll(finishedEver);
    try (NodeProcess node = NodeProcess.start(dir, JVM, flags)) {
      Map<String, Integer> seen = new HashMap<>();
      long delivered = Load.drain(node.tcp, "orders", "work", 4000, 50_000_000, seen);
      Set<String> lost = new HashSet<>(required);
      lost.removeAll(seen.keySet());
      long duplicates = seen.values().stream().mapToLong(v -> v - 1).sum();
      node.terminate(60);
      return new Outcome(ackedTotal, required.size(), delivered, lost.size(), duplicates,
          lost.isEmpty() ? "" : lost.iterator().next());
    }
  }

  @Test
  void durableNodesKilledWithSigkillLoseNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    Outcome o = run(dir, List.of("--durable"), 3, true, 11);
    System.out.printf("kill -9 x3, durable: %d acknowledged, %d unfinished when killed, %d delivered after, "
        + "%d lost, %d duplicates%n", o.acked(), o.required(), o.delivered(), o.lost(), o.duplicates());
    assertTrue(o.acked() > 1000, "producers got going: " + o.acked());
    assertEquals(0, o.lost(), "acknowledged messages lost, e.g. " + o.example());
  }

  /**
   * The operator test: five rounds of publishing while a consumer FINs everything, then kill -9
   * and a restart on the same data path. Nothing acknowledged may be lost, and what comes again after a
   * crash must be bounded by what was in flight, not by the history the channel had already finished.
   */
  @Test
  void durableRestartsAfterSigkillRedeliverOnlyWhatWasUnfinished(@TempDir Path dir) throws Exception {
    Random random = new Random(5);
    Set<String> acked = ConcurrentHashMap.newKeySet();
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    long worstRound = 0;
    long before = 0;
    for (int round = 0; round < 5; round++) {
      try (NodeProcess node = NodeProcess.start(dir, JVM, List.of("--durable"))) {
        assertEquals(200, node.post("/topic/create?topic=orders", "").statusCode());
        assertEquals(200, node.post("/channel/create?topic=orders&channel=work", "").statusCode());
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < 2; p++) threads.add(Load.producer(node.tcp, "orders", "r" + round + "p" + p, acked, stop, 2_000_000));
        threads.add(Load.finisher(node.tcp, "orders", "work", seen, stop));
        Thread.sleep(1500 + random.nextInt(1500));
        node.kill9();
        stop.set(true);
        for (Thread t : threads) t.join(30_000);
      }
      long deliveries = seen.values().stream().mapToLong(Integer::longValue).sum();
      long redelivered = deliveries - seen.size();
      worstRound = Math.max(worstRound, redelivered - before);
      before = redelivered;
    }
    try (NodeProcess node = NodeProcess.start(dir, JVM, List.of("--durable"))) {
      Load.drain(node.tcp, "orders", "work", 4000, 50_000_000, seen);
      node.terminate(60);
    }
    Set<String> lost = new HashSet<>(acked);
    lost.removeAll(seen.keySet());
    long deliveries = seen.values().stream().mapToLong(Integer::longValue).sum();
    int most = seen.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    System.out.printf("kill -9 x5, durable, FIN everything: %d acknowledged, %d distinct delivered %d times "
        + "(at most %d times one), worst round %d redeliveries, %d lost%n", acked.size(), seen.size(), deliveries,
        most, worstRound, lost.size());
    assertTrue(acked.size() > 1000, "producers got going: " + acked.size());
    assertEquals(0, lost.size(), "acknowledged messages lost, e.g. " + (lost.isEmpty() ? "" : lost.iterator().next()));
    // RDY 100 in flight, FINs after the last cursor fsync, and the channel's read-ahead: a few thousand at most.
    assertTrue(worstRound <= 10_000, "a crash redelivered " + worstRound + " finished messages");
    assertTrue(most <= 6, "one message delivered " + most + " times in 5 crashes");
  }

  @Test
  void aNodeStoppedWithSigtermDeliversEverythingItAcceptedExactlyOnce(@TempDir Path dir) throws Exception {
    Outcome o = run(dir, List.of(), 2, false, 12);
    System.out.printf("SIGTERM x2, default mode: %d acknowledged, %d unfinished when stopped, %d delivered after, "
        + "%d lost, %d duplicates%n", o.acked(), o.required(), o.delivered(), o.lost(), o.duplicates());
    assertTrue(o.acked() > 1000, "producers got going: " + o.acked());
    assertEquals(0, o.lost(), "acknowledged messages lost, e.g. " + o.example());
    assertEquals(0, o.duplicates(), "a clean stop never duplicates");
  }
}
