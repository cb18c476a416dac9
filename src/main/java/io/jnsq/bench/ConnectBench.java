package io.jnsq.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Connections at scale: how fast the node takes {@code --connections} new TCP clients that each send the
 * {@code "  V2"} magic, what they cost it while they sit idle, how a fresh producer's PUB round trip
 * looks meanwhile, and whether a burst of {@code --http-requests} concurrent HTTP {@code /pub} is answered.
 */
@Command(name = "connect", mixinStandardHelpOptions = true,
    description = "Open many idle connections (accept rate, memory per connection), then measure PUB latency and an HTTP /pub burst while they are held.")
final class ConnectBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin BenchCommand.Common common = new BenchCommand.Common();
  @Option(names = "--connections", defaultValue = "1500", description = "idle connections to open and hold (default: ${DEFAULT-VALUE})")
  int connections;
  @Option(names = "--connect-threads", defaultValue = "16", description = "threads opening them (default: ${DEFAULT-VALUE})")
  int connectThreads;
  @Option(names = "--pubs", defaultValue = "2000", description = "PUBs of the fresh client while the connections are held (default: ${DEFAULT-VALUE})")
  int pubs;
  @Option(names = "--http-requests", defaultValue = "2000", description = "concurrent HTTP /pub requests; 0 = skip (default: ${DEFAULT-VALUE})")
  int httpRequests;
  @Option(names = "--hold", defaultValue = "2s", description = "how long to hold the idle connections before measuring memory (default: ${DEFAULT-VALUE})")
  String hold;

  @Override public Integer call() throws Exception {
    ObjectNode r = BenchCommand.JSON.createObjectNode();
    r.put("scenario", "connect").put("connections", connections);
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    long rssBefore = rss();
    r.put("node_rss_before_bytes", rssBefore);
    if (rssBefore > 0) System.out.printf("node RSS before: %.1f MB%n", rssBefore / 1048576.0);

    // 1. Open them all: connect and send the magic (the accept rate), then one IDENTIFY each, whose OK
    //    shows the node has a live session for it (the served rate) and keeps it from the idle check.
    long cpuBefore = cpuNanos();
    ConcurrentLinkedQueue<SocketChannel> open = new ConcurrentLinkedQueue<>();
    InetSocketAddress address = common.tcp();
    ByteBuffer magic = ByteBuffer.wrap("  V2".getBytes(StandardCharsets.US_ASCII));
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(connectThreads);
    long start = System.nanoTime();
    for (int t = 0; t < connectThreads; t++) {
      pool.execute(() -> {
        while (next.getAndIncrement() < connections) {
          try {
            SocketChannel ch = SocketChannel.open();
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            ch.connect(address);
            ch.write(magic.duplicate());
            open.add(ch);
          } catch (IOException e) {
            errors.add(e);
          }
        }
      });
    }
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.MINUTES);
    double connectSecs = (System.nanoTime() - start) / 1e9;
    List<SocketChannel> all = new ArrayList<>(open);
    byte[] identify = identifyCommand();
    for (SocketChannel ch : all) ch.write(ByteBuffer.wrap(identify));
    int served = 0;
    ByteBuffer reply = ByteBuffer.allocate(64);
    for (SocketChannel ch : all) {
      reply.clear();
      try {
        if (readFrame(ch, reply).equals("OK")) served++;
      } catch (IOException e) {
        errors.add(e);
      }
    }
    double servedSecs = (System.nanoTime() - start) / 1e9;
    long cpuUsed = cpuNanos() - cpuBefore;
    System.out.printf("connect: %d connections with the magic in %.3f s: %.0f/s%n", all.size(), connectSecs, all.size() / connectSecs);
    System.out.printf("served:  %d answered IDENTIFY after %.3f s: %.0f/s%n", served, servedSecs, served / servedSecs);
    r.put("connected", all.size()).put("connect_seconds", connectSecs).put("connects_per_sec", all.size() / connectSecs)
        .put("served", served).put("served_seconds", servedSecs).put("served_per_sec", served / servedSecs);
    if (cpuBefore >= 0 && served > 0) {
      // The node's own CPU per connection: on a shared machine a steadier figure than the rate.
      double perConnection = cpuUsed / 1e3 / served;
      r.put("node_cpu_us_per_connection", perConnection);
      System.out.printf("node CPU: %.0f us per connection (%.2f s of CPU in %.2f s)%n", perConnection, cpuUsed / 1e9, servedSecs);
    }

    // 2. Hold them: the node's memory per idle connection.
    Thread.sleep(BenchCommand.parseDuration(hold).toMillis());
    long rssHeld = rss();
    if (rssHeld > 0) {
      r.put("node_rss_held_bytes", rssHeld).put("rss_per_connection_bytes", (rssHeld - rssBefore) / Math.max(1, all.size()));
      System.out.printf("node RSS holding them: %.1f MB, %.1f KB per connection%n", rssHeld / 1048576.0,
          (rssHeld - rssBefore) / 1024.0 / Math.max(1, all.size()));
    }

    // 3. A fresh producer's PUB round trip while they are open.
    Histogram pubLatency = new Histogram(60_000_000_000L, 3);
    try (WireClient c = new WireClient(address)) {
      byte[] single = pubCommand(common.topic, common.size);
      for (int i = 0; i < pubs; i++) {
        long t0 = System.nanoTime();
        c.out.write(single);
        c.out.flush();
        c.expectOk();
        if (i >= pubs / 10) pubLatency.recordValue(System.nanoTime() - t0);   // the first tenth warms up
      }
    } catch (Exception e) {
      errors.add(e);
    }
    System.out.printf("PUB rtt   p50 %.3f ms  p99 %.3f ms  max %.3f ms%n", pubLatency.getValueAtPercentile(50) / 1e6,
        pubLatency.getValueAtPercentile(99) / 1e6, pubLatency.getMaxValue() / 1e6);
    r.put("pub_p50_ms", pubLatency.getValueAtPercentile(50) / 1e6).put("pub_p99_ms", pubLatency.getValueAtPercentile(99) / 1e6)
        .put("pub_max_ms", pubLatency.getMaxValue() / 1e6);

    // 4. A burst of concurrent HTTP publishes, each on its own connection.
    if (httpRequests > 0) httpBurst(r, errors);

    for (SocketChannel ch : all) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    return BenchCommand.finish(r, common, errors);
  }

  /**
   * Opens {@code --http-requests} connections at once, non-blocking from one selector so that the client
   * is not what is measured, sends one {@code POST /pub} on each and waits for every status line.
   */
  private void httpBurst(ObjectNode r, List<Throwable> errors) throws Exception {
    HostPortAddress http = HostPortAddress.parse(common.httpAddress);
    byte[] request = ("POST /pub?topic=" + common.topic + " HTTP/1.1\r\nHost: " + common.httpAddress
        + "\r\nContent-Length: " + common.size + "\r\nConnection: close\r\n\r\n" + "h".repeat(common.size))
        .getBytes(StandardCharsets.US_ASCII);
    Histogram latency = new Histogram(60_000_000_000L, 3);
    int ok = 0;
    int failed = 0;
    long start = System.nanoTime();
    long deadline = start + Duration.ofSeconds(30).toNanos();
    try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
      for (int i = 0; i < httpRequests; i++) {
        SocketChannel ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.connect(http.address());
        ch.register(selector, java.nio.channels.SelectionKey.OP_CONNECT, new HttpExchange(ByteBuffer.wrap(request)));
      }
      int pending = httpRequests;
      while (pending > 0 && System.nanoTime() < deadline) {
        selector.select(100);
        for (java.nio.channels.SelectionKey key : selector.selectedKeys()) {
          SocketChannel ch = (SocketChannel) key.channel();
          HttpExchange x = (HttpExchange) key.attachment();
          try {
            if (key.isConnectable() && ch.finishConnect()) key.interestOps(java.nio.channels.SelectionKey.OP_WRITE);
            if (key.isValid() && key.isWritable()) {
              ch.write(x.request);
              if (!x.request.hasRemaining()) key.interestOps(java.nio.channels.SelectionKey.OP_READ);
            }
            if (key.isValid() && key.isReadable()) {
              int n = ch.read(x.response);
              String head = new String(x.response.array(), 0, x.response.position(), StandardCharsets.US_ASCII);
              if (head.indexOf("\r\n") > 0 || n < 0) {
                if (head.startsWith("HTTP/1.1 200")) {
                  ok++;
                  latency.recordValue(System.nanoTime() - start);
                } else {
                  if (failed++ == 0) errors.add(new IOException("HTTP answer: " + head.lines().findFirst().orElse("(none)")));
                }
                pending--;
                key.cancel();
                ch.close();
              }
            }
          } catch (IOException e) {
            if (failed++ == 0) errors.add(e);
            pending--;
            key.cancel();
            ch.close();
          }
        }
        selector.selectedKeys().clear();
      }
      for (java.nio.channels.SelectionKey key : selector.keys()) key.channel().close();
    }
    double secs = (System.nanoTime() - start) / 1e9;
    System.out.printf("HTTP /pub: %d at once, %d answered 200, %d failed, all done in %.3f s (p50 %.1f ms, p99 %.1f ms)%n",
        httpRequests, ok, failed, secs, latency.getValueAtPercentile(50) / 1e6, latency.getValueAtPercentile(99) / 1e6);
    r.put("http_requests", httpRequests).put("http_ok", ok).put("http_failed", failed).put("http_seconds", secs)
        .put("http_p50_ms", latency.getValueAtPercentile(50) / 1e6).put("http_p99_ms", latency.getValueAtPercentile(99) / 1e6);
  }

  /** One HTTP request's bytes still to send and the answer so far (its status line is enough). */
  private record HttpExchange(ByteBuffer request, ByteBuffer response) {
    HttpExchange(ByteBuffer request) { this(request, ByteBuffer.allocate(256)); }
  }

  /** {@code host:port} of the HTTP listener. */
  private record HostPortAddress(InetSocketAddress address) {
    static HostPortAddress parse(String s) {
      io.jnsq.config.HostPort hp = io.jnsq.config.HostPort.parse(s);
      return new HostPortAddress(new InetSocketAddress(hp.host(), hp.port()));
    }
  }

  private static byte[] identifyCommand() {
    byte[] json = "{}".getBytes(StandardCharsets.UTF_8);
    byte[] head = "IDENTIFY\n".getBytes(StandardCharsets.US_ASCII);
    byte[] cmd = new byte[head.length + 4 + json.length];
    System.arraycopy(head, 0, cmd, 0, head.length);
    WireClient.putInt(cmd, head.length, json.length);
    System.arraycopy(json, 0, cmd, head.length + 4, json.length);
    return cmd;
  }

  private static byte[] pubCommand(String topic, int size) {
    byte[] head = ("PUB " + topic + "\n").getBytes(StandardCharsets.US_ASCII);
    byte[] cmd = new byte[head.length + 4 + size];
    System.arraycopy(head, 0, cmd, 0, head.length);
    WireClient.putInt(cmd, head.length, size);
    java.util.Arrays.fill(cmd, head.length + 4, cmd.length, (byte) 'p');
    return cmd;
  }

  /** Reads one frame's data as text: [int32 size][int32 type][data]. */
  private static String readFrame(SocketChannel ch, ByteBuffer buf) throws IOException {
    buf.clear().limit(8);
    while (buf.hasRemaining()) if (ch.read(buf) < 0) throw new IOException("closed by the node");
    int size = buf.getInt(0);
    if (size - 4 > buf.capacity() - 8) throw new IOException("frame too big: " + size);
    buf.limit(4 + size);
    while (buf.hasRemaining()) if (ch.read(buf) < 0) throw new IOException("closed by the node");
    return new String(buf.array(), 8, size - 4, StandardCharsets.UTF_8);
  }

  /** The node's user + system CPU time from /proc, or -1 without --node-pid. */
  private long cpuNanos() {
    if (common.nodePid <= 0) return -1;
    try {
      String stat = Files.readString(Path.of("/proc/" + common.nodePid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);   // utime, stime: fields 14 and 15
      return ticks * 10_000_000L;   // USER_HZ is 100 on Linux
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private long rss() {
    if (common.nodePid <= 0) return 0;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + common.nodePid + "/status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }
}
