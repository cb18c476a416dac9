package io.jnsq.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.broker.ClientInfo;
import io.jnsq.broker.Stats;
import io.jnsq.config.NodeSettings;
import io.jnsq.metrics.MemoryStats;
import io.jnsq.tcp.Connections;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * Renders {@code /stats} as nsqd does: the JSON form with nsqd's keys, key order, types and
 * null-versus-empty rules (tools such as nsqadmin and nsq_stat parse it), and the text form for humans.
 */
final class StatsFormat {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** What one {@code /stats} request asked for and got. */
  record Snapshot(long startTime, String health, List<Stats.Topic> topics, boolean topicMissing, boolean includeClients,
      boolean includeMem, List<Connections.Producer> producers, String topicFilter) {}

  private StatsFormat() {}

  static ObjectNode json(Snapshot s, MemoryStats memory) {
    ObjectNode root = F.objectNode();
    root.put("version", NodeSettings.NSQ_VERSION);
    root.put("health", s.health());
    root.put("start_time", s.startTime());
    if (s.topicMissing()) {
      root.putNull("topics");
    } else {
      ArrayNode topics = root.putArray("topics");
      for (Stats.Topic t : s.topics()) topics.add(topic(t, s.includeClients()));
    }
    if (s.includeMem()) {
      ObjectNode mem = root.putObject("memory");
      memory.read().forEach(mem::put);
    }
    if (!s.includeClients() || s.producers().isEmpty() || s.topicMissing()) {
      root.putNull("producers");
    } else {
      ArrayNode producers = root.putArray("producers");
      for (Connections.Producer p : s.producers()) producers.add(producer(p, s.topicFilter()));
    }
    return root;
  }

  private static ObjectNode topic(Stats.Topic t, boolean includeClients) {
    ObjectNode o = F.objectNode();
    o.put("topic_name", t.name());
    ArrayNode channels = o.putArray("channels");
    for (Stats.Channel c : t.channels()) channels.add(channel(c, includeClients));
    o.put("depth", t.depth());
    o.put("backend_depth", t.backendDepth());
    // Not in nsqd: stretches of the disk queue skipped as corrupt, shown only once there are any.
    if (t.corruptCount() > 0) o.put("backend_corrupt_count", t.corruptCount());
    o.put("message_count", t.messageCount());
    o.put("message_bytes", t.messageBytes());
    o.put("paused", t.paused());
    o.set("e2e_processing_latency", latency(t.e2eLatency()));
    // Not in nsqd: a topic's settings and what its bound dropped, shown only for a topic that has them.
    if (!t.policy().equals(io.jnsq.broker.TopicPolicy.NONE) || t.droppedCount() > 0) {
      o.put("dropped_count", t.droppedCount());
      o.set("settings", io.jnsq.broker.PolicyJson.toJson(t.policy()));
    }
    return o;
  }

  private static ObjectNode channel(Stats.Channel c, boolean includeClients) {
    ObjectNode o = F.objectNode();
    o.put("channel_name", c.name());
    o.put("depth", c.depth());
    o.put("backend_depth", c.backendDepth());
    if (c.corruptCount() > 0) o.put("backend_corrupt_count", c.corruptCount());
    o.put("in_flight_count", c.inFlightCount());
    o.put("deferred_count", c.deferredCount());
    o.put("message_count", c.messageCount());
    o.put("requeue_count", c.requeueCount());
    o.put("timeout_count", c.timeoutCount());
    o.put("client_count", c.clientCount());
    if (includeClients && c.clients() != null) {
      ArrayNode clients = o.putArray("clients");
      for (Stats.Client cl : c.clients()) {
        clients.add(client(cl.info(), cl.state(), cl.readyCount(), cl.inFlightCount(), cl.messageCount(),
            cl.finishCount(), cl.requeueCount(), null, null));
      }
    } else {
      o.putNull("clients");
    }
    o.put("paused", c.paused());
    o.set("e2e_processing_latency", latency(c.e2eLatency()));
    // Not in nsqd: a channel's policy and what it dead-lettered or let expire, only for a channel that has one.
    if (c.policy().active() || c.deadLetteredCount() > 0 || c.expiredCount() > 0) {
      o.put("dead_lettered_count", c.deadLetteredCount());
      o.put("expired_count", c.expiredCount());
      o.set("settings", io.jnsq.broker.PolicyJson.toJson(c.policy()));
    }
    return o;
  }

