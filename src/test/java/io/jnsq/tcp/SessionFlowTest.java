package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Publishing and consuming over real TCP, checked frame by frame against nsqd's transcript. */
class SessionFlowTest {
  private static Node node;

  @BeforeAll static void start() { node = TestNodes.start(Map.of("msg-timeout", "1s")); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }

  @Test
  void identifyWithFeatureNegotiationAnswersNsqdsJson() throws Exception {
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      c.withBody("IDENTIFY", ascii("{\"client_id\": \"probe\", \"hostname\": \"probe\", \"feature_negotiation\": true, "
          + "\"user_agent\": \"tcp-probe/0.1\", \"heartbeat_interval\": 30000}"));
      NsqTestClient.Frame f = c.read();
      assertEquals(0, f.type());
      assertEquals("{\"max_rdy_count\":2500,\"version\":\"1.3.0\",\"max_msg_timeout\":900000,\"msg_timeout\":1000,"
          + "\"tls_v1\":false,\"deflate\":false,\"deflate_level\":6,\"max_deflate_level\":6,\"snappy\":false,"
          + "\"sample_rate\":0,\"auth_required\":false,\"output_buffer_size\":16384,\"output_buffer_timeout\":250}", f.text());
      c.withBody("IDENTIFY", ascii("{}"));
      assertEquals("[0] OK", c.read().toString());
    }
  }

  @Test
  void publishedMessagesReachASubscriberWithNsqdsFrameLayout() throws Exception {
    String topic = "flow_layout";
    try (NsqTestClient p = NsqTestClient.connect(node.tcpAddress());
         NsqTestClient s = NsqTestClient.connect(node.tcpAddress())) {
      p.withBody("PUB " + topic, ascii("hello"));
      assertEquals("[0] OK", p.read().toString());
      p.withBody("MPUB " + topic, NsqTestClient.mpubBody("a", "bb"));
      assertEquals("[0] OK", p.read().toString());
      long before = System.currentTimeMillis() * 1_000_000L;
      s.line("SUB " + topic + " ch");
      assertEquals("[0] OK", s.read().toString());
      s.line("RDY 10");
      NsqTestClient.Frame m1 = s.read();
      NsqTestClient.Frame m2 = s.read();
      NsqTestClient.Frame m3 = s.read();
      assertEquals(2, m1.type());
      assertEquals(35, m1.data().length + 4, "size = 4 + 8 + 2 + 16 + 5");
      assertEquals("hello", m1.body());
      assertEquals("a", m2.body());
      assertEquals("bb", m3.body());
      assertEquals(1, m1.attempts());
      assertTrue(m1.id().matches("[0-9a-f]{16}"), m1.id());
      assertTrue(m1.timestamp() > before - 60_000_000_000L && m1.timestamp() < before + 60_000_000_000L);
      Set<String> ids = new HashSet<>(Set.of(m1.id(), m2.id(), m3.id()));
      assertEquals(3, ids.size());

      // REQ 0: redelivered at once with attempts 2; FIN completes it.
      s.line("FIN " + m1.id()).line("REQ " + m2.id() + " 0");
      NsqTestClient.Frame again = s.read();
      assertEquals(m2.id(), again.id());
      assertEquals(2, again.attempts());
      s.line("FIN " + again.id()).line("FIN " + m3.id());
      s.line("FIN " + m1.id());
      assertEquals("[1] E_FIN_FAILED FIN " + m1.id() + " failed ID not in flight", s.read().toString());
      s.line("CLS");
      assertEquals("[0] CLOSE_WAIT", s.read().toString());
    }
  }

  @Test
  void unfinishedMessageTimesOutAndComesBackWithAnotherAttempt() throws Exception {
    String topic = "flow_timeout";
    try (NsqTestClient s = NsqTestClient.connect(node.tcpAddress())) {
      s.line("SUB " + topic + " ch");
      assertEquals("[0] OK", s.read().toString());
      s.withBody("PUB " + topic, ascii("slow"));
      assertEquals("[0] OK", s.read().toString());
      s.line("RDY 1");
      NsqTestClient.Frame first = s.read();
      assertEquals(1, first.attempts());
      NsqTestClient.Frame second = s.read();   // msg-timeout is 1s on this node
      assertEquals(first.id(), second.id());
      assertEquals(2, second.attempts());
      s.line("TOUCH " + second.id()).line("FIN " + second.id());
      assertTrue(s.quietFor(300));
    }
  }

  @Test
  void rdyBoundsWhatIsInFlight() throws Exception {
    String topic = "flow_rdy";
    try (NsqTestClient p = NsqTestClient.connect(node.tcpAddress());
         NsqTestClient s = NsqTestClient.connect(node.tcpAddress())) {
      s.line("SUB " + topic + " ch");
      assertEquals("[0] OK", s.read().toString());
      p.withBody("MPUB " + topic, NsqTestClient.mpubBody("1", "2", "3", "4", "5"));
      assertEquals("[0] OK", p.read().toString());
      assertTrue(s.quietFor(200), "nothing before RDY");
      s.line("RDY 2");
      NsqTestClient.Frame a = s.read();
      NsqTestClient.Frame b = s.read();
      assertTrue(s.quietFor(200), "no more than RDY in flight");
      s.line("FIN " + a.id());
      NsqTestClient.Frame c = s.read();
      assertNotEquals(a.id(), c.id());
      assertTrue(s.quietFor(200));
      s.line("FIN " + b.id()).line("FIN " + c.id());
      s.read();
      s.read();
    }
  }

  @Test
  void disconnectedConsumersMessagesGoToAnotherAtOnce() throws Exception {
    String topic = "flow_disconnect";
    try (NsqTestClient p = NsqTestClient.connect(node.tcpAddress());
         NsqTestClient other = NsqTestClient.connect(node.tcpAddress())) {
      p.withBody("PUB " + topic, ascii("keep me"));
      assertEquals("[0] OK", p.read().toString());
      String id;
      try (NsqTestClient first = NsqTestClient.connect(node.tcpAddress())) {
        first.line("SUB " + topic + " ch").line("RDY 1");
        assertEquals("[0] OK", first.read().toString());
        id = first.read().id();
      }
      other.line("SUB " + topic + " ch").line("RDY 1");
      assertEquals("[0] OK", other.read().toString());
      NsqTestClient.Frame again = other.read();
      assertEquals(id, again.id());
      assertEquals(2, again.attempts());
    }
  }

  @Test
  void deferredPublishArrivesAfterItsDelay() throws Exception {
    String topic = "flow_dpub";
    try (NsqTestClient s = NsqTestClient.connect(node.tcpAddress())) {
      s.line("SUB " + topic + " ch").line("RDY 5");
      assertEquals("[0] OK", s.read().toString());
      long sent = System.nanoTime();
      s.withBody("DPUB " + topic + " 500", ascii("later"));
      assertEquals("[0] OK", s.read().toString());
      NsqTestClient.Frame m = s.read();
      assertEquals("later", m.body());
      assertTrue(System.nanoTime() - sent >= 450_000_000L, "not before its delay");
    }
  }

  @Test
  void heartbeatsGoOutAndASilentClientIsDroppedAfterTwo() throws Exception {
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      c.withBody("IDENTIFY", ascii("{\"heartbeat_interval\":1000}"));
      assertEquals("[0] OK", c.read().toString());
      assertEquals("[0] _heartbeat_", c.readRaw().toString());
      assertTrue(c.closedByServer(), "closed after two missed heartbeats");
    }
  }

  @Test
  void answeringHeartbeatsKeepsTheConnection() throws Exception {
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      c.withBody("IDENTIFY", ascii("{\"heartbeat_interval\":1000}"));
      assertEquals("[0] OK", c.read().toString());
      for (int i = 0; i < 3; i++) {
        assertEquals("[0] _heartbeat_", c.readRaw().toString());
        c.line("NOP");
      }
      c.withBody("PUB alive", ascii("x"));
      assertEquals("[0] OK", c.read().toString());
    }
  }

  @Test
  void repliesToPublishesKeepCommandOrderAcrossTopics() throws Exception {
    try (NsqTestClient p = NsqTestClient.connect(node.tcpAddress())) {
      StringBuilder expected = new StringBuilder();
      java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < 50; i++) {
        byte[] cmd = NsqTestClient.lineWithBody("PUB order_" + (i % 7), ascii("m" + i));
        all.write(cmd, 0, cmd.length);
        expected.append("[0] OK\n");
      }
      byte[] bad = NsqTestClient.lineWithBody("PUB bad*name", ascii("x"));
      all.write(bad, 0, bad.length);
      expected.append("[1] E_BAD_TOPIC PUB topic name \"bad*name\" is not valid\n");
      p.send(all.toByteArray());
      StringBuilder got = new StringBuilder();
      for (int i = 0; i < 51; i++) got.append(p.read()).append('\n');
      assertEquals(expected.toString(), got.toString());
      assertTrue(p.closedByServer());
    }
  }
}
