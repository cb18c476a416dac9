package io.jnsq.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import javax.net.ssl.SSLSocket;

/**
 * One TCP connection to nsqd speaking protocol V2: the magic, IDENTIFY with feature negotiation, the
 * TLS / Snappy / Deflate upgrades in nsqd's order, AUTH, then framed reads and whole-command writes.
 * Reads happen on one thread at a time; writes are serialised by the connection.
 */
final class Connection implements Closeable {
  static final int FRAME_RESPONSE = 0;
  static final int FRAME_ERROR = 1;
  static final int FRAME_MESSAGE = 2;
  static final String HEARTBEAT = "_heartbeat_";

  /** [int32 size = 4 + data][int32 frame type][data] */
  record Frame(int type, byte[] data) {
    String text() { return new String(data, StandardCharsets.UTF_8); }
  }

  final String address;
  private final Socket socket;
  private DataInputStream in;
  private OutputStream out;
  private OutputStream rawOut;
  private volatile boolean closed;
  long maxRdyCount = 2500;
  long msgTimeoutMs = 60_000;
  boolean tls;
  boolean snappy;
  boolean deflate;
  int deflateLevel = 6;

  private Connection(String address, Socket socket) {
    this.address = address;
    this.socket = socket;
  }

  /** Connects, negotiates and authenticates; the connection is ready for SUB or PUB. */
  static Connection open(String hostPort, ClientConfig cfg) throws IOException {
    InetSocketAddress addr = address(hostPort);
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.connect(addr, (int) Math.max(1, cfg.dialTimeout.toMillis()));
      s.setSoTimeout((int) cfg.readTimeout.toMillis());
      Connection c = new Connection(hostPort, s);
      c.in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
      c.rawOut = s.getOutputStream();
      c.out = new BufferedOutputStream(c.rawOut, 16384);
      c.out.write("  V2".getBytes(StandardCharsets.US_ASCII));
      c.identify(cfg, addr);
      return c;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) throw new IllegalArgumentException("address must be host:port, got " + hostPort);
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    try {
      return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in " + hostPort);
    }
  }

  private void identify(ClientConfig cfg, InetSocketAddress addr) throws IOException {
    StringBuilder j = new StringBuilder("{");
    j.append("\"client_id\":").append(Json.quote(cfg.clientId));
    j.append(",\"hostname\":").append(Json.quote(cfg.hostname));
    j.append(",\"user_agent\":").append(Json.quote(cfg.userAgent));
    j.append(",\"feature_negotiation\":true");
    j.append(",\"heartbeat_interval\":").append(cfg.heartbeatInterval.isZero() ? -1 : cfg.heartbeatInterval.toMillis());
    j.append(",\"output_buffer_size\":").append(cfg.outputBufferSize);
    j.append(",\"output_buffer_timeout\":").append(cfg.outputBufferTimeout.toMillis());
    j.append(",\"tls_v1\":").append(cfg.tlsV1);
    j.append(",\"snappy\":").append(cfg.snappy);
    j.append(",\"deflate\":").append(cfg.deflate);
    j.append(",\"deflate_level\":").append(cfg.deflateLevel);
    j.append(",\"sample_rate\":").append(cfg.sampleRate);
    if (!cfg.msgTimeout.isZero()) j.append(",\"msg_timeout\":").append(cfg.msgTimeout.toMillis());
    j.append('}');
    write(command("IDENTIFY", j.toString().getBytes(StandardCharsets.UTF_8)));
    Frame f = readFrame();
    if (f.type() == FRAME_ERROR) throw NsqException.fromFrame(f.text());
    String text = f.text();
    boolean authRequired = false;
    if (text.startsWith("{")) {
      Map<?, ?> r;
      try {
        r = (Map<?, ?>) Json.parse(text);
      } catch (RuntimeException e) {
        throw new IOException("bad IDENTIFY answer from " + address + ": " + e.getMessage());
      }
      maxRdyCount = Json.number(r, "max_rdy_count", maxRdyCount);
      msgTimeoutMs = Json.number(r, "msg_timeout", msgTimeoutMs);
      tls = Json.bool(r, "tls_v1");
      snappy = Json.bool(r, "snappy");
      deflate = Json.bool(r, "deflate");
      deflateLevel = (int) Json.number(r, "deflate_level", cfg.deflateLevel);   // nsqd may cap what we asked for
      authRequired = Json.bool(r, "auth_required");
    } else if (cfg.tlsV1 || cfg.snappy || cfg.deflate) {
      throw new IOException(address + " does not negotiate features (IDENTIFY answered " + text + ")");
    }
    if (cfg.tlsV1 && !tls) throw new IOException(address + " does not offer TLS");
    if (tls) upgradeTls(cfg, addr);
    if (snappy) {
      out = new BufferedOutputStream(new SnappyStreams.Out(rawOut), 16384);
      in = new DataInputStream(new SnappyStreams.In(in));
      expectOk("snappy");
    } else if (deflate) {
      out = new BufferedOutputStream(new DeflaterOutputStream(rawOut, new Deflater(Math.max(1, Math.min(9, deflateLevel)), true), 16384, true), 16384);
      in = new DataInputStream(new InflaterInputStream(in, new Inflater(true), 16384));
      expectOk("deflate");
    }
    if (authRequired) {
      if (cfg.authSecret == null || cfg.authSecret.isEmpty()) throw new NsqException("E_CLIENT", address + " requires AUTH; set auth_secret");
      write(command("AUTH", cfg.authSecret.getBytes(StandardCharsets.UTF_8)));
      Frame a = readFrame();
      if (a.type() == FRAME_ERROR) throw NsqException.fromFrame(a.text());
    }
  }

  private void upgradeTls(ClientConfig cfg, InetSocketAddress addr) throws IOException {
    SSLSocket ssl = (SSLSocket) Tls.context(cfg).getSocketFactory()
        .createSocket(socket, addr.getHostString(), addr.getPort(), true);
    ssl.setUseClientMode(true);
    ssl.setEnabledProtocols(Tls.protocols(cfg.tlsMinVersion));
    if (!cfg.tlsInsecureSkipVerify && cfg.sslContext == null) {
      javax.net.ssl.SSLParameters p = ssl.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(p);
    }
    ssl.startHandshake();
    in = new DataInputStream(new BufferedInputStream(ssl.getInputStream()));
    out = new BufferedOutputStream(ssl.getOutputStream(), 16384);
    expectOk("TLS");
    rawOut = ssl.getOutputStream();   // compression, if any, layers on top of TLS
  }

  private void expectOk(String what) throws IOException {
    Frame f = readFrame();
    if (f.type() != FRAME_RESPONSE || !f.text().equals("OK")) {
      throw new IOException(address + ": expected OK after the " + what + " upgrade, got " + f.text());
    }
  }

  /** Blocks for the next frame; heartbeats are returned too. */
  Frame readFrame() throws IOException {
    int size = in.readInt();
    if (size < 4 || size > 64 << 20) throw new IOException(address + ": bad frame size " + size);
    int type = in.readInt();
    byte[] data = new byte[size - 4];
    in.readFully(data);
    return new Frame(type, data);
  }

  /** Writes whole commands and flushes. */
  synchronized void write(byte[]... commands) throws IOException {
    for (byte[] c : commands) out.write(c);
    out.flush();
  }

  // Commands sent with send() wait here; one drain task at a time writes all that have gathered with
  // a single flush, so FINs of many handler threads share a syscall instead of paying one each.
  private static final java.util.concurrent.ExecutorService DRAINERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "jnsq-client-writer");
    t.setDaemon(true);
    return t;
  });
  private final Object outLock = new Object();
  private java.util.ArrayList<byte[]> outbox = new java.util.ArrayList<>();   // guarded by outLock
  private boolean draining;   // guarded by outLock

  /**
   * Queues a command for writing and returns at once; a failed write shows up as a closed connection
   * on the reader's side. Never blocks, so the reader may answer heartbeats with it.
   */
  void send(byte[] command) {
    if (closed) return;
    synchronized (outLock) {
      outbox.add(command);
      if (draining) return;
      draining = true;
    }
    DRAINERS.execute(this::drain);
  }

  private void drain() {
    while (true) {
      java.util.ArrayList<byte[]> batch;
      synchronized (outLock) {
        if (outbox.isEmpty() || closed) {
          outbox.clear();
          draining = false;
          outLock.notifyAll();
          return;
        }
        batch = outbox;
        outbox = new java.util.ArrayList<>();
      }
      try {
        write(batch.toArray(new byte[0][]));
      } catch (IOException e) {
        closeQuietly();
      }
    }
  }

  /** Writes what {@link #send} has queued (waiting at most {@code timeoutMs}), then closes. */
  void flushAndClose(long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    synchronized (outLock) {
      while (draining && !closed) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) break;
        try {
          outLock.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    closeQuietly();
  }

  boolean isClosed() { return closed || socket.isClosed(); }

  @Override public void close() throws IOException {
    closed = true;
    socket.close();
  }

  void closeQuietly() {
    try {
      close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  // ---- commands ----

  /** {@code NAME\n[int32 size][body]} */
  static byte[] command(String line, byte[] body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(line.length() + 5 + body.length);
    b.writeBytes(line.getBytes(StandardCharsets.UTF_8));
    b.write('\n');
    writeInt(b, body.length);
    b.writeBytes(body);
    return b.toByteArray();
  }

  static byte[] line(String line) {
    return (line + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /** {@code MPUB topic\n[int32 size][int32 count]([int32 size][body])*} */
  static byte[] mpub(String topic, List<byte[]> bodies) {
    int size = 4;
    for (byte[] b : bodies) size += 4 + b.length;
    ByteArrayOutputStream b = new ByteArrayOutputStream(size + topic.length() + 10);
    b.writeBytes(("MPUB " + topic + "\n").getBytes(StandardCharsets.UTF_8));
    writeInt(b, size);
    writeInt(b, bodies.size());
    for (byte[] m : bodies) {
      writeInt(b, m.length);
      b.writeBytes(m);
    }
    return b.toByteArray();
  }

  private static void writeInt(ByteArrayOutputStream b, int v) {
    b.write(v >>> 24);
    b.write(v >>> 16);
    b.write(v >>> 8);
    b.write(v);
  }

}
