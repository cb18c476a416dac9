package io.jnsq.protocol;

import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * A client command of protocol V2, decoded and argument-checked (names, counts, sizes), but not
 * checked against the connection's state: that is the session's job, because nsqd checks state first.
 */
public sealed interface Command extends Inbound {
  /** The verb as sent on the wire, e.g. {@code "PUB"}. */
  String verb();

  /** {@code IDENTIFY}: the raw JSON body, parsed by {@link IdentifyRequest#parse}. */
  record Identify(ByteString body) implements Command { public String verb() { return "IDENTIFY"; } }
  /** {@code AUTH}: the secret. */
  record Auth(ByteString secret) implements Command { public String verb() { return "AUTH"; } }
  /** {@code SUB topic channel}: both names already valid. */
  record Sub(String topic, String channel) implements Command { public String verb() { return "SUB"; } }
  /** {@code PUB topic}: one non-empty body within max-msg-size. */
  record Pub(String topic, ByteString body) implements Command { public String verb() { return "PUB"; } }
  /** {@code MPUB topic}: at least one body, each non-empty and within max-msg-size. Bodies are slices, not copies. */
  record MPub(String topic, List<ByteString> bodies) implements Command { public String verb() { return "MPUB"; } }
  /** {@code DPUB topic defer_ms}: deferMs within 0..max-req-timeout. */
  record DPub(String topic, long deferMs, ByteString body) implements Command { public String verb() { return "DPUB"; } }
  /** {@code RDY [count]}: count within 0..max-rdy-count. */
  record Rdy(long count) implements Command { public String verb() { return "RDY"; } }
  /** {@code FIN id}: id is exactly 16 bytes (not necessarily hex). */
  record Fin(String id) implements Command { public String verb() { return "FIN"; } }
  /** {@code REQ id timeout_ms}: timeout parsed (digits only), not yet clamped to max-req-timeout. */
  record Req(String id, long timeoutMs) implements Command { public String verb() { return "REQ"; } }
  /** {@code TOUCH id}. */
  record Touch(String id) implements Command { public String verb() { return "TOUCH"; } }
  /** {@code CLS}. */
  record Cls() implements Command { public String verb() { return "CLS"; } }
  /** {@code NOP}. */
  record Nop() implements Command { public String verb() { return "NOP"; } }
}
