package io.jnsq.broker;

import io.jnsq.storage.TopicLog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Finding records in a topic's log by sequence or by publish time, and reading stretches of it with their
 * headers: blocking, for the I/O executor. Segments start at record boundaries and are in publish order,
 * so a search by time picks the segment by its first record's timestamp and reads on from there.
 */
final class LogSearch {
  private LogSearch() {}

  /** A record boundary: the position and sequence of a record (or of the end). */
  record Found(long pos, long seq) {}

  private static final int COUNT = 4096;
  private static final int BYTES = 1 << 20;

  /** From memory where the log still holds it, else from its files; null when neither has it. */
  static TopicLog.Batch read(TopicLog log, long pos, long seq, long limitPos, int count, int bytes) throws IOException {
    TopicLog.Batch b = log.readMemory(pos, seq, limitPos, count, bytes);
    if (b != null) return b;
    return log.memoryOnly() ? null : log.readDisk(pos, seq, limitPos, count, bytes);
  }

  /** Where reading may start: the log's start, or the last segment start at or below {@code seq}. */
  private static Found startFor(TopicLog log, long seq) {
    Found best = new Found(log.startPos(), log.startSeq());
    for (long[] s : log.segmentStarts()) {
      if (s[0] > best.pos() && s[1] <= seq) best = new Found(s[0], s[1]);
    }
    return best;
  }

  /** The first record at or after sequence {@code target}, within what is visible (else the visible end). */
  static Found seekSeq(TopicLog log, long target, long limitPos, long limitSeq) throws IOException {
    if (target >= limitSeq) return new Found(limitPos, limitSeq);
    Found at = startFor(log, target);
    return scan(log, at, limitPos, limitSeq, e -> e.seq() >= target);
  }

  /** The first record that starts at or after position {@code target}, within what is visible (else the visible end). */
  static Found seekPos(TopicLog log, long target, long limitPos, long limitSeq) throws IOException {
    if (target >= limitPos) return new Found(limitPos, limitSeq);
    Found at = new Found(log.startPos(), log.startSeq());
    for (long[] s : log.segmentStarts()) if (s[0] > at.pos() && s[0] <= target) at = new Found(s[0], s[1]);
    return scan(log, at, limitPos, limitSeq, e -> e.pos() >= target);
  }

  /** The first record published at or after {@code epochNanos}, within what is visible (else the visible end). */
  static Found seekTime(TopicLog log, long epochNanos, long limitPos, long limitSeq) throws IOException {
    List<Found> starts = new ArrayList<>();
    starts.add(new Found(log.startPos(), log.startSeq()));
    for (long[] s : log.segmentStarts()) if (s[0] > log.startPos() && s[0] < limitPos) starts.add(new Found(s[0], s[1]));
    // The last segment whose first record is older than the time: the record sought is in it or after it.
    int lo = 0;
    int hi = starts.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      Long ts = firstTimestamp(log, starts.get(mid), limitPos);
      if (ts != null && ts < epochNanos) lo = mid; else hi = mid - 1;
    }
    return scan(log, starts.get(lo), limitPos, limitSeq, e -> e.timestamp() >= epochNanos);
  }

  private static Long firstTimestamp(TopicLog log, Found at, long limitPos) throws IOException {
    TopicLog.Batch b = read(log, at.pos(), at.seq(), limitPos, 1, 256);
    return b == null || b.entries().isEmpty() ? null : b.entries().get(0).timestamp();
  }

  private static Found scan(TopicLog log, Found from, long limitPos, long limitSeq,
      java.util.function.Predicate<TopicLog.Entry> wanted) throws IOException {
    long pos = from.pos();
    long seq = from.seq();
    while (pos < limitPos) {
      TopicLog.Batch b = read(log, pos, seq, limitPos, COUNT, BYTES);
      if (b == null || (b.entries().isEmpty() && b.nextPos() <= pos)) break;
      for (TopicLog.Entry e : b.entries()) if (wanted.test(e)) return new Found(e.pos(), e.seq());
      pos = b.nextPos();
      seq = b.nextSeq();
    }
    return new Found(limitPos, limitSeq);
  }

  /** Up to {@code count} records from sequence {@code fromSeq} on (or the log's start), within what is visible. */
  static List<TopicLog.Entry> readFrom(TopicLog log, long fromSeq, int count, long limitPos, long limitSeq) throws IOException {
    Found at = seekSeq(log, Math.max(fromSeq, log.startSeq()), limitPos, limitSeq);
    List<TopicLog.Entry> out = new ArrayList<>();
    long pos = at.pos();
    long seq = at.seq();
    while (pos < limitPos && out.size() < count) {
      TopicLog.Batch b = read(log, pos, seq, limitPos, Math.min(COUNT, count - out.size()), BYTES);
      if (b == null || (b.entries().isEmpty() && b.nextPos() <= pos)) break;
      out.addAll(b.entries());
      pos = b.nextPos();
      seq = b.nextSeq();
    }
    return out.size() > count ? out.subList(0, count) : out;
  }
}
