package io.jnsq.it;

import io.jnsq.tcp.NsqTestClient;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Producers and consumers for the crash and backlog tests, every loop bounded in count and time. */
public final class Load {
  private Load() {}

  /**
   * Publishes bodies {@code name-0, name-1, ...} (MPUBs of 10 and single PUBs, alternating) until
   * stopped, {@code max} sent, or the connection fails; adds every acknowledged body to {@code acked}.
   */
  public static Thread producer(InetSocketAddress tcp, String topic, String name, Set<String> acked, AtomicBoolean stop, int max) {
    Thread t = new Thread(() -> {
      try (NsqTestClient c = NsqTestClient.connect(tcp)) {
        c.setTimeout(30_000);
        for (int i = 0; i < max && !stop.get(); ) {
          if ((i / 10) % 2 == 0) {
            String[] batch = new String[10];
            for (int k = 0; k < 10; k++) batch[k] = name + "-" + (i + k);
            c.withBody("MPUB " + topic, NsqTestClient.mpubBody(batch));
            if (!c.read().text().equals("OK")) return;
            acked.addAll(List.of(batch));
            i += 10;
          } else {
            String body = name + "-" + i;
            c.withBody("PUB " + topic, body.getBytes(StandardCharsets.UTF_8));
            if (!c.read().text().equals("OK")) return;
            acked.add(body);
            i++;
          }
        }
      } catch (IOException e) {
        // killed under us: what was acknowledged is recorded
      }
    }, "producer-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Finishes every other message and leaves the rest in flight, until stopped; records what it finished. */
  public static Thread halfFinisher(InetSocketAddress tcp, String topic, String channel, Set<String> finished, AtomicBoolean stop) {
    Thread t = new Thread(() -> {
      try (NsqTestClient c = NsqTestClient.connect(tcp)) {
        c.line("SUB " + topic + " " + channel).read();
        c.line("RDY 100");
        c.setTimeout(200);
        int n = 0;
        while (!stop.get()) {
          NsqTestClient.Frame f;
          try {
            f = c.read();
          } catch (SocketTimeoutException e) {
            continue;
          }
          if (f.type() != 2) continue;
          if (n++ % 2 == 0) {
            c.line("FIN " + f.id());
            finished.add(f.body());
          }
        }
      } catch (IOException e) {
        // killed under us
      }
    }, "consumer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** FINs every message it receives until stopped; counts each body's deliveries into {@code seen}. */
  public static Thread finisher(InetSocketAddress tcp, String topic, String channel, Map<String, Integer> seen,
      AtomicBoolean stop) {
    Thread t = new Thread(() -> {
      try (NsqTestClient c = NsqTestClient.connect(tcp)) {
        c.line("SUB " + topic + " " + channel).read();
        c.line("RDY 100");
        c.setTimeout(200);
        while (!stop.get()) {
          NsqTestClient.Frame f;
          try {
            f = c.read();
          } catch (SocketTimeoutException e) {
            continue;
          }
          if (f.type() != 2) continue;
          c.line("FIN " + f.id());
          seen.merge(f.body(), 1, Integer::sum);
        }
      } catch (IOException e) {
        // killed under us
      }
    }, "finisher");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Receives and FINs until {@code quietMillis} pass with nothing new; counts bodies into {@code seen}. */
  static long drain(InetSocketAddress tcp, String topic, String channel, int quietMillis, long max,
      Map<String, Integer> seen) throws IOException {
    long n = 0;
    try (Wire w = new Wire(tcp)) {
      w.command("SUB " + topic + " " + channel);
      w.readFrame();
      w.command("RDY 2500");
      w.socket.setSoTimeout(quietMillis);
      while (n < max) {
        Wire.Frame f;
        try {
          f = w.readFrame();
        } catch (SocketTimeoutException e) {
          break;
        }
        if (f.type != 2) {
          if (f.isHeartbeat()) w.command("NOP");
          continue;
        }
        n++;
        if (seen != null) seen.merge(new String(f.data, 26, f.data.length - 26, StandardCharsets.UTF_8), 1, Integer::sum);
        w.fin(f.data);
        if (w.in.available() == 0) w.out.flush();
      }
    }
    return n;
  }

  /**
   * Publishes {@code total} messages of {@code size} bytes with MPUBs of {@code batch} over
   * {@code connections} connections, 8 MPUBs in flight per connection; returns what was acknowledged.
   */
  static long bulkPublish(InetSocketAddress tcp, String topic, long total, int batch, int size, int connections,
      long deadlineNanos) throws InterruptedException {
    AtomicLong acked = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    long perConnection = total / connections / batch;
    for (int c = 0; c < connections; c++) {
      Thread t = new Thread(() -> {
        byte[] body = new byte[size];
        java.util.Arrays.fill(body, (byte) 'b');
        ByteBuffer frame = ByteBuffer.allocate(("MPUB " + topic + "\n").length() + 8 + batch * (4 + size));
        frame.put(("MPUB " + topic + "\n").getBytes(StandardCharsets.US_ASCII));
        frame.putInt(4 + batch * (4 + size)).putInt(batch);
        for (int i = 0; i < batch; i++) frame.putInt(size).put(body);
        byte[] bytes = frame.array();
        try (Wire w = new Wire(tcp)) {
          long sent = 0;
          long answered = 0;
          while (answered < perConnection && System.nanoTime() < deadlineNanos) {
            while (sent < perConnection && sent - answered < 8) {
              w.out.write(bytes);
              sent++;
            }
            w.out.flush();
            Wire.Frame f = w.readFrame();
            if (f.isHeartbeat()) continue;
            if (f.type != 0) throw new IOException("publish failed: " + new String(f.data, StandardCharsets.US_ASCII));
            answered++;
            acked.addAndGet(batch);
          }
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }, "bulk-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();
    return acked.get();
  }

  /** A buffered raw connection for the bulk paths. */
  static final class Wire implements AutoCloseable {
    record Frame(int type, byte[] data) {
      boolean isHeartbeat() { return type == 0 && new String(data, StandardCharsets.US_ASCII).equals("_heartbeat_"); }
    }

    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    Wire(InetSocketAddress tcp) throws IOException {
      socket = new Socket();
      socket.connect(tcp, 5000);
      socket.setSoTimeout(30_000);
      socket.setTcpNoDelay(true);
      in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 256 * 1024));
      out = new BufferedOutputStream(socket.getOutputStream(), 256 * 1024);
      out.write("  V2".getBytes(StandardCharsets.US_ASCII));
    }

    void command(String line) throws IOException {
      out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    void fin(byte[] message) throws IOException {
      out.write("FIN ".getBytes(StandardCharsets.US_ASCII));
      out.write(message, 10, 16);
      out.write('\n');
    }

    Frame readFrame() throws IOException {
      int size = in.readInt();
      int type = in.readInt();
      byte[] data = new byte[size - 4];
      in.readFully(data);
      return new Frame(type, data);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
