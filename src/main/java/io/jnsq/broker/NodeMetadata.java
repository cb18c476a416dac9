package io.jnsq.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.protocol.Names;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code nsqd.dat}: the node's durable topics and channels with their paused flags, in nsqd's JSON
 * layout, so a node restarts with the same topics and channels before it serves anyone.
 */
public final class NodeMetadata {
  public static final String FILE = "nsqd.dat";
  private static final ObjectMapper JSON = new ObjectMapper();

  private NodeMetadata() {}

  /** A topic's pause flag and its channels (name to paused). */
  public record TopicMeta(boolean paused, Map<String, Boolean> channels) {}

  /** The JSON for {@code topics} (name to meta), as nsqd writes it: ephemeral topics and channels left out. */
  public static byte[] toJson(Map<String, TopicMeta> all, String version) {
    Map<String, TopicMeta> topics = new LinkedHashMap<>();
    all.forEach((name, t) -> {
      if (name.endsWith("#ephemeral")) return;
      Map<String, Boolean> channels = new LinkedHashMap<>();
      t.channels().forEach((c, p) -> {
        if (!c.endsWith("#ephemeral")) channels.put(c, p);
      });
      topics.put(name, new TopicMeta(t.paused(), channels));
    });
    ObjectNode root = JSON.createObjectNode();
    if (topics.isEmpty()) {
      root.putNull("topics");
    } else {
      ArrayNode list = root.putArray("topics");
      topics.forEach((name, t) -> {
        ObjectNode o = list.addObject();
        o.put("name", name);
        o.put("paused", t.paused());
        if (t.channels().isEmpty()) {
          o.putNull("channels");
        } else {
          ArrayNode chans = o.putArray("channels");
          t.channels().forEach((c, p) -> chans.addObject().put("name", c).put("paused", p));
        }
      });
    }
    root.put("version", version);
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses {@code nsqd.dat}; ephemeral and invalid names (which nsqd never writes) are skipped. */
  public static Map<String, TopicMeta> parse(byte[] json) throws IOException {
    Map<String, TopicMeta> out = new LinkedHashMap<>();
    JsonNode root = JSON.readTree(json);
    if (root == null || !root.isObject()) throw new IOException("nsqd.dat is not a JSON object");
    for (JsonNode t : root.path("topics")) {
      String name = t.path("name").asText("");
      if (!Names.isValidTopic(name) || Names.isEphemeral(name)) continue;
      Map<String, Boolean> channels = new LinkedHashMap<>();
      for (JsonNode c : t.path("channels")) {
        String cn = c.path("name").asText("");
        if (Names.isValidChannel(cn) && !Names.isEphemeral(cn)) channels.put(cn, c.path("paused").asBoolean(false));
      }
      out.put(name, new TopicMeta(t.path("paused").asBoolean(false), channels));
    }
    return out;
  }
}
