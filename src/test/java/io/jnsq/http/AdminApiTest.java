package io.jnsq.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import io.jnsq.tcp.TestNodes;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin JSON API: nsqadmin's shapes (samples/33..38), its errors, actions, peek, and nodes that do not answer. */
class AdminApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Node node;

  @BeforeAll
  static void start() {
    node = TestNodes.start(Map.of("broadcast-address", "127.0.0.1"));
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
  }

  static HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return admin(method, path, body, "application/json");
  }

  static HttpResponse<String> admin(String method, String path, String body, String contentType) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.adminHttpAddress().getPort() + path))
        .header("Content-Type", contentType)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> nsqd(String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode await(String path, Predicate<JsonNode> ok) throws Exception {
    JsonNode last = null;
    for (int i = 0; i < 200; i++) {
      HttpResponse<String> r = admin("GET", path, null);
      last = JSON.readTree(r.body());
      if (r.statusCode() == 200 && ok.test(last)) return last;
      Thread.sleep(50);
    }
    throw new AssertionError(path + " never as expected; last: " + last);
  }

  static List<String> fields(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  static JsonNode sample(String name) throws Exception {
    try (InputStream in = AdminApiTest.class.getResourceAsStream("/samples/" + name)) {
      return JSON.readTree(in);
    }
  }

  @Test
  void shapesAreNsqadmins() throws Exception {
    assertEquals(200, nsqd("POST", "/topic/create?topic=shape_topic", null).statusCode());
    assertEquals(200, nsqd("POST", "/channel/create?topic=shape_topic&channel=shape_channel", null).statusCode());
    assertEquals(200, nsqd("POST", "/mpub?topic=shape_topic", "one\ntwo\nthree").statusCode());

    JsonNode topics = await("/api/topics", j -> j.path("topics").toString().contains("shape_topic"));
    assertEquals(fields(sample("33-admin-api-topics.json")), fields(topics));

    JsonNode topic = await("/api/topics/shape_topic", j -> j.path("message_count").asLong() == 3);
    JsonNode want = sample("34-admin-api-topic.json");
    assertEquals(fields(want), fields(topic));
    assertEquals(fields(want.path("nodes").get(0)), fields(topic.path("nodes").get(0)));
    assertEquals(fields(want.path("channels").get(0)), fields(topic.path("channels").get(0)));
    assertEquals("*", topic.path("node").asText());
    assertEquals(3, topic.path("channels").get(0).path("depth").asLong());
    assertEquals("127.0.0.1:" + node.httpAddress().getPort(), topic.path("nodes").get(0).path("node").asText());

    JsonNode channel = admin("GET", "/api/topics/shape_topic/shape_channel", null).body().transform(AdminApiTest::tree);
    JsonNode wantChannel = sample("35-admin-api-channel.json");
    assertEquals(fields(wantChannel), fields(channel));
    assertEquals(fields(wantChannel.path("nodes").get(0)), fields(channel.path("nodes").get(0)));
    assertEquals(3, channel.path("depth").asLong());

    JsonNode nodes = await("/api/nodes", j -> j.path("nodes").size() == 1);
    List<String> nodeFields = fields(nodes.path("nodes").get(0));
    List<String> wantNode = fields(sample("36-admin-api-nodes.json").path("nodes").get(0));
    assertEquals(wantNode, nodeFields.subList(0, wantNode.size()), "nsqadmin's fields first, ours after");
    assertEquals("OK", nodes.path("nodes").get(0).path("health").asText());

    String name = "127.0.0.1:" + node.httpAddress().getPort();
    JsonNode one = tree(admin("GET", "/api/nodes/" + name, null).body());
    List<String> wantOne = fields(sample("37-admin-api-node.json"));
    assertEquals(wantOne.subList(0, wantOne.size() - 1), fields(one).subList(0, wantOne.size() - 1));
    assertEquals("", one.path("message").asText());

    JsonNode counter = tree(admin("GET", "/api/counter", null).body());
    JsonNode entry = counter.path("stats").path("shape_topic:shape_channel:" + name);
    assertEquals(fields(sample("38-admin-api-counter.json").path("stats").elements().next()), fields(entry));
    assertEquals(3, entry.path("message_count").asLong());
    assertEquals("OK", admin("GET", "/ping", null).body());

    JsonNode summary = tree(admin("GET", "/api/summary", null).body());
    JsonNode shape = null;
    for (JsonNode t : summary.path("topics")) if (t.path("topic_name").asText().equals("shape_topic")) shape = t;
    assertEquals(List.of("topic_name", "depth", "memory_depth", "backend_depth", "message_count", "channel_depth", "max_channel_depth",
        "channel_count", "node_count", "paused"),
        fields(shape));
    assertEquals(3, shape.path("message_count").asLong());
    assertEquals(1, shape.path("channel_count").asLong());
    assertEquals(1, shape.path("node_count").asLong());
  }

  private static JsonNode tree(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + s, e);
    }
  }

  @Test
  void badRequestsGetNsqStyleErrors() throws Exception {
    assertEquals(200, nsqd("POST", "/topic/create?topic=err_topic", null).statusCode());
    await("/api/topics", j -> j.path("topics").toString().contains("err_topic"));
    record Case(String method, String path, String body, int status, String message) {}
    for (Case c : List.of(
        new Case("GET", "/api/topics/no_such_topic", null, 404, "TOPIC_NOT_FOUND"),
        new Case("GET", "/api/topics/err_topic/no_such_channel", null, 404, "CHANNEL_NOT_FOUND"),
        new Case("POST", "/api/topics/err_topic", "{\"action\":\"explode\"}", 400, "INVALID_ACTION"),
        new Case("POST", "/api/topics/err_topic", "not json", 400, "INVALID_BODY"),
        new Case("POST", "/api/topics/no_such_topic", "{\"action\":\"pause\"}", 404, "TOPIC_NOT_FOUND"),
        new Case("POST", "/api/topics/err_topic/no_such_channel", "{\"action\":\"empty\"}", 404, "CHANNEL_NOT_FOUND"),
        new Case("DELETE", "/api/topics/no_such_topic", null, 404, "TOPIC_NOT_FOUND"),
        new Case("POST", "/api/topics", "{\"topic\":\"bad name!\"}", 400, "INVALID_TOPIC"),
        new Case("POST", "/api/topics", "{\"topic\":\"ok_name\",\"channel\":\"bad/ch\"}", 400, "INVALID_CHANNEL"),
        new Case("DELETE", "/api/nodes/127.0.0.1:1", "{\"topic\":\"\"}", 400, "INVALID_TOPIC"),
        new Case("GET", "/api/nodes/127.0.0.1:1", null, 404, "NODE_NOT_FOUND"),
        new Case("GET", "/api/topics/err_topic/some_channel/peek?count=0", null, 400, "INVALID_ARG_COUNT"),
        new Case("GET", "/api/nothing_here", null, 404, "NOT_FOUND"),
        new Case("PUT", "/api/topics", "{}", 405, "METHOD_NOT_ALLOWED"))) {
      HttpResponse<String> r = admin(c.method(), c.path(), c.body());
      assertEquals(c.status(), r.statusCode(), c.method() + " " + c.path() + ": " + r.body());
      assertEquals(c.message(), tree(r.body()).path("message").asText(), c.method() + " " + c.path());
    }
    HttpResponse<String> form = admin("POST", "/api/topics/err_topic", "{\"action\":\"empty\"}", "text/plain");
    assertEquals(415, form.statusCode(), "what another site's form could send is refused");
    assertEquals("{\"message\":\"CONTENT_TYPE_NOT_JSON\"}", form.body());
    assertEquals(400, admin("GET", "/api/topics/bad%21name", null).statusCode());
    assertEquals("{\"message\":\"INVALID_CHANNEL\"}", admin("GET", "/api/topics/err_topic/bad%2Fname", null).body());
    assertEquals(404, admin("GET", "/static/../../etc/passwd", null).statusCode());
    assertEquals(404, admin("GET", "/static/missing.js", null).statusCode());
    assertTrue(admin("GET", "/topics/err_topic", null).body().contains("/static/app.js"), "pages are the single-page app");
  }

  @Test
  void actionsReachTheNodeAndPeekConsumesNothing() throws Exception {
    assertEquals(200, admin("POST", "/api/topics", "{\"topic\":\"act_topic\",\"channel\":\"act_channel\"}").statusCode());
    assertEquals(200, nsqd("POST", "/mpub?topic=act_topic", "first\nsecond").statusCode());
    assertEquals(200, nsqd("POST", "/pub?topic=act_topic", "\u00ff\u00fe").statusCode());
    await("/api/topics/act_topic/act_channel", j -> j.path("depth").asLong() == 3);

    JsonNode peek = tree(admin("GET", "/api/topics/act_topic/act_channel/peek?count=2", null).body());
    JsonNode messages = peek.path("nodes").get(0).path("messages");
    assertEquals(2, messages.size());
    assertEquals("first", messages.get(0).path("body").asText());
    assertEquals("utf-8", messages.get(0).path("encoding").asText());
    assertEquals(16, messages.get(0).path("id").asText().length());
    assertEquals(3, tree(admin("GET", "/api/topics/act_topic/act_channel", null).body()).path("depth").asLong(), "nothing consumed");

    assertEquals(200, admin("POST", "/api/topics/act_topic/act_channel", "{\"action\":\"pause\"}").statusCode());
    JsonNode stats = tree(nsqd("GET", "/stats?format=json&topic=act_topic", null).body());
    assertTrue(stats.path("topics").get(0).path("channels").get(0).path("paused").asBoolean());
    assertEquals(200, admin("POST", "/api/topics/act_topic/act_channel", "{\"action\":\"empty\"}").statusCode());
    await("/api/topics/act_topic/act_channel", j -> j.path("depth").asLong() == 0);
    assertEquals(200, admin("DELETE", "/api/topics/act_topic/act_channel", null).statusCode());
    assertEquals(0, tree(nsqd("GET", "/stats?format=json&topic=act_topic", null).body())
        .path("topics").get(0).path("channels").size(), "the channel is gone from the node");
    assertEquals(200, admin("DELETE", "/api/topics/act_topic", null).statusCode());
    await("/api/topics", j -> !j.path("topics").toString().contains("act_topic"));
    assertEquals(404, admin("POST", "/api/topics/act_topic", "{\"action\":\"pause\"}").statusCode(), "an action on a deleted topic");
  }

  @Test
  void ephemeralNamesWorkThroughTheEncodedPath() throws Exception {
    assertEquals(200, nsqd("POST", "/topic/create?topic=eph_topic", null).statusCode());
    assertEquals(200, nsqd("POST", "/channel/create?topic=eph_topic&channel=tail%23ephemeral", null).statusCode());
    assertEquals(200, nsqd("POST", "/pub?topic=eph_topic", "seen").statusCode());
    JsonNode ch = await("/api/topics/eph_topic/tail%23ephemeral", j -> j.path("depth").asLong() == 1);
    assertEquals("tail#ephemeral", ch.path("channel_name").asText());
    JsonNode peek = tree(admin("GET", "/api/topics/eph_topic/tail%23ephemeral/peek", null).body());
    assertEquals("seen", peek.path("nodes").get(0).path("messages").get(0).path("body").asText());
    assertEquals(200, admin("POST", "/api/topics/eph_topic/tail%23ephemeral", "{\"action\":\"pause\"}").statusCode());
    assertTrue(tree(nsqd("GET", "/stats?format=json&topic=eph_topic", null).body()).path("topics").get(0).path("channels").get(0)
        .path("paused").asBoolean());
  }

  @Test
  void aNodeThatDoesNotAnswerIsReportedNotFatal() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (Socket nsqd = new Socket("127.0.0.1", node.lookupTcpAddress().getPort())) {
      nsqd.setSoTimeout(5000);
      OutputStream out = nsqd.getOutputStream();
      DataInputStream in = new DataInputStream(nsqd.getInputStream());
      byte[] id = ("{\"broadcast_address\":\"127.0.0.1\",\"hostname\":\"gone\",\"tcp_port\":1,\"http_port\":" + closedPort
          + ",\"version\":\"1.3.0\"}").getBytes(StandardCharsets.UTF_8);
      out.write("  V1IDENTIFY\n".getBytes(StandardCharsets.US_ASCII));
      out.write(ByteBuffer.allocate(4).putInt(id.length).array());
      out.write(id);
      out.write("REGISTER gone_topic gone_channel\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (int i = 0; i < 2; i++) in.readFully(new byte[in.readInt()]);

      JsonNode nodes = await("/api/nodes", j -> j.path("nodes").size() == 2);
      assertTrue(nodes.path("message").asText().startsWith("WARNING: 127.0.0.1:" + closedPort), nodes.toString());
      boolean reported = false;
      for (JsonNode n : nodes.path("nodes")) {
        if (n.path("http_port").asInt() == closedPort) {
          assertFalse(n.path("reachable").asBoolean());
          reported = true;
        }
      }
      assertTrue(reported);
      HttpResponse<String> topic = admin("GET", "/api/topics/gone_topic", null);
      assertEquals(502, topic.statusCode());
      assertTrue(tree(topic.body()).path("message").asText().startsWith("UPSTREAM_ERROR: 127.0.0.1:" + closedPort), topic.body());
      HttpResponse<String> pause = admin("POST", "/api/topics/gone_topic", "{\"action\":\"pause\"}");
      assertEquals(502, pause.statusCode());
    }
  }
}
