package io.jnsq.client;

import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.xerial.snappy.Snappy;

/**
 * Snappy's framing format, which nsqd speaks after a {@code snappy} upgrade:
 * <pre>
 * [0xff][len 3 bytes LE = 6]["sNaPpY"]                         stream identifier, once
 * [0x00 compressed | 0x01 raw][len 3 bytes LE][masked CRC-32C 4 bytes LE][data]   at most 64 KiB of input each
 * </pre>
 * The reader takes exactly one chunk at a time, so it never reads past what the server has sent.
 */
final class SnappyStreams {
  private SnappyStreams() {}

  private static final byte[] ID = {'s', 'N', 'a', 'P', 'p', 'Y'};
  private static final int MAX_BLOCK = 65536;

  static int maskedCrc(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + 0xa282ead8;
  }

  /** Compresses what was written on every flush into whole chunks. */
  static final class Out extends FilterOutputStream {
    private byte[] buf = new byte[MAX_BLOCK];
    private int n;
    private boolean idSent;

    Out(OutputStream out) { super(out); }

    @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

    @Override public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int k = Math.min(len, MAX_BLOCK - n);
        System.arraycopy(b, off, buf, n, k);
        n += k;
        off += k;
        len -= k;
        if (n == MAX_BLOCK) chunk();
      }
    }

    @Override public void flush() throws IOException {
      if (n > 0) chunk();
      out.flush();
    }

    private void chunk() throws IOException {
      if (!idSent) {
        out.write(new byte[] {(byte) 0xff, 6, 0, 0});
        out.write(ID);
        idSent = true;
      }
      byte[] block = Arrays.copyOf(buf, n);
      byte[] compressed = Snappy.compress(block);
      boolean useCompressed = compressed.length < n;
      byte[] data = useCompressed ? compressed : block;
      int len = 4 + data.length;
      int crc = maskedCrc(block, 0, n);
      out.write(new byte[] {useCompressed ? 0 : (byte) 1, (byte) len, (byte) (len >>> 8), (byte) (len >>> 16),
          (byte) crc, (byte) (crc >>> 8), (byte) (crc >>> 16), (byte) (crc >>> 24)});
      out.write(data);
      n = 0;
    }
  }

  /** Decompresses chunk by chunk, checking each CRC. */
  static final class In extends InputStream {
    private final InputStream in;
    private byte[] plain = new byte[0];
    private int pos;
    private boolean idSeen;

    In(InputStream in) { this.in = in; }

    @Override public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) return 0;
      while (pos == plain.length) {
        if (!nextChunk()) return -1;
      }
      int k = Math.min(len, plain.length - pos);
      System.arraycopy(plain, pos, b, off, k);
      pos += k;
      return k;
    }

    @Override public int available() { return plain.length - pos; }

    @Override public void close() throws IOException { in.close(); }

    private boolean nextChunk() throws IOException {
      int type = in.read();
      if (type < 0) return false;
      byte[] h = readFully(3);
      int len = (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16;
      if (len > MAX_BLOCK + 1024) throw new IOException("snappy chunk too long: " + len);
      byte[] body = readFully(len);
      if (type == 0xff) {
        if (!Arrays.equals(body, ID)) throw new IOException("bad snappy stream identifier");
        idSeen = true;
        return true;
      }
      if (!idSeen) throw new IOException("snappy stream without its identifier");
      if (type == 0x00 || type == 0x01) {
        if (len < 4) throw new IOException("snappy chunk too short");
        int crc = (body[0] & 0xff) | (body[1] & 0xff) << 8 | (body[2] & 0xff) << 16 | (body[3] & 0xff) << 24;
        byte[] data = Arrays.copyOfRange(body, 4, len);
        byte[] out = type == 0x00 ? Snappy.uncompress(data) : data;
        if (maskedCrc(out, 0, out.length) != crc) throw new IOException("snappy chunk with a bad checksum");
        plain = out;
        pos = 0;
        return true;
      }
      if (type <= 0x7f) throw new IOException("reserved snappy chunk type " + type);
      return true;   // 0x80-0xfe: skippable (padding)
    }

    private byte[] readFully(int n) throws IOException {
      byte[] b = new byte[n];
      int got = 0;
      while (got < n) {
        int r = in.read(b, got, n - got);
        if (r < 0) throw new EOFException("snappy stream ended inside a chunk");
        got += r;
      }
      return b;
    }
  }
}
