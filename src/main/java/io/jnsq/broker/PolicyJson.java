package io.jnsq.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.config.Units;
import io.jnsq.protocol.Names;
import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Topic and channel settings as JSON: the bodies of {@code /topic/settings} and {@code /channel/settings}
 * (a change names only what it changes; {@code null} turns a setting off) and the node's settings file
 * ({@value #FILE}, beside {@code nsqd.dat}, which stays as nsqd writes it).
 */
public final class PolicyJson {
  public static final String FILE = "jnsq-settings.json";
  static final ObjectMapper JSON = new ObjectMapper();

  private PolicyJson() {}

  /** One topic's settings and its channels' (those that have their own). */
  public record TopicEntry(TopicPolicy topic, Map<String, ChannelPolicy> channels) {}

  // ---- the API's bodies ----

  public static ObjectNode toJson(ChannelPolicy p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("max_attempts", p.maxAttempts());
    if (p.deadLetterTopic() == null) o.putNull("dead_letter_topic"); else o.put("dead_letter_topic", p.deadLetterTopic());
    o.put("message_ttl", Units.formatDuration(p.messageTtl()));
    return o;
  }

  public static ObjectNode toJson(TopicPolicy p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("message_ttl", Units.formatDuration(p.messageTtl()));
    o.put("retention", Units.formatDuration(p.retention()));
    o.put("max_bytes", p.maxBytes() == 0 ? "0" : Units.formatBytes(p.maxBytes()));
    o.put("max_messages", p.maxMessages());
    o.put("when_full", p.whenFull().text);
    return o;
  }

  /**
   * {@code base} with what {@code change} names; {@code topic} is the channel's own topic (a channel may
   * not dead-letter into it). Throws IllegalArgumentException with a message for the client.
   */
  public static ChannelPolicy merge(ChannelPolicy base, JsonNode change, String topic) {
    if (change == null || !change.isObject()) throw new IllegalArgumentException("the body must be a JSON object");
    int maxAttempts = base.maxAttempts();
    String dlq = base.deadLetterTopic();
    Duration ttl = base.messageTtl();
    for (Iterator<Map.Entry<String, JsonNode>> it = change.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode v = f.getValue();
      switch (f.getKey()) {
        case "max_attempts" -> maxAttempts = (int) number(v, "max_attempts", 65_535);
        case "dead_letter_topic" -> {
          dlq = v.isNull() ? null : text(v, "dead_letter_topic");
          if (dlq != null && !dlq.isEmpty() && (!Names.isValidTopic(dlq) || Names.isEphemeral(dlq))) {
            throw new IllegalArgumentException("dead_letter_topic \"" + dlq + "\" is not a valid (non-ephemeral) topic name");
          }
          if (topic.equals(dlq)) throw new IllegalArgumentException("dead_letter_topic must not be the channel's own topic");
        }
        case "message_ttl" -> ttl = duration(v, "message_ttl");
        default -> throw new IllegalArgumentException("unknown channel setting \"" + f.getKey()
            + "\" (max_attempts, dead_letter_topic, message_ttl)");
      }
    }
    return new ChannelPolicy(maxAttempts, dlq, ttl);
  }

  /** {@code base} with what {@code change} names; throws IllegalArgumentException with a message for the client. */
  public static TopicPolicy merge(TopicPolicy base, JsonNode change) {
    if (change == null || !change.isObject()) throw new IllegalArgumentException("the body must be a JSON object");
    Duration ttl = base.messageTtl();
    Duration retention = base.retention();
    long maxBytes = base.maxBytes();
    long maxMessages = base.maxMessages();
    TopicPolicy.WhenFull whenFull = base.whenFull();
    for (Iterator<Map.Entry<String, JsonNode>> it = change.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode v = f.getValue();
      switch (f.getKey()) {
        case "message_ttl" -> ttl = duration(v, "message_ttl");
        case "retention" -> retention = duration(v, "retention");
        case "max_bytes" -> maxBytes = bytes(v, "max_bytes");
        case "max_messages" -> maxMessages = number(v, "max_messages", Long.MAX_VALUE);
        case "when_full" -> whenFull = v.isNull() ? TopicPolicy.WhenFull.REFUSE : TopicPolicy.WhenFull.parse(text(v, "when_full"));
        default -> throw new IllegalArgumentException("unknown topic setting \"" + f.getKey()
            + "\" (message_ttl, retention, max_bytes, max_messages, when_full)");
      }
    }
    return new TopicPolicy(ttl, retention, maxBytes, maxMessages, whenFull);
  }

  private static String text(JsonNode v, String name) {
    if (!v.isTextual()) throw new IllegalArgumentException(name + " must be a string");
    return v.asText();
  }

  private static long number(JsonNode v, String name, long max) {
    if (v.isNull()) return 0;
    if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > max) {
      throw new IllegalArgumentException(name + " must be a whole number from 0 to " + max + ", got " + v);
    }
    return v.asLong();
  }

  private static Duration duration(JsonNode v, String name) {
    if (v.isNull()) return Duration.ZERO;
    if (!v.isTextual()) throw new IllegalArgumentException(name + " must be a duration string such as \"1h\" or \"90s\", got " + v);
    try {
      return Units.parseDuration(v.asText());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage());
    }
  }

  private static long bytes(JsonNode v, String name) {
    if (v.isNull()) return 0;
    if (v.isIntegralNumber() && v.asLong() >= 0) return v.asLong();
    if (!v.isTextual()) throw new IllegalArgumentException(name + " must be a size such as \"10GiB\", got " + v);
    try {
      return Units.parseBytes(v.asText());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage());
    }
  }

  // ---- the settings file ----

  /** {"version":1,"topics":{"T":{"settings":{...},"channels":{"C":{...}}}}}: only topics and channels with settings. */
  public static byte[] fileJson(Map<String, TopicEntry> all) {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", 1);
    ObjectNode topics = root.putObject("topics");
    new TreeMap<>(all).forEach((name, t) -> {
      ObjectNode o = topics.putObject(name);
      if (!t.topic().equals(TopicPolicy.NONE)) o.set("settings", toJson(t.topic()));
      ObjectNode chans = o.putObject("channels");
      new TreeMap<>(t.channels()).forEach((c, p) -> chans.set(c, toJson(p)));
    });
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads the settings file; entries with bad values are an IOException naming them (the file is ours). */
  public static Map<String, TopicEntry> parseFile(byte[] json) throws IOException {
    JsonNode root = JSON.readTree(json);
    if (root == null || !root.isObject()) throw new IOException(FILE + " is not a JSON object");
    Map<String, TopicEntry> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("topics").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      try {
        TopicPolicy tp = t.getValue().has("settings") ? merge(TopicPolicy.NONE, t.getValue().get("settings")) : TopicPolicy.NONE;
        Map<String, ChannelPolicy> channels = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> ci = t.getValue().path("channels").fields(); ci.hasNext(); ) {
          Map.Entry<String, JsonNode> c = ci.next();
          channels.put(c.getKey(), merge(ChannelPolicy.NONE, c.getValue(), t.getKey()));
        }
        out.put(t.getKey(), new TopicEntry(tp, channels));
      } catch (IllegalArgumentException e) {
        throw new IOException(FILE + ": topic " + t.getKey() + ": " + e.getMessage());
      }
    }
    return out;
  }
}
