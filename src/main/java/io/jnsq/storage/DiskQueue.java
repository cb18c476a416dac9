package io.jnsq.storage;

import io.jnsq.broker.Message;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.zip.CRC32C;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk part of one topic's or channel's queue: numbered segment files of checksummed records, plus a
 * small metadata file with the read and write positions and the depth, as nsqd keeps them.
 *
 * <p>Owned by one actor and used from its thread only, except the {@link SyncJob}s it hands out, which
 * run on an I/O thread so that fsync never holds up the actor.
 *
 * <p>Two read positions are kept. The <em>live</em> one is what has been handed to the owner; the
 * <em>committed</em> one, written to the metadata file, is what the owner has said it no longer needs
 * from disk ({@link #commitThrough}). A channel in durable mode commits only what consumers finished,
 * so that after a crash everything unfinished is read again. After a crash the write position is found
 * again by scanning forward for valid records, so data that was forced survives even when the metadata
 * file lags behind.
 *
 * <p>Record layout: {@code u32 length, u32 crc32c(payload)}, then the payload {@code u8 version (1),
 * u64 message id, u64 timestamp (ns), u16 attempts, u64 due (epoch ms, 0 = now), body}.
 */
public final class DiskQueue {
  private static final Logger log = LoggerFactory.getLogger(DiskQueue.class);

  /** Segment size, fsync cadence, and the largest body a record may hold. */
  public record Settings(long maxBytesPerFile, long syncEvery, Duration syncTimeout, long maxMsgSize) {}

  /** A record read back: the message, when it is due (epoch ms, 0 = now), and its read sequence number. */
  public record Read(Message message, long dueEpochMs, long seq) {}

  static final int HEADER = 8;
  static final int FIXED = 1 + 8 + 8 + 2 + 8;
  static final byte VERSION = 1;
  private static final int CHUNK = 256 * 1024;

  private final Storage storage;
  private final String prefix;
  private final Settings settings;
  private final long maxPayload;

  private long writeFile;
  private long writePos;
  private Storage.Writer writer;
  private final List<Storage.Writer> rolled = new ArrayList<>();

  private long readFile;
  private long readPos;
  private long depth;               // records after the live read position
  private long readSeq;             // sequence number of the last record read
  private Storage.Reader reader;
  private long readerFile = -1;
  private byte[] chunk = new byte[0];
  private long chunkStart;          // file position of chunk[0]
  private int chunkLen;
  private int payloadOff;           // set by recordAt
  private long sealedFile = -1;     // a full segment whose size is known, so reads need not ask per record
  private long sealedSize;

  private final ArrayDeque<long[]> uncommitted = new ArrayDeque<>();   // {seq, file, posAfter}
  private long commitFile;
  private long commitPos;
  private long deletedBelow;        // segments below this number are gone

  private ByteBuffer encode = ByteBuffer.allocate(64 * 1024);
  private long writesSinceSync;
  private long generation;          // bumped by clear(): a sync started before it forced files now gone
  private boolean metaDirty;
  private long corruptions;

  private DiskQueue(Storage storage, String prefix, Settings settings) {
    this.storage = storage;
    this.prefix = prefix;
    this.settings = settings;
    this.maxPayload = FIXED + Math.max(settings.maxMsgSize(), 1 << 20);
  }

  /** Opens (or creates) the queue named {@code name}, recovering what a crash left behind. */
  public static DiskQueue open(Storage storage, String name, Settings settings) throws IOException {
    DiskQueue q = new DiskQueue(storage, name + ".diskqueue", settings);
    q.recover();
    return q;
  }

  private String segment(long n) { return String.format("%s.%06d.dat", prefix, n); }

  private String meta() { return prefix + ".meta.dat"; }

  private void recover() throws IOException {
    TreeSet<Long> segments = new TreeSet<>();
    String head = prefix + ".";
    for (String f : storage.list()) {
      if (f.startsWith(head) && f.endsWith(".dat") && !f.equals(meta())) {
        String num = f.substring(head.length(), f.length() - 4);
        try {
          segments.add(Long.parseLong(num));
        } catch (NumberFormatException ignored) {
          // not one of ours
        }
      }
    }
    byte[] m = storage.load(meta());
    if (m != null) {
      String[] parts = new String(m, StandardCharsets.US_ASCII).trim().split("[\n,]");
      if (parts.length == 5) {
        depth = Long.parseLong(parts[0].trim());
        readFile = Long.parseLong(parts[1].trim());
        readPos = Long.parseLong(parts[2].trim());
        writeFile = Long.parseLong(parts[3].trim());
        writePos = Long.parseLong(parts[4].trim());
      } else {
        log.warn("{}: unreadable metadata, reading every segment again", prefix);
        m = null;
      }
    }
    if (m == null && !segments.isEmpty()) {
      readFile = writeFile = segments.first();
      readPos = writePos = 0;
      depth = 0;
    }
    // Segments the metadata has already moved past were consumed; ones it points at but that are gone
    // cannot be read.
    for (long s : segments) if (s < readFile) storage.delete(segment(s));
    if (readFile < writeFile && !segments.contains(readFile)) {
      Long next = segments.ceiling(readFile);
      log.warn("{}: segment {} is missing, continuing at {}", prefix, readFile, next);
      corruptions++;
      readFile = next == null ? writeFile : next;
      readPos = 0;
    }
    // Records forced after the metadata was last written: scan forward while they are valid.
    long found = 0;
    while (true) {
      long size = storage.size(segment(writeFile));
      if (size > writePos) {
        long[] scan = scanValid(writeFile, writePos, size);
        found += scan[0];
        writePos = scan[1];
        if (writePos < size) {
          log.warn("{}: dropping {} bytes of an unfinished write at the end of segment {}", prefix, size - writePos, writeFile);
        }
      }
      if (storage.size(segment(writeFile + 1)) < 0) break;
      writeFile++;
      writePos = 0;
    }
    if (found > 0) log.info("{}: recovered {} records written after the last metadata update", prefix, found);
    depth += found;
    if (readFile == writeFile && readPos >= writePos) depth = 0;
    if (storage.size(segment(writeFile)) >= 0) writer = storage.append(segment(writeFile), writePos);
    commitFile = readFile;
    commitPos = readPos;
    deletedBelow = readFile;
    closeReader();
  }

  /** Counts valid records from {@code pos} in a segment; returns {count, position after the last}. */
  private long[] scanValid(long file, long pos, long end) throws IOException {
    long count = 0;
    openReader(file);
    int len;
    while ((len = recordAt(pos, end)) >= 0) {
      pos += HEADER + len;
      count++;
    }
    closeReader();
    return new long[] {count, pos};
  }

  // ---- writing ----

  /**
   * Appends {@code messages}, all due at {@code dueEpochMs} (0 = now). All or nothing: on failure (disk
   * full, I/O error) nothing of the batch stays and the exception is passed on.
   */
  public void append(List<Message> messages, long dueEpochMs) throws IOException {
    long startFile = writeFile;
    long startPos = writePos;
    int rolledBefore = rolled.size();
    try {
      if (writer == null) writer = storage.append(segment(writeFile), writePos);
      encode.clear();
      long pos = writePos;
      for (Message msg : messages) {
        int size = HEADER + FIXED + msg.body().size();
        if (pos + encode.position() + size > settings.maxBytesPerFile() && pos + encode.position() > 0) {
          pos = flush(pos);
          roll();
          pos = 0;
        }
        if (encode.remaining() < size) {
          pos = flush(pos);
          if (encode.capacity() < size) encode = ByteBuffer.allocate(Math.max(size, encode.capacity() * 2));
        }
        putRecord(msg, dueEpochMs);
      }
      flush(pos);
    } catch (IOException | RuntimeException e) {
      rollBack(startFile, startPos, rolledBefore);
      throw e;
    }
    depth += messages.size();
    writesSinceSync += messages.size();
    metaDirty = true;
  }

  private void putRecord(Message msg, long dueEpochMs) {
    int start = encode.position();
    int len = FIXED + msg.body().size();
    encode.putInt(len).putInt(0);
    encode.put(VERSION).putLong(msg.id()).putLong(msg.timestamp()).putShort((short) Math.min(msg.attempts(), 0xffff))
        .putLong(dueEpochMs);
    msg.body().copyToBuffer(encode);
    CRC32C crc = new CRC32C();
    crc.update(encode.array(), start + HEADER, len);
    encode.putInt(start + 4, (int) crc.getValue());
  }

  /** Writes the encoded bytes at {@code pos}; returns the position after them. */
  private long flush(long pos) throws IOException {
    encode.flip();
    int n = encode.remaining();
    writer.write(encode);
    encode.clear();
    writePos = pos + n;
    return writePos;
  }

  private void roll() throws IOException {
    rolled.add(writer);
    writer = null;
    writeFile++;
    writePos = 0;
    writer = storage.append(segment(writeFile), 0);
  }

  private void rollBack(long startFile, long startPos, int rolledBefore) {
    try {
      if (writer != null) writer.close();
      for (long f = writeFile; f > startFile; f--) storage.delete(segment(f));
      while (rolled.size() > rolledBefore) rolled.remove(rolled.size() - 1).close();
      writeFile = startFile;
      writePos = startPos;
      writer = null;
      writer = storage.append(segment(writeFile), writePos);
    } catch (IOException e) {
      writer = null;   // the next append opens the segment again at writePos, cutting the partial batch off
      log.warn("{}: could not cut back a failed write yet: {}", prefix, e.toString());
    }
    encode.clear();
  }

  // ---- reading ----

  /** Records on disk not yet read. */
  public long depth() { return depth; }

  /** Corrupt or missing stretches skipped so far. */
  public long corruptions() { return corruptions; }

  /** Reads up to {@code max} records, skipping (and counting) corrupt ones. */
  public List<Read> read(int max) throws IOException {
    List<Read> out = new ArrayList<>(Math.min(max, 1024));
    while (out.size() < max) {
      Read r = next();
      if (r == null) break;
      out.add(r);
    }
    if (readFile == writeFile && readPos >= writePos) depth = 0;   // all read: skipped corrupt records leave no count behind
    return out;
  }

  /**
   * Up to {@code max} records (and about {@code maxBytes} of them) from the read position on, without
   * consuming them: nothing this queue reports (position, depth, corruption count) changes. Stops at a
   * corrupt stretch, which a real read will skip and count.
   */
  public List<Read> peek(int max, long maxBytes) throws IOException {
    List<Read> out = new ArrayList<>(Math.min(max, 1024));
    long file = readFile;
    long pos = readPos;
    long seq = readSeq;
    long bytes = 0;
    try {
      while (out.size() < max && bytes < maxBytes && (file < writeFile || (file == writeFile && pos < writePos))) {
        long end = file == writeFile ? writePos : sealedSize(file);
        if (end < 0 || pos >= end) {
          file++;
          pos = 0;
          continue;
        }
        openReader(file);
        int len = recordAt(pos, end);
        if (len < 0) break;
        Read r = decode(payloadOff, len);
        out.add(r);
        bytes += len;
        pos += HEADER + len;
      }
    } finally {
      readSeq = seq;   // decode numbers what it reads: a peek reads nothing for real
    }
    return out;
  }

  private Read next() throws IOException {
    while (true) {
      if (readFile > writeFile || (readFile == writeFile && readPos >= writePos)) return null;
      long end = readFile == writeFile ? writePos : sealedSize(readFile);
      if (end < 0 || readPos >= end) {
        if (end < 0) {
          corruptions++;
          log.warn("{}: segment {} disappeared, skipping it", prefix, readFile);
        }
        nextFile();
        continue;
      }
      openReader(readFile);
      int len = recordAt(readPos, end);
      if (len >= 0) {
        Read r = decode(payloadOff, len);
        readPos += HEADER + len;
        depth = Math.max(0, depth - 1);
        uncommitted.add(new long[] {r.seq(), readFile, readPos});
        return r;
      }
      resync(end);
    }
  }

  /**
   * The payload length of a valid record (plausible length, version, checksum) starting at {@code pos}
   * and ending by {@code end}, with the payload left at {@code chunk[payloadOff]}; -1 when there is none.
   */
  private int recordAt(long pos, long end) throws IOException {
    if (pos + HEADER + FIXED > end) return -1;
    int off = ensure(pos, HEADER);
    if (off < 0) return -1;
    long len = readInt(off) & 0xffffffffL;
    if (len < FIXED || len > maxPayload || pos + HEADER + len > end) return -1;
    int crc = readInt(off + 4);
    off = ensure(pos + HEADER, (int) len);
    if (off < 0 || chunk[off] != VERSION || crc(off, (int) len) != crc) return -1;
    payloadOff = off;
    return (int) len;
  }

  private Read decode(int off, int len) {
    ByteBuffer b = ByteBuffer.wrap(chunk, off, len);
    b.get();
    long id = b.getLong();
    long ts = b.getLong();
    int attempts = b.getShort() & 0xffff;
    long due = b.getLong();
    ByteString body = ByteString.fromArrayUnsafe(chunk, off + FIXED, len - FIXED);
    return new Read(new Message(id, ts, attempts, body), due, ++readSeq);
  }

  /** After a bad record at readPos: finds the next position holding a valid record, or the segment's end. */
  private void resync(long end) throws IOException {
    long bad = readPos;
    corruptions++;
    for (long p = readPos + 1; p + HEADER + FIXED <= end; p++) {
      if (recordAt(p, end) >= 0) {
        log.error("{}: corrupt data in segment {} at {}, skipped {} bytes to the next valid record", prefix, readFile, bad, p - bad);
        readPos = p;
        return;
      }
    }
    log.error("{}: corrupt data in segment {} at {}, skipped the rest of the segment ({} bytes)", prefix, readFile, bad, end - bad);
    readPos = end;
    if (readFile < writeFile) nextFile();
  }

  private long sealedSize(long file) throws IOException {
    if (sealedFile != file) {
      sealedSize = storage.size(segment(file));
      sealedFile = file;
    }
    return sealedSize;
  }

  private void nextFile() {
    closeReader();
    readFile++;
    readPos = 0;
    if (readFile > writeFile) {
      readFile = writeFile;
      readPos = writePos;
    }
  }

  private void openReader(long file) throws IOException {
    if (readerFile == file && reader != null) return;
    closeReader();
    reader = storage.read(segment(file));
    readerFile = file;
  }

  private void closeReader() {
    if (reader != null) {
      try {
        reader.close();
      } catch (IOException ignored) {
        // nothing was written through it
      }
    }
    reader = null;
    readerFile = -1;
    chunkLen = 0;
    chunk = new byte[0];
  }

  /** Makes {@code n} bytes at file position {@code pos} available in {@code chunk}; returns their offset, -1 at EOF. */
  private int ensure(long pos, int n) throws IOException {
    if (pos >= chunkStart && pos + n <= chunkStart + chunkLen) return (int) (pos - chunkStart);
    // A fresh array every time: bodies handed out earlier keep pointing at the old one.
    byte[] fresh = new byte[Math.max(CHUNK, n)];
    ByteBuffer dst = ByteBuffer.wrap(fresh);
    while (dst.hasRemaining()) {
      int r = reader.read(dst, pos + dst.position());
      if (r < 0) break;
    }
    chunk = fresh;
    chunkStart = pos;
    chunkLen = dst.position();
    return chunkLen >= n ? 0 : -1;
  }

  private int readInt(int off) {
    return ((chunk[off] & 0xff) << 24) | ((chunk[off + 1] & 0xff) << 16) | ((chunk[off + 2] & 0xff) << 8) | (chunk[off + 3] & 0xff);
  }

  private int crc(int off, int len) {
    CRC32C c = new CRC32C();
    c.update(chunk, off, len);
    return (int) c.getValue();
  }

  // ---- committing and syncing ----

  /** The owner no longer needs records up to read sequence {@code seq} from disk. */
  public void commitThrough(long seq) {
    long[] last = null;
    while (!uncommitted.isEmpty() && uncommitted.peekFirst()[0] <= seq) last = uncommitted.pollFirst();
    if (last != null) {
      commitFile = last[1];
      commitPos = last[2];
      metaDirty = true;
    }
  }

  /** Everything read so far is no longer needed from disk. */
  public void commitAll() { commitThrough(readSeq); }

  /** Whether enough was written since the last sync that {@code --sync-every} asks for one. */
  public boolean syncDue() { return writesSinceSync >= settings.syncEvery(); }

  /** Whether anything (data or positions) changed since the last sync. */
  public boolean dirty() { return metaDirty || writesSinceSync > 0 || !rolled.isEmpty(); }

  /**
   * What a sync must do as of now: force the segments written to and, with {@code withMeta}, store the
   * metadata. Run it on an I/O thread, then hand it back to {@link #syncDone} on the owner's thread.
   */
  public SyncJob prepareSync(boolean withMeta) {
    return prepareSync(withMeta, true);
  }

  /** As {@link #prepareSync(boolean)}; {@code forceMeta} false writes the metadata without its own fsync. */
  public SyncJob prepareSync(boolean withMeta, boolean forceMeta) {
    List<Storage.Writer> toForce = new ArrayList<>(rolled);
    if (writer != null) toForce.add(writer);
    List<Storage.Writer> toClose = new ArrayList<>(rolled);
    rolled.clear();
    byte[] meta = null;
    if (withMeta) {
      long commitDepth = depth + uncommitted.size();
      if (commitFile == writeFile && commitPos >= writePos) commitDepth = 0;
      meta = (commitDepth + "\n" + commitFile + "," + commitPos + "\n" + writeFile + "," + writePos + "\n")
          .getBytes(StandardCharsets.US_ASCII);
      metaDirty = false;
    }
    writesSinceSync = 0;
    return new SyncJob(storage, meta(), toForce, toClose, meta, forceMeta, commitFile, generation);
  }

  /** Closes segments that were full and, once metadata moved past them, deletes consumed ones. */
  public void syncDone(SyncJob job) {
    if (job.generation != generation) {
      job.error = null;   // the queue was emptied meanwhile: whatever the job touched is gone anyway
      return;
    }
    for (Storage.Writer w : job.toClose) {
      try {
        w.close();
      } catch (IOException e) {
        log.warn("{}: closing a full segment failed: {}", prefix, e.toString());
      }
    }
    if (job.meta != null && job.error == null) {
      for (long f = deletedBelow; f < job.commitFile; f++) {
        if (f == readerFile) closeReader();
        try {
          storage.delete(segment(f));
        } catch (IOException e) {
          log.warn("{}: could not delete consumed segment {}: {}", prefix, f, e.toString());
        }
      }
      deletedBelow = Math.max(deletedBelow, job.commitFile);
    }
  }

  /** Syncs everything at once on the caller's thread (shutdown) and closes the files. */
  public void close() throws IOException {
    SyncJob job = prepareSync(true);
    job.run();
    syncDone(job);
    if (job.error != null) throw job.error;
    closeReader();
    if (writer != null) writer.close();
    writer = null;
  }

  /** Closes the files without syncing (a simulated crash, or after {@link #destroy}). */
  public void abandon() {
    closeReader();
    try {
      if (writer != null) writer.close();
      for (Storage.Writer w : rolled) w.close();
    } catch (IOException ignored) {
      // abandoning anyway
    }
    writer = null;
    rolled.clear();
  }

  /** Drops every record (EMPTY): deletes all segments and starts again after the last one. */
  public void clear() throws IOException {
    generation++;
    abandon();
    for (long f = Math.min(deletedBelow, readFile); f <= writeFile; f++) storage.delete(segment(f));
    writeFile++;
    writePos = 0;
    readFile = commitFile = deletedBelow = writeFile;
    readPos = commitPos = 0;
    depth = 0;
    uncommitted.clear();
    writesSinceSync = 0;
    storage.storeAtomically(meta(), ("0\n" + writeFile + ",0\n" + writeFile + ",0\n").getBytes(StandardCharsets.US_ASCII));
    metaDirty = false;
  }

  /** Deletes the queue's files for good (the topic or channel was deleted). */
  public void destroy() throws IOException {
    abandon();
    for (long f = Math.min(deletedBelow, readFile); f <= writeFile; f++) storage.delete(segment(f));
    storage.delete(meta());
  }

  /** One sync's work, runnable on any thread. */
  public static final class SyncJob implements Runnable {
    private final List<Storage.Writer> toForce;
    private final List<Storage.Writer> toClose;
    private final byte[] meta;
    private final long commitFile;
    private final boolean forceMeta;
    private final long generation;
    private final Storage storage;
    private final String metaName;
    private volatile IOException error;

    SyncJob(Storage storage, String metaName, List<Storage.Writer> toForce, List<Storage.Writer> toClose, byte[] meta,
        boolean forceMeta, long commitFile, long generation) {
      this.forceMeta = forceMeta;
      this.generation = generation;
      this.storage = storage;
      this.metaName = metaName;
      this.toForce = toForce;
      this.toClose = toClose;
      this.meta = meta;
      this.commitFile = commitFile;
    }

    @Override
    public void run() {
      try {
        for (Storage.Writer w : toForce) w.force();
        if (meta != null) storage.storeAtomically(metaName, meta, forceMeta);
      } catch (IOException e) {
        error = e;
      }
    }

    /** The failure of {@link #run}, or null. */
    public IOException error() { return error; }
  }
}
