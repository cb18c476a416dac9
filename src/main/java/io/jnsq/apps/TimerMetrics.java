package io.jnsq.apps;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * The {@code -status-every} progress lines of nsq_to_http and nsq_to_nsq: after every N requests,
 * {@code <prefix> finished N - 99th: 1.23ms - 95th: 0.98ms - avg: 0.50ms}. N = 0 turns them off.
 */
final class TimerMetrics {
  private final int every;
  private final String prefix;
  private final String app;
  private final PrintStream err;
  private final long[] durations;
  private int n;

  TimerMetrics(int every, String prefix, String app, PrintStream err) {
    this.every = every;
    this.prefix = prefix;
    this.app = app;
    this.err = err;
    this.durations = new long[Math.max(every, 0)];
  }

  /** Records one request that started at {@code startNanos}. */
  synchronized void status(long startNanos) {
    if (every <= 0) return;
    durations[n++] = System.nanoTime() - startNanos;
    if (n < every) return;
    long[] sorted = durations.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (long d : sorted) sum += d;
    Apps.log(err, app, String.format("%s finished %d - 99th: %.02fms - 95th: %.02fms - avg: %.02fms", prefix, every,
        percentile(sorted, 0.99) / 1e6, percentile(sorted, 0.95) / 1e6, sum / every / 1e6));
    n = 0;
  }

  private static double percentile(long[] sorted, double p) {
    int idx = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }
}
