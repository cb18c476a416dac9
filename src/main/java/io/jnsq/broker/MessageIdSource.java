package io.jnsq.broker;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands out message ids unique on this node: {@code [node id: 10 bits][sequence: 54 bits]}, the sequence
 * starting at the start time in milliseconds shifted left by 12 bits, so a restarted node does not reuse
 * ids unless it sustained more than 4096 messages per millisecond since the previous start.
 *
 * <p>The one piece of state topics share: a lock-free counter, read and bumped in batches (one
 * {@code getAndAdd} per PUB/MPUB), like a clock rather than like shared data.
 */
public final class MessageIdSource {
  private static final long SEQUENCE_MASK = (1L << 54) - 1;
  private final long nodeBits;
  private final AtomicLong sequence;

  public MessageIdSource(int nodeId, long startMillis) {
    if (nodeId < 0 || nodeId > 1023) throw new IllegalArgumentException("node id must be 0..1023, got " + nodeId);
    this.nodeBits = (long) nodeId << 54;
    this.sequence = new AtomicLong(((startMillis - 1_577_836_800_000L) << 12) & SEQUENCE_MASK);
  }

  /** Reserves {@code count} consecutive ids and returns the first; add 0..count-1 with {@link #id}. */
  public long reserve(int count) { return sequence.getAndAdd(count); }

  /** The id for the {@code offset}-th message of a reservation. */
  public long id(long first, int offset) { return nodeBits | ((first + offset) & SEQUENCE_MASK); }
}
