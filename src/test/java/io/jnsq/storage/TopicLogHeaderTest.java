package io.jnsq.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** Records with a header of their own (version 3) beside plain ones, in memory, on disk and after a restart. */
class TopicLogHeaderTest {
  private static final TopicLog.Settings SMALL = new TopicLog.Settings(4096, 1 << 20);

  private static List<TopicLog.Entry> readAll(TopicLog log, boolean disk) throws IOException {
    List<TopicLog.Entry> out = new ArrayList<>();
    long pos = log.startPos();
    long seq = log.startSeq();
    while (pos < log.endPos()) {
      TopicLog.Batch b = disk ? log.readDisk(pos, seq, log.endPos(), 7, 500) : log.readMemory(pos, seq, log.endPos(), 7, 500);
      out.addAll(b.entries());
      pos = b.nextPos();
      seq = b.nextSeq();
    }
    return out;
  }

  @Test
  void headersComeBackApartFromTheBodyAndPlainRecordsStayPlain() throws IOException {
    MemoryStorage disk = new MemoryStorage();
    TopicLog log = TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20));
    for (int i = 0; i < 200; i++) {
      ByteString body = ByteString.fromString("body-" + i);
      if (i % 3 == 0) {
        assertTrue(log.appendRecord(100 + i, 5, 0, body, 0, ByteString.fromString("{\"i\":" + i + "}")));
      } else {
        assertTrue(log.append(100 + i, 5, List.of(body), 0));
      }
    }
    List<TopicLog.Entry> memory = readAll(log, false);
    TopicLog.FlushJob job = log.prepareFlush(true);
    job.run();
    assertTrue(log.flushDone(job));
    List<TopicLog.Entry> files = readAll(log, true);
    List<TopicLog.Entry> reopened = readAll(TopicLog.open(disk, "t", SMALL, new BlockPool(4 << 20)), true);
    for (List<TopicLog.Entry> read : List.of(memory, files, reopened)) {
      assertEquals(200, read.size());
      for (int i = 0; i < 200; i++) {
        TopicLog.Entry e = read.get(i);
        assertEquals("body-" + i, e.body().utf8String());
        assertEquals(i % 3 == 0 ? "{\"i\":" + i + "}" : "", e.header().utf8String());
        if (i + 1 < 200) assertEquals(read.get(i + 1).pos(), e.next(), "next() is where the next record starts");
      }
    }
    assertTrue(log.segmentStarts().size() > 1);
    assertEquals(0, log.segmentStarts().get(0)[0]);
  }
}
