package io.jnsq.jepsen;

import io.jnsq.jepsen.History.Op;
import io.jnsq.jepsen.History.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Sorts every message of a run's {@link History} as Jepsen's queue checker does. For each message id:
 * <ul>
 *   <li><b>lost</b>: acknowledged, never delivered — the one outcome a broker must never have;</li>
 *   <li><b>duplicated</b>: delivered more than once (at-least-once allows it, within bounds);</li>
 *   <li><b>unexpected</b>: delivered without an attempt recorded before it — a message nobody sent;</li>
 *   <li><b>recovered</b>: attempted, not acknowledged (error, timeout, broken connection), yet delivered;</li>
 *   <li><b>unacknowledged and undelivered</b>: attempted, never acknowledged, never delivered — allowed.</li>
 * </ul>
 * It also says whether each duplicate is <b>explained</b>: NSQ delivers a message again only when the
 * consumer that had it in flight lost it (its connection broke, or the node died), so two deliveries of
 * one id must be separated by a {@link Type#FAULT} or by a {@link Type#DISCONNECT} of the consumer that
 * had the first, while that delivery was still unfinished. A FIN is never answered and a node saves it
 * shortly after it arrives, so a FIN sent less than {@code finSlack} before the fault still counts as
 * unfinished. Unexplained duplicates mean the broker replayed history it had already finished.
 * Pure: the same history always gives the same result.
 */
public final class Checker {
  private Checker() {}

  /**
   * What one fault did: how many messages it left exposed (delivered and not finished {@code finSlack}
   * before it) and redelivered, how long before it the latest FIN it undid was sent (NaN if it undid
   * none), and how long until it was healed and until publishing worked again.
   */
  public record FaultReport(String fault, long index, int exposed, int redelivered, double latestLostFinMillis,
      double secondsToHeal, double secondsToFirstAck) {}

  /** The sorted messages of a run. Sets are sorted, so reports and test failures read the same every time. */
  public record Result(int attempted, int acknowledged, int failedAttempts, long deliveries, int deliveredDistinct,
      Set<String> lost, Map<String, Integer> duplicated, Set<String> unexpected, Set<String> recovered,
      Set<String> unacknowledgedUndelivered, Set<String> reattempted, Set<String> unexplainedDuplicates,
      List<FaultReport> faults) {

    /** Deliveries beyond the first, over all messages. */
    public long redeliveries() {
      return duplicated.values().stream().mapToLong(n -> n - 1).sum();
    }

    /** Messages left exposed by all faults together: the bound on what may be redelivered. */
    public long exposed() {
      return faults.stream().mapToLong(FaultReport::exposed).sum();
    }

    /** The longest time from a fault until a publish attempted after it was acknowledged (NaN if none was). */
    public double worstSecondsToFirstAck() {
      return faults.stream().mapToDouble(FaultReport::secondsToFirstAck).max().orElse(Double.NaN);
    }

    public String summary() {
      StringBuilder s = new StringBuilder(String.format(
          "%d attempted, %d acknowledged, %d failed attempts, %d deliveries of %d messages; lost %d, duplicated %d "
              + "(%d redeliveries, %d unexplained), unexpected %d, recovered %d, unacknowledged and undelivered %d",
          attempted, acknowledged, failedAttempts, deliveries, deliveredDistinct, lost.size(), duplicated.size(),
          redeliveries(), unexplainedDuplicates.size(), unexpected.size(), recovered.size(),
          unacknowledgedUndelivered.size()));
      for (FaultReport f : faults) {
        s.append(String.format("%n  %s: %d exposed, %d redelivered (a FIN sent %.1f ms before it undone at worst), "
            + "healed after %.2f s, publishes OK again after %.2f s", f.fault(), f.exposed(), f.redelivered(),
            f.latestLostFinMillis(), f.secondsToHeal(), f.secondsToFirstAck()));
      }
      return s.toString();
    }
  }

  /** One message's operations, in history order. */
  private static final class Trace {
    final List<Op> attempts = new ArrayList<>();
    final List<Op> deliveries = new ArrayList<>();
    final List<Op> fins = new ArrayList<>();
    boolean acked;
  }

  public static Result check(List<Op> history, Duration finSlack) {
    List<Op> ops = new ArrayList<>(history);
    ops.sort((a, b) -> Long.compare(a.index(), b.index()));
    Map<String, Trace> traces = new LinkedHashMap<>();
    List<Op> faults = new ArrayList<>();
    List<Op> heals = new ArrayList<>();
    List<Op> boundaries = new ArrayList<>();   // faults and disconnects, in order
    List<Op> acks = new ArrayList<>();
    int failed = 0;
    long deliveries = 0;
    for (Op op : ops) {
      switch (op.type()) {
        case ATTEMPT -> trace(traces, op).attempts.add(op);
        case ACK -> {
          trace(traces, op).acked = true;
          acks.add(op);
        }
        case FAIL -> failed++;
        case DELIVER -> {
          trace(traces, op).deliveries.add(op);
          deliveries++;
        }
        case FIN -> trace(traces, op).fins.add(op);
        case DISCONNECT -> boundaries.add(op);
        case FAULT -> {
          faults.add(op);
          boundaries.add(op);
        }
        case HEAL -> heals.add(op);
        default -> throw new IllegalArgumentException("unknown op " + op);
      }
    }
    long slack = finSlack.toNanos();
    Set<String> lost = new TreeSet<>();
    Map<String, Integer> duplicated = new TreeMap<>();
    Set<String> unexpected = new TreeSet<>();
    Set<String> recovered = new TreeSet<>();
    Set<String> undelivered = new TreeSet<>();
    Set<String> reattempted = new TreeSet<>();
    Set<String> unexplained = new TreeSet<>();
    Map<Long, Integer> redeliveredByFault = new HashMap<>();
    Map<Long, Long> finLeadByFault = new HashMap<>();   // the shortest time from a lost FIN to its fault
    int attempted = 0;
    int acknowledged = 0;
    int deliveredDistinct = 0;
    for (Map.Entry<String, Trace> e : traces.entrySet()) {
      String id = e.getKey();
      Trace t = e.getValue();
      boolean delivered = !t.deliveries.isEmpty();
      if (!t.attempts.isEmpty()) attempted++;
      if (t.attempts.size() > 1) reattempted.add(id);
      if (t.acked) acknowledged++;
      if (delivered) deliveredDistinct++;
      if (delivered && (t.attempts.isEmpty() || t.attempts.get(0).index() > t.deliveries.get(0).index())) {
        unexpected.add(id);
      } else if (!t.attempts.isEmpty()) {
        if (t.acked && !delivered) lost.add(id);
        if (!t.acked && delivered) recovered.add(id);
        if (!t.acked && !delivered) undelivered.add(id);
      }
      if (t.deliveries.size() > 1) {
        duplicated.put(id, t.deliveries.size());
        for (int i = 1; i < t.deliveries.size(); i++) {
          Op first = t.deliveries.get(i - 1);
          Op explainedBy = explanation(first, t.deliveries.get(i), t.fins, boundaries, slack);
          if (explainedBy == null) {
            unexplained.add(id);
          } else {
            long fault = faultOf(explainedBy, faults);
            redeliveredByFault.merge(fault, 1, Integer::sum);
            Op fin = finBefore(first, t.fins, explainedBy);
            if (fin != null) finLeadByFault.merge(fault, explainedBy.nanos() - fin.nanos(), Math::min);
          }
        }
      }
    }
    List<FaultReport> reports = new ArrayList<>();
    for (Op f : faults) {
      reports.add(new FaultReport(f.info(), f.index(), exposedAt(f, traces.values(), slack),
          redeliveredByFault.getOrDefault(f.index(), 0),
          finLeadByFault.containsKey(f.index()) ? finLeadByFault.get(f.index()) / 1e6 : Double.NaN,
          secondsToHeal(f, heals), secondsToFirstAck(f, acks, traces)));
    }
    return new Result(attempted, acknowledged, failed, deliveries, deliveredDistinct, lost, duplicated, unexpected,
        recovered, undelivered, reattempted, unexplained, List.copyOf(reports));
  }

  private static Trace trace(Map<String, Trace> traces, Op op) {
    if (op.id() == null) throw new IllegalArgumentException("an operation on a message needs its id: " + op);
    return traces.computeIfAbsent(op.id(), k -> new Trace());
  }

  /**
   * The first boundary between two deliveries that could have caused the second: a fault, or the
   * first delivery's consumer disconnecting, at a moment when that delivery was not yet finished.
   */
  private static Op explanation(Op first, Op second, List<Op> fins, List<Op> boundaries, long slack) {
    for (Op b : boundaries) {
      if (b.index() <= first.index()) continue;
      if (b.index() >= second.index()) break;
      boolean relevant = b.type() == Type.FAULT || b.process().equals(first.process());
      if (relevant && !finishedBefore(first, fins, b, slack)) return b;
    }
    return null;
  }

  /** Whether a FIN for this delivery was sent more than {@code slack} before {@code moment}. */
  private static boolean finishedBefore(Op delivery, List<Op> fins, Op moment, long slack) {
    for (Op fin : fins) {
      if (fin.index() > delivery.index() && fin.index() < moment.index() && fin.nanos() < moment.nanos() - slack) {
        return true;
      }
    }
    return false;
  }

  /** The first FIN sent for this delivery before {@code moment}, or null. */
  private static Op finBefore(Op delivery, List<Op> fins, Op moment) {
    for (Op fin : fins) {
      if (fin.index() > delivery.index() && fin.index() < moment.index()) return fin;
    }
    return null;
  }

  /** The last fault at or before a boundary: a disconnect counts for the fault that preceded it. */
  private static long faultOf(Op boundary, List<Op> faults) {
    long fault = -1;
    for (Op f : faults) {
      if (f.index() <= boundary.index()) fault = f.index();
    }
    return fault;
  }

  /** Messages whose latest delivery before the fault was not finished more than {@code slack} before it. */
  private static int exposedAt(Op fault, Iterable<Trace> traces, long slack) {
    int exposed = 0;
    for (Trace t : traces) {
      Op latest = null;
      for (Op d : t.deliveries) {
        if (d.index() < fault.index()) latest = d;
      }
      if (latest != null && !finishedBefore(latest, t.fins, fault, slack)) exposed++;
    }
    return exposed;
  }

  private static double secondsToHeal(Op fault, List<Op> heals) {
    for (Op h : heals) {
      if (h.index() > fault.index()) return (h.nanos() - fault.nanos()) / 1e9;
    }
    return Double.NaN;
  }

  /** Time from the fault to the first acknowledgement of a message first attempted after it. */
  private static double secondsToFirstAck(Op fault, List<Op> acks, Map<String, Trace> traces) {
    for (Op ack : acks) {
      if (ack.index() <= fault.index()) continue;
      for (Op attempt : traces.get(ack.id()).attempts) {
        if (attempt.index() > fault.index() && attempt.index() < ack.index()) return (ack.nanos() - fault.nanos()) / 1e9;
      }
    }
    return Double.NaN;
  }
}
