package io.jnsq.client;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A message delivered to a {@link Consumer}: nsqd's 16-byte id, its timestamp and attempts, the body,
 * and the answers nsqd expects (FIN, REQ, TOUCH) on the connection it came from.
 * <pre>[int64 timestamp ns][uint16 attempts][16 bytes id, hex ASCII][body]</pre>
 */
public final class Message {
  /** What a message answers on; the consumer's connection. */
  interface Responder {
    void finish(Message m);
    void requeue(Message m, Duration delay, boolean backoff);
    void touch(Message m);
  }

  private final String id;
  private final long timestampNanos;
  private final int attempts;
  private final byte[] body;
  private final String nsqdAddress;
  private final Responder responder;
  private final AtomicBoolean responded = new AtomicBoolean();
  private volatile boolean autoResponse = true;

  Message(String id, long timestampNanos, int attempts, byte[] body, String nsqdAddress, Responder responder) {
    this.id = id;
    this.timestampNanos = timestampNanos;
    this.attempts = attempts;
    this.body = body;
    this.nsqdAddress = nsqdAddress;
    this.responder = responder;
  }

  static Message decode(byte[] frame, String nsqdAddress, Responder responder) {
    if (frame.length < 26) throw new IllegalArgumentException("message frame of " + frame.length + " bytes");
    long ts = 0;
    for (int i = 0; i < 8; i++) ts = ts << 8 | (frame[i] & 0xff);
    int attempts = (frame[8] & 0xff) << 8 | (frame[9] & 0xff);
    String id = new String(frame, 10, 16, StandardCharsets.US_ASCII);
    byte[] body = java.util.Arrays.copyOfRange(frame, 26, frame.length);
    return new Message(id, ts, attempts, body, nsqdAddress, responder);
  }

  /** The id as nsqd writes it in FIN/REQ/TOUCH (16 ASCII characters). */
  public String id() { return id; }

  /** When nsqd accepted the message, in nanoseconds since the epoch. */
  public long timestampNanos() { return timestampNanos; }

  /** How many times nsqd has delivered it, this delivery included. */
  public int attempts() { return attempts; }

  /** The body (the array itself; do not change it). */
  public byte[] body() { return body; }

  /** The body as UTF-8 text. */
  public String bodyAsString() { return new String(body, StandardCharsets.UTF_8); }

  /** The host:port of the nsqd that delivered it. */
  public String nsqdAddress() { return nsqdAddress; }

  /** Leaves FIN or REQ to the handler's code (e.g. to answer after asynchronous work). */
  public void disableAutoResponse() { autoResponse = false; }

  /** Whether the consumer answers for the handler when it returns. */
  public boolean isAutoResponseEnabled() { return autoResponse; }

  /** Whether FIN or REQ was sent already. */
  public boolean hasResponded() { return responded.get(); }

  /** Tells nsqd the message is done (at most once; later calls do nothing). */
  public void finish() {
    if (responded.compareAndSet(false, true)) responder.finish(this);
  }

  /** Puts it back for redelivery after {@code delay}, and counts as a failure for backoff. */
  public void requeue(Duration delay) {
    if (responded.compareAndSet(false, true)) responder.requeue(this, delay, true);
  }

  /** Puts it back for redelivery after {@code delay} without backing off. */
  public void requeueWithoutBackoff(Duration delay) {
    if (responded.compareAndSet(false, true)) responder.requeue(this, delay, false);
  }

  /** Resets its in-flight timeout on nsqd. */
  public void touch() {
    if (!responded.get()) responder.touch(this);
  }
}
