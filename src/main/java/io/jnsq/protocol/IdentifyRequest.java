package io.jnsq.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.apache.pekko.util.ByteString;

/**
 * What a client asks for in IDENTIFY, validated against the node's bounds with nsqd's exact error texts.
 * Time values are in milliseconds; {@code heartbeatIntervalMs} is -1 when heartbeats are disabled,
 * {@code outputBufferSize} 1 and {@code outputBufferTimeoutMs} 0 when buffering or its timer is disabled.
 */
public record IdentifyRequest(
    String clientId,
    String hostname,
    String userAgent,
    boolean featureNegotiation,
    long heartbeatIntervalMs,
    long outputBufferSize,
    long outputBufferTimeoutMs,
    boolean tlsV1,
    boolean snappy,
    boolean deflate,
    long deflateLevel,
    int sampleRate,
    long msgTimeoutMs) {

  private static final ObjectReader READER = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .reader();

  /** Either a request or the fatal error to answer. */
  public record Result(IdentifyRequest request, ProtocolError error) {}

  /** Either the answer to send or the fatal error to answer instead. */
  public record Negotiation(IdentifyResponse response, ProtocolError error) {}

  private static Result bad(String text) { return new Result(null, ProtocolError.of("IDENTIFY", "E_BAD_BODY", text)); }

  /**
   * Parses and checks an IDENTIFY body. Keys match case-insensitively and unknown keys are ignored, as
   * Go's JSON decoding in nsqd does; a key of the wrong JSON type is a decode error.
   */
  public static Result parse(ByteString json, IdentifyBounds bounds) {
    JsonNode root;
    try {
      root = READER.readTree(json.toArray());
    } catch (JsonProcessingException e) {
      return bad("IDENTIFY failed to decode JSON body");
    } catch (IOException e) {
      return bad("IDENTIFY failed to decode JSON body");
    }
    Fields f = new Fields();
    if (root != null && !root.isNull() && !root.isMissingNode()) {
      if (!root.isObject()) return bad("IDENTIFY failed to decode JSON body");
      Iterator<Map.Entry<String, JsonNode>> it = root.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!f.set(e.getKey().toLowerCase(Locale.ROOT), e.getValue())) return bad("IDENTIFY failed to decode JSON body");
      }
    }

    long heartbeat = f.heartbeatInterval;
    if (heartbeat == -1) {
      heartbeat = -1;
    } else if (heartbeat == 0) {
      heartbeat = bounds.defaultHeartbeatIntervalMs();
    } else if (heartbeat < 1000 || heartbeat > bounds.maxHeartbeatIntervalMs()) {
      return bad("IDENTIFY heartbeat interval (" + heartbeat + ") is invalid");
    }
    long bufferTimeout = f.outputBufferTimeout;
    if (bufferTimeout == -1) {
      bufferTimeout = 0;
    } else if (bufferTimeout == 0) {
      bufferTimeout = bounds.defaultOutputBufferTimeoutMs();
    } else if (bufferTimeout < bounds.minOutputBufferTimeoutMs() || bufferTimeout > bounds.maxOutputBufferTimeoutMs()) {
      return bad("IDENTIFY output buffer timeout (" + bufferTimeout + ") is invalid");
    }
    long bufferSize = f.outputBufferSize;
    if (bufferSize == -1) {
      bufferSize = 1;
    } else if (bufferSize == 0) {
      bufferSize = bounds.defaultOutputBufferSize();
    } else if (bufferSize < 64 || bufferSize > bounds.maxOutputBufferSize()) {
      return bad("IDENTIFY output buffer size (" + bufferSize + ") is invalid");
    }
    if (f.sampleRate < 0 || f.sampleRate > 99) return bad("IDENTIFY sample rate (" + f.sampleRate + ") is invalid");
    long msgTimeout = f.msgTimeout;
    if (msgTimeout == 0) {
      msgTimeout = bounds.defaultMsgTimeoutMs();
    } else if (msgTimeout < 1000 || msgTimeout > bounds.maxMsgTimeoutMs()) {
      return bad("IDENTIFY msg timeout (" + msgTimeout + ") is invalid");
    }
    return new Result(new IdentifyRequest(f.clientId, f.hostname, f.userAgent, f.featureNegotiation, heartbeat,
        bufferSize, bufferTimeout, f.tlsV1, f.snappy, f.deflate, f.deflateLevel, (int) f.sampleRate, msgTimeout), null);
  }

  /** Grants what both sides support; asking for both snappy and deflate when both are granted is refused. */
  public Negotiation negotiate(NodeFeatures node) {
    boolean tls = featureNegotiation && tlsV1 && node.tls();
    boolean useSnappy = featureNegotiation && snappy && node.snappy();
    boolean useDeflate = featureNegotiation && deflate && node.deflate();
    if (useSnappy && useDeflate) {
      return new Negotiation(null, ProtocolError.of("IDENTIFY", "E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression"));
    }
    long level = useDeflate && deflateLevel > 0 ? deflateLevel : 6;
    level = Math.min(level, node.maxDeflateLevel());
    return new Negotiation(new IdentifyResponse(node.maxRdyCount(), node.version(), node.maxMsgTimeoutMs(), msgTimeoutMs,
        tls, useDeflate, level, node.maxDeflateLevel(), useSnappy, sampleRate, node.authRequired(), outputBufferSize,
        outputBufferTimeoutMs), null);
  }

  /** The IDENTIFY fields as Go would decode them: missing keys keep zero values. */
  private static final class Fields {
    String clientId = "";
    String hostname = "";
    String userAgent = "";
    boolean featureNegotiation;
    long heartbeatInterval;
    long outputBufferSize;
    long outputBufferTimeout;
    boolean tlsV1;
    boolean snappy;
    boolean deflate;
    long deflateLevel;
    long sampleRate;
    long msgTimeout;

    /** Returns false when the value has the wrong JSON type for the key. */
    boolean set(String key, JsonNode v) {
      switch (key) {
        case "client_id": return str(v, s -> clientId = s);
        case "hostname": return str(v, s -> hostname = s);
        case "user_agent": return str(v, s -> userAgent = s);
        case "feature_negotiation": return bool(v, b -> featureNegotiation = b);
        case "tls_v1": return bool(v, b -> tlsV1 = b);
        case "snappy": return bool(v, b -> snappy = b);
        case "deflate": return bool(v, b -> deflate = b);
        case "heartbeat_interval": return num(v, n -> heartbeatInterval = n);
        case "output_buffer_size": return num(v, n -> outputBufferSize = n);
        case "output_buffer_timeout": return num(v, n -> outputBufferTimeout = n);
        case "deflate_level": return num(v, n -> deflateLevel = n);
        case "sample_rate": return num(v, n -> sampleRate = n);
        case "msg_timeout": return num(v, n -> msgTimeout = n);
        default: return true;   // short_id, long_id, topology_* and anything else: ignored
      }
    }

    private static boolean str(JsonNode v, java.util.function.Consumer<String> to) {
      if (v.isNull()) return true;
      if (!v.isTextual()) return false;
      to.accept(v.asText());
      return true;
    }

    private static boolean bool(JsonNode v, java.util.function.Consumer<Boolean> to) {
      if (v.isNull()) return true;
      if (!v.isBoolean()) return false;
      to.accept(v.booleanValue());
      return true;
    }

    private static boolean num(JsonNode v, java.util.function.LongConsumer to) {
      if (v.isNull()) return true;
      if (!v.isIntegralNumber() || !v.canConvertToLong()) return false;
      to.accept(v.longValue());
      return true;
    }
  }
}
