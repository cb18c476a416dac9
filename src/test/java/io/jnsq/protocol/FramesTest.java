package io.jnsq.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.junit.jupiter.api.Test;

/** Frames byte for byte, as in nsqd's transcript. */
class FramesTest {

  @Test
  void responseAndErrorFramesCarrySizeTypeAndText() {
    assertArrayEquals(new byte[] {0, 0, 0, 6, 0, 0, 0, 0, 'O', 'K'}, Frames.OK.toArray());
    ByteString err = Frames.error("E_INVALID invalid command BOGUS");
    assertEquals(35 + 4, err.size());
    ByteBuffer b = err.asByteBuffer();
    assertEquals(35, b.getInt());
    assertEquals(1, b.getInt());
    assertEquals("E_INVALID invalid command BOGUS", StandardCharsets.US_ASCII.decode(b).toString());
    assertEquals("_heartbeat_", Frames.HEARTBEAT.drop(8).utf8String());
    assertEquals("CLOSE_WAIT", Frames.CLOSE_WAIT.drop(8).utf8String());
  }

  @Test
  void messageFrameMatchesTheTranscriptLayout() {
    // From the transcript: size=35 type=2 timestamp_ns=1795446262308089685 attempts=1 id=18a5b03304a69000 body=hello
    ByteStringBuilder out = new ByteStringBuilder();
    Frames.appendMessage(out, 1795446262308089685L, 1, 0x18a5b03304a69000L, ByteString.fromString("hello"));
    ByteBuffer b = out.result().asByteBuffer();
    assertEquals(35, b.getInt());
    assertEquals(2, b.getInt());
    assertEquals(1795446262308089685L, b.getLong());
    assertEquals(1, b.getShort());
    byte[] id = new byte[16];
    b.get(id);
    assertEquals("18a5b03304a69000", new String(id, StandardCharsets.US_ASCII));
    byte[] body = new byte[5];
    b.get(body);
    assertEquals("hello", new String(body, StandardCharsets.US_ASCII));
    assertFalse(b.hasRemaining());
  }

  @Test
  void attemptsAreAnUnsignedSixteenBitCount() {
    ByteStringBuilder out = new ByteStringBuilder();
    Frames.appendMessage(out, 0, 65535, 0, ByteString.fromString("x"));
    ByteBuffer b = out.result().asByteBuffer();
    b.position(16);
    assertEquals(65535, b.getShort() & 0xffff);
  }

  @Test
  void messageIdsAreSixteenLowercaseHexDigits() {
    assertEquals("0000000000000000", MessageIds.toHex(0));
    assertEquals("ffffffffffffffff", MessageIds.toHex(-1));
    assertEquals(-1L, MessageIds.parseHex("ffffffffffffffff"));
    assertEquals(0x18a5b03304e69001L, MessageIds.parseHex("18a5b03304e69001"));
    assertTrue(MessageIds.isHex("0123456789abcdef"));
    assertFalse(MessageIds.isHex("0123456789ABCDEF"));
    assertFalse(MessageIds.isHex("0123456789abcde"));
    assertFalse(MessageIds.isHex("0123456789abcdeg"));
  }

  @Test
  void namesFollowNsqsRules() {
    assertTrue(Names.isValidTopic("clicks"));
    assertTrue(Names.isValidTopic("a.b-c_d"));
    assertTrue(Names.isValidChannel("tail123#ephemeral"));
    assertTrue(Names.isValidTopic("x".repeat(64)));
    assertTrue(Names.isValidTopic("x".repeat(54) + "#ephemeral"));
    assertFalse(Names.isValidTopic("x".repeat(65)));
    assertFalse(Names.isValidTopic("x".repeat(55) + "#ephemeral"));
    assertFalse(Names.isValidTopic(""));
    assertFalse(Names.isValidTopic("a b"));
    assertFalse(Names.isValidTopic("a/b"));
    assertFalse(Names.isValidTopic("#ephemeral"));
    assertFalse(Names.isValidTopic("x#ephemeralx"));
    assertTrue(Names.isEphemeral("t#ephemeral"));
    assertFalse(Names.isEphemeral("t"));
  }
}
