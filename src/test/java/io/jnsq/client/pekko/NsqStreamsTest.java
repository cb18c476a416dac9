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
import java.util.Optional;
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

  /** The channel's depth (not yet delivered) on the node. */
  static int depth(String topic, String channel) throws Exception {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort()
        + "/stats?format=json&topic=" + topic + "&channel=" + channel)).build(), HttpResponse.BodyHandlers.ofString()).body();
    for (JsonNode t : new ObjectMapper().readTree(body).path("topics")) {
      for (JsonNode c : t.path("channels")) if (c.path("channel_name").asText().equals(channel)) return c.path("depth").asInt();
    }
    return -1;
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
  void aSourceWithoutDemandTakesNoMoreThanItCanHold() throws Exception {
    try (Producer producer = new Producer(tcp)) {
      for (int i = 0; i < 199; i++) producer.publish("slow", "m" + i);
      producer.publish("slow", "m199").get(10, TimeUnit.SECONDS);
    }
    Pair<NsqSource.Control, SinkQueueWithCancel<byte[]>> run =
        NsqSource.bodies("slow", "ch", new ClientConfig().maxInFlight(10), List.of(tcp), List.of())
            .toMat(Sink.<byte[]>queue().withAttributes(Attributes.inputBuffer(1, 1)), Keep.both()).run(system);
    SinkQueueWithCancel<byte[]> queue = run.second();
    for (int i = 0; i < 5; i++) assertTrue(queue.pull().toCompletableFuture().get(10, TimeUnit.SECONDS).isPresent());
    io.jnsq.client.Consumer consumer = run.first().consumer();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (consumer.stats().received() < 5 + 10 && System.nanoTime() < deadline) Thread.sleep(20);   // what it may take
    Thread.sleep(300);   // a chance to take more than it may: a negative check needs some real time
    long received = consumer.stats().received();
    assertTrue(received <= 5 + 10 + 3, "without demand, at most max_in_flight plus a few buffered left nsqd: " + received);
    assertTrue(depth("slow", "ch") >= 200 - received, "the rest waits on nsqd");
    int pulled = 5;
    while (pulled < 200) {
      Optional<byte[]> next = queue.pull().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(next.isPresent());
      pulled++;
    }
    queue.cancel();
    assertEquals(0, depth("slow", "ch"));
  }
}
