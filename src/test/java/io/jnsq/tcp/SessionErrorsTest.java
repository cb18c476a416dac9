package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every error exchange captured from a real nsqd 1.3.0 (samples/tcp-v2-errors.txt): the same frames, and
 * the connection closed exactly where nsqd closes it.
 */
class SessionErrorsTest {
  private static Node node;

  @BeforeAll static void start() { node = TestNodes.start(Map.of()); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  static byte[] identify(String json) { return NsqTestClient.lineWithBody("IDENTIFY", json.getBytes(StandardCharsets.UTF_8)); }

  static byte[] lines(String... lines) { return (String.join("\n", lines) + "\n").getBytes(StandardCharsets.US_ASCII); }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) b.write(p, 0, p.length);
    return b.toByteArray();
  }

  static byte[] pubWithSize(String verb, String topic, int size) {
    return concat(lines(verb + " " + topic), ByteBuffer.allocate(4).putInt(size).array(), new byte[Math.max(0, size)]);
  }

  static Stream<Arguments> exchanges() {
    String t = "cap_t";
    return Stream.of(
        Arguments.of("heartbeat 999", identify("{\"heartbeat_interval\":999}"),
            List.of("[1] E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid"), true),
        Arguments.of("output buffer timeout 24", identify("{\"output_buffer_timeout\":24}"),
            List.of("[1] E_BAD_BODY IDENTIFY output buffer timeout (24) is invalid"), true),
        Arguments.of("output buffer size 63", identify("{\"output_buffer_size\":63}"),
            List.of("[1] E_BAD_BODY IDENTIFY output buffer size (63) is invalid"), true),
        Arguments.of("sample rate 100", identify("{\"sample_rate\":100}"),
            List.of("[1] E_BAD_BODY IDENTIFY sample rate (100) is invalid"), true),
        Arguments.of("msg timeout 999", identify("{\"msg_timeout\":999}"),
            List.of("[1] E_BAD_BODY IDENTIFY msg timeout (999) is invalid"), true),
        Arguments.of("identify size 0", concat(lines("IDENTIFY"), new byte[4]),
            List.of("[1] E_BAD_BODY IDENTIFY invalid body size 0"), true),
        Arguments.of("identify bad json", identify("{nope"),
            List.of("[1] E_BAD_BODY IDENTIFY failed to decode JSON body"), true),
        Arguments.of("unknown command", lines("FOO"), List.of("[1] E_INVALID invalid command FOO"), true),
        Arguments.of("empty line", lines(""), List.of("[1] E_INVALID invalid command "), true),
        Arguments.of("RDY before SUB", lines("RDY 1"), List.of("[1] E_INVALID cannot RDY in current state"), true),
        Arguments.of("FIN before SUB", lines("FIN 0123456789abcdef"), List.of("[1] E_INVALID cannot FIN in current state"), true),
        Arguments.of("CLS before SUB", lines("CLS"), List.of("[1] E_INVALID cannot CLS in current state"), true),
        Arguments.of("SUB twice", lines("SUB " + t + " c", "SUB " + t + " c"),
            List.of("[0] OK", "[1] E_INVALID cannot SUB in current state"), true),
        Arguments.of("SUB one arg", lines("SUB " + t), List.of("[1] E_INVALID SUB insufficient number of parameters"), true),
        Arguments.of("SUB bad topic", lines("SUB a/b c"), List.of("[1] E_BAD_TOPIC SUB topic name \"a/b\" is not valid"), true),
        Arguments.of("SUB bad channel", lines("SUB " + t + " a*b"),
            List.of("[1] E_BAD_CHANNEL SUB channel name \"a*b\" is not valid"), true),
        Arguments.of("RDY -1", lines("SUB " + t + " c", "RDY -1"),
            List.of("[0] OK", "[1] E_INVALID RDY could not parse count -1"), true),
        Arguments.of("RDY 2501", lines("SUB " + t + " c", "RDY 2501"),
            List.of("[0] OK", "[1] E_INVALID RDY count 2501 out of range 0-2500"), true),
        Arguments.of("FIN bad id", lines("SUB " + t + " c", "FIN abc"), List.of("[0] OK", "[1] E_INVALID invalid message ID"), true),
        Arguments.of("FIN unknown id", lines("SUB " + t + " c", "FIN 0123456789abcdef"),
            List.of("[0] OK", "[1] E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight"), false),
        Arguments.of("REQ -5", lines("SUB " + t + " c", "REQ 0123456789abcdef -5"),
            List.of("[0] OK", "[1] E_INVALID REQ could not parse timeout -5"), true),
        Arguments.of("REQ unknown id", lines("SUB " + t + " c", "REQ 0123456789abcdef 0"),
            List.of("[0] OK", "[1] E_REQ_FAILED REQ 0123456789abcdef failed ID not in flight"), false),
        Arguments.of("TOUCH unknown id", lines("SUB " + t + " c", "TOUCH 0123456789abcdef"),
            List.of("[0] OK", "[1] E_TOUCH_FAILED TOUCH 0123456789abcdef failed ID not in flight"), false),
        Arguments.of("non-hex id is just not in flight", lines("SUB " + t + " c", "FIN 0123456789ABCDEZ"),
            List.of("[0] OK", "[1] E_FIN_FAILED FIN 0123456789ABCDEZ failed ID not in flight"), false),
        Arguments.of("CLS twice", lines("SUB " + t + " c", "CLS", "CLS"),
            List.of("[0] OK", "[0] CLOSE_WAIT", "[1] E_INVALID cannot CLS in current state"), true),
        Arguments.of("AUTH with argument", lines("AUTH x"), List.of("[1] E_INVALID AUTH invalid number of parameters"), true),
        Arguments.of("AUTH without auth server", NsqTestClient.lineWithBody("AUTH", "secret".getBytes(StandardCharsets.US_ASCII)),
            List.of("[1] E_AUTH_DISABLED AUTH disabled"), true),
        Arguments.of("PUB bad topic", NsqTestClient.lineWithBody("PUB a/b", new byte[] {'x'}),
            List.of("[1] E_BAD_TOPIC PUB topic name \"a/b\" is not valid"), true),
        Arguments.of("PUB size 0", pubWithSize("PUB", t, 0), List.of("[1] E_BAD_MESSAGE PUB invalid message body size 0"), true),
        Arguments.of("PUB too big", pubWithSize("PUB", t, 1048577),
            List.of("[1] E_BAD_MESSAGE PUB message too big 1048577 > 1048576"), true),
        Arguments.of("MPUB bad topic", NsqTestClient.lineWithBody("MPUB a/b", NsqTestClient.mpubBody("x")),
            List.of("[1] E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"a/b\" is not valid"), true),
        Arguments.of("MPUB count 0", NsqTestClient.lineWithBody("MPUB " + t, new byte[4]),
            List.of("[1] E_BAD_BODY MPUB invalid message count 0"), true),
        Arguments.of("MPUB message(1) size 0", NsqTestClient.lineWithBody("MPUB " + t,
                concat(ByteBuffer.allocate(4).putInt(2).array(), ByteBuffer.allocate(4).putInt(1).array(), new byte[] {'a'},
                    new byte[4])),
            List.of("[1] E_BAD_MESSAGE MPUB invalid message(1) body size 0"), true),
        Arguments.of("DPUB -1", NsqTestClient.lineWithBody("DPUB " + t + " -1", new byte[] {'x'}),
            List.of("[1] E_INVALID DPUB could not parse timeout -1"), true),
        Arguments.of("DPUB out of range", NsqTestClient.lineWithBody("DPUB " + t + " 3600001", new byte[] {'x'}),
            List.of("[1] E_INVALID DPUB timeout 3600001 out of range 0-3600000"), true),
        Arguments.of("IDENTIFY after SUB", concat(lines("SUB " + t + " c"), identify("{}")),
            List.of("[0] OK", "[1] E_INVALID cannot IDENTIFY in current state"), true),
        Arguments.of("SUB with heartbeats disabled", concat(identify("{\"heartbeat_interval\":-1}"), lines("SUB " + t + " c")),
            List.of("[0] OK", "[1] E_INVALID cannot SUB with heartbeats disabled"), true),
        Arguments.of("RDY ignored while closing", lines("SUB " + t + " c", "CLS", "RDY -1", "NOP"),
            List.of("[0] OK", "[0] CLOSE_WAIT"), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exchanges")
  void answersAsNsqdDoes(String name, byte[] sent, List<String> expected, boolean closes) throws Exception {
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      c.send(sent);
      List<String> got = new ArrayList<>();
      for (int i = 0; i < expected.size(); i++) got.add(c.read().toString());
      assertEquals(expected, got);
      if (closes) {
        assertTrue(c.closedByServer(), "nsqd closes the connection after " + name);
      } else {
        assertTrue(c.quietFor(300), "connection stays open and says nothing more");
      }
    }
  }

  @Test
  void wrongMagicIsRefusedAndClosed() throws Exception {
    try (NsqTestClient c = new NsqTestClient(node.tcpAddress())) {
      c.send("  V1".getBytes(StandardCharsets.US_ASCII));
      assertEquals("[1] E_BAD_PROTOCOL", c.read().toString());
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void overlongCommandLineDropsTheConnectionSilently() throws Exception {
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      c.send(new byte[20000]);   // no newline within the 16 KiB read buffer
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void aBadClientDoesNotDisturbAnother() throws Exception {
    try (NsqTestClient good = NsqTestClient.connect(node.tcpAddress());
         NsqTestClient bad = NsqTestClient.connect(node.tcpAddress())) {
      good.withBody("PUB isolation", "one".getBytes(StandardCharsets.US_ASCII));
      assertEquals("[0] OK", good.read().toString());
      bad.send(new byte[] {(byte) 0xff, 0x00, '\n', 0x13, 0x37});
      assertTrue(bad.closedByServer());
      good.withBody("PUB isolation", "two".getBytes(StandardCharsets.US_ASCII));
      assertEquals("[0] OK", good.read().toString());
      good.line("SUB isolation c").line("RDY 10");
      assertEquals("[0] OK", good.read().toString());
      assertEquals("one", good.read().body());
      assertEquals("two", good.read().body());
    }
  }
}
