package io.jnsq.broker;

import io.jnsq.storage.BlockPool;
import io.jnsq.storage.CursorFile;
import io.jnsq.storage.FileStorage;
import io.jnsq.storage.Storage;
import io.jnsq.storage.TopicLog;
import io.jnsq.protocol.Names;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.util.ByteString;

/**
 * Imports what nsqd left in a data path into this store, once: its go-diskqueue files
 * ({@code <queue>.diskqueue.NNNNNN.dat}, their read and write positions in {@code <queue>.diskqueue.meta.dat},
 * a queue being a topic or {@code <topic>:<channel>}). Each record is a 4-byte big-endian length, then
 * nsqd's message: 8-byte timestamp (ns), 2-byte attempts, 16-byte id (hex ASCII), body. Messages keep
 * their id, timestamp and attempts.
 *
 * <p>A topic's channels share one log here, so each channel's queue becomes its own stretch of the
 * topic's log, one after the other, and last comes the topic's own queue (what no channel had yet),
 * which every channel reads. A channel's cursor starts at its stretch and skips the stretches after it
 * up to the topic's ({@link CursorFile.Skip}); a channel without a queue starts at the topic's stretch.
 *
 * <p>Ids: nsqd's id is 16 hex digits of a 64-bit number, which becomes our 8-byte id as is, so ids stay
 * unique as they were. An id that is not hex (nsqd never writes one) gets the first 8 bytes of its
 * SHA-256 with the top bit set (nsqd's ids, made of a millisecond clock, never have it), made unique
 * within its queue.
 *
 * <p>An earlier jnsq version kept its queues in files of the same names and metadata, with checksummed
 * records ({@code u32 length, u32 crc32c}, then version 1, id, timestamp, attempts, due, body); a file
 * whose first record checks out that way is read as such, its messages keeping their due time too.
 *
 * <p>Crash safety: {@value #STARTED} is written (fsync'd) first, naming the files; then the logs and
 * cursors are written and fsync'd, then {@value #DONE}; only then are nsqd's files renamed to
 * {@code *.imported} and the markers removed. A start that finds {@value #STARTED} without
 * {@value #DONE} deletes what the import had written of those topics and imports again from a clean
 * log; one that finds {@value #DONE} only finishes the renames. Nothing is lost or imported twice.
 * Blocking: run it before the node starts, or offline ({@code bin/jnsq import-nsqd}).
 */
public final class NsqdImport {
  private NsqdImport() {}

  static final String STARTED = "nsqd-import.started";
  static final String DONE = "nsqd-import.done";
  private static final String META = ".diskqueue.meta.dat";
  private static final Pattern DATA = Pattern.compile("(.+)\\.diskqueue\\.(\\d{6})\\.dat");
  /** nsqd's smallest valid record: timestamp, attempts and id. */
  private static final int MIN_RECORD = 8 + 2 + 16;

  /** One nsqd queue: its name, its topic and channel (null for the topic's own), its position and files. */
  public record Queue(String name, String topic, String channel, long depth, long readFile, long readPos,
      long writeFile, long writePos) {
    String dataFile(long n) { return String.format("%s.diskqueue.%06d.dat", name, n); }
  }

  /** What one queue held: messages taken, their body bytes, and stretches skipped as corrupt. */
  public record Found(Queue queue, long messages, long bytes, long corrupt) {}

  /** What {@link #run} found and did. */
  public record Report(List<Found> found, boolean imported, List<String> notes) {
    public boolean nothing() { return found.isEmpty(); }
  }

