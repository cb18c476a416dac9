package io.jnsq.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What lookup knows, as plain values: producers (jnsq nodes of the cluster, and nsqd processes that
 * registered over the V1 TCP protocol) with their topics and channels, registrations made through the
 * HTTP API, and tombstones. {@link View} answers nsqlookupd's queries from one consistent snapshot.
 */
public final class Registry {
  private Registry() {}

  static final ObjectMapper JSON = new ObjectMapper();

  /** A producer as nsqlookupd describes it; {@code id} is unique in the cluster. */
  public record Producer(String id, String remoteAddress, String hostname, String broadcastAddress, int tcpPort,
      int httpPort, String version) {
    /** The name {@code /topic/tombstone?node=} uses. */
    public String node() { return broadcastAddress + ":" + httpPort; }

    /** A jnsq node of this cluster (its id is its cluster address), not an nsqd that registered over TCP. */
    public boolean clusterMember() { return id.startsWith("pekko://"); }
  }

  /** One producer with its topics (each with its channels), last refreshed at {@code updatedMs}. */
  public record Entry(Producer producer, Map<String, List<String>> topics, long updatedMs) {

    /** The form kept in the replicated map: a small JSON document, so no custom serializer is needed. */
    public String toJson() {
      ObjectNode o = JSON.createObjectNode();
      Producer p = producer;
      o.put("id", p.id()).put("remote_address", p.remoteAddress()).put("hostname", p.hostname())
          .put("broadcast_address", p.broadcastAddress()).put("tcp_port", p.tcpPort()).put("http_port", p.httpPort())
          .put("version", p.version()).put("updated_ms", updatedMs);
      ObjectNode t = o.putObject("topics");
      topics.forEach((topic, channels) -> {
        ArrayNode a = t.putArray(topic);
        channels.forEach(a::add);
      });
      return o.toString();
    }

    public static Entry fromJson(String json) throws IOException {
      JsonNode o = JSON.readTree(json);
      Producer p = new Producer(o.path("id").asText(), o.path("remote_address").asText(), o.path("hostname").asText(),
          o.path("broadcast_address").asText(), o.path("tcp_port").asInt(), o.path("http_port").asInt(),
          o.path("version").asText());
      Map<String, List<String>> topics = new TreeMap<>();
      o.path("topics").fields().forEachRemaining(e -> {
        List<String> channels = new ArrayList<>();
        e.getValue().forEach(c -> channels.add(c.asText()));
        topics.put(e.getKey(), channels);
      });
      return new Entry(p, topics, o.path("updated_ms").asLong());
    }
  }

  /**
   * A snapshot: live producers' entries, HTTP registrations ({@code "topic"} or {@code "topic/channel"}),
   * and tombstones ({@code "topic|broadcast_address:http_port"} to expiry, epoch ms).
   */
  public record View(Collection<Entry> entries, Set<String> registrations, Map<String, Long> tombstones) {

    private boolean tombstoned(String topic, Producer p, long nowMs) {
      Long until = tombstones.get(topic + "|" + p.node());
      return until != null && until > nowMs;
    }

    /** Every topic known, sorted. */
    public List<String> topics() {
      TreeSet<String> out = new TreeSet<>();
      for (Entry e : entries) out.addAll(e.topics().keySet());
      for (String r : registrations) out.add(r.contains("/") ? r.substring(0, r.indexOf('/')) : r);
      return new ArrayList<>(out);
    }

    /** The channels of {@code topic}, sorted. */
    public List<String> channels(String topic) {
      TreeSet<String> out = new TreeSet<>();
      for (Entry e : entries) {
        List<String> cs = e.topics().get(topic);
        if (cs != null) out.addAll(cs);
      }
      String prefix = topic + "/";
      for (String r : registrations) if (r.startsWith(prefix)) out.add(r.substring(prefix.length()));
      return new ArrayList<>(out);
    }

    public boolean hasTopic(String topic) { return topics().contains(topic); }

    public boolean hasChannel(String topic, String channel) { return channels(topic).contains(channel); }

    /** The producers of {@code topic} that are not tombstoned for it. */
    public List<Producer> producers(String topic, long nowMs) {
      List<Producer> out = new ArrayList<>();
      for (Entry e : entries) {
        if (e.topics().containsKey(topic) && !tombstoned(topic, e.producer(), nowMs)) out.add(e.producer());
      }
      return out;
    }

    /** {@code /nodes}: every producer with its topics and, for each, whether it is tombstoned. */
    public List<Map.Entry<Entry, List<Boolean>>> nodes(long nowMs) {
      List<Map.Entry<Entry, List<Boolean>>> out = new ArrayList<>();
      for (Entry e : entries) {
        List<Boolean> flags = new ArrayList<>();
        for (String t : e.topics().keySet()) flags.add(tombstoned(t, e.producer(), nowMs));
        out.add(Map.entry(e, flags));
      }
      return out;
    }
  }

  /** The channels map of an entry from a topic-to-channels view, copied and sorted. */
  public static Map<String, List<String>> copy(Map<String, ? extends Collection<String>> topics) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    new TreeMap<>(topics).forEach((t, cs) -> out.put(t, List.copyOf(new TreeSet<>(cs))));
    return out;
  }
}
