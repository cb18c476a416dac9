package io.jnsq.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import io.jnsq.storage.TestStores;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Three nodes in one JVM form a lookup cluster; each answers nsqlookupd's API for all of them. */
class ClusterLookupTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final List<Node> nodes = new ArrayList<>();

  static Node start(List<String> seeds) {
    Map<String, Object> all = new HashMap<>(Map.of("jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0",
        "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0", "jnsq.broadcast-address", "127.0.0.1",
        "jnsq.data-path", TestStores.freshDataPath(), "jnsq.seed-node", seeds, "pekko.loglevel", "WARNING"));
    return Node.start(Node.loadConfig(null, all)).toCompletableFuture().join();
  }

  static String seedOf(Node n) {
    var a = n.cluster().clusterAddress();
    return a.getHost().get() + ":" + a.getPort().get();
  }

  @BeforeAll
  static void cluster() {
    Node first = start(List.of());
    nodes.add(first);
    nodes.add(start(List.of(seedOf(first))));
    nodes.add(start(List.of(seedOf(first))));
  }

  @AfterAll
  static void stop() {
    for (Node n : nodes) n.stop().toCompletableFuture().join();
  }

  static HttpResponse<String> get(InetSocketAddress at, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(InetSocketAddress at, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Polls {@code path} on {@code at} (at most 30 s) until the answer satisfies {@code ok}; returns it. */
  static HttpResponse<String> await(InetSocketAddress at, String path, Predicate<HttpResponse<String>> ok) throws Exception {
    HttpResponse<String> r = null;
    for (int i = 0; i < 300; i++) {
      r = get(at, path);
      if (ok.test(r)) return r;
      Thread.sleep(100);
    }
    throw new AssertionError(path + " never became as expected; last: " + r.statusCode() + " " + r.body());
  }

  static boolean hasProducer(HttpResponse<String> r, Node n) {
    if (r.statusCode() != 200) return false;
    try {
      for (JsonNode p : JSON.readTree(r.body()).path("producers")) if (p.path("tcp_port").asInt() == n.tcpAddress().getPort()) return true;
    } catch (Exception e) {
      return false;
    }
    return false;
  }

  @Test
  void aTopicOnOneNodeIsFoundThroughEveryNodesLookup() throws Exception {
    Node a = nodes.get(0);
    assertEquals(200, post(a.httpAddress(), "/channel/create?topic=clicks&channel=archive").statusCode() == 404
        ? post(a.httpAddress(), "/topic/create?topic=clicks").statusCode() : 200);
    assertEquals(200, post(a.httpAddress(), "/channel/create?topic=clicks&channel=archive").statusCode());
    for (Node n : nodes) {
      HttpResponse<String> r = await(n.lookupHttpAddress(), "/lookup?topic=clicks",
          x -> hasProducer(x, a) && x.body().contains("\"archive\""));
      JsonNode body = JSON.readTree(r.body());
      assertEquals("[\"archive\"]", body.path("channels").toString());
      JsonNode p = body.path("producers").get(0);
      assertEquals("127.0.0.1", p.path("broadcast_address").asText());
      assertEquals(a.httpAddress().getPort(), p.path("http_port").asInt());
      assertEquals("1.3.0", p.path("version").asText());
      assertEquals(List.of("remote_address", "hostname", "broadcast_address", "tcp_port", "http_port", "version"),
          fieldNames(p));
      assertTrue(await(n.lookupHttpAddress(), "/topics", x -> x.body().contains("clicks")).body().startsWith("{\"topics\":["));
      assertEquals("{\"channels\":[\"archive\"]}", get(n.lookupHttpAddress(), "/channels?topic=clicks").body());
    }
    JsonNode all = JSON.readTree(await(nodes.get(2).lookupHttpAddress(), "/nodes",
        x -> x.body().split("\"tcp_port\"").length - 1 == 3).body());
    assertEquals(3, all.path("producers").size());
  }

  @Test
  void registrationsTombstonesAndErrorsBehaveAsNsqlookupd() throws Exception {
    Node a = nodes.get(0);
    Node b = nodes.get(1);
    Node c = nodes.get(2);
    assertEquals(200, post(b.lookupHttpAddress(), "/topic/create?topic=planned").statusCode());
    assertEquals("{\"channels\":[],\"producers\":[]}",
        await(c.lookupHttpAddress(), "/lookup?topic=planned", x -> x.statusCode() == 200).body());
    assertEquals(200, post(c.lookupHttpAddress(), "/channel/create?topic=planned&channel=later").statusCode());
    await(a.lookupHttpAddress(), "/channels?topic=planned", x -> x.body().contains("later"));
    assertEquals(200, post(a.lookupHttpAddress(), "/channel/delete?topic=planned&channel=later").statusCode());
    assertEquals(200, post(a.lookupHttpAddress(), "/topic/delete?topic=planned").statusCode());
    await(b.lookupHttpAddress(), "/lookup?topic=planned", x -> x.statusCode() == 404);

    post(a.httpAddress(), "/topic/create?topic=retiring");
    await(c.lookupHttpAddress(), "/lookup?topic=retiring", x -> hasProducer(x, a));
    String node = "127.0.0.1:" + a.httpAddress().getPort();
    assertEquals(200, post(b.lookupHttpAddress(), "/topic/tombstone?topic=retiring&node=" + node).statusCode());
    await(c.lookupHttpAddress(), "/lookup?topic=retiring", x -> x.statusCode() == 200 && !hasProducer(x, a));
    String nodesBody = await(c.lookupHttpAddress(), "/nodes", x -> x.body().contains("true")).body();
    assertTrue(nodesBody.contains("\"tombstones\":["), nodesBody);

    InetSocketAddress l = c.lookupHttpAddress();
    assertEquals("{\"message\":\"MISSING_ARG_TOPIC\"}", get(l, "/lookup").body());
    assertEquals(400, get(l, "/lookup").statusCode());
    assertEquals(404, get(l, "/lookup?topic=no_such_topic").statusCode());
    assertEquals("{\"message\":\"TOPIC_NOT_FOUND\"}", get(l, "/lookup?topic=no_such_topic").body());
    assertEquals("{\"message\":\"INVALID_ARG_TOPIC\"}", post(l, "/topic/create?topic=bad!name").body());
    assertEquals("{\"message\":\"MISSING_ARG_CHANNEL\"}", post(l, "/channel/create?topic=t").body());
    assertEquals(404, post(l, "/channel/delete?topic=t&channel=none").statusCode());
    assertEquals("{\"message\":\"MISSING_ARG_NODE\"}", post(l, "/topic/tombstone?topic=t").body());
    assertEquals(405, get(l, "/topic/create?topic=t").statusCode());
    assertEquals("OK", get(l, "/ping").body());
    assertEquals("{\"version\":\"1.3.0\"}", get(l, "/info").body());
  }

  @Test
  void anNsqdRegisteringOverTcpWithOneNodeIsListedByAll() throws Exception {
    Node b = nodes.get(1);
    Node c = nodes.get(2);
    try (java.net.Socket nsqd = new java.net.Socket("127.0.0.1", b.lookupTcpAddress().getPort())) {
      nsqd.setSoTimeout(5000);
      var out = nsqd.getOutputStream();
      var in = new java.io.DataInputStream(nsqd.getInputStream());
      byte[] id = "{\"broadcast_address\":\"legacy-host\",\"hostname\":\"legacy\",\"tcp_port\":14150,\"http_port\":14151,\"version\":\"1.3.0\"}"
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      out.write("  V1IDENTIFY\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(java.nio.ByteBuffer.allocate(4).putInt(id.length).array());
      out.write(id);
      out.write("REGISTER legacy_topic legacy_channel\nPING\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      byte[] reply = new byte[in.readInt()];
      in.readFully(reply);
      JsonNode r = JSON.readTree(reply);
      assertEquals(b.lookupHttpAddress().getPort(), r.path("http_port").asInt());
      assertEquals(b.lookupTcpAddress().getPort(), r.path("tcp_port").asInt());
      for (int i = 0; i < 2; i++) {
        byte[] ok = new byte[in.readInt()];
        in.readFully(ok);
        assertEquals("OK", new String(ok, java.nio.charset.StandardCharsets.US_ASCII));
      }
      HttpResponse<String> found = await(c.lookupHttpAddress(), "/lookup?topic=legacy_topic", x -> x.body().contains("legacy-host"));
      JsonNode p = JSON.readTree(found.body()).path("producers").get(0);
      assertEquals(14150, p.path("tcp_port").asInt());
      assertEquals("legacy", p.path("hostname").asText());
      assertEquals("[\"legacy_channel\"]", JSON.readTree(found.body()).path("channels").toString());
    }
    await(c.lookupHttpAddress(), "/lookup?topic=legacy_topic", x -> x.statusCode() == 404);
  }

  @Test
  void aNewTopicStartsWithTheChannelsTheClusterKnowsForIt() throws Exception {
    Node a = nodes.get(0);
    Node c = nodes.get(2);
    post(a.httpAddress(), "/topic/create?topic=fanout");
    post(a.httpAddress(), "/channel/create?topic=fanout&channel=archive");
    post(a.httpAddress(), "/channel/create?topic=fanout&channel=metrics");
    post(a.httpAddress(), "/channel/create?topic=fanout&channel=tail%23ephemeral");
    await(c.lookupHttpAddress(), "/channels?topic=fanout", r -> r.body().contains("metrics"));
    HttpResponse<String> pub = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.httpAddress().getPort()
        + "/pub?topic=fanout")).POST(HttpRequest.BodyPublishers.ofString("first")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, pub.statusCode());
    JsonNode topic = JSON.readTree(get(c.httpAddress(), "/stats?format=json&topic=fanout").body()).path("topics").get(0);
    List<String> names = new ArrayList<>();
    for (JsonNode ch : topic.path("channels")) {
      names.add(ch.path("channel_name").asText());
      assertEquals(1, ch.path("depth").asLong(), "each channel got the first message: " + ch);
    }
    assertEquals(List.of("archive", "metrics"), names, "ephemeral channels are not pre-created");
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
