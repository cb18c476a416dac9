package io.jnsq.jepsen;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy that can be told at runtime to misbehave, standing in for {@code tc netem}
 * (not available here) between clients and nodes or between nodes. It listens on a free loopback
 * port and forwards each connection to {@code target}, in one of four modes:
 * <ul>
 *   <li>{@link Mode#PASS}: bytes flow both ways as they come;</li>
 *   <li>{@link #delay delay(ms)}: every chunk read is written {@code ms} later (latency, and so less throughput);</li>
 *   <li>{@link Mode#BLACKHOLE}: nothing is forwarded either way and nothing is closed; new connections are
 *       accepted but not dialled onwards. This is a partition as TCP sees one: the bytes are held, not
 *       dropped, and flow again when the mode goes back to {@code PASS} — a real network does not cut
 *       holes in a TCP stream, it stalls it until the peers time out (dropping bytes would only make a
 *       healed connection speak garbage);</li>
 *   <li>{@link Mode#RESET}: every open connection is closed with a TCP reset, and new ones are reset at once.</li>
 * </ul>
 * One thread accepts; each connection has one thread per direction. {@link #close} ends them all.
 */
public final class FaultProxy implements AutoCloseable {
  /** How the proxy treats traffic. */
  public enum Mode { PASS, DELAY, BLACKHOLE, RESET }

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private final AtomicLong forwarded = new AtomicLong();
  private final Thread acceptor;
  private volatile Mode mode = Mode.PASS;
  private volatile long delayMillis;
  private volatile boolean closed;

  private FaultProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::acceptLoop, "fault-proxy-" + server.getLocalPort() + "->" + target.getPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A proxy on a free loopback port forwarding to {@code target}, passing traffic. */
  public static FaultProxy start(InetSocketAddress target) throws IOException {
    return new FaultProxy(target);
  }

  /** Where clients connect instead of the target. */
  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
  }

  public InetSocketAddress target() {
    return target;
  }

  public Mode mode() {
    return mode;
  }

  /** Bytes forwarded so far, both directions together. */
  public long forwardedBytes() {
    return forwarded.get();
  }

  public void pass() {
    setMode(Mode.PASS, 0);
  }

  public void delay(long millis) {
    if (millis <= 0) throw new IllegalArgumentException("delay must be positive: " + millis);
    setMode(Mode.DELAY, millis);
  }

  public void blackhole() {
    setMode(Mode.BLACKHOLE, 0);
  }

  /** Resets every open connection, and every new one until the mode changes. */
  public void reset() {
    setMode(Mode.RESET, 0);
    for (Socket s : sockets) abort(s);
  }

  private void setMode(Mode m, long millis) {
    synchronized (lock) {
      delayMillis = millis;
      mode = m;
      lock.notifyAll();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;   // closed
      }
      sockets.add(client);
      Thread t = new Thread(() -> connect(client), acceptor.getName() + "-dial");
      t.setDaemon(true);
      t.start();
    }
  }

  private void connect(Socket client) {
    Socket upstream = new Socket();
    sockets.add(upstream);
    try {
      if (!awaitForwarding()) {
        abort(client);
        abort(upstream);
        return;
      }
      client.setTcpNoDelay(true);
      upstream.connect(target, 5000);
      upstream.setTcpNoDelay(true);
      AtomicInteger open = new AtomicInteger(2);
      pump(client, upstream, open, "up");
      pump(upstream, client, open, "down");
    } catch (IOException | InterruptedException e) {
      abort(client);
      abort(upstream);
    }
  }

  /** Copies one direction; an orderly end is passed on as one, anything else resets both sides. */
  private void pump(Socket from, Socket to, AtomicInteger open, String direction) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      boolean orderly = false;
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        while (awaitForwarding()) {
          int n = in.read(buffer);
          // What was read just before a blackhole began (bytes or the end) is held here, not dropped.
          if (!awaitForwarding()) break;
          if (n < 0) {
            to.shutdownOutput();
            orderly = true;
            break;
          }
          long delay = mode == Mode.DELAY ? delayMillis : 0;
          if (delay > 0) Thread.sleep(delay);
          out.write(buffer, 0, n);
          out.flush();
          forwarded.addAndGet(n);
        }
      } catch (IOException | InterruptedException e) {
        // reset, closed, or the peer went away
      } finally {
        if (!orderly) {
          abort(from);
          abort(to);
        } else if (open.decrementAndGet() == 0) {
          closeQuietly(from);
          closeQuietly(to);
        }
      }
    }, acceptor.getName() + "-" + direction);
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already gone
    }
    sockets.remove(s);
  }

  /** Waits while the proxy blackholes; false when traffic must end instead (reset or closed). */
  private boolean awaitForwarding() throws InterruptedException {
    synchronized (lock) {
      while (mode == Mode.BLACKHOLE && !closed) lock.wait();
      return mode != Mode.RESET && !closed;
    }
  }

  /** Closes with SO_LINGER 0, so the peer sees a reset rather than an orderly end. */
  private void abort(Socket s) {
    try {
      if (!s.isClosed()) s.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // already gone
    }
    try {
      s.close();
    } catch (IOException ignored) {
      // already gone
    }
    sockets.remove(s);
  }

  @Override
  public void close() {
    closed = true;
    synchronized (lock) {
      lock.notifyAll();
    }
    try {
      server.close();
    } catch (IOException ignored) {
      // nothing to do
    }
    for (Socket s : sockets) abort(s);
  }
}
