package io.jnsq.apps;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Producer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** NSQ's {@code to_nsq}: publishes each delimited record of stdin to a topic on every nsqd given. */
@Command(name = "to_nsq", mixinStandardHelpOptions = false, sortOptions = false,
    description = "Publishes each line (or -delimiter separated record) of stdin to -topic on every -nsqd-tcp-address.")
public final class ToNsq implements Callable<Integer> {
  static final String NAME = "to_nsq";
  private static final int MAX_OUTSTANDING = 1000;

  @Option(names = {"-topic", "--topic"}, paramLabel = "<topic>", description = "NSQ topic to publish to")
  String topic = "";
  @Option(names = {"-delimiter", "--delimiter"}, paramLabel = "<char>", description = "character to split input from stdin (default: a newline)")
  String delimiter = "\n";
  @Option(names = {"-nsqd-tcp-address", "--nsqd-tcp-address"}, paramLabel = "<addr>", description = "destination nsqd TCP address (may be given multiple times)")
  List<String> nsqdTcpAddresses = new ArrayList<>();
  @Option(names = {"-producer-opt", "--producer-opt"}, paramLabel = "<name,value>", description = "option to passthrough to the producer (may be given multiple times), go-nsq's names")
  List<String> producerOpts = new ArrayList<>();
  @Option(names = {"-rate", "--rate"}, paramLabel = "<n>", description = "Throttle messages to n/second. 0 to disable (default: 0)")
  int rate;
  @Option(names = {"-version", "--version"}, description = "print version string")
  boolean version;
  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  InputStream in = System.in;
  PrintStream out = System.out;
  PrintStream err = System.err;
  private volatile boolean terminated;
  private final ConcurrentLinkedDeque<CompletableFuture<Void>> outstanding = new ConcurrentLinkedDeque<>();

  @Override public Integer call() throws Exception {
    if (version) {
      out.println(NAME + " v" + Apps.version());
      return 0;
    }
    if (topic.isEmpty()) return fatal("--topic required");
    if (delimiter.getBytes(java.nio.charset.StandardCharsets.UTF_8).length != 1) return fatal("--delimiter must be a single byte");
    if (nsqdTcpAddresses.isEmpty()) return fatal("--nsqd-tcp-address required");
    if (rate < 0) return fatal("--rate must not be negative");
    ClientConfig cfg;
    try {
      cfg = Apps.config(NAME, producerOpts);
    } catch (IllegalArgumentException e) {
      return fatal("failed to process --producer-opt: " + e.getMessage());
    }
    List<Producer> producers = new ArrayList<>();
    try {
      for (String a : nsqdTcpAddresses) producers.add(new Producer(List.of(a), cfg));
    } catch (IllegalArgumentException e) {
      return fatal("failed to create producer - " + e.getMessage());
    }
    CountDownLatch finished = new CountDownLatch(0);
    Object hook = Apps.onTerminate(() -> {
      terminate();
      // the main thread may sit in a read of stdin that nothing can interrupt: end here, as to_nsq does
      producers.forEach(Producer::close);
      System.exit(0);
    }, finished);
    try {
      return publishAll(producers, (byte) delimiter.charAt(0));
    } finally {
      producers.forEach(Producer::close);
      Apps.removeHook(hook);
    }
  }

  /** Stops reading stdin and waits (up to 10 s) until nsqd has answered every record read so far. */
  void terminate() {
    terminated = true;
    try {
      CompletableFuture.allOf(outstanding.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      Apps.log(err, NAME, "not every record was acknowledged before the end: " + e.getMessage());
    }
  }

  private int publishAll(List<Producer> producers, byte delim) throws InterruptedException {
    InputStream input = new BufferedInputStream(in, 65536);
    long interval = rate > 0 ? TimeUnit.SECONDS.toNanos(1) / rate : 0;
    long next = System.nanoTime();
    ByteArrayOutputStream record = new ByteArrayOutputStream();
    boolean eof = false;
    while (!eof && !terminated) {
      record.reset();
      try {
        int b;
        while ((b = input.read()) >= 0 && b != (delim & 0xff)) record.write(b);
        eof = b < 0;
      } catch (IOException e) {
        return fatal("reading stdin: " + e.getMessage());
      }
      if (record.size() == 0) continue;   // empty records are skipped, as to_nsq does
      if (interval > 0) {
        long wait = next - System.nanoTime();
        if (wait > 0) LockSupport.parkNanos(wait);
        next = Math.max(next, System.nanoTime() - interval) + interval;
      }
      byte[] body = record.toByteArray();
      for (Producer p : producers) outstanding.add(p.publish(topic, body));
      while (outstanding.size() > MAX_OUTSTANDING || (!outstanding.isEmpty() && outstanding.peek().isDone())) {
        String failure = await(outstanding.poll());
        if (failure != null) return fatal(failure);
      }
    }
    while (!outstanding.isEmpty()) {
      String failure = await(outstanding.poll());
      if (failure != null) return fatal(failure);
    }
    return 0;
  }

  private static String await(CompletableFuture<Void> f) throws InterruptedException {
    try {
      f.get(60, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause().getMessage();
    } catch (java.util.concurrent.TimeoutException e) {
      return "no answer from nsqd within 60 s";
    }
  }

  private int fatal(String message) {
    Apps.log(err, NAME, "FATAL: " + message);
    return 1;
  }
}