  private static ObjectNode producer(Connections.Producer p, String topicFilter) {
    return client(p.info(), p.state(), 0, 0, 0, 0, 0, p.pubCounts(), topicFilter);
  }

  /** One client object; {@code pubCounts} (may be null) is omitted when empty, as nsqd's omitempty does. */
  private static ObjectNode client(ClientInfo i, int state, long ready, long inFlight, long messages, long finished,
      long requeued, Map<String, Long> pubCounts, String topicFilter) {
    ObjectNode o = F.objectNode();
    o.put("client_id", i.clientId());
    o.put("hostname", i.hostname());
    o.put("version", "V2");
    o.put("remote_address", i.remoteAddress());
    o.put("state", state);
    o.put("ready_count", ready);
    o.put("in_flight_count", inFlight);
    o.put("message_count", messages);
    o.put("finish_count", finished);
    o.put("requeue_count", requeued);
    o.put("connect_ts", i.connectTs());
    o.put("sample_rate", i.sampleRate());
    o.put("deflate", i.deflate());
    o.put("snappy", i.snappy());
    o.put("user_agent", i.userAgent());
    if (pubCounts != null && !pubCounts.isEmpty()) {
      // nsqd 1.3.0 reports at most one entry: the filtered topic, or one the connection published to.
      Map.Entry<String, Long> shown = null;
      if (topicFilter != null) {
        if (pubCounts.containsKey(topicFilter)) shown = Map.entry(topicFilter, pubCounts.get(topicFilter));
      } else {
        shown = pubCounts.entrySet().iterator().next();
      }
      if (shown != null) {
        ObjectNode pc = o.putArray("pub_counts").addObject();
        pc.put("topic", shown.getKey());
        pc.put("count", shown.getValue());
      }
    }
    o.put("tls", i.tls());
    o.put("tls_cipher_suite", "");
    o.put("tls_version", "");
    o.put("tls_negotiated_protocol", "");
    o.put("tls_negotiated_protocol_is_mutual", false);
    return o;
  }

  private static ObjectNode latency(Stats.Latency l) {
    ObjectNode o = F.objectNode();
    o.put("count", l.count());
    if (l.percentiles() == null) {
      o.putNull("percentiles");
    } else {
      ArrayNode ps = o.putArray("percentiles");
      for (Stats.Quantile q : l.percentiles()) ps.addObject().put("quantile", q.quantile()).put("value", q.valueNanos());
    }
    return o;
  }

  // ------------------------------------------------------------------ text

