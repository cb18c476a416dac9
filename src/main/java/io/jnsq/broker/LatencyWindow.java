package io.jnsq.broker;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * End-to-end processing latency (publish timestamp to FIN) over a sliding window, for nsqd's
 * {@code e2e_processing_latency}. The window is cut into four buckets that rotate, so a figure covers
 * between three and four quarters of {@code --e2e-processing-latency-window-time}. Owned by one actor.
 */
final class LatencyWindow {
  private static final int BUCKETS = 4;
  private final List<Double> quantiles;
  private final long bucketNanos;
  private final Histogram[] buckets = new Histogram[BUCKETS];
  private long bucketStart;
  private int current;

  LatencyWindow(List<Double> quantiles, long windowNanos, long now) {
    this.quantiles = List.copyOf(quantiles);
    this.bucketNanos = Math.max(1, windowNanos / BUCKETS);
    this.bucketStart = now;
    if (enabled()) for (int i = 0; i < BUCKETS; i++) buckets[i] = new Histogram(3);
  }

  boolean enabled() { return !quantiles.isEmpty(); }

  void record(long latencyNanos, long now) {
    if (!enabled()) return;
    rotate(now);
    buckets[current].recordValue(Math.max(0, latencyNanos));
  }

  Stats.Latency snapshot(long now) {
    if (!enabled()) return Stats.Latency.NONE;
    rotate(now);
    Histogram all = new Histogram(3);
    for (Histogram h : buckets) all.add(h);
    List<Stats.Quantile> out = new ArrayList<>(quantiles.size());
    for (double q : quantiles) {
      long value = all.getTotalCount() == 0 ? 0 : all.getValueAtPercentile(q * 100.0);
      out.add(new Stats.Quantile(q, value));
    }
    return new Stats.Latency(all.getTotalCount(), out);
  }

  /**
   * A topic's figure from its channels': counts add up, and each quantile is the largest of the
   * channels' values (an upper bound; exact merging would need the channels' histograms).
   */
  static Stats.Latency combine(List<Double> quantiles, List<Stats.Latency> parts) {
    if (quantiles.isEmpty()) return Stats.Latency.NONE;
    long count = 0;
    long[] worst = new long[quantiles.size()];
    for (Stats.Latency p : parts) {
      if (p.percentiles() == null) continue;
      count += p.count();
      for (int i = 0; i < worst.length && i < p.percentiles().size(); i++) {
        worst[i] = Math.max(worst[i], p.percentiles().get(i).valueNanos());
      }
    }
    List<Stats.Quantile> out = new ArrayList<>();
    for (int i = 0; i < worst.length; i++) out.add(new Stats.Quantile(quantiles.get(i), worst[i]));
    return new Stats.Latency(count, out);
  }

  private void rotate(long now) {
    long elapsed = now - bucketStart;
    if (elapsed < bucketNanos) return;
    long steps = Math.min(BUCKETS, elapsed / bucketNanos);
    for (int i = 0; i < steps; i++) {
      current = (current + 1) % BUCKETS;
      buckets[current].reset();
    }
    bucketStart += (elapsed / bucketNanos) * bucketNanos;
  }
}
