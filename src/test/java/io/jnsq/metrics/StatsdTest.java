package io.jnsq.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.broker.Stats;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.tcp.TestNodes;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The statsd push: nsqd's names and prefix, counters as growth between pushes, gauges, packet size, over real UDP. */
class StatsdTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());
  private static final Duration INTERVAL = Duration.ofSeconds(60);
  private static final int PACKET_SIZE = 120;

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private DatagramSocket statsd;

  @BeforeEach void bind() throws Exception {
    statsd = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    statsd.setSoTimeout(5000);
  }

  @AfterEach void unbind() { statsd.close(); }

  private static Stats.Channel channel(String name, long depth, long inFlight, long messages, long requeued, long timedOut,
      Stats.Latency latency) {
    return new Stats.Channel(name, depth, 0, inFlight, 2, messages, requeued, timedOut, 1, null, false, latency, 0);
  }

  private static Stats.Topic topic(String name, long messages, long bytes, List<Stats.Channel> channels) {
    return new Stats.Topic(name, channels, 4, 1, messages, bytes, false, Stats.Latency.NONE, 0);
  }

  /** The packets of one push: it ends with mem.gc_runs, the last line nsqd sends. */
  private List<String> receivePush() throws Exception {
    List<String> packets = new ArrayList<>();
    byte[] buffer = new byte[65536];
    while (true) {
      DatagramPacket p = new DatagramPacket(buffer, buffer.length);
      statsd.receive(p);
      String packet = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
      packets.add(packet);
      if (packet.contains("mem.gc_runs:")) return packets;
    }
  }

  private static List<String> lines(List<String> packets) {
    List<String> out = new ArrayList<>();
    for (String p : packets) out.addAll(List.of(p.split("\n")));
    return out;
  }

  private void push(TestProbe<TopicRegistry.Command> registry, List<Stats.Topic> stats) {
    time.timePasses(INTERVAL);
    TopicRegistry.GetStats get = registry.expectMessageClass(TopicRegistry.GetStats.class);
    assertEquals(null, get.topic());
    get.replyTo().tell(stats);
  }

  @Test
  void pushesNsqdsNamesWithCountersAsGrowthSinceTheLastPush() throws Exception {
    TestProbe<TopicRegistry.Command> registry = testKit.createTestProbe();
    StatsdPusher.Settings settings = new StatsdPusher.Settings("127.0.0.1", statsd.getLocalPort(), "nsq.host_4151.",
        INTERVAL, true, PACKET_SIZE);
    ActorRef<StatsdPusher.Command> pusher = testKit.spawn(StatsdPusher.create(settings, registry.ref(), MemoryStats.jvm()));
    Stats.Latency latency = new Stats.Latency(7, List.of(new Stats.Quantile(0.99, 2_500_000), new Stats.Quantile(0.5, 900_000)));

    push(registry, List.of(topic("orders", 3, 30, List.of(channel("archive", 3, 0, 3, 1, 0, latency)))));
    List<String> first = receivePush();
    for (String p : first) {
      assertTrue(p.getBytes(StandardCharsets.UTF_8).length <= PACKET_SIZE, "packet over " + PACKET_SIZE + " bytes: " + p);
      assertTrue(p.endsWith("\n"), p);
    }
    assertTrue(first.size() > 3, "lines are spread over several packets: " + first);
    List<String> lines = lines(first);
    assertEquals(List.of(
        "nsq.host_4151.topic.orders.message_count:3|c",
        "nsq.host_4151.topic.orders.message_bytes:30|c",
        "nsq.host_4151.topic.orders.depth:4|g",
        "nsq.host_4151.topic.orders.backend_depth:1|g",
        "nsq.host_4151.topic.orders.channel.archive.message_count:3|c",
        "nsq.host_4151.topic.orders.channel.archive.depth:3|g",
        "nsq.host_4151.topic.orders.channel.archive.backend_depth:0|g",
        "nsq.host_4151.topic.orders.channel.archive.in_flight_count:0|g",
        "nsq.host_4151.topic.orders.channel.archive.deferred_count:2|g",
        "nsq.host_4151.topic.orders.channel.archive.requeue_count:1|c",
        "nsq.host_4151.topic.orders.channel.archive.timeout_count:0|c",
        "nsq.host_4151.topic.orders.channel.archive.clients:1|g",
        "nsq.host_4151.topic.orders.channel.archive.e2e_processing_latency_99:2500000|g",
        "nsq.host_4151.topic.orders.channel.archive.e2e_processing_latency_50:900000|g"), lines.subList(0, 14));
    List<String> mem = new ArrayList<>();
    for (String l : lines.subList(14, lines.size())) mem.add(l.substring(0, l.indexOf(':')));
    assertEquals(List.of("nsq.host_4151.mem.heap_objects", "nsq.host_4151.mem.heap_idle_bytes", "nsq.host_4151.mem.heap_in_use_bytes",
        "nsq.host_4151.mem.heap_released_bytes", "nsq.host_4151.mem.gc_pause_usec_100", "nsq.host_4151.mem.gc_pause_usec_99",
        "nsq.host_4151.mem.gc_pause_usec_95", "nsq.host_4151.mem.next_gc_bytes", "nsq.host_4151.mem.gc_runs"), mem);
    assertTrue(lines.get(16).matches("nsq\\.host_4151\\.mem\\.heap_in_use_bytes:[1-9][0-9]*\\|g"), lines.get(16));

    // Second push: 2 more messages, 1 more timeout, and a new topic that counts from zero.
    push(registry, List.of(
        topic("clicks", 5, 50, List.of()),
        topic("orders", 5, 52, List.of(channel("archive", 1, 2, 5, 1, 1, latency)))));
    List<String> second = lines(receivePush());
    assertTrue(second.contains("nsq.host_4151.topic.clicks.message_count:5|c"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.message_count:2|c"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.message_bytes:22|c"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.channel.archive.message_count:2|c"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.channel.archive.requeue_count:0|c"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.channel.archive.timeout_count:1|c"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.channel.archive.depth:1|g"), second.toString());
    assertTrue(second.contains("nsq.host_4151.topic.orders.channel.archive.in_flight_count:2|g"), second.toString());

    // Third push, nothing new: counters send 0, gauges their value again.
    push(registry, List.of(topic("orders", 5, 52, List.of(channel("archive", 1, 2, 5, 1, 1, latency)))));
    List<String> third = lines(receivePush());
    assertTrue(third.contains("nsq.host_4151.topic.orders.message_count:0|c"), third.toString());
    assertTrue(third.contains("nsq.host_4151.topic.orders.depth:4|g"), third.toString());
    assertFalse(third.toString().contains("clicks"), "a topic gone is no longer sent");
    testKit.stop(pusher);
  }

  @Test
  void withoutMemStatsOnlyTopicsAreSent() throws Exception {
    TestProbe<TopicRegistry.Command> registry = testKit.createTestProbe();
    StatsdPusher.Settings settings = new StatsdPusher.Settings("localhost", statsd.getLocalPort(), "", INTERVAL, false, 508);
    ActorRef<StatsdPusher.Command> pusher = testKit.spawn(StatsdPusher.create(settings, registry.ref(), MemoryStats.jvm()));
    push(registry, List.of(topic("t", 1, 1, List.of())));
    DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
    statsd.receive(p);
    assertEquals("topic.t.message_count:1|c\ntopic.t.message_bytes:1|c\ntopic.t.depth:4|g\ntopic.t.backend_depth:1|g\n",
        new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
    testKit.stop(pusher);
  }

  @Test
  void aNodeWithStatsdAddressPushesUnderItsBroadcastAddressAndHttpPort() throws Exception {
    Node node = TestNodes.start(Map.of("statsd-address", "127.0.0.1:" + statsd.getLocalPort(), "statsd-interval", "100ms",
        "broadcast-address", "127.0.0.1"));
    try {
      HttpRequest pub = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + "/pub?topic=pushed"))
          .POST(HttpRequest.BodyPublishers.ofString("hello")).build();
      assertEquals(200, HttpClient.newHttpClient().send(pub, HttpResponse.BodyHandlers.ofString()).statusCode());
      String expected = "nsq.127_0_0_1_" + node.httpAddress().getPort() + ".topic.pushed.depth:1|g";
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      long published = 0;
      boolean seen = false;
      while (!seen && System.nanoTime() < deadline) {
        for (String line : lines(receivePush())) {
          if (line.equals(expected)) seen = true;
          if (line.startsWith("nsq.127_0_0_1_" + node.httpAddress().getPort() + ".topic.pushed.message_count:")) {
            published += Long.parseLong(line.substring(line.indexOf(':') + 1, line.indexOf('|')));
          }
        }
      }
      assertTrue(seen, "no " + expected);
      assertEquals(1, published, "the growth over all pushes adds up to the one message");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }
}
