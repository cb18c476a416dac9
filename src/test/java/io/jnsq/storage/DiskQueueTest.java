package io.jnsq.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.broker.Message;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskQueueTest {
  private static final DiskQueue.Settings SMALL = new DiskQueue.Settings(1000, 2500, Duration.ofSeconds(2), 1 << 20);

  private static List<Message> batch(int from, int n) {
    List<Message> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) out.add(new Message(i, 1000L + i, i % 3, ByteString.fromString("body-" + i)));
    return out;
  }

  private static List<Integer> ids(List<DiskQueue.Read> reads) {
    List<Integer> out = new ArrayList<>();
    for (DiskQueue.Read r : reads) out.add((int) r.message().id());
    return out;
  }

  private static List<Integer> range(int from, int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) out.add(i);
    return out;
  }

  private static void sync(DiskQueue q) {
    DiskQueue.SyncJob job = q.prepareSync(true);
    job.run();
    q.syncDone(job);
  }

  @Test
  void peekShowsWhatTheNextReadsReturnAndChangesNothing(@TempDir Path dir) throws IOException {
    DiskQueue q = DiskQueue.open(new FileStorage(dir), "t", SMALL);
    q.append(batch(0, 40), 0);
    assertEquals(range(0, 3), ids(q.read(3)));
    List<DiskQueue.Read> peeked = q.peek(30, Long.MAX_VALUE);
    assertEquals(range(3, 30), ids(peeked), "across the segment boundary");
    assertEquals(37, q.depth());
    assertEquals(range(3, 1), ids(q.peek(30, 1)), "a byte budget stops it once reached (one record at least)");
    List<DiskQueue.Read> read = q.read(30);
    assertEquals(ids(peeked), ids(read), "the reads return what the peek showed");
    for (int i = 0; i < 30; i++) assertEquals(read.get(i).seq(), 4 + i, "peeking numbered nothing");
    assertEquals(7, q.depth());
  }

  @Test
  void recordsComeBackWithEveryFieldAcrossSegments(@TempDir Path dir) throws IOException {
    DiskQueue q = DiskQueue.open(new FileStorage(dir), "t", SMALL);
    q.append(batch(0, 40), 0);
    q.append(batch(40, 2), 1_700_000_000_000L);
    assertEquals(42, q.depth());
    List<DiskQueue.Read> reads = q.read(100);
    assertEquals(range(0, 42), ids(reads));
    assertEquals(0, q.depth());
    DiskQueue.Read last = reads.get(41);
    assertEquals(new Message(41, 1041, 2, ByteString.fromString("body-41")), last.message());
    assertEquals(1_700_000_000_000L, last.dueEpochMs());
    assertEquals(0, reads.get(0).dueEpochMs());
    assertEquals(2, dir.toFile().list().length, "42 records of ~42 bytes span two 1000-byte segments");
  }

  @Test
  void cleanCloseAndReopenKeepsUnreadRecordsAndDeletesConsumedSegments(@TempDir Path dir) throws IOException {
    FileStorage storage = new FileStorage(dir);
    DiskQueue q = DiskQueue.open(storage, "t", SMALL);
    q.append(batch(0, 100), 0);
    assertEquals(range(0, 60), ids(q.read(60)));
    q.commitAll();
    q.close();
    int files = storage.list().size();
    DiskQueue again = DiskQueue.open(storage, "t", SMALL);
    assertEquals(40, again.depth());
    assertEquals(range(60, 40), ids(again.read(100)));
    again.commitAll();
    again.close();
    assertTrue(storage.list().size() < files, "consumed segments are deleted once the metadata moved past them");
  }

  @Test
  void uncommittedReadsAreReadAgainAfterReopen() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "c", SMALL);
    q.append(batch(0, 10), 0);
    List<DiskQueue.Read> reads = q.read(10);
    q.commitThrough(reads.get(3).seq());   // 0..3 finished, 4.. still in flight
    q.close();
    DiskQueue again = DiskQueue.open(storage, "c", SMALL);
    assertEquals(6, again.depth());
    assertEquals(range(4, 6), ids(again.read(10)));
  }

  @Test
  void aCrashKeepsEveryForcedRecordEvenWhenTheMetadataIsStale() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "t", SMALL);
    q.append(batch(0, 5), 0);
    sync(q);                                   // metadata says 5
    q.append(batch(5, 50), 0);                 // rolls over several segments
    DiskQueue.SyncJob dataOnly = q.prepareSync(false);
    dataOnly.run();
    q.syncDone(dataOnly);
    q.append(batch(55, 10), 0);                // never forced
    q.abandon();
    storage.crash(new Random(7));
    DiskQueue again = DiskQueue.open(storage, "t", SMALL);
    List<Integer> got = ids(again.read(1000));
    assertTrue(got.size() >= 55, "all 55 forced records are back, got " + got.size());
    assertEquals(range(0, got.size()), got, "in order, without gaps, a torn tail cut off");
    again.append(batch(100, 1), 0);
    assertEquals(List.of(100), ids(again.read(10)), "appending continues after the recovered tail");
  }

  @Test
  void aCorruptRecordIsSkippedToTheNextValidOneAndCounted() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "t", new DiskQueue.Settings(1 << 20, 2500, Duration.ofSeconds(2), 1 << 20));
    q.append(batch(0, 10), 0);
    String segment = storage.names().stream().filter(n -> n.endsWith("000000.dat")).findFirst().orElseThrow();
    int recordSize = DiskQueue.HEADER + DiskQueue.FIXED + "body-0".length();
    storage.corrupt(segment, 3 * recordSize + 20);       // inside record 3's payload: bad checksum
    storage.corrupt(segment, 6 * recordSize + 1);        // record 6's length: absurd
    List<Integer> got = ids(q.read(100));
    assertEquals(List.of(0, 1, 2, 4, 5, 7, 8, 9), got);
    assertEquals(2, q.corruptions());
    assertEquals(0, q.depth());
  }

  @Test
  void garbageInTheMiddleOfASealedSegmentDoesNotStopDelivery() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "t", SMALL);
    q.append(batch(0, 60), 0);
    String first = storage.names().stream().filter(n -> n.endsWith("000000.dat")).findFirst().orElseThrow();
    for (int i = 0; i < 200; i++) storage.corrupt(first, i * 3);
    List<Integer> got = ids(q.read(1000));
    assertFalse(got.isEmpty());
    assertTrue(got.containsAll(range(30, 30)), "later segments are delivered: " + got);
    assertTrue(q.corruptions() >= 1);
  }

  @Test
  void aFullDiskFailsTheWholeBatchAndAcceptsAgainOnceSpaceIsFree() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "t", SMALL);
    q.append(batch(0, 5), 0);
    storage.setCapacity(storage.used() + 600);
    assertThrows(IOException.class, () -> q.append(batch(5, 30), 0));
    assertEquals(5, q.depth(), "nothing of the failed batch counts");
    storage.setCapacity(Long.MAX_VALUE);
    q.append(batch(100, 2), 0);
    assertEquals(List.of(0, 1, 2, 3, 4, 100, 101), ids(q.read(100)), "nothing of the failed batch is delivered");
  }

  @Test
  void clearDropsEverythingAndTheQueueKeepsWorking() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "t", SMALL);
    q.append(batch(0, 50), 0);
    q.clear();
    assertEquals(0, q.depth());
    assertTrue(q.read(10).isEmpty());
    q.append(batch(7, 1), 0);
    q.close();
    assertEquals(List.of(7), ids(DiskQueue.open(storage, "t", SMALL).read(10)));
  }

  @Test
  void destroyRemovesEveryFile() throws IOException {
    MemoryStorage storage = new MemoryStorage();
    DiskQueue q = DiskQueue.open(storage, "t:c", SMALL);
    q.append(batch(0, 50), 0);
    sync(q);
    q.destroy();
    assertEquals(List.of(), storage.names());
  }
}
