package io.jnsq.tcp;

import io.jnsq.broker.Message;
import io.jnsq.protocol.Frames;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's output and liveness, as nsqd's {@code client_v2.go} keeps them: the replies owed in
 * command order, the output buffer and its batching, the switches to compression and TLS, heartbeats,
 * and the read and write deadlines. Owned by one {@link ProtocolV2} actor and called only from it.
 *
 * <p>Output batching: frames accumulate in one buffer while the previous write is in progress and go
 * out together as soon as the socket takes more, so a busy connection writes big batches and an idle
 * one never waits for a flush timer.
 */
final class ClientV2 {
  private static final Logger log = LoggerFactory.getLogger(ClientV2.class);

  /** Largest single write handed to the socket writer. */
  private static final int MAX_WRITE = 256 * 1024;

  /** Where the connection is in its life: open, writing what is owed before the close, or closed. */
  enum Lifecycle { OPEN, DRAINING, CLOSED }

  /** A change of the byte stream that takes effect after everything owed before it. */
  sealed interface Switch {}

  /** Compression (IDENTIFY's snappy or deflate) from here on. */
  record Compress(StreamCodec codec) implements Switch {}

  /** The TLS handshake from here on. */
  record StartTlsHere() implements Switch {}

  /** A reply owed to the client, in command order; {@code frame} is null until it is known. */
  static final class Reply {
    ByteString frame;
    boolean closes;    // the connection closes once this is written (a fatal error, or a silent close)
    Switch switchTo;   // null: none

    static Reply pending() { return new Reply(); }

    static Reply ready(ByteString frame) {
      Reply r = new Reply();
      r.frame = frame;
      return r;
    }

    static Reply closing(ByteString frame) {
      Reply r = ready(frame);
      r.closes = true;
      return r;
    }

    static Reply switching(Switch to) {
      Reply r = ready(ByteString.emptyByteString());
      r.switchTo = to;
      return r;
    }
  }

  private final TimerScheduler<ProtocolV2.SessionCommand> timers;
  private final Ticker ticker;
  private final String remoteAddress;
  private final long maxOutputBacklog;
  private final Runnable onClosed;

  private final ArrayDeque<Reply> replies = new ArrayDeque<>(4);
  private ByteStringBuilder out = new ByteStringBuilder();
  private ActorRef<ProtocolV2.Output> writer;
  private boolean writing;   // a write is with the socket writer, not yet acknowledged
  private long writeStartedNanos;
  private Lifecycle lifecycle = Lifecycle.OPEN;
  // Compression: output is encoded per write once the plainBytes at the head of the buffer (IDENTIFY's
  // answer) have gone out as they are.
  private StreamCodec outCodec;
  private int plainBytes;
  private int tlsMarkAt = -1;   // bytes of out to write before the START_TLS marker; -1: none
  private long heartbeatNanos;
  private long lastReadNanos;
  private boolean spokeV2;   // heartbeats wait for the magic: nothing goes to a client that never sent it

  ClientV2(TimerScheduler<ProtocolV2.SessionCommand> timers, Ticker ticker, String remoteAddress, long maxOutputBacklog,
      Runnable onClosed) {
    this.timers = timers;
    this.ticker = ticker;
    this.remoteAddress = remoteAddress;
    this.maxOutputBacklog = maxOutputBacklog;
    this.onClosed = onClosed;
    this.lastReadNanos = ticker.nanoTime();
  }

  // ---------------------------------------------------------------- state

  boolean closing() { return lifecycle != Lifecycle.OPEN; }

  boolean closed() { return lifecycle == Lifecycle.CLOSED; }

  /** Whether the client may send more: the output it has not read yet is within bounds. */
  boolean hasRoom() { return out.length() < maxOutputBacklog; }

  long heartbeatNanos() { return heartbeatNanos; }

  // ---------------------------------------------------------------- replies

  void owe(Reply r) { replies.add(r); }

  /** Owes an error frame after which the connection closes; nothing after it is read. */
  void fatal(String text) {
    owe(Reply.closing(Frames.error(text)));
    drain();
  }

  /** Writes what is owed, then closes. */
  void drain() {
    if (lifecycle == Lifecycle.OPEN) lifecycle = Lifecycle.DRAINING;
  }

  /** Message frames go out as soon as they arrive, between replies. */
  void writeMessages(List<Message> messages) {
    if (closed()) return;
    for (Message m : messages) Frames.appendMessage(out, m.timestamp(), m.attempts(), m.id(), m.body());
  }

