package io.jnsq.metrics;

import io.jnsq.broker.Stats;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lines nsqd sends to statsd, under nsqd's names: {@code <prefix><stat>:<value>|c} for counters
 * (the growth since the previous push) and {@code |g} for gauges, each ending in a newline, batched into
 * UDP packets. Pure functions, so the pusher actor only sends.
 */
final class StatsdFormat {
  private StatsdFormat() {}

  /**
   * nsqd's prefix: every {@code %s} becomes this node's {@code broadcast-address:http-port} with
   * {@code .} and {@code :} turned into {@code _}, and a final {@code .} is added when missing.
   */
  static String prefix(String pattern, String broadcastAddress, int httpPort) {
    if (pattern.isEmpty()) return "";
    String hostPort = (broadcastAddress.contains(":") ? "[" + broadcastAddress + "]" : broadcastAddress) + ":" + httpPort;
    String prefix = pattern.replace("%s", hostPort.replace('.', '_').replace(':', '_'));
    return prefix.endsWith(".") ? prefix : prefix + ".";
  }

  /** The topic and channel lines of one push; a topic or channel absent from {@code previous} counts from 0. */
  /** {@code --statsd-exclude-ephemeral}: the topics and channels whose names end in #ephemeral left out. */
  static List<Stats.Topic> withoutEphemeral(List<Stats.Topic> topics) {
    List<Stats.Topic> out = new ArrayList<>();
    for (Stats.Topic t : topics) {
      if (t.name().endsWith("#ephemeral")) continue;
      List<Stats.Channel> channels = new ArrayList<>();
      for (Stats.Channel c : t.channels()) if (!c.name().endsWith("#ephemeral")) channels.add(c);
      out.add(new Stats.Topic(t.name(), List.copyOf(channels), t.depth(), t.backendDepth(), t.messageCount(),
          t.messageBytes(), t.paused(), t.e2eLatency(), t.corruptCount()));
    }
    return out;
  }

  static List<String> topicLines(String prefix, List<Stats.Topic> previous, List<Stats.Topic> current) {
    Map<String, Stats.Topic> before = new HashMap<>();
    for (Stats.Topic t : previous) before.put(t.name(), t);
    List<String> out = new ArrayList<>();
    for (Stats.Topic t : current) {
      Stats.Topic last = before.get(t.name());
      String p = prefix + "topic." + t.name() + ".";
      out.add(counter(p + "message_count", t.messageCount(), last == null ? 0 : last.messageCount()));
      out.add(counter(p + "message_bytes", t.messageBytes(), last == null ? 0 : last.messageBytes()));
      out.add(gauge(p + "depth", t.depth()));
      out.add(gauge(p + "backend_depth", t.backendDepth()));
      latency(out, p, t.e2eLatency());
      Map<String, Stats.Channel> lastChannels = new HashMap<>();
      if (last != null) for (Stats.Channel c : last.channels()) lastChannels.put(c.name(), c);
      for (Stats.Channel c : t.channels()) {
        Stats.Channel lc = lastChannels.get(c.name());
        String cp = p + "channel." + c.name() + ".";
        out.add(counter(cp + "message_count", c.messageCount(), lc == null ? 0 : lc.messageCount()));
        out.add(gauge(cp + "depth", c.depth()));
        out.add(gauge(cp + "backend_depth", c.backendDepth()));
        out.add(gauge(cp + "in_flight_count", c.inFlightCount()));
        out.add(gauge(cp + "deferred_count", c.deferredCount()));
        out.add(counter(cp + "requeue_count", c.requeueCount(), lc == null ? 0 : lc.requeueCount()));
        out.add(counter(cp + "timeout_count", c.timeoutCount(), lc == null ? 0 : lc.timeoutCount()));
        out.add(gauge(cp + "clients", c.clientCount()));
        latency(out, cp, c.e2eLatency());
      }
    }
    return out;
  }

  /**
   * nsqd's {@code mem.*} lines from {@link MemoryStats#read()}: the JVM's heap under Go's names (see
   * there), and {@code mem.gc_runs} as the collections since the previous push.
   */
  static List<String> memLines(String prefix, Map<String, Long> memory, long previousGcRuns) {
    List<String> out = new ArrayList<>();
    for (String key : List.of("heap_objects", "heap_idle_bytes", "heap_in_use_bytes", "heap_released_bytes",
        "gc_pause_usec_100", "gc_pause_usec_99", "gc_pause_usec_95", "next_gc_bytes")) {
      out.add(gauge(prefix + "mem." + key, memory.get(key)));
    }
    out.add(counter(prefix + "mem.gc_runs", memory.get("gc_total_runs"), previousGcRuns));
    return out;
  }

  /**
   * Lines packed into packets of at most {@code size} bytes, each line ending in a newline, in order. A
   * line longer than {@code size} on its own still goes out, alone (as with nsqd).
   */
  static List<byte[]> packets(List<String> lines, int size) {
    List<byte[]> out = new ArrayList<>();
    ByteArrayOutputStream packet = new ByteArrayOutputStream(size);
    for (String line : lines) {
      byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
      if (packet.size() > 0 && packet.size() + bytes.length > size) {
        out.add(packet.toByteArray());
        packet.reset();
      }
      packet.write(bytes, 0, bytes.length);
    }
    if (packet.size() > 0) out.add(packet.toByteArray());
    return out;
  }

  /**
   * {@code e2e_processing_latency_<q × 100, no decimals>} in nanoseconds, per configured quantile. The
   * rounding is Go's {@code %.0f} (half to even on the exact binary value), so 0.999 is {@code _100}.
   */
  private static void latency(List<String> out, String p, Stats.Latency l) {
    if (l.percentiles() == null) return;
    for (Stats.Quantile q : l.percentiles()) {
      String pct = new BigDecimal(q.quantile() * 100.0).setScale(0, RoundingMode.HALF_EVEN).toPlainString();
      out.add(gauge(p + "e2e_processing_latency_" + pct, q.valueNanos()));
    }
  }

  /** A counter's growth; a figure below the previous one means the counter started again (a topic re-created). */
  private static String counter(String stat, long now, long before) {
    return stat + ":" + (now >= before ? now - before : now) + "|c";
  }

  private static String gauge(String stat, long value) { return stat + ":" + value + "|g"; }
}
