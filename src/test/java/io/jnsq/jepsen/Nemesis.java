package io.jnsq.jepsen;

import io.jnsq.jepsen.History.Type;
import java.time.Duration;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Runs a workload through rounds of faults and checks the history: each round waits a while (jittered
 * by a seed, so faults land at different moments of publishing and consuming), injects the round's
 * fault, holds it for {@code faultFor}, heals it, and waits until a publish attempted after the fault
 * is acknowledged again. After the last round producers stop, consumers drain until quiet, and the
 * {@link Checker} sorts every message.
 */
public final class Nemesis {
  private Nemesis() {}

  /** The schedule of one run. Every wait is bounded. */
  public record Plan(int rounds, Duration before, Duration faultFor, Duration recoverLimit, Duration drainQuiet,
      Duration drainLimit, Duration finSlack, long seed) {
    /**
     * {@code rounds} rounds, 0.75–2.25 s of traffic before each fault, the fault healed at once (a restart
     * takes its own time). A FIN sent less than 250 ms before a fault may be undone by it: a --durable
     * node fsyncs a channel's cursor after FINs, at most two fsyncs later (measured: within 6 ms here).
     */
    public static Plan rounds(int rounds) {
      return new Plan(rounds, Duration.ofMillis(1500), Duration.ZERO, Duration.ofSeconds(20), Duration.ofMillis(1500),
          Duration.ofSeconds(15), Duration.ofMillis(250), 13);
    }
    public Plan holding(Duration d) { return new Plan(rounds, before, d, recoverLimit, drainQuiet, drainLimit, finSlack, seed); }
    public Plan before(Duration d) { return new Plan(rounds, d, faultFor, recoverLimit, drainQuiet, drainLimit, finSlack, seed); }
    public Plan seed(long s) { return new Plan(rounds, before, faultFor, recoverLimit, drainQuiet, drainLimit, finSlack, s); }
  }

  /** A checked run, with what the nemesis saw go wrong beside the checker's verdict. */
  public record Outcome(Checker.Result result, boolean drained, int roundsNotRecovered, double seconds) {
    public String summary() {
      return String.format("%s%n  %.1f s, drained: %s, rounds where publishing did not come back within the limit: %d",
          result.summary(), seconds, drained, roundsNotRecovered);
    }
  }

  /**
   * Runs {@code plan.rounds()} rounds; round {@code r}'s fault is {@code faults.apply(r)} (so a round can
   * pick its target, say the leader of that moment). The workload must not be started yet.
   */
  public static Outcome run(History history, Workload workload, Plan plan, IntFunction<Fault> faults) throws Exception {
    long start = System.nanoTime();
    Random random = new Random(plan.seed());
    int notRecovered = 0;
    workload.start();
    try {
      for (int r = 0; r < plan.rounds(); r++) {
        long beforeMillis = plan.before().toMillis();
        Thread.sleep(beforeMillis / 2 + (beforeMillis > 0 ? random.nextLong(beforeMillis) : 0));
        Fault fault = faults.apply(r);
        long faultNanos = history.record(Type.FAULT, "nemesis", null, fault.name()).nanos();
        fault.inject();
        if (!plan.faultFor().isZero()) Thread.sleep(plan.faultFor().toMillis());
        fault.heal();
        history.record(Type.HEAL, "nemesis", null, fault.name());
        if (!workload.awaitAckOfAttemptAfter(faultNanos, plan.recoverLimit())) notRecovered++;
      }
      workload.stopProducers();
      boolean drained = workload.awaitDrained(plan.drainQuiet(), plan.drainLimit());
      workload.stopConsumers();
      Checker.Result result = Checker.check(history.ops(), plan.finSlack());
      return new Outcome(result, drained, notRecovered, (System.nanoTime() - start) / 1e9);
    } finally {
      workload.close();
    }
  }
}