  /** Moves every reply whose turn has come into the output buffer, then writes if the socket is free. */
  void settle() {
    Reply head;
    boolean closeNow = false;
    while ((head = replies.peek()) != null && head.frame != null) {
      replies.poll();
      if (head.switchTo instanceof Compress c) {
        plainBytes = out.length();
        outCodec = c.codec();
      } else if (head.switchTo instanceof StartTlsHere) {
        tlsMarkAt = out.length();
      }
      if (!closed()) out.append(head.frame);
      if (head.closes) {
        closeNow = true;
        break;
      }
    }
    if (closeNow) {
      drain();
      replies.clear();
    }
    flush();
    if (closing() && !closed() && replies.isEmpty() && out.length() == 0 && !writing) close(false);
  }

  /**
   * Hands what is buffered to the socket writer, at most {@link #MAX_WRITE} bytes at a time (zero-copy
   * slices), so that each ack shows the client is still reading and the write deadline measures a
   * stall, not the size of a large delivery.
   */
  private void flush() {
    if (writer == null || writing || closed()) return;
    if (tlsMarkAt == 0) {
      write(StartTls.START);   // the TLS stage turns into the server end here
      tlsMarkAt = -1;
      return;
    }
    if (out.length() == 0) return;
    ByteString all = out.result();
    out = new ByteStringBuilder();
    int limit = tlsMarkAt > 0 ? Math.min(MAX_WRITE, tlsMarkAt) : MAX_WRITE;
    if (all.size() > limit) {
      out.append(all.drop(limit));
      all = all.take(limit);
    }
    if (tlsMarkAt > 0) tlsMarkAt -= all.size();
    if (outCodec != null) {
      int plain = Math.min(plainBytes, all.size());
      plainBytes -= plain;
      all = plain == all.size() ? all : all.take(plain).concat(outCodec.encode(all.drop(plain)));
    }
    write(all);
  }

  private void write(ByteString bytes) {
    writer.tell(new ProtocolV2.Bytes(bytes));
    writing = true;
    writeStartedNanos = ticker.nanoTime();
  }

  // ---------------------------------------------------------------- the socket writer

  void outputStarted(ActorRef<ProtocolV2.Output> out) {
    writer = out;
    if (closed()) writer.tell(new ProtocolV2.Abort());
  }

  void outputAcked() { writing = false; }

  /**
   * Ends the connection: after what is owed has been written, or at once ({@code abort}) for a client
   * that stopped reading or talking, whose socket would never drain.
   */
  void close(boolean abort) {
    if (closed()) return;
    lifecycle = Lifecycle.CLOSED;
    if (writer != null) writer.tell(abort ? new ProtocolV2.Abort() : new ProtocolV2.Close());
    timers.cancelAll();
    onClosed.run();
  }

  // ---------------------------------------------------------------- liveness

  /** The client sent something: the read deadline starts again; the first read carries the magic. */
  void read() {
    lastReadNanos = ticker.nanoTime();
    if (!spokeV2) {
      spokeV2 = true;
      if (heartbeatNanos > 0) startHeartbeats();
    }
  }

  /** Heartbeats every {@code nanos}, and a read deadline of two of them; 0 disables both, as nsqd's -1 does. */
  void setHeartbeat(long nanos) {
    heartbeatNanos = nanos;
    if (nanos > 0) {
      if (spokeV2) startHeartbeats();
      long idle = ticker.nanoTime() - lastReadNanos;
      timers.startSingleTimer(ProtocolV2.Tick.READ_DEADLINE, ProtocolV2.Tick.READ_DEADLINE,
          Duration.ofNanos(Math.max(1, 2 * nanos - idle)));
    } else {
      timers.cancel(ProtocolV2.Tick.HEARTBEAT);
      timers.cancel(ProtocolV2.Tick.READ_DEADLINE);
    }
  }

  private void startHeartbeats() {
    timers.startTimerWithFixedDelay(ProtocolV2.Tick.HEARTBEAT, ProtocolV2.Tick.HEARTBEAT, Duration.ofNanos(heartbeatNanos));
  }

  /** A heartbeat is due; a client that has not read for a whole interval meets nsqd's write deadline instead. */
  void onHeartbeat() {
    if (closed()) return;
    if (writing && ticker.nanoTime() - writeStartedNanos > heartbeatNanos) {
      log.info("client {} stopped reading, closing", remoteAddress);
      drain();
      close(true);
      return;
    }
    out.append(Frames.HEARTBEAT);
  }

  /** Two heartbeats without a read: the client is gone. */
  void onReadDeadline() {
    if (closed()) return;
    long deadline = heartbeatNanos > 0 ? 2 * heartbeatNanos : 0;
    if (deadline == 0) return;   // heartbeats disabled: no read deadline
    long idle = ticker.nanoTime() - lastReadNanos;
    if (idle >= deadline) {
      log.info("client {} missed two heartbeats, closing", remoteAddress);
      drain();
      close(true);
      return;
    }
    timers.startSingleTimer(ProtocolV2.Tick.READ_DEADLINE, ProtocolV2.Tick.READ_DEADLINE, Duration.ofNanos(deadline - idle));
  }
}
