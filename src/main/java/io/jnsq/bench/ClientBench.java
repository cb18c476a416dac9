package io.jnsq.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Producer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The JVM client under load: one {@link Producer} publishes single messages (it batches them into
 * MPUBs itself) for {@code --runfor} or {@code --count}, then one {@link Consumer} reads them all back.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
    description = "Publish single messages with the JVM client's Producer, then consume them with its Consumer.")
final class ClientBench implements Callable<Integer> {
  @Mixin BenchCommand.Common common = new BenchCommand.Common();
  @Option(names = "--count", defaultValue = "0", description = "publish at most this many messages (0 = until --runfor)")
  long count;
  @Option(names = "--window", defaultValue = "5000", description = "publishes awaiting nsqd's OK at once (default: ${DEFAULT-VALUE})")
  int window;
  @Option(names = "--batch-size", defaultValue = "256", description = "the producer's batch_size: single publishes per MPUB (default: ${DEFAULT-VALUE})")
  int batchSize;
  @Option(names = "--max-in-flight", defaultValue = "500", description = "the consumer's max_in_flight (default: ${DEFAULT-VALUE})")
  int maxInFlight;

  @Override public Integer call() throws Exception {
    ClientConfig cfg = new ClientConfig().batchSize(batchSize).userAgent("jnsq-bench-client");
    if (common.compression.equals("snappy")) cfg.snappy(true);
    if (common.compression.equals("deflate")) cfg.deflate(true, 6);
    if (common.tls) cfg.set("tls_insecure_skip_verify", "true");
    String address = common.tcpAddress;
    byte[] body = new byte[common.size];
    Arrays.fill(body, (byte) 'x');
    List<Throwable> errors = new ArrayList<>();
    long published = 0;
    long deadline = System.nanoTime() + common.runNanos();
    long start = System.nanoTime();
    try (Producer producer = new Producer(List.of(address), cfg)) {
      ArrayDeque<CompletableFuture<Void>> outstanding = new ArrayDeque<>();
      while ((count == 0 || published < count) && System.nanoTime() < deadline && errors.isEmpty()) {
        outstanding.add(producer.publish(common.topic, body));
        published++;
        while (outstanding.size() >= window || (!outstanding.isEmpty() && outstanding.peek().isDone())) {
          outstanding.poll().exceptionally(e -> { synchronized (errors) { errors.add(e); } return null; }).join();
        }
      }
      while (!outstanding.isEmpty()) {
        outstanding.poll().exceptionally(e -> { synchronized (errors) { errors.add(e); } return null; }).join();
      }
    }
    double pubSecs = (System.nanoTime() - start) / 1e9;
    ObjectNode r = BenchCommand.report("client publish", published, pubSecs, common);
    CountDownLatch all = new CountDownLatch((int) Math.min(Integer.MAX_VALUE, published));
    Consumer consumer = new Consumer(common.topic, "bench_client", cfg.maxInFlight(maxInFlight), m -> all.countDown());
    long subStart = System.nanoTime();
    consumer.connectToNsqd(address);
    boolean complete = all.await(Math.max(60, (long) (pubSecs * 10)), TimeUnit.SECONDS);
    double subSecs = (System.nanoTime() - subStart) / 1e9;
    consumer.stop();
    long consumed = published - all.getCount();
    BenchCommand.report("client consume", consumed, subSecs, common);
    r.put("published", published).put("consumed", consumed).put("consume_seconds", subSecs)
        .put("consume_msgs_per_sec", consumed / subSecs).put("batch_size", batchSize).put("max_in_flight", maxInFlight);
    if (!complete) errors.add(new IllegalStateException("only " + consumed + " of " + published + " consumed"));
    return BenchCommand.finish(r, common, errors);
  }
}
