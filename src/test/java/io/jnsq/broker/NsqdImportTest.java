package io.jnsq.broker;

import io.jnsq.storage.BlockPool;
import io.jnsq.storage.CursorFile;
import io.jnsq.storage.FileStorage;
import io.jnsq.storage.Storage;
import io.jnsq.storage.TopicLog;
import io.jnsq.storage.NsqdFiles;

import static io.jnsq.storage.NsqdFiles.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nsqd's diskqueue files become one topic log with a stretch per channel and a cursor per channel, once. */
class NsqdImportTest {
  private static final TopicLog.Settings SETTINGS = new TopicLog.Settings(4096, 1 << 20);
  @TempDir Path dir;

  /** orders: channel a has a0..a2 (one more already consumed), b has b0 b1, the topic itself t0 t1; c has no queue. */
  private void nsqdData() throws IOException {
    NsqdFiles.metadata(dir, "orders", "a", "b", "c");
    NsqdFiles.queue(dir, "orders:a", List.of(msg(99, "consumed")), List.of(msg(0, "a0"), msg(1, "a1"), msg(2, "a2")));
    NsqdFiles.queue(dir, "orders:b", List.of(), List.of(msg(0, "b0"), msg(1, "b1")));
    NsqdFiles.queue(dir, "orders", List.of(), List.of(msg(10, "t0"), msg(11, "t1")));
  }

  private List<TopicLog.Entry> logOf(String topic) throws IOException {
    TopicLog log = TopicLog.open(new FileStorage(dir), topic, SETTINGS, new BlockPool(1 << 20));
    List<TopicLog.Entry> out = new ArrayList<>();
    long pos = log.startPos();
    long seq = log.startSeq();
    while (pos < log.endPos()) {
      TopicLog.Batch b = log.readDisk(pos, seq, log.endPos(), 100, 1 << 20);
      out.addAll(b.entries());
      pos = b.nextPos();
      seq = b.nextSeq();
    }
    log.closeFiles();
    return out;
  }

  private static List<String> bodies(List<TopicLog.Entry> entries) {
    List<String> out = new ArrayList<>();
    for (TopicLog.Entry e : entries) out.add(e.body().utf8String());
    return out;
  }

  private List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void eachChannelGetsItsStretchAndTheTopicsQueueComesLast() throws Exception {
    nsqdData();
    NsqdImport.Report r = NsqdImport.run(new FileStorage(dir), SETTINGS, false);
    assertTrue(r.imported());
    assertEquals(List.of("orders:a", "orders:b", "orders"), r.found().stream().map(f -> f.queue().name()).toList());
    assertEquals(List.of(3L, 2L, 2L), r.found().stream().map(NsqdImport.Found::messages).toList());

    List<TopicLog.Entry> log = logOf("orders");
    assertEquals(List.of("a0", "a1", "a2", "b0", "b1", "t0", "t1"), bodies(log));
    TopicLog.Entry a1 = log.get(1);
    assertEquals(0x0ab0c0d0e0f00001L, a1.id(), "nsqd's 16 hex digits are the 8-byte id");
    assertEquals(1_700_000_000_000_000_001L, a1.timestamp());
    assertEquals(1, a1.attempts());

    FileStorage s = new FileStorage(dir);
    CursorFile.State a = CursorFile.load(s, "orders:a");
    CursorFile.State b = CursorFile.load(s, "orders:b");
    CursorFile.State c = CursorFile.load(s, "orders:c");
    TopicLog.Entry b0 = log.get(3);
    TopicLog.Entry t0 = log.get(5);
    assertEquals(log.get(0).pos(), a.readPos());
    assertEquals(List.of(new CursorFile.Skip(b0.pos(), b0.seq(), t0.pos(), t0.seq())), a.skips(), "a skips b's stretch");
    assertEquals(b0.pos(), b.readPos());
    assertEquals(b0.seq(), b.readSeq());
    assertEquals(List.of(), b.skips(), "b's stretch ends where the topic's begins");
    assertEquals(t0.pos(), c.readPos(), "a channel without a queue reads the topic's");

    List<String> left = files();
    assertTrue(left.contains("orders:a.diskqueue.000000.dat.imported"), left.toString());
    assertTrue(left.contains("orders.diskqueue.meta.dat.imported"), left.toString());
    assertFalse(left.stream().anyMatch(f -> f.endsWith(".dat") && f.contains("diskqueue")), left.toString());
    assertFalse(left.contains(NsqdImport.STARTED) || left.contains(NsqdImport.DONE), left.toString());
  }

