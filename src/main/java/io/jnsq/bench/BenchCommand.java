package io.jnsq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.config.HostPort;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load generators that speak protocol V2 like NSQ's own bench tools: {@code pub} (MPUB batches),
 * {@code sub} (one channel, RDY, FIN everything) and {@code e2e} (both at once, publish-to-delivery
 * latency from a timestamp in each body). Every loop stops by itself after {@code --runfor}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchCommand.Pub.class, BenchCommand.Sub.class, BenchCommand.E2e.class, ClientBench.class, ConnectBench.class, LoopbackProbe.class, Summary.class},
    description = "Load-test a node over TCP and print messages/s, MB/s and latency.")
public final class BenchCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @Override public Integer call() {
    new picocli.CommandLine(this).usage(System.out);
    return 2;
  }

  public static void main(String[] args) {
    System.exit(new picocli.CommandLine(new BenchCommand()).execute(args));
  }

  /** Options every subcommand shares. */
  static class Common {
    @Option(names = "--tcp-address", defaultValue = "127.0.0.1:4150", description = "node's TCP address (default: ${DEFAULT-VALUE})")
    String tcpAddress;
    @Option(names = "--http-address", defaultValue = "127.0.0.1:4151", description = "node's HTTP address, to read its memory after the run (default: ${DEFAULT-VALUE})")
    String httpAddress;
    @Option(names = "--node-pid", defaultValue = "0", description = "node's process id, to read its RSS from /proc (default: none)")
    long nodePid;
    @Option(names = "--topic", defaultValue = "sub_bench", description = "topic (default: ${DEFAULT-VALUE})")
    String topic;
    @Option(names = "--size", defaultValue = "200", description = "message size in bytes (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--concurrency", defaultValue = "0", description = "connections (default: one per core)")
    int concurrency;
    @Option(names = "--runfor", defaultValue = "10s", description = "how long to run, e.g. 10s, 500ms, 1m (default: ${DEFAULT-VALUE})")
    String runfor;
    @Option(names = "--json", description = "also write the figures to this file as JSON")
    File json;
    @Option(names = "--compression", defaultValue = "none", description = "negotiate snappy or deflate in IDENTIFY (default: none)")
    String compression;
    @Option(names = "--tls", description = "upgrade to TLS in IDENTIFY (the node's certificate is not checked)")
    boolean tls;

    InetSocketAddress tcp() {
      HostPort hp = HostPort.parse(tcpAddress);
      return new InetSocketAddress(hp.host(), hp.port());
    }

    int connections() { return concurrency > 0 ? concurrency : Runtime.getRuntime().availableProcessors(); }

    long runNanos() { return parseDuration(runfor).toNanos(); }
  }

  /** The threads of one load generator: each runs a body; failures are collected, not thrown. */
  static final class Workers {
    /** One thread's work; {@code index} numbers the threads of one {@link #start}. */
    interface Body {
      void run(int index) throws Exception;
    }

    final List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    void start(int n, String name, Body body) {
      for (int i = 0; i < n; i++) {
        int index = i;
        Thread t = new Thread(() -> {
          try {
            body.run(index);
          } catch (Exception e) {
            errors.add(e);
          }
        }, name + "-" + i);
        threads.add(t);
        t.start();
      }
    }

    void join() throws InterruptedException {
      for (Thread t : threads) t.join();
      threads.clear();
    }
  }

  static Duration parseDuration(String s) {
    String t = s.trim();
    if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    if (t.endsWith("s")) return Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
    if (t.endsWith("m")) return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
    return Duration.ofSeconds(Long.parseLong(t));
  }

  // ------------------------------------------------------------------ pub

  @Command(name = "pub", mixinStandardHelpOptions = true, description = "Publish MPUB batches as fast as the node acknowledges them.")
  static final class Pub implements Callable<Integer> {
    @picocli.CommandLine.Mixin Common common = new Common();
    @Option(names = "--batch-size", defaultValue = "200", description = "messages per MPUB (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--pipeline", defaultValue = "1", description = "MPUBs in flight per connection; 1 waits for each OK like bench_writer (default: ${DEFAULT-VALUE})")
    int pipeline;
    @Option(names = "--topics", defaultValue = "1", description = "spread connections over this many topics: <topic>_0 .. (default: ${DEFAULT-VALUE})")
    int topics;
    @Option(names = "--count", defaultValue = "0", description = "publish at most this many messages, in whole batches (0 = no limit)")
    long count;
    @Option(names = "--write-size", defaultValue = "0", description = "write each MPUB in pieces of this many bytes, each"
        + " flushed, as NSQ's bench_writer does through its 4 KiB buffered writer (0: in one write; default: ${DEFAULT-VALUE})")
    int writeSize;
    @Option(names = "--identify", description = "send IDENTIFY without feature negotiation first, as go-nsq clients do")
    boolean identify;
    @Option(names = "--like-bench-writer", description = "write as NSQ's bench_writer: --pipeline 1 --write-size 4096 --identify")
    boolean likeBenchWriter;

    @Override public Integer call() throws Exception {
      if (likeBenchWriter) {
        pipeline = 1;
        writeSize = 4096;
        identify = true;
      }
      int n = common.connections();
      AtomicLong acked = new AtomicLong();
      AtomicLong budget = new AtomicLong(count);
      long deadline = System.nanoTime() + common.runNanos();
      Workers workers = new Workers();
      long start = System.nanoTime();
      workers.start(n, "bench-pub", i -> {
        String topic = topics > 1 ? common.topic + "_" + (i % topics) : common.topic;
        try (WireClient c = new WireClient(common.tcp(), common.compression, common.tls)) {
          if (identify) c.identifyPlain("bench-pub-" + i);
          byte[] cmd = WireClient.mpub(topic, batchSize, common.size, (byte) 'x');
          int outstanding = 0;
          while (System.nanoTime() < deadline) {
            // --count is a budget shared by all connections: a batch is sent only once it is reserved.
            while (outstanding < pipeline && (count == 0 || budget.addAndGet(-batchSize) >= 0)) {
              if (writeSize > 0) {
                for (int at = 0; at < cmd.length; at += writeSize) {
                  c.out.write(cmd, at, Math.min(writeSize, cmd.length - at));
                  c.out.flush();
                }
              } else {
                c.out.write(cmd);
              }
              outstanding++;
            }
            c.out.flush();
            if (outstanding == 0) break;
            c.expectOk();
            outstanding--;
            acked.addAndGet(batchSize);
          }
          while (outstanding-- > 0) {
            c.expectOk();
            acked.addAndGet(batchSize);
          }
        }
      });
      workers.join();
      double secs = (System.nanoTime() - start) / 1e9;
      ObjectNode r = report("pub", acked.get(), secs, common);
      r.put("batch_size", batchSize).put("pipeline", pipeline).put("connections", n).put("topics", topics)
          .put("write_size", writeSize).put("identify", identify);
      return finish(r, common, workers.errors);
    }
  }

  // ------------------------------------------------------------------ sub

  @Command(name = "sub", mixinStandardHelpOptions = true, description = "Consume one channel with RDY and FIN every message.")
  static final class Sub implements Callable<Integer> {
    @picocli.CommandLine.Mixin Common common = new Common();
    @Option(names = "--channel", defaultValue = "ch", description = "channel (default: ${DEFAULT-VALUE})")
    String channel;
    @Option(names = "--rdy", defaultValue = "2500", description = "RDY per connection (default: ${DEFAULT-VALUE})")
    int rdy;
    @Option(names = "--count", defaultValue = "0", description = "stop after exactly this many messages (0 = run for --runfor)")
    long count;

    @Override public Integer call() throws Exception {
      int n = common.connections();
      AtomicLong received = new AtomicLong();
      long deadline = System.nanoTime() + common.runNanos();
      AtomicLong lastAt = new AtomicLong();
      Workers workers = new Workers();
      long start = System.nanoTime();
      workers.start(n, "bench-sub", i -> {
        try (WireClient c = new WireClient(common.tcp(), common.compression, common.tls)) {
          consume(c, common.topic, channel, rdy, () -> deadline, count, received, null, null);
          lastAt.accumulateAndGet(System.nanoTime(), Math::max);
        }
      });
      workers.join();
      double secs = ((count > 0 ? lastAt.get() : System.nanoTime()) - start) / 1e9;
      ObjectNode r = report("sub", received.get(), secs, common);
      r.put("rdy", rdy).put("connections", n);
      return finish(r, common, workers.errors);
    }
  }

  /**
   * Subscribes and FINs every message until the deadline, or until {@code limit} messages (all
   * connections together) were taken. FINs of one read go out in one write. With {@code latency}, the
   * first 8 bytes of each body are a send time from {@link System#nanoTime}.
   */
  static void consume(WireClient c, String topic, String channel, int rdy, java.util.function.LongSupplier deadline, long limit,
      AtomicLong received, Histogram latency, AtomicLong measureFrom) throws Exception {
    c.out.write(("SUB " + topic + " " + channel + "\nRDY " + rdy + "\n").getBytes(StandardCharsets.US_ASCII));
    c.out.flush();
    c.expectOk();
    c.setTimeout(100);
    byte[] fin = "FIN 0123456789abcdef\n".getBytes(StandardCharsets.US_ASCII);
    while (System.nanoTime() < deadline.getAsLong()) {
      if (limit > 0 && received.get() >= limit) break;
      try {
        c.next();
      } catch (SocketTimeoutException quiet) {
        continue;
      }
      if (c.type == WireClient.ERROR) throw new IllegalStateException("node error: " + c.text());
      if (c.type != WireClient.MESSAGE) continue;
      if (latency != null && c.dataLen >= 26 + 8) {
        long stamp = c.readLong(c.dataAt + 26);
        if (stamp >= measureFrom.get()) {   // messages of the warm-up are FINished but not measured
          latency.recordValue(Math.max(0, System.nanoTime() - stamp));
          received.incrementAndGet();
        }
      } else if (limit > 0 && received.incrementAndGet() > limit) {
        received.decrementAndGet();
        break;
      } else if (limit == 0) {
        received.incrementAndGet();
      }
      System.arraycopy(c.buffer(), c.dataAt + 10, fin, 4, 16);
      c.out.write(fin);
      if (!c.hasBufferedFrame()) c.out.flush();
    }
    c.out.flush();
  }

  // ------------------------------------------------------------------ e2e

  @Command(name = "e2e", mixinStandardHelpOptions = true,
      description = "Publish and consume at once; report throughput and publish-to-delivery latency.")
  static final class E2e implements Callable<Integer> {
    @picocli.CommandLine.Mixin Common common = new Common();
    @Option(names = "--channel", defaultValue = "ch", description = "channel (default: ${DEFAULT-VALUE})")
    String channel;
    @Option(names = "--rdy", defaultValue = "2500", description = "RDY per consumer (default: ${DEFAULT-VALUE})")
    int rdy;
    @Option(names = "--batch-size", defaultValue = "200", description = "messages per MPUB (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--rate", defaultValue = "0", description = "messages/s for all publishers together; 0 = full speed (default: ${DEFAULT-VALUE})")
    long rate;
    @Option(names = "--channels", defaultValue = "1", description = "channels of the topic, each with --concurrency consumers (default: ${DEFAULT-VALUE})")
    int channels;
    @Option(names = "--topics", defaultValue = "1", description = "topics, each with its publishers and channels (default: ${DEFAULT-VALUE})")
    int topics;
    @Option(names = "--warmup", defaultValue = "5s",
        description = "publish this long first without measuring, so a cold node's JIT warm-up is not counted (default: ${DEFAULT-VALUE})")
    String warmup;

    @Override public Integer call() throws Exception {
      if (common.size < 8) throw new IllegalArgumentException("--size must be at least 8: bodies carry a timestamp");
      int n = common.connections();
      long runNanos = common.runNanos();
      // Consumers wait for the publishers' deadline, which is set once they start; until then, a far bound.
      AtomicLong consumerDeadline = new AtomicLong(System.nanoTime() + runNanos + Duration.ofMinutes(5).toNanos());
      AtomicLong published = new AtomicLong();
      AtomicLong received = new AtomicLong();
      AtomicLong measureStart = new AtomicLong(Long.MAX_VALUE);
      List<Histogram> histograms = new java.util.concurrent.CopyOnWriteArrayList<>();
      // Connected (and subscribed below) before any publisher starts, so no channel misses a message.
      record Subscriber(WireClient client, String topic, String channel, Histogram latency) {}
      List<Subscriber> subscribers = new ArrayList<>();
      for (int t = 0; t < topics; t++) {
        String topic = topics > 1 ? common.topic + "_" + t : common.topic;
        for (int ch = 0; ch < channels; ch++) {
          String channelName = channels > 1 ? channel + "_" + ch : channel;
          for (int i = 0; i < n; i++) {
            Histogram h = new Histogram(60_000_000_000L, 3);
            histograms.add(h);
            subscribers.add(new Subscriber(new WireClient(common.tcp(), common.compression, common.tls), topic, channelName, h));
          }
        }
      }
      Workers consumers = new Workers();
      consumers.start(subscribers.size(), "bench-e2e-sub", i -> {
        Subscriber s = subscribers.get(i);
        try (WireClient c = s.client()) {
          consume(c, s.topic(), s.channel(), rdy, consumerDeadline::get, 0, received, s.latency(), measureStart);
        }
      });
      Thread.sleep(300);   // subscriptions in place before the first message
      int pubCount = n * topics;
      long batchIntervalNanos = rate > 0 ? (long) (1e9 * batchSize * pubCount / rate) : 0;
      long pubStart = System.nanoTime();
      long measureFrom = pubStart + parseDuration(warmup).toNanos();
      measureStart.set(measureFrom);
      long pubDeadline = measureFrom + runNanos;
      long subDeadline = pubDeadline + Duration.ofSeconds(2).toNanos();   // let the tail arrive
      consumerDeadline.set(subDeadline);
      Workers publishers = new Workers();
      publishers.start(pubCount, "bench-e2e-pub", p -> {
        String topic = topics > 1 ? common.topic + "_" + (p % topics) : common.topic;
        long offset = batchIntervalNanos * p / Math.max(1, pubCount);
        try (WireClient c = new WireClient(common.tcp(), common.compression, common.tls)) {
          byte[] cmd = WireClient.mpub(topic, batchSize, common.size, (byte) 'x');
          int headerLen = ("MPUB " + topic + "\n").length() + 8;
          long next = pubStart + offset;
          boolean measuring = false;
          while (System.nanoTime() < pubDeadline) {
            long stamp;
            if (!measuring && System.nanoTime() >= measureFrom) {
              measuring = true;
              next = Math.max(next, measureFrom + offset);   // lag left over from the warm-up is not measured
            }
            if (batchIntervalNanos > 0) {
              long wait = next - System.nanoTime();
              if (wait > 0) LockSupport.parkNanos(wait);
              stamp = next;   // the intended send time: a late send shows up as latency, not as a gap
              next += batchIntervalNanos;
            } else {
              stamp = System.nanoTime();
            }
            for (int m = 0, at = headerLen + 4; m < batchSize; m++, at += 4 + common.size) WireClient.putLong(cmd, at, stamp);
            c.out.write(cmd);
            c.out.flush();
            c.expectOk();
            if (stamp >= measureFrom) published.addAndGet(batchSize);
          }
        }
      });
      publishers.join();
      double pubSecs = (System.nanoTime() - measureFrom) / 1e9;
      long expected = published.get() * channels;
      while (received.get() < expected && System.nanoTime() < subDeadline) Thread.sleep(10);
      consumers.join();
      List<Throwable> errors = new ArrayList<>(publishers.errors);
      errors.addAll(consumers.errors);
      Histogram all = new Histogram(60_000_000_000L, 3);
      histograms.forEach(all::add);
      ObjectNode r = report("e2e", received.get(), pubSecs, common);
      r.put("warmup_seconds", parseDuration(warmup).toMillis() / 1000.0).put("published", published.get()).put("expected_deliveries", expected).put("rate_target", rate)
          .put("batch_size", batchSize).put("publishers", pubCount).put("consumers", subscribers.size())
          .put("topics", topics).put("channels", channels)
          .put("latency_p50_ms", all.getValueAtPercentile(50) / 1e6)
          .put("latency_p99_ms", all.getValueAtPercentile(99) / 1e6)
          .put("latency_p999_ms", all.getValueAtPercentile(99.9) / 1e6)
          .put("latency_max_ms", all.getMaxValue() / 1e6);
      System.out.printf("latency   p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms%n", all.getValueAtPercentile(50) / 1e6,
          all.getValueAtPercentile(99) / 1e6, all.getValueAtPercentile(99.9) / 1e6, all.getMaxValue() / 1e6);
      if (received.get() < expected) System.out.printf("WARNING: %d of %d deliveries arrived%n", received.get(), expected);
      return finish(r, common, errors);
    }
  }

  // ------------------------------------------------------------------ reporting

  static ObjectNode report(String kind, long messages, double secs, Common common) {
    ObjectNode r = JSON.createObjectNode();
    double rate = messages / secs;
    r.put("scenario", kind).put("messages", messages).put("seconds", secs).put("msgs_per_sec", rate)
        .put("mb_per_sec", rate * common.size / (1024.0 * 1024.0)).put("size", common.size);
    System.out.printf("%s: %d messages in %.2f s: %.0f msg/s, %.2f MB/s%n", kind, messages, secs, rate, rate * common.size / 1048576.0);
    return r;
  }

  static int finish(ObjectNode r, Common common, List<Throwable> errors) throws Exception {
    nodeMemory(common, r);
    if (!errors.isEmpty()) {
      r.put("errors", errors.size());
      System.out.println("errors: " + errors.size() + " (first: " + errors.get(0) + ")");
    }
    if (common.json != null) Files.writeString(common.json.toPath(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
    return errors.isEmpty() ? 0 : 1;
  }

  /** The node's heap from its {@code /stats}, and its RSS from /proc when its pid is known. */
  static void nodeMemory(Common common, ObjectNode r) {
    try {
      HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://" + common.httpAddress + "/stats?format=json&include_clients=false&include_mem=true"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode mem = JSON.readTree(resp.body()).path("memory");
      long heap = mem.path("heap_in_use_bytes").asLong();
      r.put("node_heap_used_bytes", heap);
      System.out.printf("node heap used: %.1f MB%n", heap / 1048576.0);
    } catch (Exception e) {
      System.out.println("node heap used: n/a (" + e.getClass().getSimpleName() + ")");
    }
    if (common.nodePid > 0) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + common.nodePid + "/status"))) {
          if (line.startsWith("VmRSS:")) {
            long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
            r.put("node_rss_bytes", kb * 1024);
            System.out.printf("node RSS: %.1f MB%n", kb / 1024.0);
          }
        }
      } catch (Exception e) {
        System.out.println("node RSS: n/a");
      }
    }
  }
}
