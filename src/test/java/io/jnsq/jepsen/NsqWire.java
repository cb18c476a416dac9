package io.jnsq.jepsen;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One raw NSQ V2 connection for the workload: exact frames, nothing hidden. The JVM client's producer
 * holds and re-sends publishes by itself while it reconnects, which is what users want and what a
 * history must not have: here every send is the caller's, so every attempt can be recorded.
 */
final class NsqWire implements AutoCloseable {
  /** A frame: {@code [int32 size][int32 type: 0 response, 1 error, 2 message][data]}. */
  record Frame(int type, byte[] data) {
    String text() { return new String(data, StandardCharsets.US_ASCII); }
    boolean isOk() { return type == 0 && text().equals("OK"); }
    boolean isHeartbeat() { return type == 0 && text().equals("_heartbeat_"); }
    /** A message's data: {@code [int64 timestamp][uint16 attempts][16 bytes id][body]}. */
    int attempts() { return ByteBuffer.wrap(data, 8, 2).getShort() & 0xffff; }
    String messageId() { return new String(data, 10, 16, StandardCharsets.US_ASCII); }
    String body() { return new String(data, 26, data.length - 26, StandardCharsets.UTF_8); }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private volatile long lastHeardNanos = System.nanoTime();

  /** Connects, sends the magic and an IDENTIFY asking for heartbeats every {@code heartbeatMillis}. */
  NsqWire(InetSocketAddress address, int connectMillis, int readMillis, int heartbeatMillis, String clientId)
      throws IOException {
    socket = new Socket();
    try {
      socket.connect(address, connectMillis);
      socket.setSoTimeout(readMillis);
      socket.setTcpNoDelay(true);
      in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
      out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
      out.write("  V2".getBytes(StandardCharsets.US_ASCII));
      String identify = "{\"client_id\":\"" + clientId + "\",\"heartbeat_interval\":" + heartbeatMillis + "}";
      withBody("IDENTIFY", identify.getBytes(StandardCharsets.UTF_8));
      flush();
      Frame f = readFrame();
      if (!f.isOk()) throw new IOException("IDENTIFY answered " + f.text());
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** When the last whole frame arrived (System.nanoTime), or when the connection was opened. */
  long lastHeardNanos() {
    return lastHeardNanos;
  }

  void line(String command) throws IOException {
    out.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  /** {@code COMMAND\n[int32 size][body]}. */
  void withBody(String command, byte[] body) throws IOException {
    line(command);
    out.write(ByteBuffer.allocate(4).putInt(body.length).array());
    out.write(body);
  }

  /** PUB of one body or MPUB of several ({@code [int32 count]([int32 size][body])*}). */
  void publish(String topic, List<String> bodies) throws IOException {
    if (bodies.size() == 1) {
      withBody("PUB " + topic, bodies.get(0).getBytes(StandardCharsets.UTF_8));
    } else {
      int size = 4;
      byte[][] each = new byte[bodies.size()][];
      for (int i = 0; i < each.length; i++) {
        each[i] = bodies.get(i).getBytes(StandardCharsets.UTF_8);
        size += 4 + each[i].length;
      }
      ByteBuffer b = ByteBuffer.allocate(size).putInt(each.length);
      for (byte[] e : each) b.putInt(e.length).put(e);
      withBody("MPUB " + topic, b.array());
    }
    flush();
  }

  void flush() throws IOException {
    out.flush();
  }

  boolean hasBufferedInput() throws IOException {
    return in.available() > 0;
  }

  Frame readFrame() throws IOException {
    int size = in.readInt();
    if (size < 4 || size > 64 * 1024 * 1024) throw new IOException("bad frame size " + size);
    int type = in.readInt();
    byte[] data = new byte[size - 4];
    in.readFully(data);
    lastHeardNanos = System.nanoTime();
    return new Frame(type, data);
  }

  /** Reads frames until one that is not a heartbeat, answering heartbeats with NOP as nsqd expects. */
  Frame readReply() throws IOException {
    while (true) {
      Frame f = readFrame();
      if (!f.isHeartbeat()) return f;
      line("NOP");
      flush();
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // gone already
    }
  }
}
