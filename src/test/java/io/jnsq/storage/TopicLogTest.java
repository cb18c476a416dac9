package io.jnsq.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The topic log: memory and file reads, segments, recovery after crashes and power cuts, corruption, cursors. */
class TopicLogTest {
  private static final TopicLog.Settings SMALL = new TopicLog.Settings(4096, 1 << 20);

  private static List<ByteString> bodies(int from, int n) {
    List<ByteString> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) out.add(ByteString.fromString("message-" + i));
    return out;
  }

  private static void flush(TopicLog log, boolean force) {
    TopicLog.FlushJob job = log.prepareFlush(force);
    if (job == null) return;
    job.run();
    assertTrue(log.flushDone(job), "flush failed: " + log.flushError());
  }

  /** Reads everything from {@code pos} to the log's end, from memory where it can, else from the files. */
  private static List<TopicLog.Entry> readAll(TopicLog log, long pos, long seq) throws IOException {
    List<TopicLog.Entry> out = new ArrayList<>();
    while (pos < log.endPos()) {
      TopicLog.Batch b = log.readMemory(pos, seq, log.endPos(), 100, 1000);
      if (b == null) b = log.readDisk(pos, seq, log.endPos(), 100, 1000);
      assertTrue(b.nextPos() > pos || !b.entries().isEmpty(), "no progress at " + pos);
      out.addAll(b.entries());
      pos = b.nextPos();
      seq = b.nextSeq();
    }
    return out;
  }

  @Test
  void recordsReadBackFromMemoryAndFromTheFilesAlike() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    BlockPool pool = new BlockPool(4 << 20);
    TopicLog log = TopicLog.open(disk, "t", SMALL, pool);
    for (int i = 0; i < 500; i += 10) assertTrue(log.append(1000 + i, 77, bodies(i, 10), i == 250 ? 123 : 0));
    List<TopicLog.Entry> fromMemory = readAll(log, 0, 0);
    assertEquals(500, fromMemory.size());
    flush(log, true);
    assertTrue(disk.list().size() > 1, "small segments roll: " + disk.list());
    log.trim(log.endPos());   // everything read and on disk: memory goes back to the pool
    assertEquals(0, pool.inUse());
    assertNull(log.readMemory(0, 0, log.endPos(), 10, 1000));
    List<TopicLog.Entry> fromDisk = readAll(log, 0, 0);
    assertEquals(fromMemory, fromDisk);
    for (int i = 0; i < 500; i++) {
      TopicLog.Entry e = fromDisk.get(i);
      assertEquals(i, e.seq());
      assertEquals(1000 + i, e.id());
      assertEquals("message-" + i, e.body().utf8String());
      assertEquals(i >= 250 && i < 260 ? 123 : 0, e.dueEpochMs());
      assertEquals(fromMemory.get(i).pos(), e.pos());
    }
  }

  @Test
  void aRestartFindsTheEndAndSegmentsBelowTheFloorAreReleased() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    TopicLog log = TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20));
    assertTrue(log.append(1, 1, bodies(0, 200), 0));
    flush(log, true);
    int segments = disk.list().size();
    List<TopicLog.Entry> all = readAll(log, 0, 0);
    TopicLog.Entry mid = all.get(150);
    List<String> gone = log.release(mid.pos(), mid.seq());
    assertFalse(gone.isEmpty());
    log.deleteFiles(gone);
    assertEquals(segments - gone.size(), disk.list().size());
    TopicLog again = TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20));
    assertEquals(log.endPos(), again.endPos());
    assertEquals(200, again.endSeq());
    List<TopicLog.Entry> rest = readAll(again, mid.pos(), mid.seq());
    assertEquals(50, rest.size());
    assertEquals("message-150", rest.get(0).body().utf8String());
  }

  @Test
  void aFullMemoryBudgetRefusesWholeBatchesUntilBlocksAreOnDisk() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    BlockPool pool = new BlockPool(2 << 20);
    TopicLog log = TopicLog.open(disk, "t", new TopicLog.Settings(64 << 20, 1 << 20), pool);
    List<ByteString> big = new ArrayList<>();
    for (int i = 0; i < 100; i++) big.add(ByteString.fromArray(new byte[10_000]));
    int accepted = 0;
    while (log.append(accepted, 0, big, 0)) accepted++;
    long end = log.endPos();
    assertFalse(log.append(accepted, 0, big, 0));
    assertEquals(end, log.endPos(), "a refused batch leaves nothing behind");
    flush(log, false);
    log.trim(0);   // nobody read anything, but the budget is pressed: what is on disk leaves memory
    assertTrue(log.append(accepted, 0, big, 0));
  }

  @Test
  void aCorruptRecordIsSkippedAndCounted() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    TopicLog log = TopicLog.open(disk, "t", new TopicLog.Settings(1 << 20, 1 << 20), new BlockPool(4 << 20));
    assertTrue(log.append(1, 1, bodies(0, 20), 0));
    flush(log, true);
    log.trim(log.endPos());
    List<TopicLog.Entry> all = readAll(log, 0, 0);
    String file = disk.list().get(0);
    disk.corrupt(file, (int) all.get(5).pos() + 20);
    List<TopicLog.Entry> read = readAll(log, 0, 0);
    assertEquals(19, read.size());
    assertEquals(1, log.corruptions());
    assertEquals("message-6", read.get(5).body().utf8String());
  }

  /**
   * Power cuts at random points of appending, fsyncing and releasing: what was fsync'd is always there
   * after recovery, the log's end is a record boundary, and no record is torn or out of order.
   */
  @ParameterizedTest(name = "segments made ahead of time: {0}")
  @ValueSource(booleans = {false, true})
  void powerCutsNeverLoseWhatWasFsyncedNorLeaveTornRecords(boolean preallocate) throws IOException {
    Random random = new Random(12);
    TopicLog.Settings settings = new TopicLog.Settings(SMALL.segmentBytes(), SMALL.maxMsgSize(), preallocate);
    for (int round = 0; round < 40; round++) {
      MemoryStorage disk = new MemoryStorage();
      TopicLog log = TopicLog.open(disk, "t", settings, new BlockPool(4 << 20));
      long synced = 0;
      int next = 0;
      MemoryStorage cut = null;
      int steps = 1 + random.nextInt(30);
      for (int step = 0; step < steps; step++) {
        int n = 1 + random.nextInt(20);
        assertTrue(log.append(next, 5, bodies(next, n), 0));
        next += n;
        Runnable spare = log.spareJob();
        if (spare != null && random.nextBoolean()) spare.run();
        int action = random.nextInt(3);
        if (action == 0) {
          flush(log, true);
          synced = log.syncedSeq();
        } else if (action == 1) {
          flush(log, false);
        } else if (log.syncedSeq() > 10) {
          List<TopicLog.Entry> all = readAll(log, log.startPos(), log.startSeq());
          TopicLog.Entry floor = all.get(Math.min(all.size() - 1, random.nextInt(10)));
          log.deleteFiles(log.release(floor.pos(), floor.seq()));
        }
      }
      cut = disk.crashCopy(random);
      TopicLog recovered = TopicLog.open(cut, "t", settings, new BlockPool(4 << 20));
      assertTrue(recovered.endSeq() >= synced, "round " + round + ": lost fsync'd records");
      List<TopicLog.Entry> back = readAll(recovered, recovered.startPos(), recovered.startSeq());
      long expect = back.isEmpty() ? 0 : back.get(0).seq();
      for (TopicLog.Entry e : back) {
        assertEquals(expect, e.seq(), "round " + round + " files " + cut.list() + " " + back.stream().map(TopicLog.Entry::seq).toList());
        assertEquals("message-" + e.seq(), e.body().utf8String());
        expect++;
      }
      assertEquals(recovered.endSeq(), back.isEmpty() ? recovered.endSeq() : expect);
    }
  }

  /**
   * Durable mode's segments start as a spare file of zeros made ahead of time: the log's end is still
   * found after a restart, a spare left by the last run is used, and deleting the topic removes it.
   */
  @Test
  void segmentsMadeAheadOfTimeKeepTheirRecordsAndLeaveNothingBehind() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    TopicLog.Settings settings = new TopicLog.Settings(4096, 1 << 20, true);
    TopicLog log = TopicLog.open(disk, "t", settings, new BlockPool(4 << 20));
    assertNull(TopicLog.open(new MemoryStorage(), "u", SMALL, new BlockPool(1 << 20)).spareJob(), "only when asked for");
    for (int i = 0; i < 300; i += 10) {
      Runnable spare = log.spareJob();
      if (spare != null) spare.run();
      assertTrue(log.append(i, 9, bodies(i, 10), 0));
      flush(log, true);
    }
    assertTrue(disk.list().contains("t.log.spare"), disk.list().toString());
    List<String> segments = disk.list().stream().filter(f -> f.endsWith(".seg")).toList();
    assertTrue(segments.size() > 2, segments.toString());
    for (String f : segments.subList(1, segments.size())) assertEquals(4096, disk.size(f), f + " was made ahead of time, whole");
    assertNull(log.spareJob(), "one spare at a time");

    TopicLog again = TopicLog.open(disk, "t", settings, new BlockPool(4 << 20));
    assertEquals(log.endPos(), again.endPos());
    assertEquals(300, again.endSeq());
    assertNull(again.spareJob(), "the last run's spare is used");
    assertTrue(again.append(300, 9, bodies(300, 100), 0));
    flush(again, true);
    assertEquals(400, readAll(again, 0, 0).size());
    again.destroy();
    assertEquals(List.of(), disk.list());
  }

  @Test
  void aCursorFileRoundTripsAndATornOneIsIgnored() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    CursorFile.State s = new CursorFile.State(4000, 90, List.of(
        CursorFile.Unfinished.at(100, 3, 2, 0),
        new CursorFile.Unfinished(200, 5, 1, 9_999_999, 42, 7, ByteString.fromString("kept inline"))));
    CursorFile.store(disk, "t:c", s, true);
    CursorFile.State back = CursorFile.load(disk, "t:c");
    assertNotNull(back);
    assertEquals(s.readPos(), back.readPos());
    assertEquals(s.unfinished().get(0), back.unfinished().get(0));
    assertEquals("kept inline", back.unfinished().get(1).body().utf8String());
    assertEquals(100, back.floorPos(), "an inline record does not pin the log");
    byte[] bytes = CursorFile.encode(s);
    bytes[10] ^= 1;
    assertNull(CursorFile.decode(bytes));
    assertNull(CursorFile.decode(java.util.Arrays.copyOf(CursorFile.encode(s), 20)));
  }

  @Test
  void theLastIdSurvivesARestartAlsoWhenTheLastSegmentIsEmpty() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    BlockPool pool = new BlockPool(4 << 20);
    TopicLog log = TopicLog.open(disk, "t", SMALL, pool);
    assertEquals(0, log.lastId());
    for (int i = 0; i < 200; i += 10) assertTrue(log.append(5000 + i, 77, bodies(i, 10), 0));
    assertEquals(5199, log.lastId());
    flush(log, true);
    log.closeFiles();
    assertEquals(5199, TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20)).lastId());
    // A segment rolled just before a crash is empty: the id comes from the segment before it.
    String last = disk.list().stream().filter(f -> f.endsWith(".seg")).sorted().reduce((a, b) -> b).orElseThrow();
    TopicLog reopened = TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20));
    String empty = String.format("t.log.%020d-%020d.seg", reopened.endPos(), reopened.endSeq());
    assertFalse(empty.equals(last));
    disk.append(empty, 0).close();
    assertEquals(5199, TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20)).lastId());
  }
}
