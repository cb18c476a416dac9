package io.jnsq.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.apache.pekko.util.ByteString;

/**
 * What a channel's policy says of a message about to be delivered (deliver it, it expired, or it had its
 * deliveries), and the dead letter that goes to the dead-letter topic instead: the body unchanged, and
 * where it came from in a record header kept outside the body (see {@code TopicLog}), so consumers of the
 * dead-letter topic receive exactly what was published.
 */
public final class DeadLetters {
  private DeadLetters() {}

  /** What becomes of a message that is next to be delivered. */
  public enum Verdict { DELIVER, EXPIRED, MAX_ATTEMPTS }

  /**
   * A message leaving its channel: its id, publish time and deliveries there, its origin, why
   * ({@code expired} or {@code max_attempts}) and when (epoch ms).
   */
  public record Letter(long id, long timestamp, int attempts, ByteString body, String topic, String channel,
      String reason, long atEpochMs) {}

  /**
   * The verdict on {@code m} at {@code nowEpochNanos}: expired once it is {@code messageTtl} old, out of
   * attempts when it was delivered {@code maxAttempts} times already (the next would be one too many).
   */
  public static Verdict verdict(ChannelPolicy p, Message m, long nowEpochNanos) {
    if (!p.messageTtl().isZero() && nowEpochNanos - m.timestamp() >= p.messageTtl().toNanos()) return Verdict.EXPIRED;
    if (p.maxAttempts() > 0 && m.attempts() >= p.maxAttempts()) return Verdict.MAX_ATTEMPTS;
    return Verdict.DELIVER;
  }

  static Letter letter(Message m, Verdict v, String topic, String channel, long nowEpochNanos) {
    return new Letter(m.id(), m.timestamp(), m.attempts(), m.body(), topic, channel,
        v == Verdict.EXPIRED ? "expired" : "max_attempts", nowEpochNanos / 1_000_000L);
  }

  /** The record header of a dead letter: {"id","topic","channel","attempts","timestamp","reason","at"}. */
  static ByteString header(Letter l) {
    ObjectNode o = PolicyJson.JSON.createObjectNode();
    o.put("id", io.jnsq.protocol.MessageIds.toHex(l.id()));
    o.put("topic", l.topic());
    o.put("channel", l.channel());
    o.put("attempts", l.attempts());
    o.put("timestamp", l.timestamp());
    o.put("reason", l.reason());
    o.put("at", l.atEpochMs());
    try {
      return ByteString.fromArrayUnsafe(PolicyJson.JSON.writeValueAsBytes(o));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A dead letter read back from a record of the dead-letter topic; null when the record has no such header. */
  public static Letter fromRecord(ByteString header, ByteString body) {
    if (header == null || header.isEmpty()) return null;
    try {
      JsonNode o = PolicyJson.JSON.readTree(header.toArray());
      if (o == null || !o.has("topic") || !o.has("channel")) return null;
      return new Letter(io.jnsq.protocol.MessageIds.parseHex(o.path("id").asText("")), o.path("timestamp").asLong(),
          o.path("attempts").asInt(), body, o.path("topic").asText(), o.path("channel").asText(),
          o.path("reason").asText(""), o.path("at").asLong());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
