package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.storage.MemoryStorage;
import io.jnsq.tcp.NsqTestClient;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A full disk and a corrupt segment: errors where nsqd gives them, no crash, nothing accepted lost. */
class DiskFaultsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Node start(MemoryStorage storage, Map<String, Object> extra) {
    Map<String, Object> all = new HashMap<>(Map.of("jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0", "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0",
        "jnsq.mem-queue-size", 0, "jnsq.sync-timeout", "100ms", "pekko.loglevel", "OFF"));
    extra.forEach((k, v) -> all.put("jnsq." + k, v));
    return Node.start(Node.loadConfig(null, all), storage).toCompletableFuture().join();
  }

  @Test
  void aFullDiskFailsPublishesKeepsConsumersServedAndRecoversOnceSpaceIsFree() throws Exception {
    MemoryStorage storage = new MemoryStorage();
    Node node = start(storage, Map.of());
    try {
      var http = node.httpAddress();
      assertEquals(200, NodeClient.post(http, "/topic/create?topic=t", "").statusCode());
      assertEquals(200, NodeClient.post(http, "/channel/create?topic=t&channel=c", "").statusCode());
      String body = "x".repeat(100);
      storage.setCapacity(storage.used() + 20_000);
      int accepted = 0;
      int status = 200;
      for (int i = 0; i < 1000 && status == 200; i++) {
        status = NodeClient.post(http, "/pub?topic=t", body).statusCode();
        if (status == 200) accepted++;
      }
      assertEquals(500, status, "HTTP publish to a full disk");
      assertTrue(accepted > 10, "some fit: " + accepted);
      var ping = NodeClient.get(http, "/ping");
      assertEquals(500, ping.statusCode());
      assertTrue(ping.body().startsWith("NOK - "), "nsqd's plain health text: " + ping.body());
      assertTrue(ping.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), ping.headers().toString());
      try (NsqTestClient producer = NsqTestClient.connect(node.tcpAddress())) {
        producer.withBody("PUB t", body.getBytes());
        NsqTestClient.Frame f = producer.read();
        assertEquals(1, f.type());
        assertTrue(f.text().startsWith("E_PUB_FAILED PUB failed"), f.text());
      }
      // Consumers are still served everything that was accepted.
      assertEquals(accepted, NodeClient.drain(node.tcpAddress(), "t", "c", 1500, 100_000).size());
      storage.setCapacity(Long.MAX_VALUE);
      int after = 0;
      for (int i = 0; i < 100 && after == 0; i++) {
        if (NodeClient.post(http, "/pub?topic=t", body).statusCode() == 200) after++; else Thread.sleep(50);
      }
      assertEquals(1, after, "publishing works again once there is space");
      assertEquals(200, NodeClient.get(http, "/ping").statusCode());
      assertEquals(1, NodeClient.drain(node.tcpAddress(), "t", "c", 1000, 10).size());
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aDurableNodeRefusesWhatItCannotFsyncAndRecoversOnceSpaceIsFree() throws Exception {
    MemoryStorage storage = new MemoryStorage();
    Node node = start(storage, Map.of("durable", true));
    try {
      var http = node.httpAddress();
      assertEquals(200, NodeClient.post(http, "/topic/create?topic=t", "").statusCode());
      assertEquals(200, NodeClient.post(http, "/channel/create?topic=t&channel=c", "").statusCode());
      String body = "y".repeat(100);
      storage.setCapacity(storage.used() + 20_000);
      int accepted = 0;
      int status = 200;
      for (int i = 0; i < 1000 && status == 200; i++) {
        status = NodeClient.post(http, "/pub?topic=t", body).statusCode();
        if (status == 200) accepted++;
      }
      assertEquals(500, status, "a durable publish that cannot be fsync'd is refused");
      storage.setCapacity(Long.MAX_VALUE);
      int after = 0;
      for (int i = 0; i < 100 && after == 0; i++) {
        if (NodeClient.post(http, "/pub?topic=t", body).statusCode() == 200) after++; else Thread.sleep(50);
      }
      assertEquals(1, after, "durable publishing works again once there is space");
      // Exactly what was acknowledged is delivered: nothing refused shows up.
      assertEquals(accepted + 1, NodeClient.drain(node.tcpAddress(), "t", "c", 1500, 100_000).size());
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aCorruptSegmentIsSkippedCountedAndTheRestDelivered(@TempDir Path dir) throws Exception {
    Node a = RestartTest.start(dir, Map.of("mem-queue-size", 0, "max-bytes-per-file", 4096));
    StringBuilder mpub = new StringBuilder();
    for (int i = 0; i < 500; i++) mpub.append(String.format("message-%04d%n", i));
    assertEquals(200, NodeClient.post(a.httpAddress(), "/topic/create?topic=t", "").statusCode());
    assertEquals(200, NodeClient.post(a.httpAddress(), "/channel/create?topic=t&channel=c", "").statusCode());
    assertEquals(200, NodeClient.post(a.httpAddress(), "/mpub?topic=t", mpub.toString()).statusCode());
    a.stop().toCompletableFuture().join();

    List<Path> segments;
    try (Stream<Path> s = Files.list(dir)) {
      segments = s.filter(p -> p.getFileName().toString().startsWith("t.log.")).sorted().toList();
    }
    assertTrue(segments.size() >= 3, "several segments: " + segments);
    try (RandomAccessFile f = new RandomAccessFile(segments.get(1).toFile(), "rw")) {
      f.seek(500);
      f.write(new byte[] {0x7f, 0x13, 0x00, 0x42, 0x11, 0x22});   // garbage over a record
      f.setLength(f.length() - 7);                                  // and a torn end
    }

    Node b = RestartTest.start(dir, Map.of("mem-queue-size", 0, "max-bytes-per-file", 4096));
    try {
      List<NodeClient.Received> got = NodeClient.drain(b.tcpAddress(), "t", "c", 1500, 1000);
      assertTrue(got.size() > 450 && got.size() < 500, "most messages survive, the damaged ones are skipped: " + got.size());
      assertEquals("message-0499", got.get(got.size() - 1).body().trim(), "delivery goes on past the damage");
      JsonNode stats = JSON.readTree(NodeClient.get(b.httpAddress(), "/stats?format=json").body());
      JsonNode channel = stats.path("topics").get(0).path("channels").get(0);
      assertTrue(channel.path("backend_corrupt_count").asLong() >= 1, channel.toString());
      assertEquals(0, channel.path("depth").asLong());
    } finally {
      b.stop().toCompletableFuture().join();
    }
  }
}
