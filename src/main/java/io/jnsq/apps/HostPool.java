package io.jnsq.apps;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Picks the upstream of nsq_to_http/nsq_to_nsq: {@code round-robin} cycles through every address;
 * {@code hostpool} (and {@code epsilon-greedy}) cycles through the ones that are up, as go-hostpool
 * does: a failed host is left out for 30 s, doubling up to 15 min, and if all are out all are tried again.
 */
final class HostPool {
  private static final long INITIAL_RETRY_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long MAX_RETRY_NANOS = TimeUnit.MINUTES.toNanos(15);

  private final List<String> hosts;
  private final boolean pool;
  private final long[] deadUntil;
  private final long[] retryDelay;
  private int next;

  HostPool(List<String> hosts, String mode) {
    if (hosts.isEmpty()) throw new IllegalArgumentException("no upstream address");
    this.hosts = List.copyOf(hosts);
    this.pool = !mode.equals("round-robin");
    this.deadUntil = new long[hosts.size()];
    this.retryDelay = new long[hosts.size()];
  }

  static boolean validMode(String mode) {
    return mode.equals("round-robin") || mode.equals("hostpool") || mode.equals("epsilon-greedy");
  }

  /** The index of the host to use next. */
  synchronized int pick() {
    int n = hosts.size();
    if (pool) {
      long now = System.nanoTime();
      for (int k = 0; k < n; k++) {
        int i = (next + k) % n;
        if (deadUntil[i] <= now) {
          next = i + 1;
          return i;
        }
      }
      java.util.Arrays.fill(deadUntil, 0);   // every host is down: try them all again
    }
    return next++ % n;
  }

  String host(int i) { return hosts.get(i); }

  int size() { return hosts.size(); }

  /** Records the outcome of a request to host {@code i}. */
  synchronized void mark(int i, boolean ok) {
    if (!pool) return;
    if (ok) {
      retryDelay[i] = 0;
      deadUntil[i] = 0;
    } else {
      retryDelay[i] = retryDelay[i] == 0 ? INITIAL_RETRY_NANOS : Math.min(MAX_RETRY_NANOS, retryDelay[i] * 2);
      deadUntil[i] = System.nanoTime() + retryDelay[i];
    }
  }
}
