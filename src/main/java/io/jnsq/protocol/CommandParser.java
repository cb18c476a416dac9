package io.jnsq.protocol;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteIterator;
import org.apache.pekko.util.ByteString;

/**
 * Decodes one client command from the front of a buffer: a pure function, so it is tested without streams
 * and the decoding stage around it stays thin. A command is an ASCII line ending in {@code \n} (a
 * {@code \r} before it is dropped), split on single spaces; PUB, MPUB, DPUB, IDENTIFY and AUTH are
 * followed by {@code [int32 size][size bytes]}. Errors carry nsqd's exact codes and texts.
 */
public final class CommandParser {
  /** nsqd's read buffer: a longer command line drops the connection without an error frame. */
  public static final int MAX_LINE = 16384;

  private CommandParser() {}

  /** The outcome of one decoding attempt. */
  public sealed interface Parsed permits NeedMore, Ok {}

  /** The buffer does not yet hold a whole command. */
  public enum NeedMore implements Parsed { INSTANCE }

  /** A command (or an error) taken from the first {@code consumed} bytes. */
  public record Ok(Inbound item, int consumed) implements Parsed {}

  /** Decodes the command at the start of {@code buf}. */
  public static Parsed next(ByteString buf, Limits limits) {
    int nl = buf.indexOf((byte) '\n');
    if (nl < 0) {
      return buf.size() >= MAX_LINE ? new Ok(new ProtocolError("", "", "", true, true), buf.size()) : NeedMore.INSTANCE;
    }
    if (nl >= MAX_LINE) return new Ok(new ProtocolError("", "", "", true, true), nl + 1);
    int lineEnd = nl > 0 && buf.apply(nl - 1) == '\r' ? nl - 1 : nl;
    ByteString lineBytes = buf.take(lineEnd);
    String[] params = splitLine(lineBytes);
    String verb = params[0];
    int afterLine = nl + 1;
    switch (verb) {
      case "PUB": return pub(buf, afterLine, params, limits);
      case "MPUB": return mpub(buf, afterLine, params, limits);
      case "DPUB": return dpub(buf, afterLine, params, limits);
      case "FIN": return idCommand(verb, params, afterLine, "FIN insufficient number of params");
      case "TOUCH": return idCommand(verb, params, afterLine, "TOUCH insufficient number of params");
      case "REQ": return req(params, afterLine);
      case "RDY": return rdy(params, afterLine, limits);
      case "NOP": return new Ok(new Command.Nop(), afterLine);
      case "SUB": return sub(params, afterLine);
      case "CLS": return new Ok(new Command.Cls(), afterLine);
      case "IDENTIFY": return bodyCommand(buf, afterLine, "IDENTIFY", limits, params);
      case "AUTH": return bodyCommand(buf, afterLine, "AUTH", limits, params);
      default: return new Ok(ProtocolError.of(verb, "E_INVALID", "invalid command " + verb), afterLine);
    }
  }

  private static Parsed pub(ByteString buf, int at, String[] params, Limits limits) {
    if (params.length < 2) return framing("PUB", "E_INVALID", "PUB insufficient number of parameters", at);
    String topic = params[1];
    if (!Names.isValidTopic(topic)) {
      return framing("PUB", "E_BAD_TOPIC", "PUB topic name " + GoQuote.quote(topic) + " is not valid", at);
    }
    return messageBody(buf, at, "PUB", limits, body -> new Command.Pub(topic, body));
  }

  private static Parsed dpub(ByteString buf, int at, String[] params, Limits limits) {
    if (params.length < 3) return framing("DPUB", "E_INVALID", "DPUB insufficient number of parameters", at);
    String topic = params[1];
    if (!Names.isValidTopic(topic)) {
      return framing("DPUB", "E_BAD_TOPIC", "DPUB topic name " + GoQuote.quote(topic) + " is not valid", at);
    }
    long defer = parseDigits(params[2]);
    if (defer < 0) return framing("DPUB", "E_INVALID", "DPUB could not parse timeout " + params[2], at);
    if (defer > limits.maxReqTimeoutMs()) {
      return framing("DPUB", "E_INVALID", "DPUB timeout " + defer + " out of range 0-" + limits.maxReqTimeoutMs(), at);
    }
    return messageBody(buf, at, "DPUB", limits, body -> new Command.DPub(topic, defer, body));
  }

