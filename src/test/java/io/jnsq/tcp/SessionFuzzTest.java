package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Throws mutated command streams at a live node over TCP (a fixed number of seeded inputs, so CI runs the
 * same cases every time) and checks that it keeps serving: a well-behaved producer and consumer running
 * alongside lose nothing and see only their own frames.
 */
class SessionFuzzTest {
  private static final int CONNECTIONS = 300;
  private static Node node;

  @BeforeAll static void start() { node = TestNodes.start(Map.of("max-msg-size", "4096", "max-body-size", "65536")); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static final List<String> SEEDS = List.of(
      "IDENTIFY\n", "SUB fuzz ch\n", "SUB fuzz ch#ephemeral\n", "RDY 5\n", "RDY\n", "RDY 99999\n", "FIN 0123456789abcdef\n",
      "REQ 0123456789abcdef 10\n", "TOUCH 0123456789abcdef\n", "CLS\n", "NOP\n", "PUB fuzz\n", "MPUB fuzz\n",
      "DPUB fuzz 10\n", "AUTH\n", "PUB fuzz#ephemeral\n", "\r\n", " \n", "SUB  \n");

  private static byte[] randomStream(Random r) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int commands = 1 + r.nextInt(8);
    for (int i = 0; i < commands; i++) {
      byte[] line = SEEDS.get(r.nextInt(SEEDS.size())).getBytes(StandardCharsets.US_ASCII);
      b.write(line, 0, line.length);
      if (line[0] == 'P' || line[0] == 'M' || line[0] == 'D' || line[0] == 'I' || line[0] == 'A') {
        int size = switch (r.nextInt(6)) {
          case 0 -> 0;
          case 1 -> -1 - r.nextInt(1000);
          case 2 -> r.nextInt(70000);
          case 3 -> Integer.MAX_VALUE;
          default -> 1 + r.nextInt(64);
        };
        b.write(new byte[] {(byte) (size >>> 24), (byte) (size >>> 16), (byte) (size >>> 8), (byte) size}, 0, 4);
        int actual = Math.max(0, Math.min(size, 200 + r.nextInt(200)));
        byte[] body = new byte[actual];
        r.nextBytes(body);
        if (line[0] == 'I' && r.nextBoolean()) body = "{\"heartbeat_interval\":1000}".getBytes(StandardCharsets.US_ASCII);
        b.write(body, 0, body.length);
      }
    }
    byte[] bytes = b.toByteArray();
    int flips = r.nextInt(4);
    for (int i = 0; i < flips && bytes.length > 0; i++) bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
    return bytes;
  }

  @Test
  void nodeSurvivesMutatedStreamsAndLosesNothingAccepted() throws Exception {
    Random r = new Random(20261124L);
    Set<String> published = new HashSet<>();
    try (NsqTestClient producer = NsqTestClient.connect(node.tcpAddress())) {
      for (int i = 0; i < CONNECTIONS; i++) {
        try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
          c.setTimeout(2000);
          c.send(randomStream(r));
          drainQuietly(c);
        } catch (IOException closedOrReset) {
          // the node may close a bad connection before we finish writing: that is expected
        }
        if (i % 20 == 0) {
          String body = "kept-" + i;
          producer.withBody("PUB fuzz_witness", body.getBytes(StandardCharsets.US_ASCII));
          assertEquals("[0] OK", producer.read().toString());
          published.add(body);
        }
      }
    }
    try (NsqTestClient consumer = NsqTestClient.connect(node.tcpAddress())) {
      consumer.line("SUB fuzz_witness ch").line("RDY 100");
      assertEquals("[0] OK", consumer.read().toString());
      Set<String> got = new HashSet<>();
      while (got.size() < published.size()) {
        NsqTestClient.Frame f = consumer.read();
        assertEquals(2, f.type(), f.toString());
        got.add(f.body());
        consumer.line("FIN " + f.id());
      }
      assertEquals(published, got);
      assertTrue(consumer.quietFor(200));
    }
  }

  private static void drainQuietly(NsqTestClient c) throws IOException {
    c.setTimeout(150);
    try {
      for (int i = 0; i < 20; i++) c.readRaw();
    } catch (IOException end) {
      // closed by the node, or quiet: either way this connection is done
    }
  }
}
