package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
