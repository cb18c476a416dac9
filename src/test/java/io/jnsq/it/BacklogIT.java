package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 20M-message backlog (4 GB of 200-byte bodies) under bin/jnsq's default JVM options and a
 * --mem-queue-size that would once have kept it all on the heap: no OutOfMemoryError, memory bounded by
 * the log's byte budget, every message delivered.
 */
class BacklogIT {
  private static final long MESSAGES = 20_000_000;
  /** The 1 GB heap's maximum and the log's default budget (a quarter of it) bound what can be resident. */
  private static final long RSS_LIMIT = 1536L << 20;

  @Test
  void twentyMillionMessagesWaitInTheLogWithBoundedMemoryAndAreAllDelivered(@TempDir Path dir) throws Exception {
    List<String> jvm = List.of("-Xms64m", "-Xmx1g", "-Xmn32m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");
    try (NodeProcess node = NodeProcess.start(dir, jvm, List.of("--mem-queue-size", "10000000"))) {
      assertEquals(200, node.post("/topic/create?topic=backlog", "").statusCode());
      assertEquals(200, node.post("/channel/create?topic=backlog&channel=later", "").statusCode());
      AtomicLong maxRss = new AtomicLong();
      AtomicBoolean sampling = new AtomicBoolean(true);
      Thread sampler = new Thread(() -> {
        while (sampling.get()) {
          try {
            maxRss.accumulateAndGet(node.rssBytes(), Math::max);
            Thread.sleep(200);
          } catch (Exception e) {
            return;
          }
        }
      });
      sampler.setDaemon(true);
      sampler.start();
      long t0 = System.nanoTime();
      long published = Load.bulkPublish(node.tcp, "backlog", MESSAGES, 200, 200, 4, t0 + TimeUnit.MINUTES.toNanos(4));
      long t1 = System.nanoTime();
      assertEquals(MESSAGES, published, "every publish acknowledged within the time bound");
      JsonNode stats = new ObjectMapper().readTree(node.get("/stats?format=json&topic=backlog").body());
      JsonNode topic = stats.path("topics").get(0);
      JsonNode channel = topic.path("channels").get(0);
      long depth = topic.path("depth").asLong() + channel.path("depth").asLong() + channel.path("in_flight_count").asLong();
      long onDisk = topic.path("backend_depth").asLong() + channel.path("backend_depth").asLong();
      long rssAfterPublish = node.rssBytes();
      long delivered = Load.drain(node.tcp, "backlog", "later", 5000, MESSAGES, null);
      long t2 = System.nanoTime();
      sampling.set(false);
      sampler.join();
      System.out.printf("backlog: %d published in %.1f s (%.0f msg/s), depth %d of which %d on disk, RSS after "
          + "publish %d MB, drained %d in %.1f s (%.0f msg/s), max RSS %d MB%n", published, (t1 - t0) / 1e9,
          published / ((t1 - t0) / 1e9), depth, onDisk,
          rssAfterPublish >> 20, delivered, (t2 - t1) / 1e9, delivered / ((t2 - t1) / 1e9), maxRss.get() >> 20);
      assertEquals(MESSAGES, depth, "topic and channel together hold every message: " + topic);
      assertEquals(0, topic.path("depth").asLong(), "a topic with a channel holds nothing itself, as in nsqd");
      assertTrue(onDisk >= MESSAGES / 2, "most of the backlog is read back from the log's files: " + topic);
      assertEquals(MESSAGES, delivered);
      assertTrue(maxRss.get() <= RSS_LIMIT, "RSS stayed under 1.5 GB: " + (maxRss.get() >> 20) + " MB");
    }
  }
}
