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
public final class NsqTestClient implements AutoCloseable {

  /** One frame from the server. */
  public record Frame(int type, byte[] data) {
    public String text() { return new String(data, StandardCharsets.US_ASCII); }
    public long timestamp() { return ByteBuffer.wrap(data, 0, 8).getLong(); }
    public int attempts() { return ByteBuffer.wrap(data, 8, 2).getShort() & 0xffff; }
    public String id() { return new String(data, 10, 16, StandardCharsets.US_ASCII); }
    public String body() { return new String(data, 26, data.length - 26, StandardCharsets.UTF_8); }
    @Override public String toString() { return "[" + type + "] " + (type == 2 ? id() + " " + body() : text()); }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  public NsqTestClient(InetSocketAddress address) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", address.getPort()), 5000);
    socket.setSoTimeout(5000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  public static NsqTestClient connect(InetSocketAddress address) throws IOException {
    NsqTestClient c = new NsqTestClient(address);
    c.send("  V2".getBytes(StandardCharsets.US_ASCII));
    return c;
  }

  public NsqTestClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  public NsqTestClient line(String line) throws IOException {
    return send((line + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  /** A command line followed by {@code [int32 size][body]}. */
  public NsqTestClient withBody(String line, byte[] body) throws IOException {
    return send(lineWithBody(line, body));
  }

  public static byte[] lineWithBody(String line, byte[] body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] l = (line + "\n").getBytes(StandardCharsets.US_ASCII);
    b.write(l, 0, l.length);
    b.write(ByteBuffer.allocate(4).putInt(body.length).array(), 0, 4);
    b.write(body, 0, body.length);
    return b.toByteArray();
  }

  public static byte[] mpubBody(String... messages) {
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
  public Frame read() throws IOException {
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
  public Frame readRaw() throws IOException {
    int size = in.readInt();
    byte[] data = new byte[size - 4];
    int type = in.readInt();
    in.readFully(data);
    return new Frame(type, data);
  }

  /** True when the server closes the connection within the socket timeout, reading away anything else. */
  public boolean closedByServer() throws IOException {
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
  public boolean quietFor(int millis) throws IOException {
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

  public void setTimeout(int millis) throws IOException { socket.setSoTimeout(millis); }

  @Override public void close() throws IOException { socket.close(); }
}
