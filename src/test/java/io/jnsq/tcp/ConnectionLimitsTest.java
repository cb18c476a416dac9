package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** --max-connections, and a connection that only ever sends NOPs is dropped after --client-timeout. */
class ConnectionLimitsTest {
  private static final byte[] EMPTY_IDENTIFY = "{}".getBytes(StandardCharsets.UTF_8);

  @Test
  void connectionsBeyondTheLimitAreClosedAndAFreedPlaceCanBeTaken() throws Exception {
    Node node = TestNodes.start(new HashMap<>(Map.of("max-connections", 2)));
    try (NsqTestClient a = NsqTestClient.connect(node.tcpAddress()); NsqTestClient b = NsqTestClient.connect(node.tcpAddress())) {
      assertEquals("OK", a.withBody("IDENTIFY", EMPTY_IDENTIFY).read().text());
      assertEquals("OK", b.withBody("IDENTIFY", EMPTY_IDENTIFY).read().text());
      try (NsqTestClient third = NsqTestClient.connect(node.tcpAddress())) {
        assertTrue(third.closedByServer(), "a third connection is closed at once");
      }
      a.close();
      boolean admitted = false;
      for (int i = 0; i < 50 && !admitted; i++) {
        try (NsqTestClient again = NsqTestClient.connect(node.tcpAddress())) {
          admitted = "OK".equals(again.withBody("IDENTIFY", EMPTY_IDENTIFY).read().text());
        } catch (java.io.IOException refused) {
          Thread.sleep(50);
        }
      }
      assertTrue(admitted, "once a connection is gone, another is admitted");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aConnectionThatOnlySendsNopsIsDroppedButAProducerIsNot() throws Exception {
    Node node = TestNodes.start(new HashMap<>(Map.of("client-timeout", "1s")));
    AtomicBoolean stop = new AtomicBoolean();
    try (NsqTestClient idle = NsqTestClient.connect(node.tcpAddress());
         NsqTestClient producer = NsqTestClient.connect(node.tcpAddress())) {
      assertEquals("OK", producer.withBody("PUB limits", "x".getBytes()).read().text());
      // NOPs keep both read deadlines alive: only the idle check can close the first connection.
      Thread nops = new Thread(() -> {
        for (int i = 0; i < 100 && !stop.get(); i++) {
          try {
            Thread.sleep(150);
            producer.line("NOP");
            idle.line("NOP");
          } catch (Exception e) {
            // the idle connection is gone
          }
        }
      });
      nops.start();
      assertTrue(idle.closedByServer(), "the NOP-only connection was dropped");
      stop.set(true);
      nops.join();   // one writer per socket from here on
      assertEquals("OK", producer.withBody("PUB limits", "y".getBytes()).read().text(), "the producer stays");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aRefusedClientThatSentTheMagicLearnsWhyBeforeTheClose() throws Exception {
    Node node = TestNodes.start(new HashMap<>(Map.of("max-connections", 1)));
    try (NsqTestClient a = NsqTestClient.connect(node.tcpAddress())) {
      assertEquals("OK", a.withBody("IDENTIFY", EMPTY_IDENTIFY).read().text());
      try (NsqTestClient refused = NsqTestClient.connect(node.tcpAddress())) {
        NsqTestClient.Frame f = refused.readRaw();
        assertEquals(1, f.type());
        assertTrue(f.text().startsWith("E_TOO_MANY_CONNECTIONS"), f.text());
        assertTrue(refused.closedByServer());
      }
      try (NsqTestClient scanner = new NsqTestClient(node.tcpAddress())) {
        scanner.send("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(scanner.closedByServer(), "no magic: closed without a frame");
      }
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void nothingIsSentBeforeTheMagic() throws Exception {
    // Heartbeats every 250 ms (half the client timeout) for clients that spoke V2.
    Node node = TestNodes.start(new HashMap<>(Map.of("client-timeout", "500ms")));
    try (NsqTestClient silent = new NsqTestClient(node.tcpAddress());
         NsqTestClient talker = NsqTestClient.connect(node.tcpAddress())) {
      assertEquals("_heartbeat_", talker.readRaw().text(), "a V2 client gets heartbeats");
      assertThrows(java.io.IOException.class, silent::readRaw, "not a byte to the silent one, then the close");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }
}
