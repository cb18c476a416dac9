package io.jnsq.tcp;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A raw protocol V2 client for tests: writes exact bytes, reads frames one at a time. */
final class NsqTestClient implements AutoCloseable {

  /** One frame from the server. */
  record Frame(int type, byte[] data) {
    String text() { return new String(data, StandardCharsets.US_ASCII); }
    long timestamp() { return ByteBuffer.wrap(data, 0, 8).getLong(); }
    int attempts() { return ByteBuffer.wrap(data, 8, 2).getShort() & 0xffff; }
    String id() { return new String(data, 10, 16, StandardCharsets.US_ASCII); }
    String body() { return new String(data, 26, data.length - 26, StandardCharsets.UTF_8); }
    @Override public String toString() { return "[" + type + "] " + (type == 2 ? id() + " " + body() : text()); }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  NsqTestClient(InetSocketAddress address) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", address.getPort()), 5000);
    socket.setSoTimeout(5000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  static NsqTestClient connect(InetSocketAddress address) throws IOException {
    NsqTestClient c = new NsqTestClient(address);
    c.send("  V2".getBytes(StandardCharsets.US_ASCII));
    return c;
  }

  NsqTestClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  NsqTestClient line(String line) throws IOException {
    return send((line + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  /** A command line followed by {@code [int32 size][body]}. */
  NsqTestClient withBody(String line, byte[] body) throws IOException {
    return send(lineWithBody(line, body));
  }

  static byte[] lineWithBody(String line, byte[] body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] l = (line + "\n").getBytes(StandardCharsets.US_ASCII);
    b.write(l, 0, l.length);
    b.write(ByteBuffer.allocate(4).putInt(body.length).array(), 0, 4);
    b.write(body, 0, body.length);
    return b.toByteArray();
  }

  static byte[] mpubBody(String... messages) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(ByteBuffer.allocate(4).putInt(messages.length).array(), 0, 4);
    for (String m : messages) {
      byte[] bytes = m.getBytes(StandardCharsets.UTF_8);
      b.write(ByteBuffer.allocate(4).putInt(bytes.length).array(), 0, 4);
      b.write(bytes, 0, bytes.length);
    }
    return b.toByteArray();
  }

  /** The next frame that is not a heartbeat. */
  Frame read() throws IOException {
    while (true) {
      int size = in.readInt();
      byte[] data = new byte[size - 4];
      int type = in.readInt();
      in.readFully(data);
      Frame f = new Frame(type, data);
      if (!(type == 0 && f.text().equals("_heartbeat_"))) return f;
    }
  }

  /** The next frame including heartbeats. */
  Frame readRaw() throws IOException {
    int size = in.readInt();
    byte[] data = new byte[size - 4];
    int type = in.readInt();
    in.readFully(data);
    return new Frame(type, data);
  }

  /** True when the server closes the connection within the socket timeout, reading away anything else. */
  boolean closedByServer() throws IOException {
    try {
      while (in.read() >= 0) { /* drain */ }
      return true;
    } catch (EOFException e) {
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;   // reset by peer counts as closed
    }
  }

  /** True when nothing arrives within {@code millis} and the connection is still open. */
  boolean quietFor(int millis) throws IOException {
    socket.setSoTimeout(millis);
    try {
      int b = in.read();
      if (b < 0) throw new EOFException("closed by server");
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    } finally {
      socket.setSoTimeout(5000);
    }
  }

  void setTimeout(int millis) throws IOException { socket.setSoTimeout(millis); }

  @Override public void close() throws IOException { socket.close(); }
}
