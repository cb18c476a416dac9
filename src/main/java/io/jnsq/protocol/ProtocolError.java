package io.jnsq.protocol;

/**
 * A refusal of client input, in nsqd's words: {@code code} such as {@code E_INVALID} and the text after
 * it. {@code verb} names the command that caused it (empty when none could be read) so that the session
 * can answer a state error first, as nsqd does. {@code framingLost} means the decoder could not find the
 * next command and has stopped; {@code silent} means nsqd drops the connection without any frame
 * (a command line longer than its read buffer).
 */
public record ProtocolError(String verb, String code, String text, boolean framingLost, boolean silent)
    implements Inbound {

  /** An error after which the decoder can go on (the command line was complete). */
  public static ProtocolError of(String verb, String code, String text) {
    return new ProtocolError(verb, code, text, false, false);
  }

  /** An error after which the decoder has stopped. */
  public static ProtocolError framing(String verb, String code, String text) {
    return new ProtocolError(verb, code, text, true, false);
  }

  /** The payload of the error frame: {@code CODE SP text}. */
  public String frameText() { return text.isEmpty() ? code : code + " " + text; }
}
