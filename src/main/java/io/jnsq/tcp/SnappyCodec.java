package io.jnsq.tcp;

import java.io.IOException;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.apache.pekko.util.ByteIterator;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.xerial.snappy.Snappy;

/**
 * Snappy's framing format (stream identifier, then chunks of at most 64 KiB, each with a masked
 * CRC-32C), the stream NSQ clients expect; block compression is snappy-java's. Each write becomes
 * complete chunks, so nothing waits in a buffer.
 */
public final class SnappyCodec implements StreamCodec {
  private static final ByteString STREAM_ID = ByteString.fromArray(new byte[] {
      (byte) 0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'});
  private static final int MAX_BLOCK = 65536;

  private boolean idSent;
  private boolean idSeen;
  private ByteString pending = ByteString.emptyByteString();

  @Override
  public ByteString encode(ByteString plain) {
    ByteStringBuilder out = new ByteStringBuilder();
    if (!idSent) {
      out.append(STREAM_ID);
      idSent = true;
    }
    byte[] all = plain.toArray();
    try {
      for (int off = 0; off < all.length; off += MAX_BLOCK) {
        int len = Math.min(MAX_BLOCK, all.length - off);
        byte[] block = new byte[len];
        System.arraycopy(all, off, block, 0, len);
        byte[] compressed = Snappy.compress(block);
        boolean useCompressed = compressed.length < len;
        byte[] data = useCompressed ? compressed : block;
        int chunkLen = 4 + data.length;
        out.putByte(useCompressed ? (byte) 0x00 : (byte) 0x01);
        out.putByte((byte) chunkLen).putByte((byte) (chunkLen >>> 8)).putByte((byte) (chunkLen >>> 16));
        out.putInt(masked(block, len), ByteOrder.LITTLE_ENDIAN);
        out.putBytes(data);
      }
    } catch (IOException e) {
      throw new IllegalStateException("snappy compression failed", e);
    }
    return out.result();
  }

  @Override
  public ByteString decode(ByteString compressed) throws IOException {
    pending = pending.concat(compressed);
    ByteStringBuilder out = new ByteStringBuilder();
    while (pending.size() >= 4) {
      ByteIterator it = pending.iterator();
      int type = it.getByte() & 0xff;
      int len = (it.getByte() & 0xff) | (it.getByte() & 0xff) << 8 | (it.getByte() & 0xff) << 16;
      // Judge the header at once: garbage must not sit in the buffer waiting for a body that never comes.
      if (!idSeen && type != 0xff) throw new IOException("snappy stream without its identifier");
      if (type >= 0x02 && type <= 0x7f) throw new IOException("reserved snappy chunk type " + type);
      if ((type == 0x00 || type == 0x01) && len > MAX_BLOCK + 1024) throw new IOException("snappy chunk too long");
      if (pending.size() < 4 + len) break;
      ByteString body = pending.slice(4, 4 + len);
      pending = pending.drop(4 + len);
      if (type == 0xff) {
        if (!body.equals(STREAM_ID.drop(4))) throw new IOException("bad snappy stream identifier");
        idSeen = true;
        continue;
      }
      if (!idSeen) throw new IOException("snappy stream without its identifier");
      if (type == 0x00 || type == 0x01) {
        if (len < 4) throw new IOException("snappy chunk too short");
        int crc = body.iterator().getInt(ByteOrder.LITTLE_ENDIAN);
        byte[] data = body.drop(4).toArray();
        byte[] plain = type == 0x00 ? Snappy.uncompress(data) : data;
        if (plain.length > MAX_BLOCK || masked(plain, plain.length) != crc) throw new IOException("bad snappy chunk");
        out.putBytes(plain);
      } else if (type <= 0x7f) {
        throw new IOException("reserved snappy chunk type " + type);
      }
      // 0x80-0xfe: skippable (padding and the like)
    }
    return out.result();
  }

  private static int masked(byte[] data, int len) {
    CRC32C c = new CRC32C();
    c.update(data, 0, len);
    int crc = (int) c.getValue();
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }
}
