package io.jnsq.metrics;

import io.jnsq.broker.Stats;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics}: a node's stats as Prometheus metric families (prefix {@code jnsq_}, counters
 * ending in {@code _total}, latencies in seconds), followed by the JVM's and the process's from the
 * official client's JVM instrumentation, in the text exposition format 0.0.4.
 *
 * <p>The node's families are built afresh from each scrape's {@link Stats} snapshot rather than kept
 * in live collectors: the figures belong to the topic and channel actors, which hand them out only as
 * messages, and a topic deleted since the last scrape simply stops being listed.
 */
public final class PrometheusMetrics {
  /** {@code text/plain; version=0.0.4; charset=utf-8}. */
  public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();
  private static final String TOPIC = "topic";
  private static final String CHANNEL = "channel";

  /** What one scrape gathered from the actors: the registry's health and stats, the open TCP connections. */
  public record NodeView(String health, List<Stats.Topic> topics, int clients) {}

  private PrometheusMetrics() {}

  /** The JVM and process metrics: one registry per process, since the JVM is shared by every node in it. */
  private static final class Jvm {
    static final PrometheusRegistry REGISTRY = new PrometheusRegistry();
    static {
      JvmMetrics.builder().register(REGISTRY);
    }
  }

  /** The whole exposition: the node's families, then the JVM's. */
  public static byte[] render(NodeView view) {
    MetricSnapshots.Builder all = MetricSnapshots.builder();
    for (MetricSnapshot s : node(view)) all.metricSnapshot(s);
    for (MetricSnapshot s : Jvm.REGISTRY.scrape()) all.metricSnapshot(s);
    ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
    try {
      WRITER.write(out, all.build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);   // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  /** The node's own families; one with no data points (no topics yet) is left out by the writer. */
  static List<MetricSnapshot> node(NodeView v) {
    List<MetricSnapshot> out = new ArrayList<>();
    out.add(gauge("jnsq_healthy", "1 while the node is healthy (/ping answers OK), 0 while a disk write is failing")
        .dataPoint(point(v.health().equals("OK") ? 1 : 0, Labels.EMPTY)).build());
    out.add(gauge("jnsq_clients", "TCP client connections open now")
        .dataPoint(point(v.clients(), Labels.EMPTY)).build());
    out.add(gauge("jnsq_topics", "topics on this node")
        .dataPoint(point(v.topics().size(), Labels.EMPTY)).build());

    List<Stats.Topic> topics = v.topics();
    out.add(topicGauge(topics, "jnsq_topic_depth", "messages the topic holds (memory and disk) that no channel has taken yet",
        Stats.Topic::depth));
    out.add(topicGauge(topics, "jnsq_topic_backend_depth", "part of jnsq_topic_depth on disk", Stats.Topic::backendDepth));
    out.add(topicCounter(topics, "jnsq_topic_messages", "messages published to the topic", null, Stats.Topic::messageCount));
    out.add(topicCounter(topics, "jnsq_topic_message_bytes", "bytes of message bodies published to the topic", Unit.BYTES,
        Stats.Topic::messageBytes));
    out.add(topicGauge(topics, "jnsq_topic_paused", "1 while the topic is paused", t -> t.paused() ? 1 : 0));
    out.add(topicGauge(topics, "jnsq_topic_channels", "channels of the topic", t -> t.channels().size()));
    out.add(topicCounter(topics, "jnsq_topic_corrupt_records", "stretches of the topic's disk queue skipped as corrupt", null,
        Stats.Topic::corruptCount));
    latency(out, "jnsq_topic_e2e_processing_latency",
        "the largest of the topic's jnsq_channel_e2e_processing_latency_seconds at each quantile", topics, t -> t.e2eLatency(), t -> Labels.of(TOPIC, t.name()));

    List<ChannelOf> channels = new ArrayList<>();
    for (Stats.Topic t : topics) for (Stats.Channel c : t.channels()) channels.add(new ChannelOf(t.name(), c));
    out.add(channelGauge(channels, "jnsq_channel_depth", "messages queued for the channel (memory and disk), not counting"
        + " in-flight and deferred ones", Stats.Channel::depth));
    out.add(channelGauge(channels, "jnsq_channel_backend_depth", "part of jnsq_channel_depth on disk",
        Stats.Channel::backendDepth));
    out.add(channelGauge(channels, "jnsq_channel_in_flight", "messages delivered and not yet finished, requeued or timed out",
        Stats.Channel::inFlightCount));
    out.add(channelGauge(channels, "jnsq_channel_deferred", "messages waiting for their delivery time (DPUB, REQ with delay)",
        Stats.Channel::deferredCount));
    out.add(channelCounter(channels, "jnsq_channel_messages", "messages the channel received from its topic",
        Stats.Channel::messageCount));
    out.add(channelCounter(channels, "jnsq_channel_requeued", "messages requeued (REQ, or a consumer gone)",
        Stats.Channel::requeueCount));
    out.add(channelCounter(channels, "jnsq_channel_timed_out", "in-flight messages that reached their msg-timeout",
        Stats.Channel::timeoutCount));
    out.add(channelGauge(channels, "jnsq_channel_clients", "consumers subscribed to the channel", Stats.Channel::clientCount));
    out.add(channelGauge(channels, "jnsq_channel_paused", "1 while the channel is paused", c -> c.paused() ? 1 : 0));
    out.add(channelCounter(channels, "jnsq_channel_corrupt_records", "stretches of the channel's disk queue skipped as corrupt",
        Stats.Channel::corruptCount));
    // Settings and what they did: only once some topic or channel has settings, so a node without any
    // exposes exactly the families above.
    List<Stats.Topic> withSettings = new ArrayList<>();
    for (Stats.Topic t : topics) if (!t.policy().equals(io.jnsq.broker.TopicPolicy.NONE) || t.droppedCount() > 0) withSettings.add(t);
    if (!withSettings.isEmpty()) {
      out.add(topicCounter(withSettings, "jnsq_topic_dropped", "oldest messages dropped by a full topic (when_full drop-oldest)",
          null, Stats.Topic::droppedCount));
      out.add(topicGauge(withSettings, "jnsq_topic_max_messages", "the topic's max_messages (0: no bound)",
          t -> t.policy().maxMessages()));
      out.add(topicGauge(withSettings, "jnsq_topic_max_bytes", "the topic's max_bytes (0: no bound)", t -> t.policy().maxBytes()));
      out.add(topicGauge(withSettings, "jnsq_topic_retention_seconds", "how long the topic keeps its log after every channel"
          + " finished it", t -> t.policy().retention().toMillis() / 1000.0));
    }
    List<ChannelOf> withPolicy = new ArrayList<>();
    for (ChannelOf c : channels) {
      Stats.Channel ch = c.channel();
      if (ch.policy().active() || ch.deadLetteredCount() > 0 || ch.expiredCount() > 0) withPolicy.add(c);
    }
    if (!withPolicy.isEmpty()) {
      out.add(channelCounter(withPolicy, "jnsq_channel_dead_lettered", "messages that had max_attempts deliveries and left"
          + " for the dead-letter topic (or were dropped without one)", Stats.Channel::deadLetteredCount));
      out.add(channelCounter(withPolicy, "jnsq_channel_expired", "messages older than message_ttl, never delivered",
          Stats.Channel::expiredCount));
      out.add(channelGauge(withPolicy, "jnsq_channel_max_attempts", "the channel's max_attempts (0: no limit)",
          c -> c.policy().maxAttempts()));
      out.add(channelGauge(withPolicy, "jnsq_channel_message_ttl_seconds", "the channel's message_ttl (0: none)",
          c -> c.policy().messageTtl().toMillis() / 1000.0));
    }
    latency(out, "jnsq_channel_e2e_processing_latency",
        "publish-to-FIN latency at each configured quantile, over --e2e-processing-latency-window-time", channels, c -> c.channel().e2eLatency(),
        c -> Labels.of(TOPIC, c.topic(), CHANNEL, c.channel().name()));
    return out;
  }

  private record ChannelOf(String topic, Stats.Channel channel) {}

  /**
   * With {@code --e2e-processing-latency-percentile} set: a gauge {@code NAME_seconds} with one point per
   * configured quantile (label {@code quantile}), and a gauge {@code NAME_samples} of the latencies in the
   * window behind them. Not a summary: a summary's {@code _count} must be a counter, while the window's
   * count falls as old samples leave it, and there is no {@code _sum}.
   */
  private static <T> void latency(List<MetricSnapshot> out, String name, String help, List<T> items,
      Function<T, Stats.Latency> latency, Function<T, Labels> labels) {
    GaugeSnapshot.Builder quantiles = gauge(name + "_seconds", help);
    GaugeSnapshot.Builder samples = gauge(name + "_samples", "latencies recorded in the window behind " + name + "_seconds");
    boolean any = false;
    for (T item : items) {
      Stats.Latency l = latency.apply(item);
      if (l.percentiles() == null) continue;
      any = true;
      for (Stats.Quantile q : l.percentiles()) {
        Labels at = labels.apply(item).add("quantile", Double.toString(q.quantile()));
        quantiles.dataPoint(point(Unit.nanosToSeconds(q.valueNanos()), at));
      }
      samples.dataPoint(point(l.count(), labels.apply(item)));
    }
    if (!any) return;
    out.add(quantiles.build());
    out.add(samples.build());
  }

  private static GaugeSnapshot topicGauge(List<Stats.Topic> topics, String name, String help, ToDoubleFunction<Stats.Topic> value) {
    GaugeSnapshot.Builder b = gauge(name, help);
    for (Stats.Topic t : topics) b.dataPoint(point(value.applyAsDouble(t), Labels.of(TOPIC, t.name())));
    return b.build();
  }

  private static CounterSnapshot topicCounter(List<Stats.Topic> topics, String name, String help, Unit unit,
      ToDoubleFunction<Stats.Topic> value) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
    if (unit != null) b.unit(unit);
    for (Stats.Topic t : topics) {
      b.dataPoint(CounterDataPointSnapshot.builder().value(value.applyAsDouble(t)).labels(Labels.of(TOPIC, t.name())).build());
    }
    return b.build();
  }

  private static GaugeSnapshot channelGauge(List<ChannelOf> channels, String name, String help,
      ToDoubleFunction<Stats.Channel> value) {
    GaugeSnapshot.Builder b = gauge(name, help);
    for (ChannelOf c : channels) {
      b.dataPoint(point(value.applyAsDouble(c.channel()), Labels.of(TOPIC, c.topic(), CHANNEL, c.channel().name())));
    }
    return b.build();
  }

  private static CounterSnapshot channelCounter(List<ChannelOf> channels, String name, String help,
      ToDoubleFunction<Stats.Channel> value) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
    for (ChannelOf c : channels) {
      b.dataPoint(CounterDataPointSnapshot.builder().value(value.applyAsDouble(c.channel()))
          .labels(Labels.of(TOPIC, c.topic(), CHANNEL, c.channel().name())).build());
    }
    return b.build();
  }

  private static GaugeSnapshot.Builder gauge(String name, String help) {
    return GaugeSnapshot.builder().name(name).help(help);
  }

  private static GaugeDataPointSnapshot point(double value, Labels labels) {
    return GaugeDataPointSnapshot.builder().value(value).labels(labels).build();
  }
}
