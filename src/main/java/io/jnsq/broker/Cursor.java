package io.jnsq.broker;

import io.jnsq.storage.CursorFile;
import io.jnsq.storage.TopicLog;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A channel's place in its topic's log: the next record to read, how far it may read (what the topic
 * has made visible), and stretches the topic emptied that it must skip. Owned by the channel actor.
 */
final class Cursor {
  private final TopicLog log;
  private long pos;
  private long seq;
  private long limitPos;
  private long limitSeq;
  private long corrupt;
  private final ArrayDeque<long[]> skips = new ArrayDeque<>();   // {from, to, toSeq, fromSeq or -1}

  Cursor(TopicLog log, long pos, long seq, long limitPos, long limitSeq) {
    this.log = log;
    this.pos = pos;
    this.seq = seq;
    this.limitPos = Math.max(pos, limitPos);
    this.limitSeq = Math.max(seq, limitSeq);
  }

  TopicLog log() { return log; }
  long pos() { return pos; }
  long seq() { return seq; }
  long corrupt() { return corrupt; }

  /** The topic made records up to here visible. */
  void extend(long toPos, long toSeq) {
    if (toPos > limitPos) {
      limitPos = toPos;
      limitSeq = toSeq;
    }
  }

  /** The topic emptied what lies between {@code from} and {@code to}. */
  void skip(long from, long to, long toSeq) {
    skips.add(new long[] {from, to, toSeq, -1});
    applySkips();
  }

  /**
   * A saved stretch that is not this channel's (another channel's imported backlog): skipped like the
   * others, left out of {@link #remaining()}, and saved with the cursor until it is passed.
   */
  void skipSaved(CursorFile.Skip k) {
    if (k.to() <= pos) return;
    skips.add(new long[] {k.from(), k.to(), k.toSeq(), k.fromSeq()});
    applySkips();
  }

  /** The saved stretches still ahead, to save again. */
  List<CursorFile.Skip> savedSkips() {
    List<CursorFile.Skip> out = new ArrayList<>();
    for (long[] s : skips) if (s[3] >= 0) out.add(new CursorFile.Skip(s[0], s[3], s[1], s[2]));
    return out;
  }

  private void applySkips() {
    while (!skips.isEmpty()) {
      long[] s = skips.peekFirst();
      if (pos < s[0]) return;
      skips.pollFirst();
      if (pos < s[1]) {
        pos = s[1];
        seq = s[2];
      }
    }
  }

  /** Moves to the end of what is visible (EMPTY). */
  void toEnd() {
    pos = limitPos;
    seq = limitSeq;
    skips.clear();
  }

  /** Restores a saved position, kept within what the log still holds. */
  void restore(long savedPos, long savedSeq) {
    if (savedPos > limitPos) {
      toEnd();   // a power cut took records the cursor had seen: go on after what survived
    } else if (savedPos >= log.startPos()) {
      pos = savedPos;
      seq = savedSeq;
    }
  }

  /**
   * Reads on from {@code toPos} (a record boundary, sequence {@code toSeq}), forward or back, within what
   * is visible; the stretches the topic emptied are forgotten (they are read again), saved ones kept.
   */
  void moveTo(long toPos, long toSeq) {
    if (toPos >= limitPos) {
      pos = limitPos;
      seq = limitSeq;
    } else {
      pos = Math.max(toPos, log.startPos()) == toPos ? toPos : log.startPos();
      seq = pos == toPos ? toSeq : log.startSeq();
    }
    skips.removeIf(s -> s[3] < 0 || s[1] <= pos);
    applySkips();
  }

  boolean atEnd() {
    applySkips();
    return pos >= limitPos;
  }

  /** Records visible and not yet read (saved skips ahead left out). */
  long remaining() {
    long skipped = 0;
    for (long[] s : skips) if (s[3] >= 0 && s[2] <= limitSeq) skipped += s[2] - s[3];
    return Math.max(0, limitSeq - seq - skipped);
  }

  /** Of {@link #remaining()}, those held only in the log's files, not in memory. */
  long remainingOnDisk() {
    if (log.memoryOnly()) return 0;
    long end = Math.min(limitSeq, log.cacheStartSeq());
    long skipped = 0;
    for (long[] s : skips) if (s[3] >= 0) skipped += Math.max(0, Math.min(s[2], end) - Math.max(s[3], seq));
    return Math.max(0, end - seq - skipped);
  }

  /** The upper bound of the next read: the visible end, or the start of a stretch to skip. */
  long readLimit() {
    applySkips();
    return skips.isEmpty() ? limitPos : Math.min(limitPos, skips.peekFirst()[0]);
  }

  /** Takes a batch that was read from the current position. */
  void advance(TopicLog.Batch b) {
    pos = b.nextPos();
    seq = b.nextSeq();
    corrupt += b.corrupt();
    applySkips();
  }
}
