package io.jnsq.bench;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protocol V2 client for load generation: blocking socket, big buffers, frames parsed in place
 * from one reusable byte array so that reading a message allocates nothing.
 */
final class WireClient implements AutoCloseable {
  static final int RESPONSE = 0;
  static final int ERROR = 1;
  static final int MESSAGE = 2;

  private final Socket socket;
  private InputStream in;
  OutputStream out;
  private byte[] buf = new byte[1 << 20];
  private int start;
  private int end;
  /** The current frame: type, and its data at {@code buf[dataAt .. dataAt+dataLen)}. */
  int type;
  int dataAt;
  int dataLen;

  WireClient(InetSocketAddress address) throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setReceiveBufferSize(1 << 20);
    socket.setSendBufferSize(1 << 20);
    socket.connect(address, 5000);
    in = socket.getInputStream();
    out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
    out.write("  V2".getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Connects and negotiates {@code compression} ("snappy" or "deflate"; empty: none) in IDENTIFY, as a
   * client library does: the answer comes plain, then both directions go through the codec.
   */
  WireClient(InetSocketAddress address, String compression, boolean tls) throws IOException {
    this(address);
    boolean compress = compression != null && !compression.isEmpty() && !compression.equals("none");
    if (!compress && !tls) return;
    String ask = "{\"feature_negotiation\":true" + (tls ? ",\"tls_v1\":true" : "")
        + (compress ? ",\"" + compression + "\":true" : "") + "}";
    byte[] json = ask.getBytes(StandardCharsets.UTF_8);
    out.write("IDENTIFY\n".getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[] {0, 0, (byte) (json.length >> 8), (byte) json.length});
    out.write(json);
    out.flush();
    next();
    if (type != RESPONSE || (tls && !text().contains("\"tls_v1\":true"))) throw new IOException("TLS not granted: " + text());
    InputStream rawIn = in;
    OutputStream rawOut = socket.getOutputStream();
    if (tls) {
      // Load generators only: the node's certificate is not checked.
      javax.net.ssl.SSLSocket s;
      try {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
          @Override public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}
          @Override public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}
          @Override public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; }
        }}, null);
        s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket(socket, address.getHostString(), address.getPort(), true);
      } catch (java.security.GeneralSecurityException e) {
        throw new IOException(e);
      }
      s.setUseClientMode(true);
      s.startHandshake();
      rawIn = s.getInputStream();
      rawOut = s.getOutputStream();
      in = rawIn;
      out = new BufferedOutputStream(rawOut, 1 << 16);
      start = end = 0;
      expectOk();
    }
    if (!compress) return;
    if (!text().contains("\"" + compression + "\":true") && !tls) throw new IOException("not granted: " + text());
    io.jnsq.tcp.StreamCodec codec = switch (compression) {
      case "snappy" -> new io.jnsq.tcp.SnappyCodec();
      case "deflate" -> new io.jnsq.tcp.DeflateCodec(6);
      default -> throw new IllegalArgumentException("--compression must be snappy or deflate");
    };
    // What was read past the answer is already compressed: it goes to the decoder first.
    byte[] leftover = java.util.Arrays.copyOfRange(buf, start, end);
    start = end = 0;
    InputStream raw = rawIn;
    in = new InputStream() {
      private byte[] pending = codec.decodeArray(leftover);
      private int at;

      @Override public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override public int read(byte[] b, int off, int len) throws IOException {
        while (at == pending.length) {
          byte[] chunk = new byte[1 << 16];
          int n = raw.read(chunk);
          if (n < 0) return -1;
          pending = codec.decodeArray(java.util.Arrays.copyOf(chunk, n));
          at = 0;
        }
        int n = Math.min(len, pending.length - at);
        System.arraycopy(pending, at, b, off, n);
        at += n;
        return n;
      }
    };
    OutputStream sink = rawOut;
    out = new BufferedOutputStream(new OutputStream() {
      @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

      @Override public void write(byte[] b, int off, int len) throws IOException {
        sink.write(codec.encode(org.apache.pekko.util.ByteString.fromArray(b, off, len)).toArray());
        sink.flush();
      }
    }, 1 << 16);
    expectOk();
  }

  byte[] buffer() { return buf; }

  /** IDENTIFY as a client library without feature negotiation sends it; the node answers OK. */
  void identifyPlain(String clientId) throws IOException {
    String host = java.net.InetAddress.getLoopbackAddress().getHostName();
    byte[] json = ("{\"client_id\":\"" + clientId + "\",\"hostname\":\"" + host + "\",\"user_agent\":\"jnsq-bench\"}")
        .getBytes(StandardCharsets.UTF_8);
    out.write("IDENTIFY\n".getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[] {(byte) (json.length >> 24), (byte) (json.length >> 16), (byte) (json.length >> 8), (byte) json.length});
    out.write(json);
    out.flush();
    expectOk();
  }

  void setTimeout(int millis) throws IOException { socket.setSoTimeout(millis); }

  /** Reads the next frame; heartbeats are answered with NOP and skipped. */
  void next() throws IOException {
    while (true) {
      ensure(8);
      int size = readInt(start);
      ensure(4 + size);
      type = readInt(start + 4);
      dataAt = start + 8;
      dataLen = size - 4;
      start += 4 + size;
      if (type == RESPONSE && dataLen == 11 && buf[dataAt] == '_' && buf[dataAt + 1] == 'h') {
        out.write("NOP\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        continue;
      }
      return;
    }
  }

  /** True when unread bytes hold at least one whole frame (so a reader can batch its FINs before flushing). */
  boolean hasBufferedFrame() {
    if (end - start < 8) return false;
    return end - start >= 4 + readInt(start);
  }

  String text() { return new String(buf, dataAt, dataLen, StandardCharsets.US_ASCII); }

  /** Expects an {@code OK} response. */
  void expectOk() throws IOException {
    next();
    if (type != RESPONSE || dataLen != 2 || buf[dataAt] != 'O') throw new IOException("expected OK, got [" + type + "] " + text());
  }

  private void ensure(int n) throws IOException {
    if (end - start >= n) return;
    if (start > 0) {
      System.arraycopy(buf, start, buf, 0, end - start);
      end -= start;
      start = 0;
    }
    if (n > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(n, buf.length * 2));
    while (end - start < n) {
      int r = in.read(buf, end, buf.length - end);
      if (r < 0) throw new EOFException("connection closed by the node");
      end += r;
    }
  }

  int readInt(int at) {
    return ((buf[at] & 0xff) << 24) | ((buf[at + 1] & 0xff) << 16) | ((buf[at + 2] & 0xff) << 8) | (buf[at + 3] & 0xff);
  }

  long readLong(int at) { return ((long) readInt(at) << 32) | (readInt(at + 4) & 0xffffffffL); }

  static byte[] mpub(String topic, int count, int size, byte fill) {
    byte[] line = ("MPUB " + topic + "\n").getBytes(StandardCharsets.US_ASCII);
    int body = 4 + count * (4 + size);
    byte[] b = new byte[line.length + 4 + body];
    System.arraycopy(line, 0, b, 0, line.length);
    int p = putInt(b, line.length, body);
    p = putInt(b, p, count);
    for (int i = 0; i < count; i++) {
      p = putInt(b, p, size);
      java.util.Arrays.fill(b, p, p + size, fill);
      p += size;
    }
    return b;
  }

  static int putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
    return at + 4;
  }

  static void putLong(byte[] b, int at, long v) {
    putInt(b, at, (int) (v >>> 32));
    putInt(b, at + 4, (int) v);
  }

  @Override public void close() throws IOException { socket.close(); }
}
