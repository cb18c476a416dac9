package io.jnsq.client.pekko;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Producer;
import io.jnsq.tcp.TestNodes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Pekko Streams adapters: a sink that publishes, a source whose pace is downstream's. */
class NsqStreamsTest {
  private static Node node;
  private static String tcp;
  private static ActorSystem system;

  @BeforeAll
  static void start() {
    node = TestNodes.start(new HashMap<>());
    tcp = "127.0.0.1:" + node.tcpAddress().getPort();
    system = ActorSystem.create("streams-test");
  }

  @AfterAll
  static void stop() {
    system.terminate();
    node.stop().toCompletableFuture().join();
  }

  /** The channel's entry in the node's /stats (depth, in_flight_count, clients[].ready_count). */
  static JsonNode channelStats(String topic, String channel) throws Exception {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort()
        + "/stats?format=json&topic=" + topic + "&channel=" + channel)).build(), HttpResponse.BodyHandlers.ofString()).body();
    for (JsonNode t : new ObjectMapper().readTree(body).path("topics")) {
      for (JsonNode c : t.path("channels")) if (c.path("channel_name").asText().equals(channel)) return c;
    }
    throw new AssertionError("no channel " + topic + "/" + channel + " in " + body);
  }

  static int depth(String topic, String channel) throws Exception {
    return channelStats(topic, channel).path("depth").asInt();
  }

  /** The RDY nsqd holds for the channel's one client, -1 without a client. */
  static int readyCount(JsonNode channelStats) {
    JsonNode clients = channelStats.path("clients");
    return clients.size() == 1 ? clients.get(0).path("ready_count").asInt() : -1;
  }

  @Test
  void sinkPublishesAndSourceDeliversEverything() throws Exception {
    try (Producer producer = new Producer(tcp)) {
      Source.range(0, 299).map(i -> ("s" + i).getBytes(StandardCharsets.UTF_8))
          .runWith(NsqSink.create(producer, "streamed", 32), system).toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
    Pair<NsqSource.Control, java.util.concurrent.CompletionStage<List<String>>> run =
        NsqSource.bodies("streamed", "ch", new ClientConfig().maxInFlight(20), List.of(tcp), List.of())
            .map(b -> new String(b, StandardCharsets.UTF_8)).take(300).toMat(Sink.seq(), Keep.both()).run(system);
    List<String> got = run.second().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(300, new HashSet<>(got).size());
    run.first().stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void rdyFollowsDownstreamDemand() throws Exception {
    try (Producer producer = new Producer(tcp)) {
      for (int i = 0; i < 199; i++) producer.publish("slow", "m" + i);
      producer.publish("slow", "m199").get(10, TimeUnit.SECONDS);
    }
    int maxInFlight = 10;
    Pair<NsqSource.Control, SinkQueueWithCancel<io.jnsq.client.Message>> run =
        NsqSource.create("slow", "ch", new ClientConfig().maxInFlight(maxInFlight), List.of(tcp), List.of())
            .toMat(Sink.<io.jnsq.client.Message>queue().withAttributes(Attributes.inputBuffer(1, 1)), Keep.both()).run(system);
    SinkQueueWithCancel<io.jnsq.client.Message> queue = run.second();
    for (int i = 0; i < 5; i++) queue.pull().toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow().finish();

    // downstream stops pulling: the client's RDY on nsqd goes to 0 and nothing more leaves nsqd
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonNode stats = channelStats("slow", "ch");
    while (readyCount(stats) != 0 && System.nanoTime() < deadline) {
      assertTrue(stats.path("in_flight_count").asInt() <= maxInFlight, "in flight: " + stats);
      Thread.sleep(20);
      stats = channelStats("slow", "ch");
    }
    assertEquals(0, readyCount(stats), "a stalled downstream holds RDY 0: " + stats);
    assertEquals(0, run.first().consumer().maxInFlight());
    int heldAtStall = stats.path("in_flight_count").asInt();
    assertTrue(heldAtStall <= maxInFlight, "no more than max_in_flight left nsqd: " + heldAtStall);
    assertTrue(depth("slow", "ch") >= 200 - 5 - maxInFlight, "the rest waits on nsqd");

    // downstream pulls again: RDY goes up again, and everything arrives, never more than max_in_flight out at once
    int pulled = 5;
    int highestInFlight = 0;
    while (pulled < 200) {
      io.jnsq.client.Message m = queue.pull().toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow();
      m.finish();
      pulled++;
      if (pulled % 40 == 0) highestInFlight = Math.max(highestInFlight, channelStats("slow", "ch").path("in_flight_count").asInt());
    }
    assertTrue(highestInFlight <= maxInFlight, "in flight while pulling: " + highestInFlight);
    stats = channelStats("slow", "ch");
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while ((stats.path("depth").asInt() != 0 || stats.path("in_flight_count").asInt() != 0) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      stats = channelStats("slow", "ch");
    }
    assertEquals(0, stats.path("depth").asInt());
    assertEquals(0, stats.path("in_flight_count").asInt(), "every message FINed: " + stats);
    queue.cancel();
    run.first().consumer().stopped().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aFewMessagesWaitingWithNoPullAlsoBringRdyToZero() throws Exception {
    try (Producer producer = new Producer(tcp)) {
      for (int i = 0; i < 2; i++) producer.publish("few", "f" + i);
      producer.publish("few", "f2").get(10, TimeUnit.SECONDS);
    }
    // fewer messages than would make downstream look behind: the stall check sees no pull and lowers RDY
    Pair<NsqSource.Control, SinkQueueWithCancel<byte[]>> run =
        NsqSource.bodies("few", "ch", new ClientConfig().maxInFlight(100), List.of(tcp), List.of())
            .toMat(Sink.<byte[]>queue().withAttributes(Attributes.inputBuffer(1, 1)), Keep.both()).run(system);
    assertTrue(run.second().pull().toCompletableFuture().get(10, TimeUnit.SECONDS).isPresent());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonNode stats = channelStats("few", "ch");
    while (readyCount(stats) != 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
      stats = channelStats("few", "ch");
    }
    assertEquals(0, readyCount(stats), "no pull, messages waiting: RDY 0: " + stats);
    for (int i = 0; i < 2; i++) assertTrue(run.second().pull().toCompletableFuture().get(10, TimeUnit.SECONDS).isPresent());
    run.first().stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void stopEndsTheStreamAndTheConnection() throws Exception {
    try (Producer producer = new Producer(tcp)) {
      producer.publish("idle", "m").get(10, TimeUnit.SECONDS);
    }
    Pair<NsqSource.Control, SinkQueueWithCancel<byte[]>> run =
        NsqSource.bodies("idle", "ch", new ClientConfig().maxInFlight(10), List.of(tcp), List.of())
            .toMat(Sink.<byte[]>queue().withAttributes(Attributes.inputBuffer(1, 1)), Keep.both()).run(system);
    assertEquals("m", new String(run.second().pull().toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow(), StandardCharsets.UTF_8));
    run.first().stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(run.second().pull().toCompletableFuture().get(10, TimeUnit.SECONDS).isEmpty(), "the stream completed");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (channelStats("idle", "ch").path("clients").size() != 0 && System.nanoTime() < deadline) Thread.sleep(20);
    assertEquals(0, channelStats("idle", "ch").path("clients").size(), "stop() closed the connection");
  }
}
