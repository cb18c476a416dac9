package io.jnsq.client;

/** An error frame from nsqd ({@code E_BAD_TOPIC ...}), or a failure of the client's own connection. */
public class NsqException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String code;

  /** An error named by nsqd's code (the first word of its error frame), or {@code E_CLIENT} for our own. */
  public NsqException(String code, String message) {
    super(message);
    this.code = code;
  }

  /** The same, with the cause that produced it. */
  public NsqException(String code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** nsqd's error code, e.g. {@code E_BAD_TOPIC}; {@code E_CLIENT} when the client itself failed. */
  public String code() { return code; }

  static NsqException fromFrame(String text) {
    int sp = text.indexOf(' ');
    return new NsqException(sp < 0 ? text : text.substring(0, sp), text);
  }
}
