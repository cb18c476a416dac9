package io.jnsq.jepsen;

import java.util.ArrayList;
import java.util.List;

/**
 * The log of one run, as Jepsen keeps it: every operation a producer, a consumer or the nemesis did,
 * in the order they happened, from many threads. A producer records {@link Type#ATTEMPT} before it
 * sends a message and {@link Type#ACK} after the node's {@code OK} (or {@link Type#FAIL} when it got an
 * error, a timeout or a dead connection instead); a consumer records each {@link Type#DELIVER}, and the
 * {@link Type#FIN} it sent for it. The {@link Checker} reads the result.
 */
public final class History {
  /** What happened. */
  public enum Type {
    /** A producer is about to send message {@code id} (recorded before the bytes leave). */
    ATTEMPT,
    /** The node answered {@code OK} to the publish that carried {@code id}. */
    ACK,
    /** The publish that carried {@code id} got no {@code OK}: an error frame, a timeout or a broken connection; it may or may not have been written. */
    FAIL,
    /** A consumer received message {@code id} (the body); {@code info} holds the NSQ id and attempts. */
    DELIVER,
    /** The consumer sent FIN for its latest delivery of {@code id} (NSQ does not answer FIN). */
    FIN,
    /**
     * A consumer's connection broke or was given up; the node requeues what it had in flight. Its time is
     * the last moment the consumer heard from the node on that connection: a FIN sent shortly before
     * that, or after it into the silence, may never have arrived.
     */
    DISCONNECT,
    /** The nemesis injected a fault ({@code info} names it); {@code id} is null. */
    FAULT,
    /** The nemesis healed the fault it injected last ({@code info} names it); {@code id} is null. */
    HEAL
  }

  /** One operation: its place in the history, when (System.nanoTime), what, by whom, on which message. */
  public record Op(long index, long nanos, Type type, String process, String id, String info) {
    /** {@code index nanos type process id [info]}: one line of a saved history. */
    @Override public String toString() {
      return index + " " + nanos + " " + type + " " + process + " " + id + (info == null ? "" : " " + info);
    }
  }

  private final List<Op> ops = new ArrayList<>();

  /** Appends an operation now; its index is its place in the run's single order. */
  public synchronized Op record(Type type, String process, String id, String info) {
    Op op = new Op(ops.size(), System.nanoTime(), type, process, id, info);
    ops.add(op);
    return op;
  }

  /**
   * Appends an operation whose moment is known to be earlier than now (a connection last heard from at
   * {@code nanos}); its index is still its place in the order of recording.
   */
  public synchronized Op record(Type type, String process, String id, String info, long nanos) {
    Op op = new Op(ops.size(), nanos, type, process, id, info);
    ops.add(op);
    return op;
  }

  public Op record(Type type, String process, String id) {
    return record(type, process, id, null);
  }

  /** A copy of everything recorded so far, in order. */
  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  public synchronized int size() {
    return ops.size();
  }

  /** A history built by hand, for the checker's tests: each op gets the next index and {@code nanos} as given. */
  public static Op op(long index, long nanos, Type type, String process, String id) {
    return new Op(index, nanos, type, process, id, null);
  }
}
