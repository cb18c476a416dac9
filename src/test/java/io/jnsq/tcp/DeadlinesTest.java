package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Connections that never speak, or never read, do not hold on to the node forever. */
class DeadlinesTest {
  private static Node node;

  // --client-timeout 2s: the first deadline (and the default heartbeat, 1 s) comes quickly.
  @BeforeAll static void start() { node = TestNodes.start(Map.of("client-timeout", "2s")); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  @Test
  void aClientThatConnectsAndSaysNothingIsDropped() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", node.tcpAddress().getPort()));
      s.setSoTimeout(10_000);
      long start = System.nanoTime();
      InputStream in = s.getInputStream();
      try {
        while (in.read() >= 0) { /* heartbeats, if any, then the close */ }
      } catch (java.net.SocketException reset) {
        // dropped without a goodbye: just as good
      }
      assertTrue(System.nanoTime() - start < 9_000_000_000L, "closed by the node, well before our own timeout");
    }
  }

  @Test
  void aConsumerThatStopsReadingIsDisconnectedAndItsMessagesGoElsewhere() throws Exception {
    String topic = "deadline_slow";
    byte[] big = new byte[64 * 1024];
    try (NsqTestClient producer = NsqTestClient.connect(node.tcpAddress());
         Socket slow = new Socket()) {
      slow.setReceiveBufferSize(4096);
      slow.connect(new InetSocketAddress("127.0.0.1", node.tcpAddress().getPort()));
      slow.getOutputStream().write(("  V2SUB " + topic + " ch\nRDY 2500\n").getBytes(StandardCharsets.US_ASCII));
      slow.getOutputStream().flush();
      // Fill the socket buffers: a consumer that never reads stalls the node's writes to it.
      for (int i = 0; i < 100; i++) {
        producer.withBody("PUB " + topic, big);
        assertEquals("[0] OK", producer.read().toString());
      }
      // The write deadline (one heartbeat interval, 1 s here) ends the stalled connection; its in-flight
      // messages are requeued at once and reach a consumer that reads.
      try (NsqTestClient reader = NsqTestClient.connect(node.tcpAddress())) {
        reader.setTimeout(15_000);
        reader.line("SUB " + topic + " ch").line("RDY 200");
        assertEquals("[0] OK", reader.read().toString());
        int got = 0;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (got < 100 && System.nanoTime() < deadline) {
          NsqTestClient.Frame f = reader.readRaw();
          if (f.type() == 0 && f.text().equals("_heartbeat_")) {
            reader.line("NOP");   // as every client does; with a 1 s heartbeat this matters here
            continue;
          }
          assertEquals(2, f.type(), f.toString());
          reader.line("FIN " + f.id());
          got++;
        }
        assertEquals(100, got);
      }
    }
  }
}
