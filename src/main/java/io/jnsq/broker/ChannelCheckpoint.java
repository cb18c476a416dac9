package io.jnsq.broker;

import io.jnsq.storage.CursorFile;
import io.jnsq.storage.Storage;
import io.jnsq.storage.TopicLog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What a channel saves of itself and reads back at start: its cursor and every message it holds that is
 * not finished (in flight, ready, deferred), as a {@link CursorFile}. A message deferred far ahead is
 * saved with its body, up to a bound, so that it does not keep the log's segments on disk.
 */
final class ChannelCheckpoint {
  private ChannelCheckpoint() {}

  /** Deferred messages due further ahead than this are saved with their bodies, up to the limits below. */
  static final long INLINE_AFTER_MS = 60_000;
  static final int INLINE_MAX = 10_000;
  static final long INLINE_BYTES = 8L << 20;

  /** A saved state read back: the state (null when there was none) and the messages it held, read from the log. */
  record Loaded(CursorFile.State state, List<Channel.Held> unfinished) {}

  static CursorFile.State snapshot(Cursor cursor, Collection<InFlightHeap.Entry> inFlight, Collection<Channel.Held> ready,
      Collection<Channel.DeferredEntry> deferred, long nowMs, long nowNanos) {
    List<CursorFile.Unfinished> out = new ArrayList<>(inFlight.size() + ready.size() + deferred.size());
    for (InFlightHeap.Entry e : inFlight) out.add(unfinished(e.pos, e.seq, e.message, 0));
    for (Channel.Held h : ready) out.add(unfinished(h.pos(), h.seq(), h.message(), 0));
    int inline = 0;
    long inlineBytes = 0;
    for (Channel.DeferredEntry d : deferred) {
      long dueMs = nowMs + Math.max(0, d.due() - nowNanos) / 1_000_000L;
      Channel.Held h = d.held();
      boolean far = d.due() - nowNanos > INLINE_AFTER_MS * 1_000_000L;
      if (h.pos() >= 0 && far && inline < INLINE_MAX && inlineBytes < INLINE_BYTES) {
        Message m = h.message();
        out.add(new CursorFile.Unfinished(h.pos(), h.seq(), m.attempts(), dueMs, m.id(), m.timestamp(), m.body()));
        inline++;
        inlineBytes += m.body().size();
      } else {
        out.add(unfinished(h.pos(), h.seq(), h.message(), dueMs));
      }
    }
    return new CursorFile.State(cursor.pos(), cursor.seq(), out, cursor.savedSkips());
  }

  /** By reference into the log, or with its body when it has no place there any more. */
  private static CursorFile.Unfinished unfinished(long pos, long seq, Message m, long dueMs) {
    if (pos < 0) return new CursorFile.Unfinished(pos, seq, m.attempts(), dueMs, m.id(), m.timestamp(), m.body());
    return CursorFile.Unfinished.at(pos, seq, m.attempts(), dueMs);
  }

  /** The sequence of the record at the state's floor position. */
  static long floorSeq(CursorFile.State state) {
    long floorPos = state.floorPos();
    long floorSeq = state.readSeq();
    for (CursorFile.Unfinished u : state.unfinished()) {
      if (u.body() == null && u.pos() == floorPos) floorSeq = Math.min(floorSeq, u.seq());
    }
    return floorSeq;
  }

  /** Reads the saved state of {@code key} and the messages it names from {@code log}. Blocking: for an I/O thread. */
  static Loaded load(Storage storage, String key, TopicLog log) throws IOException {
    CursorFile.State state = CursorFile.load(storage, key);
    List<Channel.Held> unfinished = new ArrayList<>();
    if (state != null) {
      for (CursorFile.Unfinished u : state.unfinished()) {
        if (u.body() != null) {
          unfinished.add(new Channel.Held(new Message(u.id(), u.timestamp(), u.attempts(), u.body()), -1, u.seq()));
          continue;
        }
        TopicLog.Batch b = log.readDisk(u.pos(), u.seq(), log.flushedPos(), 1, 64 * 1024);
        if (!b.entries().isEmpty() && b.entries().get(0).pos() == u.pos()) {
          TopicLog.Entry e = b.entries().get(0);
          unfinished.add(new Channel.Held(new Message(e.id(), e.timestamp(), u.attempts(), e.body()), e.pos(), e.seq()));
        }
      }
    }
    return new Loaded(state, unfinished);
  }
}
