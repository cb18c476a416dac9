package io.jnsq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.pekko.util.ByteString;

/**
 * A channel's saved place in its topic's log ({@code <topic>:<channel>.cursor}): the next record to read,
 * and every record before it that is not finished (in flight, requeued or deferred) with its attempts
 * and due time, so a restart delivers again only those.
 *
 * <p>An unfinished record either points into the log (its position pins the log's segments) or, for a
 * message deferred far ahead, carries its own copy ({@link Unfinished#body} not null), so that one REQ
 * with a long delay does not keep every later segment on disk.
 *
 * <p>Layout: {@code "JNC1", u64 read position, u64 read sequence, u32 count}, then per record
 * {@code u64 position, u64 sequence, u16 attempts, u64 due (epoch ms), u8 inline}, and when inline
 * {@code u64 id, u64 timestamp, u32 length, body}; last a {@code u32 crc32c} of everything before it.
 *
 * <p>Version 2 ({@code "JNC2"}, written only when there are skips) adds, before the crc, {@code u32 count}
 * and per skip {@code u64 from, u64 fromSeq, u64 to, u64 toSeq}: stretches of the log ahead of the read
 * position that are not this channel's (another channel's imported backlog, see {@code NsqdImport}).
 * Version 1 files are still read, with no skips.
 */
public final class CursorFile {
  private CursorFile() {}

  private static final int MAGIC = 0x4a4e4331;   // "JNC1"
  private static final int MAGIC2 = 0x4a4e4332;  // "JNC2": with skips

  /** A stretch of the log, {@code [from, to)}, that the channel's cursor jumps over when it gets there. */
  public record Skip(long from, long fromSeq, long to, long toSeq) {}

  /** A record before the read position that was not finished. */
  public record Unfinished(long pos, long seq, int attempts, long dueEpochMs, long id, long timestamp, ByteString body) {
    /** One that points into the log. */
    public static Unfinished at(long pos, long seq, int attempts, long dueEpochMs) {
      return new Unfinished(pos, seq, attempts, dueEpochMs, 0, 0, null);
    }
  }

  /** What a channel saves. */
  public record State(long readPos, long readSeq, List<Unfinished> unfinished, List<Skip> skips) {
    public State(long readPos, long readSeq, List<Unfinished> unfinished) {
      this(readPos, readSeq, unfinished, List.of());
    }

    /** The lowest position this channel may still read: segments below it may go. */
    public long floorPos() {
      long floor = readPos;
      for (Unfinished u : unfinished) if (u.body() == null) floor = Math.min(floor, u.pos());
      return floor;
    }
  }

  public static String name(String channelKey) { return channelKey + ".cursor"; }

  public static byte[] encode(State s) {
    int size = 4 + 8 + 8 + 4 + 4;
    for (Unfinished u : s.unfinished()) size += 8 + 8 + 2 + 8 + 1 + (u.body() == null ? 0 : 8 + 8 + 4 + u.body().size());
    boolean v2 = !s.skips().isEmpty();
    if (v2) size += 4 + 32 * s.skips().size();
    ByteBuffer b = ByteBuffer.allocate(size);
    b.putInt(v2 ? MAGIC2 : MAGIC).putLong(s.readPos()).putLong(s.readSeq()).putInt(s.unfinished().size());
    for (Unfinished u : s.unfinished()) {
      b.putLong(u.pos()).putLong(u.seq()).putShort((short) Math.min(u.attempts(), 0xffff)).putLong(u.dueEpochMs());
      if (u.body() == null) {
        b.put((byte) 0);
      } else {
        b.put((byte) 1).putLong(u.id()).putLong(u.timestamp()).putInt(u.body().size());
        u.body().copyToBuffer(b);
      }
    }
    if (v2) {
      b.putInt(s.skips().size());
      for (Skip k : s.skips()) b.putLong(k.from()).putLong(k.fromSeq()).putLong(k.to()).putLong(k.toSeq());
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** The state in {@code data}, or null when it is not a whole, valid cursor file. */
  public static State decode(byte[] data) {
    if (data == null || data.length < 28) return null;
    CRC32C crc = new CRC32C();
    crc.update(data, 0, data.length - 4);
    ByteBuffer b = ByteBuffer.wrap(data);
    if (b.getInt(data.length - 4) != (int) crc.getValue()) return null;
    int magic = b.getInt();
    if (magic != MAGIC && magic != MAGIC2) return null;
    try {
      long pos = b.getLong();
      long seq = b.getLong();
      int n = b.getInt();
      List<Unfinished> out = new ArrayList<>(Math.min(n, 1 << 16));
      for (int i = 0; i < n; i++) {
        long p = b.getLong();
        long s = b.getLong();
        int attempts = b.getShort() & 0xffff;
        long due = b.getLong();
        if (b.get() == 0) {
          out.add(Unfinished.at(p, s, attempts, due));
        } else {
          long id = b.getLong();
          long ts = b.getLong();
          byte[] body = new byte[b.getInt()];
          b.get(body);
          out.add(new Unfinished(p, s, attempts, due, id, ts, ByteString.fromArrayUnsafe(body)));
        }
      }
      List<Skip> skips = new ArrayList<>();
      if (magic == MAGIC2) {
        int k = b.getInt();
        for (int i = 0; i < k; i++) skips.add(new Skip(b.getLong(), b.getLong(), b.getLong(), b.getLong()));
      }
      if (b.position() != data.length - 4) return null;
      return new State(pos, seq, List.copyOf(out), List.copyOf(skips));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The saved state of {@code channelKey}, null when there is none or it is unreadable. Blocking. */
  public static State load(Storage storage, String channelKey) throws IOException {
    return decode(storage.load(name(channelKey)));
  }

  /** Saves atomically; with {@code force} it is on disk when this returns. Blocking. */
  public static void store(Storage storage, String channelKey, State state, boolean force) throws IOException {
    storage.storeAtomically(name(channelKey), encode(state), force);
  }

  /** Removes the saved state (the channel was deleted). Blocking. */
  public static void delete(Storage storage, String channelKey) throws IOException {
    storage.delete(name(channelKey));
  }
}
