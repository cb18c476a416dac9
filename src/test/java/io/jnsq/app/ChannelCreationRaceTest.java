package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.tcp.NsqTestClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Channels created while a producer publishes: a channel gets every message whose publish was
 * answered after the channel's creation was, however the two interleave inside the node.
 */
class ChannelCreationRaceTest {

  @Test
  void aChannelMissesNoMessageAcknowledgedAfterItWasCreated(@TempDir Path dir) throws Exception {
    Node node = RestartTest.start(dir, Map.of());
    try {
      assertEquals(200, NodeClient.post(node.httpAddress(), "/topic/create?topic=race", "").statusCode());
      assertEquals(200, NodeClient.post(node.httpAddress(), "/channel/create?topic=race&channel=first", "").statusCode());
      AtomicInteger acked = new AtomicInteger();
      int total = 3000;
      Thread producer = new Thread(() -> {
        try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
          for (int i = 0; i < total; i++) {
            c.withBody("PUB race", ("m" + i).getBytes());
            if (!c.read().text().equals("OK")) return;
            acked.incrementAndGet();
          }
        } catch (Exception e) {
          // the assertions below tell
        }
      });
      producer.start();
      List<Integer> createdAt = new ArrayList<>();
      for (int k = 0; k < 8 && acked.get() < total; k++) {
        assertEquals(200, NodeClient.post(node.httpAddress(), "/channel/create?topic=race&channel=c" + k, "").statusCode());
        createdAt.add(acked.get());   // every publish answered from here on must reach c<k>
        Thread.sleep(20);
      }
      producer.join(60_000);
      assertEquals(total, acked.get());
      for (int k = 0; k < createdAt.size(); k++) {
        Set<String> got = new HashSet<>();
        for (NodeClient.Received r : NodeClient.drain(node.tcpAddress(), "race", "c" + k, 1000, total)) got.add(r.frame().body());
        // The publish in flight while the channel was created may or may not be in it.
        for (int i = createdAt.get(k) + 1; i < total; i++) assertTrue(got.contains("m" + i), "c" + k + " lacks m" + i);
      }
      assertEquals(total, NodeClient.drain(node.tcpAddress(), "race", "first", 1000, total + 10).size());
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }
}