  static String text(Snapshot s, MemoryStats memory, long nowMillis) {
    StringBuilder b = new StringBuilder();
    b.append("nsqd v").append(NodeSettings.NSQ_VERSION).append(" (jnsq on java ").append(System.getProperty("java.version")).append(")\n");
    b.append("start_time ").append(DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(s.startTime()).truncatedTo(ChronoUnit.SECONDS))).append('\n');
    b.append("uptime ").append(goDuration((nowMillis - s.startTime() * 1000) * 1_000_000L)).append("\n\n");
    b.append("Health: ").append(s.health()).append("\n\n");
    if (s.includeMem()) {
      b.append("Memory:\n");
      memory.read().forEach((k, v) -> b.append(String.format("   %-25s\t%d%n", k, v)));
      b.append('\n');
    }
    if (s.topics().isEmpty()) {
      b.append("Topics: None\n");
    } else {
      b.append("Topics:");
      for (Stats.Topic t : s.topics()) {
        b.append('\n').append(t.paused() ? "*P " : "   ");
        b.append(String.format("[%-15s] depth: %-5d be-depth: %-5d msgs: %-8d e2e%%: %s%n",
            t.name(), t.depth(), t.backendDepth(), t.messageCount(), percentiles(t.e2eLatency())));
        for (Stats.Channel c : t.channels()) {
          b.append(c.paused() ? "   *P " : "      ");
          b.append(String.format("[%-25s] depth: %-5d be-depth: %-5d inflt: %-4d def: %-4d re-q: %-5d timeout: %-5d msgs: %-8d e2e%%: %s%n",
              c.name(), c.depth(), c.backendDepth(), c.inFlightCount(), c.deferredCount(), c.requeueCount(),
              c.timeoutCount(), c.messageCount(), percentiles(c.e2eLatency())));
          if (c.clients() == null) continue;
          for (Stats.Client cl : c.clients()) {
            b.append(String.format("        [%s %-21s] state: %d inflt: %-4d rdy: %-4d fin: %-8d re-q: %-8d msgs: %-8d connected: %s%n",
                "V2", identity(cl.info()), cl.state(), cl.inFlightCount(), cl.readyCount(), cl.finishCount(),
                cl.requeueCount(), cl.messageCount(), goDuration((nowMillis / 1000 - cl.info().connectTs()) * 1_000_000_000L)));
          }
        }
      }
    }
    if (!s.includeClients() || s.producers().isEmpty()) {
      b.append("\nProducers: None\n");
    } else {
      b.append("\nProducers:\n");
      for (Connections.Producer p : s.producers()) {
        long total = p.pubCounts().values().stream().mapToLong(Long::longValue).sum();
        StringBuilder topics = new StringBuilder();
        p.pubCounts().forEach((t, n) -> topics.append(topics.length() == 0 ? "" : " ").append(t).append('=').append(n));
        b.append(String.format("   [%s %-21s] msgs: %-8d topics: %s connected: %s%n", "V2", p.info().remoteAddress(), total,
            topics, goDuration((nowMillis / 1000 - p.info().connectTs()) * 1_000_000_000L)));
      }
    }
    return b.toString();
  }

  private static String identity(ClientInfo i) {
    String port = i.remoteAddress().substring(i.remoteAddress().lastIndexOf(':') + 1);
    return i.hostname() + ":" + port + (i.userAgent().isEmpty() ? "" : " " + i.userAgent());
  }

  private static String percentiles(Stats.Latency l) {
    if (l.percentiles() == null) return "";
    StringBuilder b = new StringBuilder();
    for (Stats.Quantile q : l.percentiles()) b.append(b.length() == 0 ? "" : ", ").append(goDuration(q.valueNanos()));
    return b.toString();
  }

  /** A duration the way Go prints one: {@code 1h2m3.5s}, {@code 248.5ms}, {@code 0s}. */
  static String goDuration(long nanos) {
    if (nanos == 0) return "0s";
    String sign = nanos < 0 ? "-" : "";
    long n = Math.abs(nanos);
    if (n < 1_000) return sign + n + "ns";
    if (n < 1_000_000) return sign + fraction(n, 1_000) + "µs";
    if (n < 1_000_000_000) return sign + fraction(n, 1_000_000) + "ms";
    long h = n / 3_600_000_000_000L;
    long m = (n / 60_000_000_000L) % 60;
    String secs = fraction(n % 60_000_000_000L, 1_000_000_000L) + "s";
    return sign + (h > 0 ? h + "h" + m + "m" : m > 0 ? m + "m" : "") + secs;
  }

  private static String fraction(long value, long unit) {
    long whole = value / unit;
    long rest = value % unit;
    if (rest == 0) return Long.toString(whole);
    String digits = String.format("%0" + Long.toString(unit).length() + "d", rest).substring(1).replaceAll("0+$", "");
    return whole + "." + digits;
  }
}
