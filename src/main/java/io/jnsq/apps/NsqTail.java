package io.jnsq.apps;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** NSQ's {@code nsq_tail}: prints the messages of one or more topics to stdout, one per line. */
@Command(name = "nsq_tail", sortOptions = false,
    description = "Consumes -topic and writes each message body to stdout followed by a newline.")
public final class NsqTail implements Callable<Integer> {
  static final String NAME = "nsq_tail";

  @Option(names = {"-topic", "--topic"}, paramLabel = "<topic>", description = "NSQ topic (may be given multiple times)")
  List<String> topics = new ArrayList<>();
  @Option(names = {"-channel", "--channel"}, paramLabel = "<channel>", description = "NSQ channel (default: tail<random>#ephemeral)")
  String channel = "";
  @Option(names = {"-max-in-flight", "--max-in-flight"}, paramLabel = "<n>", description = "max number of messages to allow in flight (default: 200)")
  int maxInFlight = 200;
  @Option(names = {"-n", "--n"}, paramLabel = "<n>", description = "total messages to show (will wait if starved) (default: 0, no limit)")
  int totalMessages;
  @Option(names = {"-print-topic", "--print-topic"}, arity = "0..1", fallbackValue = "true", description = "print topic name where message was received")
  boolean printTopic;
  @Mixin ConsumerFlags flags = new ConsumerFlags();
  @Option(names = {"-version", "--version"}, description = "print version string")
  boolean version;
  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  PrintStream out = System.out;
  PrintStream err = System.err;
  private final List<Consumer> consumers = new ArrayList<>();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final AtomicInteger shown = new AtomicInteger();

  @Override public Integer call() throws Exception {
    if (version) {
      out.println(NAME + " v" + Apps.version());
      return 0;
    }
    if (channel.isEmpty()) channel = String.format("tail%06d#ephemeral", ThreadLocalRandom.current().nextInt(999999));
    ClientConfig cfg;
    try {
      if (topics.isEmpty()) throw new Apps.Usage("--topic is required");
      flags.check();
      if (maxInFlight < 1) throw new Apps.Usage("--max-in-flight must be at least 1");
      // don't ask for more messages than we want
      if (totalMessages > 0 && totalMessages < maxInFlight) maxInFlight = totalMessages;
      cfg = Apps.config(NAME, flags.consumerOpts).maxInFlight(maxInFlight);
    } catch (IllegalArgumentException e) {
      Apps.log(err, NAME, "FATAL: " + e.getMessage());
      return 1;
    }
    CountDownLatch finished = new CountDownLatch(1);
    Object hook = Apps.onTerminate(this::terminate, finished);
    try {
      for (String t : topics) {
        Consumer c = new Consumer(t, channel, cfg, m -> show(t, m));
        consumers.add(c);
        flags.connect(c);
      }
      done.join();
      return 0;
    } catch (IOException | RuntimeException e) {
      Apps.log(err, NAME, "FATAL: " + e.getMessage());
      return 1;
    } finally {
      stopAll();
      out.flush();
      finished.countDown();
      Apps.removeHook(hook);
    }
  }

  private void show(String topic, Message m) {
    if (totalMessages > 0 && shown.get() >= totalMessages) {
      m.requeueWithoutBackoff(Duration.ZERO);   // beyond -n: leave it for others
      return;
    }
    synchronized (out) {
      if (printTopic) out.print(topic + " | ");
      out.write(m.body(), 0, m.body().length);
      out.write('\n');
      out.flush();
    }
    m.finish();
    if (totalMessages > 0 && shown.incrementAndGet() >= totalMessages) done.complete(null);
  }

  /** What SIGINT/SIGTERM do: stop consuming (FIN what was printed) and end. */
  void terminate() {
    done.complete(null);
  }

  private void stopAll() {
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (Consumer c : consumers) stops.add(c.stopAsync());
    CompletableFuture.allOf(stops.toArray(new CompletableFuture<?>[0])).join();
  }

}
