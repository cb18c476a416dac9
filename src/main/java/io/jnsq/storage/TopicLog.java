package io.jnsq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One topic's messages, appended once however many channels read them: a log of checksummed records in
 * numbered segment files, whose recent tail is also held in off-heap blocks from the node's
 * {@link BlockPool}. Channels keep their own cursor into it (see {@link CursorFile}); segments are deleted
 * once every channel's ack floor has passed them.
 *
 * <p>Positions are byte offsets that grow across segments (a segment file is named after the position
 * and sequence number of its first record), so a cursor is just (position, sequence) and a depth is a
 * difference of sequence numbers.
 *
 * <p>Threads: one owner (the topic actor) appends, prepares flushes and trims. The {@link FlushJob}s it
 * hands out run one at a time on an I/O thread, and so do {@link #readDisk} calls. {@link #readMemory} may
 * be called from any thread for positions the caller learnt from the owner: blocks are written before the
 * owner tells anybody their end, and a block given back to the pool is detected by its slab's generation.
 * A memory-only log (ephemeral topics) has no files and drops what it cannot hold.
 *
 * <p>Record layout: {@code u32 length, u32 crc32c(payload)}, then the payload {@code u8 version (2),
 * u64 sequence, u64 message id, u64 timestamp (ns), u16 attempts, u64 due (epoch ms, 0 = now), body}.
 * A record that carries a header of its own outside the body (a dead letter's origin) is version 3: the
 * same fields, then {@code u16 header length, header}, then the body. Version 2 records are written
 * whenever there is no header, so logs without one read exactly as before.
 */
public final class TopicLog {
  private static final Logger log = LoggerFactory.getLogger(TopicLog.class);

  /**
   * Segment size, the largest body a record may hold, and whether segments are filled with zeros ahead of
   * time (durable mode: an fsync that changes no file size and allocates no block costs about half).
   */
  public record Settings(long segmentBytes, long maxMsgSize, boolean preallocate) {
    public Settings(long segmentBytes, long maxMsgSize) { this(segmentBytes, maxMsgSize, false); }
  }

  /** A record read back. {@link #next()} is the position of the record after it. */
  public record Entry(long pos, long seq, long id, long timestamp, int attempts, long dueEpochMs, ByteString body,
      ByteString header) {
    public Entry(long pos, long seq, long id, long timestamp, int attempts, long dueEpochMs, ByteString body) {
      this(pos, seq, id, timestamp, attempts, dueEpochMs, body, ByteString.emptyByteString());
    }

    public long next() { return pos + size(body.size(), header.size()); }
  }

  /** The bytes a record takes in the log. */
  public static long size(int bodySize, int headerSize) {
    return HEADER + FIXED + bodySize + (headerSize == 0 ? 0 : 2 + headerSize);
  }

  /** Records read from {@code pos}: where the next read starts, and how many corrupt stretches were skipped. */
  public record Batch(List<Entry> entries, long nextPos, long nextSeq, int corrupt) {}

  public static final int HEADER = 8;
  public static final int FIXED = 1 + 8 + 8 + 8 + 2 + 8;
  static final byte VERSION = 2;
  static final byte VERSION_WITH_HEADER = 3;
  /** The longest header a record may carry. */
  public static final int MAX_RECORD_HEADER = 0xffff;
  private static final int SCAN_CHUNK = 1 << 20;
  private static final int ZEROS = 1 << 20;

  // The spare segment: a file of zeros, the size of a segment, that the next new segment is renamed from.
  private static final int SPARE_NONE = 0, SPARE_MAKING = 1, SPARE_READY = 2, SPARE_FAILED = 3;

  private static final class Block {
    final BlockPool.Slab slab;
    final int stamp;
    final long startPos;
    final long startSeq;
    final long segmentBase;
    final ByteBuffer writer;
    final ByteBuffer crcView;
    int limit;            // owner thread only
    int count;

    Block(BlockPool.Slab slab, long startPos, long startSeq, long segmentBase) {
      this.slab = slab;
      this.stamp = slab.stamp();
      this.startPos = startPos;
      this.startSeq = startSeq;
      this.segmentBase = segmentBase;
      this.writer = slab.buffer.duplicate();
      this.crcView = slab.buffer.duplicate();
    }
  }

  private record Segment(long basePos, long baseSeq, String file) {}

  private final Storage storage;          // null: memory only
  private final String prefix;
  private final Settings settings;
  private final BlockPool pool;
  private final ConcurrentSkipListMap<Long, Block> blocks = new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  private final ConcurrentHashMap<Long, Storage.Reader> readers = new ConcurrentHashMap<>();
  private final AtomicLong corruptions = new AtomicLong();
  private final CRC32C crc = new CRC32C();
  private final AtomicInteger spare = new AtomicInteger(SPARE_NONE);
  private final Object spareLock = new Object();
  private boolean destroyed;              // under spareLock

  // Owner thread.
  private Segment segment;
  private Block current;
  private long endPos;
  private long endSeq;
  private long startPos;
  private long startSeq;
  private long syncedPos;
  private long syncedSeq;
  private int smallBlocksFilled;
  private boolean flushing;
  private String flushError;
  private long lastId;   // the id of the last record appended (0: none yet), for replicated topics' replays

  // Written by the owner, read by channels to tell memory from disk.
  private volatile long flushedPos;
  private volatile long flushedSeq;
  private volatile long cacheStartPos;
  private volatile long cacheStartSeq;

  // The file being appended to: touched only by flush jobs, which run one after the other.
  private Storage.Writer writer;
  private long writerSegment = -1;

  private TopicLog(Storage storage, String name, Settings settings, BlockPool pool) {
    this.storage = storage;
    this.prefix = name + ".log.";
    this.settings = settings;
    this.pool = pool;
  }

  /** A log without files: what memory cannot hold is refused. */
  public static TopicLog memoryOnly(String name, Settings settings, BlockPool pool) {
    TopicLog l = new TopicLog(null, name, settings, pool);
    l.segment = new Segment(0, 0, null);
    return l;
  }

  /**
   * Opens (or creates) the log of topic {@code name}, finding the end of what a crash left behind by
   * reading the last segment's valid records. Blocking: call it on an I/O thread.
   */
  public static TopicLog open(Storage storage, String name, Settings settings, BlockPool pool) throws IOException {
    TopicLog l = new TopicLog(storage, name, settings, pool);
    l.recover();
    return l;
  }

  private String fileName(long basePos, long baseSeq) { return String.format("%s%020d-%020d.seg", prefix, basePos, baseSeq); }

  private void recover() throws IOException {
    storage.delete(spareFile() + ".tmp");
    if (settings.preallocate() && storage.size(spareFile()) == settings.segmentBytes()) {
      spare.set(SPARE_READY);
    } else {
      storage.delete(spareFile());
    }
    for (String f : storage.list()) {
      if (!f.startsWith(prefix) || !f.endsWith(".seg")) continue;
      String[] parts = f.substring(prefix.length(), f.length() - 4).split("-");
      if (parts.length != 2) continue;
      try {
        long pos = Long.parseLong(parts[0]);
        segments.put(pos, new Segment(pos, Long.parseLong(parts[1]), f));
      } catch (NumberFormatException ignored) {
        // not one of ours
      }
    }
    if (segments.isEmpty()) {
      segment = new Segment(0, 0, fileName(0, 0));
      segments.put(0L, segment);
    } else {
      segment = segments.lastEntry().getValue();
      long[] scan = scan(segment);
      endPos = segment.basePos + scan[0];
      endSeq = segment.baseSeq + scan[1];
      long size = storage.size(segment.file);
      if (size > scan[0] && !zerosAt(segment.file, scan[0])) {
        log.warn("{}: dropping {} bytes of an unfinished write at the end of {}", prefix, size - scan[0], segment.file);
      }
      lastId = lastIdOf(scan[2] >= 0 ? segment : null, scan[2]);
      Segment first = segments.firstEntry().getValue();
      startPos = first.basePos;
      startSeq = first.baseSeq;
    }
    flushedPos = syncedPos = cacheStartPos = endPos;
    flushedSeq = syncedSeq = cacheStartSeq = endSeq;
  }

  private String spareFile() { return prefix + "spare"; }

  /** Whether the file holds only zeros from {@code pos} (space made ahead of time), judged by its next bytes. */
  private boolean zerosAt(String file, long pos) throws IOException {
    byte[] next = new byte[HEADER + FIXED];
    try (Storage.Reader r = storage.read(file)) {
      int n = fill(r, next, pos, next.length);
      for (int i = 0; i < n; i++) if (next[i] != 0) return false;
    }
    return true;
  }

  /**
   * With {@link Settings#preallocate}, the job that makes the next spare segment (a file of zeros written
   * and fsync'd ahead of time), or null when there is one, one is being made, making one failed since the
   * last new segment, or the current segment is less than half full (so a quiet topic never holds a
   * spare, and a busy one at most one). Owner thread; run the job on an I/O thread.
   */
  public Runnable spareJob() {
    if (storage == null || !settings.preallocate() || endPos - segment.basePos < settings.segmentBytes() / 2) return null;
    if (!spare.compareAndSet(SPARE_NONE, SPARE_MAKING)) return null;
    return () -> {
      String tmp = spareFile() + ".tmp";
      try {
        try (Storage.Writer w = storage.append(tmp, 0)) {
          ByteBuffer zeros = ByteBuffer.allocate(ZEROS);
          for (long left = settings.segmentBytes(); left > 0; left -= ZEROS) {
            zeros.clear().limit((int) Math.min(ZEROS, left));
            w.write(zeros);
          }
          w.force();
        }
        synchronized (spareLock) {
          if (destroyed) {
            storage.delete(tmp);
            return;
          }
          storage.rename(tmp, spareFile());
          spare.set(SPARE_READY);
        }
      } catch (IOException | RuntimeException e) {
        log.debug("{}: no spare segment: {}", prefix, e.toString());
        try {
          storage.delete(tmp);
        } catch (IOException ignored) {
          // tried again at start
        }
        spare.set(SPARE_FAILED);
      }
    };
  }

  /**
   * The id of the log's last record: {@code id} when its last segment has one, else that of the newest
   * earlier segment that holds a record (a segment rolled just before a crash is empty).
   */
  private long lastIdOf(Segment scanned, long id) throws IOException {
    if (scanned != null) return id;
    for (Segment s : segments.headMap(segment.basePos, false).descendingMap().values()) {
      long[] scan = scan(s);
      if (scan[2] >= 0) return scan[2];
    }
    return 0;
  }

  /** The valid prefix of a segment: {bytes, records, id of its last record or -1}. */
  private long[] scan(Segment s) throws IOException {
    long size = storage.size(s.file);
    long pos = 0;
    long count = 0;
    long last = -1;
    try (Storage.Reader r = storage.read(s.file)) {
      byte[] chunk = new byte[SCAN_CHUNK];
      while (pos < size) {
        int n = fill(r, chunk, pos, (int) Math.min(chunk.length, size - pos));
        int off = 0;
        int len;
        while ((len = validAt(chunk, off, n - off)) > 0) {
          last = readLong(chunk, off + HEADER + 1 + 8);
          off += len;
          count++;
        }
        if (off == 0) {
          if (n >= HEADER && recordSize(chunk, 0) > chunk.length && recordSize(chunk, 0) <= HEADER + maxPayload()) {
            chunk = new byte[(int) recordSize(chunk, 0)];   // one record larger than the chunk
            continue;
          }
          break;
        }
        pos += off;
      }
    }
    return new long[] {pos, count, last};
  }

  private static int fill(Storage.Reader r, byte[] dst, long pos, int n) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(dst, 0, n);
    while (b.hasRemaining()) {
      if (r.read(b, pos + b.position()) < 0) break;
    }
    return b.position();
  }

  private static long recordSize(byte[] a, int off) { return HEADER + (readInt(a, off) & 0xffffffffL); }

  /** The size of a valid record (checksum included) at {@code a[off]} within {@code avail} bytes, or -1. */
  private int validAt(byte[] a, int off, int avail) {
    if (avail < HEADER + FIXED) return -1;
    long len = readInt(a, off) & 0xffffffffL;
    if (len < FIXED || len > maxPayload() || HEADER + len > avail) return -1;
    if (a[off + HEADER] != VERSION && a[off + HEADER] != VERSION_WITH_HEADER) return -1;
    CRC32C c = new CRC32C();
    c.update(a, off + HEADER, (int) len);
    return (int) c.getValue() == readInt(a, off + 4) ? (int) (HEADER + len) : -1;
  }

  /** The longest payload a valid record may have: the fixed fields, a header and the largest body. */
  private long maxPayload() { return FIXED + 2 + MAX_RECORD_HEADER + settings.maxMsgSize(); }

  private static int readInt(byte[] a, int off) {
    return ((a[off] & 0xff) << 24) | ((a[off + 1] & 0xff) << 16) | ((a[off + 2] & 0xff) << 8) | (a[off + 3] & 0xff);
  }

  private static long readLong(byte[] a, int off) {
    return ((long) readInt(a, off) << 32) | (readInt(a, off + 4) & 0xffffffffL);
  }

  // ---- the owner's view ----

  public boolean memoryOnly() { return storage == null; }
  public long endPos() { return endPos; }
  public long endSeq() { return endSeq; }
  public long startPos() { return startPos; }
  public long startSeq() { return startSeq; }
  public long syncedPos() { return syncedPos; }
  public long syncedSeq() { return syncedSeq; }
  /** The oldest position still held in memory: reads below it go to the files. */
  public long cacheStartSeq() { return cacheStartSeq; }
  public long flushedPos() { return flushedPos; }
  /** Corrupt stretches skipped by reads so far. */
  public long corruptions() { return corruptions.get(); }
  /** Whether appended records wait to be written to the files. */
  public boolean unflushed() { return storage != null && flushedPos < endPos; }
  /** Whether written records wait for an fsync. */
  public boolean unsynced() { return storage != null && syncedPos < flushedPos; }
  public boolean flushing() { return flushing; }
  /**
   * Where each segment starts, oldest first: {position, sequence} of its first record (record
   * boundaries a search may start from). Any thread.
   */
  public List<long[]> segmentStarts() {
    List<long[]> out = new ArrayList<>(segments.size());
    for (Segment g : segments.values()) out.add(new long[] {g.basePos, g.baseSeq});
    return out;
  }

  /** The id of the last record appended, also one recovered from the files (0: none). */
  public long lastId() { return lastId; }
  /** The last failure to write the files, null once a write worked again. */
  public String flushError() { return flushError; }

  /**
   * Appends one publish: {@code bodies.size()} records with ids from {@code firstId} on, all with the
   * same timestamp and due time (0 = now). All or nothing: false, with nothing appended, when the
   * node's memory budget has no block left (the caller waits for a flush to give some back).
   */
  public boolean append(long firstId, long timestamp, List<ByteString> bodies, long dueEpochMs) {
    return append(firstId, timestamp, 0, bodies, dueEpochMs, true, ByteString.emptyByteString());
  }

  /**
   * Appends one record that keeps its own id, timestamp and attempts (an import of another queue's
   * messages); false when memory is spent.
   */
  public boolean appendRecord(long id, long timestamp, int attempts, ByteString body, long dueEpochMs) {
    return append(id, timestamp, attempts, List.of(body), dueEpochMs, false, ByteString.emptyByteString());
  }

  /**
   * Appends one record with a header kept outside its body (at most {@link #MAX_RECORD_HEADER} bytes;
   * empty: a plain record); false when memory is spent.
   */
  public boolean appendRecord(long id, long timestamp, int attempts, ByteString body, long dueEpochMs, ByteString header) {
    if (header.size() > MAX_RECORD_HEADER) throw new IllegalArgumentException("record header of " + header.size() + " bytes");
    return append(id, timestamp, attempts, List.of(body), dueEpochMs, false, header);
  }

  private boolean append(long firstId, long timestamp, int attempts, List<ByteString> bodies, long dueEpochMs,
      boolean sequentialIds, ByteString header) {
    long pos0 = endPos;
    long seq0 = endSeq;
    long lastId0 = lastId;
    Block cur0 = current;
    int limit0 = cur0 == null ? 0 : cur0.limit;
    int count0 = cur0 == null ? 0 : cur0.count;
    Segment seg0 = segment;
    for (int i = 0; i < bodies.size(); i++) {
      ByteString body = bodies.get(i);
      int size = (int) size(body.size(), header.size());
      if (storage != null && endPos > segment.basePos && endPos - segment.basePos + size > settings.segmentBytes()) {
        segment = new Segment(endPos, endSeq, fileName(endPos, endSeq));
        segments.put(endPos, segment);
        spare.compareAndSet(SPARE_FAILED, SPARE_NONE);
        current = null;
      }
      if (current == null || current.slab.capacity() - current.limit < size) {
        if (current != null && current.slab.capacity() == BlockPool.SMALL) smallBlocksFilled++;
        BlockPool.Slab slab = pool.acquire(size, smallBlocksFilled >= 4);
        if (slab == null) {
          rollBack(pos0, seq0, cur0, limit0, count0, seg0);
          lastId = lastId0;
          return false;
        }
        current = new Block(slab, endPos, endSeq, segment.basePos);
        blocks.put(endPos, current);
      }
      put(current, endSeq, sequentialIds ? firstId + i : firstId, timestamp, attempts, dueEpochMs, body, header);
      lastId = sequentialIds ? firstId + i : firstId;
      endPos += size;
      endSeq++;
    }
    // A log whose memory was all given back (or a new one) holds its tail in memory again from here.
    if (cacheStartPos >= pos0) cacheFromBlocks();
    return true;
  }

  /** The oldest position held in memory: the first block's, or the end when no block is held. */
  private void cacheFromBlocks() {
    Map.Entry<Long, Block> first = blocks.firstEntry();
    cacheStartPos = first == null ? endPos : first.getValue().startPos;
    cacheStartSeq = first == null ? endSeq : first.getValue().startSeq;
  }

  private void put(Block b, long seq, long id, long ts, int attempts, long due, ByteString body, ByteString header) {
    int start = b.limit;
    int len = (int) size(body.size(), header.size()) - HEADER;
    ByteBuffer w = b.writer;
    w.limit(w.capacity()).position(start + HEADER);
    w.put(header.isEmpty() ? VERSION : VERSION_WITH_HEADER).putLong(seq).putLong(id).putLong(ts)
        .putShort((short) Math.min(attempts, 0xffff)).putLong(due);
    if (!header.isEmpty()) {
      w.putShort((short) header.size());
      header.copyToBuffer(w);
    }
    body.copyToBuffer(w);
    ByteBuffer c = b.crcView;
    c.limit(start + HEADER + len).position(start + HEADER);
    crc.reset();
    crc.update(c);
    w.putInt(start, len).putInt(start + 4, (int) crc.getValue());
    b.limit = start + HEADER + len;
    b.count++;
  }

  private void rollBack(long pos0, long seq0, Block cur0, int limit0, int count0, Segment seg0) {
    for (Block b : new ArrayList<>(blocks.tailMap(pos0, true).values())) {
      if (b == cur0) continue;
      blocks.remove(b.startPos);
      pool.release(b.slab);
    }
    segments.tailMap(pos0, false).clear();
    if (seg0.basePos == pos0 && segments.get(pos0) == null) segments.put(pos0, seg0);
    endPos = pos0;
    endSeq = seq0;
    current = cur0;
    if (cur0 != null) {
      cur0.limit = limit0;
      cur0.count = count0;
    }
    segment = seg0;
  }

  // ---- writing to the files ----

  /** A piece of a block to write at {@code fileOffset} of segment {@code segmentBase}. */
  private record Piece(long segmentBase, long fileOffset, ByteBuffer bytes) {}

  /**
   * What a flush must do as of now: write every appended record not yet written and, with {@code force},
   * fsync. Null when there is nothing to do or a flush is running. Run it on an I/O thread, then hand it
   * to {@link #flushDone} on the owner's thread.
   */
  public FlushJob prepareFlush(boolean force) {
    if (storage == null || flushing) return null;
    if (flushedPos >= endPos && !(force && syncedPos < flushedPos)) return null;
    List<Piece> pieces = new ArrayList<>();
    long from = flushedPos;
    Long firstBlock = blocks.floorKey(from);
    for (Block b : blocks.tailMap(firstBlock == null ? from : firstBlock, true).values()) {
      long bEnd = b.startPos + b.limit;
      if (bEnd <= from) continue;
      if (b.startPos >= endPos) break;
      ByteBuffer slice = b.slab.buffer.duplicate();
      slice.limit(b.limit).position((int) (Math.max(from, b.startPos) - b.startPos));
      pieces.add(new Piece(b.segmentBase, Math.max(from, b.startPos) - b.segmentBase, slice.slice()));
    }
    flushing = true;
    return new FlushJob(pieces, force, endPos, endSeq);
  }

  /** One flush's work: writes, then (with force) fsync. */
  public final class FlushJob implements Runnable {
    private final List<Piece> pieces;
    private final boolean force;
    private final long end;
    private final long endSequence;
    private volatile IOException error;

    private FlushJob(List<Piece> pieces, boolean force, long end, long endSequence) {
      this.pieces = pieces;
      this.force = force;
      this.end = end;
      this.endSequence = endSequence;
    }

    /** Position up to which this job writes. */
    public long end() { return end; }
    public IOException error() { return error; }

    @Override
    public void run() {
      try {
        for (Piece p : pieces) {
          if (writer == null || writerSegment != p.segmentBase()) {
            if (writer != null) {
              // A full segment is fsync'd before the next one gets data, so a later fsync covers
              // everything before it and a power cut never leaves a gap in the middle of the log.
              writer.force();
              writer.close();
            }
            writer = null;
            Segment s = segments.get(p.segmentBase());
            String file = s != null ? s.file : fileName(p.segmentBase(), 0);
            writer = p.fileOffset() == 0 && claimSpare(file) ? storage.overwrite(file, 0) : storage.append(file, p.fileOffset());
            writerSegment = p.segmentBase();
          }
          writer.write(p.bytes());
        }
        if (force && writer != null) writer.force();
      } catch (IOException | RuntimeException e) {
        error = e instanceof IOException io ? io : new IOException(e);
        try {
          if (writer != null) writer.close();
        } catch (IOException ignored) {
          // reopened at the last good position next time
        }
        writer = null;
        writerSegment = -1;
      }
    }
  }

  /** A new segment starts as the spare, when one is ready. Flush jobs only. */
  private boolean claimSpare(String file) {
    if (!spare.compareAndSet(SPARE_READY, SPARE_MAKING)) return false;
    try {
      storage.rename(spareFile(), file);
      spare.set(SPARE_NONE);
      return true;
    } catch (IOException e) {
      log.debug("{}: could not use the spare segment: {}", prefix, e.toString());
      spare.set(SPARE_FAILED);
      return false;
    }
  }

  /** On the owner's thread once a job ran; false when it failed (see {@link #flushError()}). */
  public boolean flushDone(FlushJob job) {
    flushing = false;
    if (job.error != null) {
      flushError = job.error.getMessage() == null ? job.error.toString() : job.error.getMessage();
      return false;
    }
    flushError = null;
    flushedSeq = job.endSequence;
    flushedPos = job.end;
    if (job.force) {
      syncedPos = job.end;
      syncedSeq = job.endSequence;
    }
    return true;
  }

  /**
   * Drops what was appended but not written (a durable log whose write failed: those publishes were
   * refused, so no reader may see them).
   */
  public void dropUnflushed() {
    if (storage == null || flushing) return;
    long pos = flushedPos;
    for (Block b : new ArrayList<>(blocks.tailMap(pos, false).values())) {
      blocks.remove(b.startPos);
      pool.release(b.slab);
    }
    Map.Entry<Long, Block> last = blocks.floorEntry(pos);
    current = null;
    if (last != null && last.getValue().startPos + last.getValue().limit > pos) {
      Block b = last.getValue();
      b.limit = (int) (pos - b.startPos);
      current = b;
    }
    segments.tailMap(pos, false).clear();
    segment = segments.floorEntry(pos).getValue();
    endPos = pos;
    endSeq = flushedSeq;
    cacheFromBlocks();
  }

  /**
   * Gives back the memory of blocks that are no longer needed there: those below {@code consumedPos}
   * (every channel read past them) once they are on disk, and, while the node's budget is pressed, the
   * oldest ones that are on disk whoever still reads them. A memory-only log frees only what was read.
   */
  public void trim(long consumedPos) {
    boolean pressed = pool.pressed(0.5);
    while (!blocks.isEmpty()) {
      Block b = blocks.firstEntry().getValue();
      long end = b.startPos + b.limit;
      boolean onDisk = storage == null || end <= flushedPos;
      boolean read = end <= consumedPos;
      if (b == current && !(read && onDisk && end == endPos)) break;
      if (!onDisk || !(read || (pressed && storage != null))) break;
      blocks.remove(b.startPos);
      if (b == current) current = null;
      pool.release(b.slab);
    }
    cacheFromBlocks();
  }

  /**
   * Moves the log's start (where a topic's next first channel begins) up to {@code floorPos} (every
   * channel's ack floor), forgets every segment wholly below it, and returns the files to delete, for an
   * I/O thread ({@link #deleteFiles}).
   */
  public List<String> release(long floorPos, long floorSeq) {
    List<String> gone = new ArrayList<>();
    if (floorPos > startPos && floorPos <= endPos) {
      startPos = floorPos;
      startSeq = floorSeq;
    }
    if (storage == null) return gone;
    while (segments.size() > 1) {
      Segment first = segments.firstEntry().getValue();
      Long next = segments.higherKey(first.basePos);
      if (next == null || next > floorPos || first == segment) break;
      segments.remove(first.basePos);
      gone.add(first.file);
      Storage.Reader r = readers.remove(first.basePos);
      if (r != null) {
        try {
          r.close();
        } catch (IOException ignored) {
          // deleting it anyway
        }
      }
    }
    return gone;
  }

  /**
   * Moves the log's start to its end (EMPTY of a topic without channels) and returns the files that can
   * go.
   */
  public List<String> skipAll() {
    List<String> gone = release(endPos, endSeq);   // which moves the start to the end
    trim(endPos);
    return gone;
  }

  /** Deletes files named by {@link #release}: blocking, for an I/O thread. */
  public void deleteFiles(List<String> files) {
    for (String f : files) {
      try {
        storage.delete(f);
      } catch (IOException e) {
        log.warn("could not delete consumed segment {}: {}", f, e.toString());
      }
    }
  }

  /** Deletes every file of the log (the topic was deleted) and gives back its memory: on an I/O thread. */
  public void destroy() {
    releaseMemory();
    if (storage == null) return;
    closeFiles();
    List<String> files = new ArrayList<>();
    for (Segment s : segments.values()) files.add(s.file);
    synchronized (spareLock) {
      destroyed = true;
      files.add(spareFile());
    }
    deleteFiles(files);
  }

  /** Gives back every block (the log is closing). */
  public void releaseMemory() {
    for (Block b : blocks.values()) pool.release(b.slab);
    blocks.clear();
    current = null;
    cacheFromBlocks();
  }

  /** Closes the open files (after a last forced flush). */
  public void closeFiles() {
    try {
      if (writer != null) writer.close();
    } catch (IOException ignored) {
      // everything was forced before
    }
    writer = null;
    writerSegment = -1;
    for (Storage.Reader r : readers.values()) {
      try {
        r.close();
      } catch (IOException ignored) {
        // read-only
      }
    }
    readers.clear();
  }

  // ---- reading ----

  /**
   * Records from {@code pos} (a record boundary, sequence {@code seq}) up to {@code limitPos}, at most
   * {@code maxCount} and about {@code maxBytes}, copied out of memory; null when that part of the log is
   * no longer in memory (read it with {@link #readDisk}). Any thread.
   */
  public Batch readMemory(long pos, long seq, long limitPos, int maxCount, int maxBytes) {
    if (pos >= limitPos) return new Batch(List.of(), pos, seq, 0);
    Map.Entry<Long, Block> e = blocks.floorEntry(pos);
    if (e == null) return null;
    Block b = e.getValue();
    Long nextStart = blocks.higherKey(b.startPos);
    long blockEnd = nextStart == null ? limitPos : Math.min(limitPos, nextStart);
    if (pos >= blockEnd) {
      if (nextStart != null && pos == nextStart) return readMemory(pos, seq, limitPos, maxCount, maxBytes);
      return null;
    }
    int off = (int) (pos - b.startPos);
    long avail = blockEnd - pos;
    if (off + avail > b.slab.capacity()) return null;
    int first = (int) Math.min(avail, HEADER + (b.slab.buffer.getInt(off) & 0xffffffffL));
    int n = (int) Math.min(avail, Math.max(maxBytes, first));
    byte[] copy = new byte[n];
    b.slab.buffer.get(off, copy, 0, n);
    if (!b.slab.valid(b.stamp)) return null;
    return decode(copy, n, pos, seq, maxCount, false);
  }

  /** As {@link #readMemory}, from the files: blocking, for an I/O thread. Skips (and counts) corrupt records. */
  public Batch readDisk(long pos, long seq, long limitPos, int maxCount, int maxBytes) throws IOException {
    long limit = Math.min(limitPos, flushedPos);
    if (storage == null || pos >= limit) return new Batch(List.of(), pos, seq, 0);
    Map.Entry<Long, Segment> se = segments.floorEntry(pos);
    if (se == null) {
      Segment first = segments.firstEntry().getValue();
      return new Batch(List.of(), first.basePos, first.baseSeq, 1);
    }
    Segment s = se.getValue();
    Long next = segments.higherKey(s.basePos);
    long segEnd = next == null ? limit : Math.min(limit, next);
    if (pos >= segEnd) {
      Segment ns = next == null ? null : segments.get(next);
      return ns == null ? new Batch(List.of(), pos, seq, 0) : new Batch(List.of(), ns.basePos, ns.baseSeq, 0);
    }
    Storage.Reader r = readers.get(s.basePos);
    if (r == null) {
      r = storage.read(s.file);
      Storage.Reader raced = readers.putIfAbsent(s.basePos, r);
      if (raced != null) {
        r.close();
        r = raced;
      }
    }
    long avail = segEnd - pos;
    int n = (int) Math.min(avail, Math.max(maxBytes, HEADER + FIXED));
    byte[] chunk = new byte[n];
    int got = fill(r, chunk, pos - s.basePos, n);
    if (got < HEADER + FIXED && next != null && segEnd == next) {
      // The file ends before the segment should: what is missing is lost; go on with the next segment.
      corruptions.incrementAndGet();
      log.error("{}: {} ends {} bytes early, going on with the next segment", prefix, s.file, segEnd - pos - got);
      Segment ns = segments.get(next);
      return new Batch(List.of(), ns.basePos, ns.baseSeq, 1);
    }
    if (got >= HEADER) {
      long size = recordSize(chunk, 0);
      if (size > got && size <= avail && size <= HEADER + maxPayload()) {
        chunk = new byte[(int) size];
        got = fill(r, chunk, pos - s.basePos, (int) size);
      }
    }
    return decode(chunk, got, pos, seq, maxCount, true);
  }

  private Batch decode(byte[] a, int n, long pos, long seq, int maxCount, boolean check) {
    List<Entry> out = new ArrayList<>(Math.min(maxCount, 256));
    int off = 0;
    int corrupt = 0;
    while (out.size() < maxCount && off + HEADER + FIXED <= n) {
      int size = check ? validAt(a, off, n - off) : (int) recordSize(a, off);
      if (size < 0 || off + size > n) {
        if (!check || (off > 0 && plausibleStart(a, off, n))) break;   // the next read starts with this record
        // Corrupt: find the next valid record in what was read.
        int skip = off + 1;
        while (skip + HEADER + FIXED <= n && validAt(a, skip, n - skip) < 0) skip++;
        corrupt++;
        corruptions.incrementAndGet();
        if (skip + HEADER + FIXED > n) {
          // Nothing valid in the rest of this read: go on after it (the next record read tells the sequence).
          log.error("{}: corrupt data at position {}, skipped {} bytes", prefix, pos + off, n - off);
          return new Batch(out, pos + n, seq, corrupt);
        }
        log.error("{}: corrupt data at position {}, skipped {} bytes to the next valid record", prefix, pos + off, skip - off);
        off = skip;
        continue;
      }
      int p = off + HEADER;
      long recSeq = readLong(a, p + 1);
      long id = readLong(a, p + 9);
      long ts = readLong(a, p + 17);
      int attempts = ((a[p + 25] & 0xff) << 8) | (a[p + 26] & 0xff);
      long due = readLong(a, p + 27);
      ByteString header = ByteString.emptyByteString();
      int bodyAt = p + FIXED;
      if (a[p] == VERSION_WITH_HEADER) {
        int hlen = ((a[bodyAt] & 0xff) << 8) | (a[bodyAt + 1] & 0xff);
        if (2 + hlen > size - HEADER - FIXED) break;   // cannot be: the checksum covered it (memory: we wrote it)
        header = ByteString.fromArrayUnsafe(a, bodyAt + 2, hlen);
        bodyAt += 2 + hlen;
      }
      ByteString body = ByteString.fromArrayUnsafe(a, bodyAt, off + size - bodyAt);
      out.add(new Entry(pos + off, recSeq, id, ts, attempts, due, body, header));
      off += size;
      seq = recSeq + 1;
    }
    return new Batch(out, pos + off, seq, corrupt);
  }

  /** Whether {@code a[off]} looks like the start of a record that goes on past what was read. */
  private boolean plausibleStart(byte[] a, int off, int n) {
    if (off + HEADER + 1 > n) return true;
    long size = recordSize(a, off);
    return (a[off + HEADER] == VERSION || a[off + HEADER] == VERSION_WITH_HEADER) && size > n - off
        && size <= HEADER + maxPayload();
  }
}
