package io.jnsq.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.app.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The load generators run briefly against a real node and count exactly; figures are never asserted. */
class BenchSmokeTest {
  private static Node node;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    node = Node.start(Node.loadConfig(null, Map.of("jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath(), "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0", "jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0",
        "jnsq.mem-queue-size", 1_000_000, "pekko.loglevel", "WARNING"))).toCompletableFuture().join();
  }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private JsonNode run(String... args) throws Exception {
    Path out = dir.resolve("result-" + System.nanoTime() + ".json");
    String[] all = new String[args.length + 6];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--tcp-address";
    all[args.length + 1] = "127.0.0.1:" + node.tcpAddress().getPort();
    all[args.length + 2] = "--http-address";
    all[args.length + 3] = "127.0.0.1:" + node.httpAddress().getPort();
    all[args.length + 4] = "--json";
    all[args.length + 5] = out.toString();
    assertEquals(0, new CommandLine(new BenchCommand()).execute(all));
    return BenchCommand.JSON.readTree(Files.readString(out));
  }

  @Test
  void publishThenConsumeCountsEveryMessage() throws Exception {
    JsonNode pub = run("pub", "--topic", "smoke", "--runfor", "1s", "--concurrency", "2", "--batch-size", "50", "--count", "20000");
    long sent = pub.path("messages").asLong();
    assertTrue(sent > 0 && sent <= 20000 && sent % 50 == 0, "whole acknowledged batches: " + sent);
    assertTrue(pub.path("msgs_per_sec").asDouble() > 0);
    assertTrue(pub.path("node_heap_used_bytes").asLong() > 0, "node memory read from /stats");
    JsonNode sub = run("sub", "--topic", "smoke", "--channel", "ch", "--runfor", "30s", "--concurrency", "1", "--count", String.valueOf(sent));
    assertEquals(sent, sub.path("messages").asLong(), "the whole backlog, exactly");
    assertTrue(sub.path("msgs_per_sec").asDouble() > 0);
  }

  @Test
  void clientBenchReadsBackEverythingItPublished() throws Exception {
    JsonNode r = run("client", "--topic", "smoke_client", "--runfor", "1s", "--count", "5000", "--window", "500");
    assertEquals(5000, r.path("published").asLong());
    assertEquals(5000, r.path("consumed").asLong(), "every message read back");
    assertTrue(r.path("msgs_per_sec").asDouble() > 0 && r.path("consume_msgs_per_sec").asDouble() > 0);
  }

  @Test
  void endToEndReportsLatencyForEveryDelivery() throws Exception {
    JsonNode e2e = run("e2e", "--topic", "smoke_e2e", "--runfor", "1s", "--concurrency", "1", "--batch-size", "10", "--rate", "2000", "--warmup", "200ms");
    assertTrue(e2e.path("published").asLong() > 0);
    assertEquals(e2e.path("expected_deliveries").asLong(), e2e.path("messages").asLong(), "every published message delivered");
    assertTrue(e2e.path("latency_p50_ms").asDouble() > 0);
  }
}
