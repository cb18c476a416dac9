package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.Random;
import java.util.zip.Inflater;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.junit.jupiter.api.Test;
import org.xerial.snappy.SnappyFramedInputStream;

/** The compression codecs round-trip data cut anywhere, and each write can be decoded on its own (flushed). */
class StreamCodecTest {

  private static ByteString data(int n, long seed) {
    byte[] b = new byte[n];
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) b[i] = (byte) (i % 7 == 0 ? r.nextInt() : 'a' + i % 13);
    return ByteString.fromArray(b);
  }

  private static void roundTrip(StreamCodec sender, StreamCodec receiver) throws IOException {
    ByteStringBuilder sent = new ByteStringBuilder();
    ByteStringBuilder wire = new ByteStringBuilder();
    for (int i = 0; i < 20; i++) {
      ByteString chunk = data(1 + i * 9_001, i);
      sent.append(chunk);
      wire.append(sender.encode(chunk));
    }
    ByteString all = wire.result();
    ByteStringBuilder got = new ByteStringBuilder();
    Random r = new Random(3);
    for (int at = 0; at < all.size(); ) {
      int n = Math.min(all.size() - at, 1 + r.nextInt(5000));
      got.append(receiver.decode(all.slice(at, at + n)));
      at += n;
    }
    assertEquals(sent.result(), got.result());
  }

  @Test
  void deflateRoundTripsAndEveryWriteIsFlushed() throws Exception {
    roundTrip(new DeflateCodec(6), new DeflateCodec(6));
    DeflateCodec codec = new DeflateCodec(1);
    ByteString first = codec.encode(ByteString.fromString("hello"));
    Inflater raw = new Inflater(true);   // a plain raw-deflate reader decodes the first write alone
    raw.setInput(first.toArray());
    byte[] out = new byte[100];
    assertEquals("hello", new String(out, 0, raw.inflate(out)));
  }

  @Test
  void snappyRoundTripsAndSpeaksTheStandardFramingFormat() throws Exception {
    roundTrip(new SnappyCodec(), new SnappyCodec());
    SnappyCodec codec = new SnappyCodec();
    ByteString wire = codec.encode(data(200_000, 9)).concat(codec.encode(ByteString.fromString("tail")));
    try (SnappyFramedInputStream in = new SnappyFramedInputStream(new java.io.ByteArrayInputStream(wire.toArray()))) {
      assertEquals(data(200_000, 9).concat(ByteString.fromString("tail")), ByteString.fromArray(in.readAllBytes()));
    }
  }

  @Test
  void garbageIsAnError() {
    assertThrows(IOException.class, () -> new SnappyCodec().decode(ByteString.fromString("not snappy at all")));
    assertThrows(IOException.class, () -> new DeflateCodec(6).decode(ByteString.fromArray(new byte[] {(byte) 0xff, (byte) 0xff, 0x13, 0x37})));
  }
}