  private static Parsed messageBody(ByteString buf, int at, String verb, Limits limits,
      java.util.function.Function<ByteString, Command> make) {
    if (buf.size() < at + 4) return NeedMore.INSTANCE;
    int size = readInt(buf, at);
    if (size <= 0) return framing(verb, "E_BAD_MESSAGE", verb + " invalid message body size " + size, at);
    if (size > limits.maxMsgSize()) {
      return framing(verb, "E_BAD_MESSAGE", verb + " message too big " + size + " > " + limits.maxMsgSize(), at);
    }
    int end = at + 4 + size;
    if (buf.size() < end) return NeedMore.INSTANCE;
    return new Ok(make.apply(buf.slice(at + 4, end)), end);
  }

  /**
   * MPUB as nsqd reads it: {@code body_size} is checked against the limit, then exactly
   * {@code num_messages} size-prefixed messages are read from the stream, whatever body_size said.
   */
  private static Parsed mpub(ByteString buf, int at, String[] params, Limits limits) {
    if (params.length < 2) return framing("MPUB", "E_INVALID", "MPUB insufficient number of parameters", at);
    String topic = params[1];
    if (!Names.isValidTopic(topic)) {
      return framing("MPUB", "E_BAD_TOPIC", "E_BAD_TOPIC MPUB topic name " + GoQuote.quote(topic) + " is not valid", at);
    }
    if (buf.size() < at + 4) return NeedMore.INSTANCE;
    int bodySize = readInt(buf, at);
    if (bodySize <= 0) return framing("MPUB", "E_BAD_BODY", "MPUB invalid body size " + bodySize, at);
    if (bodySize > limits.maxBodySize()) {
      return framing("MPUB", "E_BAD_BODY", "MPUB body too big " + bodySize + " > " + limits.maxBodySize(), at);
    }
    int pos = at + 4;
    if (buf.size() < pos + 4) return NeedMore.INSTANCE;
    int count = readInt(buf, pos);
    pos += 4;
    if (count <= 0 || count > (limits.maxBodySize() - 4) / 5) {
      return framing("MPUB", "E_BAD_BODY", "MPUB invalid message count " + count, at);
    }
    // Walk the sizes first with one sequential iterator (cheap on a rope too), so a partial MPUB costs no
    // allocation until all of it is here; then slice the bodies out.
    int available = buf.size();
    int[] sizes = new int[count];
    ByteIterator it = buf.iterator();
    it.drop(pos);
    int walk = pos;
    for (int i = 0; i < count; i++) {
      if (available < walk + 4) return NeedMore.INSTANCE;
      int size = it.getInt(ByteOrder.BIG_ENDIAN);
      if (size <= 0) return framing("MPUB", "E_BAD_MESSAGE", "MPUB invalid message(" + i + ") body size " + size, at);
      if (size > limits.maxMsgSize()) {
        return framing("MPUB", "E_BAD_MESSAGE", "MPUB message too big " + size + " > " + limits.maxMsgSize(), at);
      }
      sizes[i] = size;
      walk += 4 + size;
      if (walk < 0) return framing("MPUB", "E_BAD_MESSAGE", "MPUB failed to read message body", at);
      if (available < walk) return NeedMore.INSTANCE;
      it.drop(size);
    }
    List<ByteString> bodies = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      bodies.add(buf.slice(pos + 4, pos + 4 + sizes[i]));
      pos += 4 + sizes[i];
    }
    return new Ok(new Command.MPub(topic, bodies), walk);
  }

  private static Parsed bodyCommand(ByteString buf, int at, String verb, Limits limits, String[] params) {
    if (verb.equals("AUTH") && params.length != 1) {
      return framing("AUTH", "E_INVALID", "AUTH invalid number of parameters", at);
    }
    if (buf.size() < at + 4) return NeedMore.INSTANCE;
    int size = readInt(buf, at);
    if (size > limits.maxBodySize()) {
      return framing(verb, "E_BAD_BODY", verb + " body too big " + size + " > " + limits.maxBodySize(), at);
    }
    if (size <= 0) return framing(verb, "E_BAD_BODY", verb + " invalid body size " + size, at);
    int end = at + 4 + size;
    if (buf.size() < end) return NeedMore.INSTANCE;
    ByteString body = buf.slice(at + 4, end);
    return new Ok(verb.equals("AUTH") ? new Command.Auth(body) : new Command.Identify(body), end);
  }

  private static Parsed sub(String[] params, int at) {
    if (params.length < 3) return error("SUB", "E_INVALID", "SUB insufficient number of parameters", at);
    String topic = params[1];
    String channel = params[2];
    if (!Names.isValidTopic(topic)) {
      return error("SUB", "E_BAD_TOPIC", "SUB topic name " + GoQuote.quote(topic) + " is not valid", at);
    }
    if (!Names.isValidChannel(channel)) {
      return error("SUB", "E_BAD_CHANNEL", "SUB channel name " + GoQuote.quote(channel) + " is not valid", at);
    }
    return new Ok(new Command.Sub(topic, channel), at);
  }

  private static Parsed rdy(String[] params, int at, Limits limits) {
    long count = 1;
    if (params.length > 1) {
      count = parseDigits(params[1]);
      if (count < 0) return error("RDY", "E_INVALID", "RDY could not parse count " + params[1], at);
    }
    if (count > limits.maxRdyCount()) {
      return error("RDY", "E_INVALID", "RDY count " + count + " out of range 0-" + limits.maxRdyCount(), at);
    }
    return new Ok(new Command.Rdy(count), at);
  }

  private static Parsed idCommand(String verb, String[] params, int at, String insufficient) {
    if (params.length < 2) return error(verb, "E_INVALID", insufficient, at);
    String id = params[1];
    if (id.length() != 16) return error(verb, "E_INVALID", "invalid message ID", at);
    return new Ok(verb.equals("FIN") ? new Command.Fin(id) : new Command.Touch(id), at);
  }

  private static Parsed req(String[] params, int at) {
    if (params.length < 3) return error("REQ", "E_INVALID", "REQ insufficient number of params", at);
    String id = params[1];
    if (id.length() != 16) return error("REQ", "E_INVALID", "invalid message ID", at);
    long timeout = parseDigits(params[2]);
    if (timeout < 0) return error("REQ", "E_INVALID", "REQ could not parse timeout " + params[2], at);
    return new Ok(new Command.Req(id, timeout), at);
  }

  /** Decimal digits only, as nsqd's parser: empty is 0, anything else (a sign too) is -1; huge values saturate. */
  static long parseDigits(String s) {
    long v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return -1;
      v = v > (Long.MAX_VALUE - 9) / 10 ? Long.MAX_VALUE : v * 10 + (c - '0');
    }
    return v;
  }

  /**
   * The line's tokens between single spaces, empty ones kept (as Go's {@code bytes.Split}), each byte one
   * char (ISO-8859-1) so that names with odd bytes can be quoted back exactly.
   */
  static String[] splitLine(ByteString line) {
    byte[] b = line.toArrayUnsafe();
    int tokens = 1;
    for (byte x : b) if (x == ' ') tokens++;
    String[] out = new String[tokens];
    int start = 0;
    int t = 0;
    for (int i = 0; i <= b.length; i++) {
      if (i == b.length || b[i] == ' ') {
        out[t++] = new String(b, start, i - start, StandardCharsets.ISO_8859_1);
        start = i + 1;
      }
    }
    return out;
  }

  /** A big-endian int32, as every integer on the wire is. */
  private static int readInt(ByteString buf, int at) {
    return ((buf.apply(at) & 0xff) << 24) | ((buf.apply(at + 1) & 0xff) << 16)
        | ((buf.apply(at + 2) & 0xff) << 8) | (buf.apply(at + 3) & 0xff);
  }

  private static Parsed error(String verb, String code, String text, int consumed) {
    return new Ok(ProtocolError.of(verb, code, text), consumed);
  }

  /** A body follows that cannot be skipped reliably: the decoder stops after this error. */
  private static Parsed framing(String verb, String code, String text, int consumed) {
    return new Ok(ProtocolError.framing(verb, code, text), consumed);
  }
}