  /** nsqd's queues in {@code dir} (those not yet imported), by name. Blocking. */
  public static List<Queue> find(Path dir) throws IOException {
    List<Queue> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) return out;
    TreeSet<String> names = new TreeSet<>();
    try (var s = Files.list(dir)) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    }
    for (String f : names) {
      if (!f.endsWith(META)) continue;
      String name = f.substring(0, f.length() - META.length());
      String text = new String(Files.readAllBytes(dir.resolve(f)), StandardCharsets.US_ASCII);
      Matcher m = Pattern.compile("\\s*(-?\\d+)\\s*\\n\\s*(\\d+),(\\d+)\\s*\\n\\s*(\\d+),(\\d+)\\s*").matcher(text);
      if (!m.lookingAt()) throw new IOException(f + ": not nsqd's diskqueue metadata (depth, read file,pos, write file,pos)");
      int colon = name.indexOf(':');
      out.add(new Queue(name, colon < 0 ? name : name.substring(0, colon), colon < 0 ? null : name.substring(colon + 1),
          Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
          Long.parseLong(m.group(4)), Long.parseLong(m.group(5))));
    }
    return out;
  }

  /** Reads one queue's messages from its read position to its write position. */
  interface Sink {
    void accept(long id, long timestamp, int attempts, ByteString body, long dueEpochMs) throws IOException;
  }

  /** Every message of {@code q} in order, to {@code sink}; returns what it found. Blocking. */
  static Found read(Path dir, Queue q, long maxMsgSize, Sink sink) throws IOException {
    long messages = 0;
    long bytes = 0;
    long corrupt = 0;
    Set<Long> madeUp = new HashSet<>();
    for (long n = q.readFile(); n <= q.writeFile(); n++) {
      Path file = dir.resolve(q.dataFile(n));
      if (!Files.exists(file)) continue;   // nsqd deletes a file once read
      long from = n == q.readFile() ? q.readPos() : 0;
      long to = n == q.writeFile() ? q.writePos() : Files.size(file);
      boolean ours = earlierJnsq(file, from, to);
      try (InputStream raw = Files.newInputStream(file);
           DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16))) {
        in.skipNBytes(from);
        long at = from;
        while (ours && at + 8 <= to) {
          // an earlier jnsq's record: u32 length, u32 crc32c, then version, id, timestamp, attempts, due, body
          int length = in.readInt();
          if (length < JNSQ_FIXED || length > maxMsgSize + JNSQ_FIXED || at + 8 + length > to) {
            corrupt++;
            break;
          }
          int crc = in.readInt();
          byte[] payload = new byte[length];
          in.readFully(payload);
          java.util.zip.CRC32C c = new java.util.zip.CRC32C();
          c.update(payload);
          at += 8 + length;
          if ((int) c.getValue() != crc || payload[0] != 1) {
            corrupt++;   // that version skipped a bad record and went on
            continue;
          }
          java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(payload, 1, length - 1);
          long id = b.getLong();
          long timestamp = b.getLong();
          int attempts = b.getShort() & 0xffff;
          long due = b.getLong();
          ByteString body = ByteString.fromArrayUnsafe(payload).drop(JNSQ_FIXED);
          sink.accept(id, timestamp, attempts, body, due);
          messages++;
          bytes += body.size();
        }
        while (!ours && at + 4 <= to) {
          int length = in.readInt();
          if (length < MIN_RECORD || length > maxMsgSize + MIN_RECORD || at + 4 + length > to) {
            corrupt++;   // as nsqd does: the rest of this file is skipped
            break;
          }
          long timestamp = in.readLong();
          int attempts = in.readUnsignedShort();
          byte[] rawId = new byte[16];
          in.readFully(rawId);
          byte[] body = new byte[length - MIN_RECORD];
          in.readFully(body);
          sink.accept(id(rawId, madeUp), timestamp, attempts, ByteString.fromArrayUnsafe(body), 0);
          messages++;
          bytes += body.length;
          at += 4 + length;
        }
      } catch (EOFException e) {
        corrupt++;   // shorter than its metadata says
      }
    }
    return new Found(q, messages, bytes, corrupt);
  }

  /** An earlier jnsq record's fixed part: version, id, timestamp, attempts, due. */
  private static final int JNSQ_FIXED = 1 + 8 + 8 + 2 + 8;

  /**
   * Whether the file holds an earlier jnsq version's records (same file names and metadata as nsqd's,
   * checksummed records): its first record's checksum and version byte say so (by chance for nsqd's
   * records about once in 2^32).
   */
  static boolean earlierJnsq(Path file, long from, long to) throws IOException {
    if (to - from < 8 + JNSQ_FIXED) return false;
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
      java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(8);
      if (ch.read(head, from) < 8) return false;
      int length = head.getInt(0);
      if (length < JNSQ_FIXED || from + 8 + length > to || length > 64 << 20) return false;
      java.nio.ByteBuffer payload = java.nio.ByteBuffer.allocate(length);
      while (payload.hasRemaining() && ch.read(payload, from + 8 + payload.position()) > 0) { }
      if (payload.hasRemaining() || payload.get(0) != 1) return false;
      java.util.zip.CRC32C c = new java.util.zip.CRC32C();
      c.update(payload.array());
      return (int) c.getValue() == head.getInt(4);
    }
  }

  /** nsqd's 16 hex digits as our 8-byte id; anything else hashed, top bit set, unique within the queue. */
  static long id(byte[] raw, Set<Long> madeUp) {
    String hex = new String(raw, StandardCharsets.US_ASCII);
    if (hex.matches("[0-9a-fA-F]{16}")) return Long.parseUnsignedLong(hex, 16);
    long id;
    try {
      byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(raw);
      id = java.nio.ByteBuffer.wrap(h).getLong() | Long.MIN_VALUE;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    while (!madeUp.add(id)) id = (id + 1) | Long.MIN_VALUE;
    return id;
  }

  /**
   * Imports the nsqd queues of {@code storage}'s directory (see the class comment), or with
   * {@code dryRun} only reads them and says what it found. Blocking.
   */
  public static Report run(FileStorage storage, TopicLog.Settings settings, boolean dryRun) throws IOException {
    Path dir = storage.dir();
    List<String> notes = new ArrayList<>();
    byte[] done = storage.load(DONE);
    if (done != null && !dryRun) {
      finish(storage, lines(done));
      notes.add("finished renaming the files of an import that was complete");
      return new Report(List.of(), true, notes);
    }
    List<Queue> queues = find(dir);
    if (queues.isEmpty()) return new Report(List.of(), false, notes);
    if (dryRun) {
      List<Found> found = new ArrayList<>();
      for (Queue q : queues) found.add(read(dir, q, settings.maxMsgSize(), (i, t, a, b, d) -> { }));
      return new Report(found, false, notes);
    }
    Map<String, List<Queue>> byTopic = new TreeMap<>();
    for (Queue q : queues) byTopic.computeIfAbsent(q.topic(), t -> new ArrayList<>()).add(q);
    List<String> files = new ArrayList<>();
    for (Queue q : queues) {
      files.add(q.name() + META);
      for (long n = q.readFile(); n <= q.writeFile(); n++) if (Files.exists(dir.resolve(q.dataFile(n)))) files.add(q.dataFile(n));
      // files before the read position are already consumed in nsqd; they are set aside too
      for (long n = 0; n < q.readFile(); n++) if (Files.exists(dir.resolve(q.dataFile(n)))) files.add(q.dataFile(n));
    }
    byte[] started = storage.load(STARTED);
    if (started != null) {
      for (String topic : byTopic.keySet()) clean(storage, topic);
      notes.add("an earlier import stopped midway: imported again from a clean log");
    } else {
      for (String topic : byTopic.keySet()) {
        for (String f : storage.list()) {
          if (f.startsWith(topic + ".log.") || (f.startsWith(topic + ":") && f.endsWith(".cursor"))) {
            throw new IOException("the data path holds both nsqd's queue and jnsq's log of topic " + topic
                + " (" + f + "); move one of them away");
          }
        }
      }
    }
    storage.storeAtomically(STARTED, String.join("\n", files).getBytes(StandardCharsets.UTF_8), true);

    Map<String, NodeMetadata.TopicMeta> meta = new LinkedHashMap<>();
    byte[] dat = storage.load(NodeMetadata.FILE);
    if (dat != null) meta.putAll(NodeMetadata.parse(dat));
    boolean metaChanged = false;
    List<Found> found = new ArrayList<>();
    BlockPool pool = new BlockPool(64L << 20);
    for (Map.Entry<String, List<Queue>> e : byTopic.entrySet()) {
      String topic = e.getKey();
      if (!Names.isValidTopic(topic) || Names.isEphemeral(topic)) {
        notes.add("skipped " + topic + ": not a topic name nsqd persists");
        continue;
      }
      NodeMetadata.TopicMeta tm = meta.get(topic);
      Map<String, Boolean> channels = new LinkedHashMap<>(tm == null ? Map.of() : tm.channels());
      TopicLog log = TopicLog.open(storage, topic, settings, pool);
      Map<String, long[]> ranges = new LinkedHashMap<>();   // channel -> {pos, seq, endPos, endSeq}
      Queue own = null;
      for (Queue q : e.getValue()) {
        if (q.channel() == null) {
          own = q;
          continue;
        }
        if (!Names.isValidChannel(q.channel()) || Names.isEphemeral(q.channel())) continue;
        long p0 = log.endPos();
        long s0 = log.endSeq();
        found.add(read(dir, q, settings.maxMsgSize(), (id, ts, att, body, due) -> append(log, id, ts, att, body, due)));
        ranges.put(q.channel(), new long[] {p0, s0, log.endPos(), log.endSeq()});
        if (!channels.containsKey(q.channel())) channels.put(q.channel(), false);
      }
      long topicPos = log.endPos();
      long topicSeq = log.endSeq();
      if (own != null) found.add(read(dir, own, settings.maxMsgSize(), (id, ts, att, body, due) -> append(log, id, ts, att, body, due)));
      flush(log, true);
      log.releaseMemory();
      log.closeFiles();
      for (String channel : channels.keySet()) {
        long[] r = ranges.get(channel);
        CursorFile.State state;
        if (r == null) {
          state = new CursorFile.State(topicPos, topicSeq, List.of());
        } else if (r[2] < topicPos) {
          state = new CursorFile.State(r[0], r[1], List.of(), List.of(new CursorFile.Skip(r[2], r[3], topicPos, topicSeq)));
        } else {
          state = new CursorFile.State(r[0], r[1], List.of());
        }
        CursorFile.store(storage, topic + ":" + channel, state, true);
      }
      if (tm == null || !channels.equals(tm.channels())) {
        meta.put(topic, new NodeMetadata.TopicMeta(tm != null && tm.paused(), channels));
        metaChanged = true;
      }
    }
    if (metaChanged) storage.storeAtomically(NodeMetadata.FILE, NodeMetadata.toJson(meta, "1.3.0"), true);
    storage.storeAtomically(DONE, String.join("\n", files).getBytes(StandardCharsets.UTF_8), true);
    finish(storage, files);
    return new Report(found, true, notes);
  }

  private static void append(TopicLog log, long id, long timestamp, int attempts, ByteString body, long due)
      throws IOException {
    while (!log.appendRecord(id, timestamp, attempts, body, due)) {
      if (!flush(log, false) && log.endPos() == log.flushedPos()) {
        throw new IOException("the import's memory cannot hold one message of " + body.size() + " bytes");
      }
      log.trim(log.endPos());
    }
  }

  /** Writes (and with {@code force} fsyncs) what was appended; false when there was nothing to write. */
  private static boolean flush(TopicLog log, boolean force) throws IOException {
    TopicLog.FlushJob job = log.prepareFlush(force);
    if (job == null) return false;
    job.run();
    if (!log.flushDone(job)) throw new IOException("writing the log failed: " + log.flushError());
    return true;
  }

  /** Deletes what an import stopped midway wrote of {@code topic}: its log's segments and its cursors. */
  private static void clean(FileStorage storage, String topic) throws IOException {
    for (String f : storage.list()) {
      if (f.startsWith(topic + ".log.") || (f.startsWith(topic + ":") && f.endsWith(".cursor"))) storage.delete(f);
    }
  }

  /** Sets nsqd's files aside ({@code *.imported}) and removes the markers. */
  private static void finish(FileStorage storage, List<String> files) throws IOException {
    Path dir = storage.dir();
    for (String f : files) {
      if (f.isBlank()) continue;
      Path p = dir.resolve(f);
      if (Files.exists(p)) Files.move(p, dir.resolve(f + ".imported"), StandardCopyOption.REPLACE_EXISTING);
    }
    storage.delete(STARTED);
    storage.delete(DONE);
  }

  private static List<String> lines(byte[] data) {
    return List.of(new String(data, StandardCharsets.UTF_8).split("\n"));
  }
}
