package io.jnsq.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.config.NodeSettings;
import io.jnsq.protocol.Names;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.apache.pekko.util.ByteString;

/**
 * One nsqd's connection to our lookup TCP port, speaking nsqlookupd's protocol V1: the magic, then
 * IDENTIFY, REGISTER, UNREGISTER and PING lines, each answered with a size-prefixed reply; every error
 * is fatal. Pure apart from {@code publish}, which receives the peer's entry after every change (and
 * null when it must go). Single-threaded: used by one connection's stream stage.
 */
public final class V1Session {
  /** Returned among the replies when the connection must be closed after them. */
  public static final ByteString CLOSE = ByteString.fromString("\u0000close");
  private static final ByteString MAGIC = ByteString.fromString("  V1");
  private static final int MAX_LINE = 4096;
  private static final int MAX_BODY = 1 << 20;

  private final String remoteAddress;
  private final java.util.function.Supplier<String> identifyReply;
  private final Consumer<Registry.Entry> publish;
  private ByteString buffer = ByteString.emptyByteString();
  private boolean magicSeen;
  private boolean closed;
  private Registry.Producer producer;
  private final Map<String, TreeSet<String>> topics = new TreeMap<>();

  /**
   * A session for the peer at {@code remoteAddress}; {@code identifyReply} is what IDENTIFY answers (this
   * lookup server's broadcast address, host name, ports and version).
   */
  public V1Session(String remoteAddress, java.util.function.Supplier<String> identifyReply, Consumer<Registry.Entry> publish) {
    this.remoteAddress = remoteAddress;
    this.identifyReply = identifyReply;
    this.publish = publish;
  }

  /** The reply IDENTIFY sends, in nsqlookupd's key order. */
  public static String identifyReply(String broadcastAddress, String hostname, int httpPort, int tcpPort) {
    return Registry.JSON.createObjectNode().put("broadcast_address", broadcastAddress).put("hostname", hostname)
        .put("http_port", httpPort).put("tcp_port", tcpPort).put("version", NodeSettings.NSQ_VERSION).toString();
  }

  /** Takes the next bytes; returns the replies to write, ending with {@link #CLOSE} when the connection must close. */
  public List<ByteString> feed(ByteString chunk) {
    List<ByteString> out = new ArrayList<>();
    if (closed) return out;
    buffer = buffer.concat(chunk);
    if (!magicSeen) {
      if (buffer.size() < 4) return out;
      if (!buffer.take(4).equals(MAGIC)) return fatal(out, "E_BAD_PROTOCOL");
      buffer = buffer.drop(4);
      magicSeen = true;
    }
    while (!closed) {
      int nl = buffer.indexOf((byte) '\n');
      if (nl < 0) {
        if (buffer.size() > MAX_LINE) fatal(out, "E_INVALID line too long");
        break;
      }
      String line = buffer.take(nl).utf8String().trim();
      String[] params = line.split(" ", -1);
      if (params[0].equals("IDENTIFY")) {
        if (buffer.size() < nl + 1 + 4) break;   // wait for the body size
        int size = buffer.drop(nl + 1).iterator().getInt(ByteOrder.BIG_ENDIAN);
        if (size < 0 || size > MAX_BODY) return fatal(out, "E_BAD_BODY IDENTIFY failed to read body");
        if (buffer.size() < nl + 1 + 4 + size) break;   // wait for the body
        ByteString body = buffer.slice(nl + 5, nl + 5 + size);
        buffer = buffer.drop(nl + 5 + size);
        identify(body, out);
        continue;
      }
      buffer = buffer.drop(nl + 1);
      switch (params[0]) {
        case "PING" -> {
          if (producer != null) changed();
          out.add(reply("OK"));
        }
        case "REGISTER", "UNREGISTER" -> register(params, out);
        default -> fatal(out, "E_INVALID invalid command " + params[0]);
      }
    }
    return out;
  }

  /** The connection is gone: the peer's registrations go with it. */
  public void closed() {
    if (producer != null) publish.accept(null);
    producer = null;
  }

  private void identify(ByteString body, List<ByteString> out) {
    if (producer != null) {
      fatal(out, "E_INVALID cannot IDENTIFY again");
      return;
    }
    JsonNode o;
    try {
      o = Registry.JSON.readTree(body.toArray());
    } catch (Exception e) {
      o = null;
    }
    if (o == null || !o.isObject()) {
      fatal(out, "E_BAD_BODY IDENTIFY failed to decode JSON body");
      return;
    }
    String broadcast = o.path("broadcast_address").asText("");
    int tcp = o.path("tcp_port").asInt(0);
    int http = o.path("http_port").asInt(0);
    String version = o.path("version").asText("");
    if (broadcast.isEmpty() || tcp == 0 || http == 0 || version.isEmpty()) {
      fatal(out, "E_BAD_BODY IDENTIFY missing fields");
      return;
    }
    producer = new Registry.Producer(remoteAddress, remoteAddress, o.path("hostname").asText(""), broadcast, tcp, http, version);
    out.add(frame(ByteString.fromString(identifyReply.get())));
    changed();
  }

  private void register(String[] params, List<ByteString> out) {
    String verb = params[0];
    if (producer == null) {
      fatal(out, "E_INVALID client must IDENTIFY");
      return;
    }
    if (params.length < 2) {
      fatal(out, "E_INVALID " + verb + " insufficient number of params");
      return;
    }
    String topic = params[1];
    String channel = params.length > 2 ? params[2] : null;
    if (!Names.isValidTopic(topic)) {
      fatal(out, "E_BAD_TOPIC " + verb + " topic name '" + topic + "' is not valid");
      return;
    }
    if (channel != null && !Names.isValidChannel(channel)) {
      fatal(out, "E_BAD_CHANNEL " + verb + " channel name '" + channel + "' is not valid");
      return;
    }
    if (verb.equals("REGISTER")) {
      TreeSet<String> channels = topics.computeIfAbsent(topic, t -> new TreeSet<>());
      if (channel != null) channels.add(channel);
    } else if (channel == null) {
      topics.remove(topic);
    } else if (topics.containsKey(topic)) {
      topics.get(topic).remove(channel);
    }
    changed();
    out.add(reply("OK"));
  }

  private void changed() {
    publish.accept(new Registry.Entry(producer, Registry.copy(topics), System.currentTimeMillis()));
  }

  private List<ByteString> fatal(List<ByteString> out, String error) {
    out.add(reply(error));
    out.add(CLOSE);
    closed = true;
    return out;
  }

  private static ByteString reply(String text) { return frame(ByteString.fromString(text, StandardCharsets.UTF_8)); }

  private static ByteString frame(ByteString data) {
    return ByteString.fromArrayUnsafe(java.nio.ByteBuffer.allocate(4).putInt(data.size()).array()).concat(data);
  }
}
