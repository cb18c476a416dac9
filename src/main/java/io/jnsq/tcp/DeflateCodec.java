package io.jnsq.tcp;

import java.io.IOException;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/** Raw deflate (no zlib header) both ways, as NSQ clients speak it; every write ends with a sync flush. */
public final class DeflateCodec implements StreamCodec {
  private final Deflater deflater;
  private final Inflater inflater = new Inflater(true);
  private final byte[] outBuf = new byte[16 * 1024];
  private final byte[] inBuf = new byte[32 * 1024];

  public DeflateCodec(int level) {
    this.deflater = new Deflater(level, true);
  }

  @Override
  public ByteString encode(ByteString plain) {
    deflater.setInput(plain.toArray());
    ByteStringBuilder out = new ByteStringBuilder();
    int n;
    do {
      n = deflater.deflate(outBuf, 0, outBuf.length, Deflater.SYNC_FLUSH);
      out.putBytes(outBuf, 0, n);
    } while (n == outBuf.length);
    return out.result();
  }

  @Override
  public ByteString decode(ByteString compressed) throws IOException {
    inflater.setInput(compressed.toArray());
    ByteStringBuilder out = new ByteStringBuilder();
    try {
      while (true) {
        int n = inflater.inflate(inBuf);
        if (n > 0) {
          out.putBytes(inBuf, 0, n);
        } else if (inflater.needsInput() || inflater.finished()) {
          break;
        } else if (inflater.needsDictionary()) {
          throw new IOException("deflate stream needs a dictionary");
        }
      }
    } catch (DataFormatException e) {
      throw new IOException("bad deflate data: " + e.getMessage(), e);
    }
    return out.result();
  }
}
