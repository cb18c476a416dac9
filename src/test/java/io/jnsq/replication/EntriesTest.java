package io.jnsq.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The bytes of Raft entries, and the ids their index gives. */
class EntriesTest {

  @Test
  void aPublishEntryWithSeveralPartsReadsBackTheSame() {
    Entries.Publish p = new Entries.Publish("orders", 42L, List.of(
        new Entries.Part(0, List.of(ByteString.fromString("a"), ByteString.fromString(""))),
        new Entries.Part(1_700_000_000_000L, List.of(ByteString.fromString("deferred")))));
    ByteBuffer bytes = ByteBuffer.wrap(Entries.publish(p));
    assertEquals(Entries.PUBLISH, Entries.type(bytes));
    assertEquals(p, Entries.decodePublish(bytes));
    assertEquals(0, bytes.remaining());
  }

  @Test
  void aCheckpointCarriesCursorFilesAndDeletions() {
    byte[] cursor = {1, 2, 3};
    ByteBuffer bytes = ByteBuffer.wrap(Entries.checkpoint(List.of(new Entries.File("orders:ch.cursor", cursor),
        new Entries.File("orders:gone.cursor", null))));
    assertEquals(Entries.CHECKPOINT, Entries.type(bytes));
    List<Entries.File> files = Entries.decodeCheckpoint(bytes);
    assertEquals("orders:ch.cursor", files.get(0).name());
    assertArrayEquals(cursor, files.get(0).content());
    assertNull(files.get(1).content());
  }

  @Test
  void idsGrowWithTheIndexAndTheOffsetAndNeverCollide() {
    assertTrue(Entries.id(5, 0) < Entries.id(5, 1));
    assertTrue(Entries.id(5, Entries.MAX_MESSAGES - 1) < Entries.id(6, 0));
    assertTrue(Entries.id(1, 0) > 0, "positive, so hex ids sort as numbers do");
    assertEquals(16, String.format("%016x", Entries.id((1L << 42) - 1, Entries.MAX_MESSAGES - 1)).length());
  }

  @Test
  void aCursorFileNamesItsTopic() {
    assertEquals("orders", Replication.topicOfCursor("orders:ch.cursor"));
    assertEquals("orders", Replication.topicOfCursor("orders:ch#ephemeral.cursor"));
    assertNull(Replication.topicOfCursor("orders.cursor"), "a paused topic's own cursor is not a channel's");
    assertNull(Replication.topicOfCursor("nsqd.dat"));
  }
}
