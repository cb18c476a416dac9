package io.jnsq.metrics;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The JVM's figures under the names of nsqd's {@code memory} block (which describes Go's runtime):
 * <ul>
 *   <li>{@code heap_in_use_bytes}: heap used; {@code heap_idle_bytes}: heap committed but unused;
 *       {@code heap_released_bytes}: heap the JVM may still grow into (max − committed);</li>
 *   <li>{@code next_gc_bytes}: heap committed (a collection is due before it is exceeded);</li>
 *   <li>{@code gc_pause_usec_100/99/95}: percentiles of the last 256 collection pauses, in µs;</li>
 *   <li>{@code gc_total_runs}: collections since start;</li>
 *   <li>{@code heap_objects}: the JVM keeps no live-object count; 0.</li>
 * </ul>
 * Pause times come from the collectors' notifications, recorded by listeners of the one instance
 * {@link #jvm()}: the JVM is one per process, however many nodes run in it (tests start many).
 * {@code /stats} and the statsd push both read it.
 */
public final class MemoryStats {
  private static final int KEPT = 256;
  private static MemoryStats jvm;
  private final long[] pausesMicros = new long[KEPT];
  private long recorded;

  /** The process's instance, created (and its listeners added) on first use. */
  public static synchronized MemoryStats jvm() {
    if (jvm == null) jvm = new MemoryStats();
    return jvm;
  }

  private MemoryStats() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener((n, handback) -> {
          if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            record(info.getGcInfo().getDuration() * 1000);
          }
        }, null, null);
      }
    }
  }

  private synchronized void record(long micros) { pausesMicros[(int) (recorded++ % KEPT)] = micros; }

  /** The figures under nsqd's keys, in nsqd's order. */
  public synchronized Map<String, Long> read() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    long max = heap.getMax() < 0 ? heap.getCommitted() : heap.getMax();
    long runs = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) runs += Math.max(0, gc.getCollectionCount());
    long[] pauses = Arrays.copyOf(pausesMicros, (int) Math.min(recorded, KEPT));
    Arrays.sort(pauses);
    Map<String, Long> out = new LinkedHashMap<>();
    out.put("heap_objects", 0L);
    out.put("heap_idle_bytes", heap.getCommitted() - heap.getUsed());
    out.put("heap_in_use_bytes", heap.getUsed());
    out.put("heap_released_bytes", max - heap.getCommitted());
    out.put("gc_pause_usec_100", percentile(pauses, 1.0));
    out.put("gc_pause_usec_99", percentile(pauses, 0.99));
    out.put("gc_pause_usec_95", percentile(pauses, 0.95));
    out.put("next_gc_bytes", heap.getCommitted());
    out.put("gc_total_runs", runs);
    return out;
  }

  private static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) return 0;
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