  @Test
  void aSecondRunFindsNothingAndChangesNothing() throws Exception {
    nsqdData();
    NsqdImport.run(new FileStorage(dir), SETTINGS, false);
    List<String> before = files();
    NsqdImport.Report again = NsqdImport.run(new FileStorage(dir), SETTINGS, false);
    assertTrue(again.nothing());
    assertFalse(again.imported());
    assertEquals(before, files());
    assertEquals(7, logOf("orders").size());
  }

  @Test
  void anImportStoppedMidwayStartsOverFromACleanLog() throws Exception {
    nsqdData();
    // what a crash during the first import left: the marker, part of a log, a cursor
    FileStorage s = new FileStorage(dir);
    s.storeAtomically(NsqdImport.STARTED, "orders:a.diskqueue.meta.dat".getBytes());
    TopicLog half = TopicLog.open(s, "orders", SETTINGS, new BlockPool(1 << 20));
    half.appendRecord(1, 1, 0, org.apache.pekko.util.ByteString.fromString("a0"), 0);
    TopicLog.FlushJob job = half.prepareFlush(true);
    job.run();
    half.flushDone(job);
    half.closeFiles();
    CursorFile.store(s, "orders:a", new CursorFile.State(0, 0, List.of()), true);

    NsqdImport.Report r = NsqdImport.run(s, SETTINGS, false);
    assertTrue(r.imported());
    assertTrue(r.notes().toString().contains("midway"), r.notes().toString());
    assertEquals(List.of("a0", "a1", "a2", "b0", "b1", "t0", "t1"), bodies(logOf("orders")), "nothing twice");
    assertEquals(1, CursorFile.load(s, "orders:a").skips().size());
  }

  @Test
  void aCompleteImportWhoseRenamesWereCutShortOnlyFinishesThem() throws Exception {
    nsqdData();
    FileStorage s = new FileStorage(dir);
    s.storeAtomically(NsqdImport.DONE, "orders:a.diskqueue.meta.dat\norders:a.diskqueue.000000.dat".getBytes());
    NsqdImport.Report r = NsqdImport.run(s, SETTINGS, false);
    assertTrue(r.imported());
    assertTrue(Files.exists(dir.resolve("orders:a.diskqueue.000000.dat.imported")));
    assertTrue(Files.exists(dir.resolve("orders:b.diskqueue.000000.dat")), "only the files the import named");
    assertFalse(Files.exists(dir.resolve(NsqdImport.DONE)));
  }

  @Test
  void aDryRunOnlyCounts() throws Exception {
    nsqdData();
    List<String> before = files();
    NsqdImport.Report r = NsqdImport.run(new FileStorage(dir), SETTINGS, true);
    assertFalse(r.imported());
    assertEquals(7, r.found().stream().mapToLong(NsqdImport.Found::messages).sum());
    assertEquals(before, files());
  }

  @Test
  void aCorruptRecordSkipsTheRestOfItsFileAsNsqdDoes() throws Exception {
    NsqdFiles.metadata(dir, "t", "c");
    byte[] good = NsqdFiles.record(msg(0, "ok"));
    byte[] bad = {0x7f, 0, 0, 0, 1, 2, 3};
    byte[] data = new byte[good.length + bad.length];
    System.arraycopy(good, 0, data, 0, good.length);
    System.arraycopy(bad, 0, data, good.length, bad.length);
    Files.write(dir.resolve("t:c.diskqueue.000000.dat"), data);
    NsqdFiles.meta(dir, "t:c", 2, 0, 0, 0, data.length);
    NsqdImport.Report r = NsqdImport.run(new FileStorage(dir), SETTINGS, false);
    assertEquals(1, r.found().get(0).messages());
    assertEquals(1, r.found().get(0).corrupt());
    assertEquals(List.of("ok"), bodies(logOf("t")));
  }

  @Test
  void aQueueSpreadOverFilesIsReadFromItsReadFileToItsWritePosition() throws Exception {
    NsqdFiles.metadata(dir, "t", "c");
    byte[] r0 = NsqdFiles.record(msg(0, "old"));
    byte[] r1 = NsqdFiles.record(msg(1, "one"));
    byte[] r2 = NsqdFiles.record(msg(2, "two"));
    byte[] r3 = NsqdFiles.record(msg(3, "not yet written"));
    Files.write(dir.resolve("t:c.diskqueue.000001.dat"), concat(r0, r1));
    Files.write(dir.resolve("t:c.diskqueue.000002.dat"), concat(r2, r3));
    NsqdFiles.meta(dir, "t:c", 2, 1, r0.length, 2, r2.length);
    NsqdImport.run(new FileStorage(dir), SETTINGS, false);
    assertEquals(List.of("one", "two"), bodies(logOf("t")));
  }

  @Test
  void idsThatAreNotHexGetTheTopBitAndStayUnique() {
    HashSet<Long> made = new HashSet<>();
    long a = NsqdImport.id("not-hex-at-all!!".getBytes(), made);
    long b = NsqdImport.id("not-hex-at-all!!".getBytes(), made);
    assertTrue(a < 0 && b < 0, "top bit set");
    assertTrue(a != b);
    assertEquals(0x0123456789abcdefL, NsqdImport.id("0123456789abcdef".getBytes(), made));
  }

  @Test
  void cursorFilesWithSkipsRoundTripAndTheOldFormatIsStillRead() {
    CursorFile.State v2 = new CursorFile.State(10, 1, List.of(CursorFile.Unfinished.at(0, 0, 2, 0)),
        List.of(new CursorFile.Skip(100, 5, 200, 9)));
    assertEquals(v2, CursorFile.decode(CursorFile.encode(v2)));
    byte[] v1 = CursorFile.encode(new CursorFile.State(10, 1, List.of()));
    assertEquals('1', v1[3], "no skips: still the first version");
    CursorFile.State back = CursorFile.decode(v1);
    assertNotNull(back);
    assertEquals(List.of(), back.skips());
  }

  /** A record as the jnsq version before the topic log wrote it. */
  private static byte[] earlierJnsqRecord(long id, long ts, int attempts, long due, String body) {
    byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.nio.ByteBuffer payload = java.nio.ByteBuffer.allocate(1 + 8 + 8 + 2 + 8 + b.length);
    payload.put((byte) 1).putLong(id).putLong(ts).putShort((short) attempts).putLong(due).put(b);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(payload.array());
    return java.nio.ByteBuffer.allocate(8 + payload.capacity()).putInt(payload.capacity()).putInt((int) crc.getValue())
        .put(payload.array()).array();
  }

  @Test
  void anEarlierJnsqVersionsQueuesAreImportedToo() throws Exception {
    NsqdFiles.metadata(dir, "t", "c");
    byte[] r0 = earlierJnsqRecord(42, 7, 3, 0, "mine");
    byte[] r1 = earlierJnsqRecord(43, 8, 0, 4_102_444_800_000L, "later");
    Files.write(dir.resolve("t:c.diskqueue.000000.dat"), concat(r0, r1));
    NsqdFiles.meta(dir, "t:c", 2, 0, 0, 0, r0.length + r1.length);
    assertTrue(NsqdImport.earlierJnsq(dir.resolve("t:c.diskqueue.000000.dat"), 0, r0.length + r1.length));
    assertFalse(NsqdImport.earlierJnsq(dir.resolve("t:c.diskqueue.000000.dat"), 1, r0.length + r1.length));
    NsqdImport.run(new FileStorage(dir), SETTINGS, false);
    List<TopicLog.Entry> log = logOf("t");
    assertEquals(List.of("mine", "later"), bodies(log));
    assertEquals(42, log.get(0).id());
    assertEquals(7, log.get(0).timestamp());
    assertEquals(3, log.get(0).attempts());
    assertEquals(4_102_444_800_000L, log.get(1).dueEpochMs(), "a deferred message keeps its due time");
  }

  @Test
  void nsqdsRecordsAreNotTakenForEarlierJnsqOnes() throws Exception {
    NsqdFiles.queue(dir, "t:c", List.of(), List.of(msg(0, "a0"), msg(1, "a1")));
    assertFalse(NsqdImport.earlierJnsq(dir.resolve("t:c.diskqueue.000000.dat"), 0, Files.size(dir.resolve("t:c.diskqueue.000000.dat"))));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
