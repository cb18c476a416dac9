package io.jnsq.http;

import static io.jnsq.http.HttpTestSupport.get;
import static io.jnsq.http.HttpTestSupport.json;
import static io.jnsq.http.HttpTestSupport.post;
import static io.jnsq.http.HttpTestSupport.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.app.Node;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every nsqd endpoint and error over real HTTP, with nsqd's statuses, tokens and headers. */
class NsqdApiTest {
  private static Node node;

  @BeforeAll static void start() { node = HttpTestSupport.startNode(Map.of("max-msg-size", "100", "max-body-size", "1000")); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static void assertNsqJson(HttpResponse<String> r) {
    assertEquals(Optional.of("application/json; charset=utf-8"), r.headers().firstValue("Content-Type"));
    assertEquals(Optional.of("nsq; version=1.0"), r.headers().firstValue("X-NSQ-Content-Type"));
  }

  private static void assertError(HttpResponse<String> r, int status, String token) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("{\"message\":\"" + token + "\"}", r.body());
    assertNsqJson(r);
  }

  private long channelDepth(String topic, String channel) throws Exception {
    JsonNode s = json(get(node, "/stats?format=json&topic=" + topic + "&channel=" + channel));
    return s.path("topics").path(0).path("channels").path(0).path("depth").asLong(-1);
  }

  @Test
  void pingIsPlainTextWithoutTheNsqHeader() throws Exception {
    HttpResponse<String> r = get(node, "/ping");
    assertEquals(200, r.statusCode());
    assertEquals("OK", r.body());
    assertEquals(Optional.of("text/plain; charset=utf-8"), r.headers().firstValue("Content-Type"));
    assertFalse(r.headers().firstValue("X-NSQ-Content-Type").isPresent());
  }

  @Test
  void infoReportsTheBoundPorts() throws Exception {
    HttpResponse<String> r = get(node, "/info");
    assertNsqJson(r);
    JsonNode info = json(r);
    assertEquals("1.3.0", info.path("version").asText());
    assertEquals(node.tcpAddress().getPort(), info.path("tcp_port").asInt());
    assertEquals(node.httpAddress().getPort(), info.path("http_port").asInt());
    assertEquals(60_000_000_000L, info.path("max_heartbeat_interval").asLong());
    assertEquals(30_000_000_000L, info.path("max_output_buffer_timeout").asLong());
  }

  @Test
  void pubAnswersOkAsTextAndTheMessageIsQueued() throws Exception {
    assertEquals(404, post(node, "/channel/create?topic=pub_ok&channel=c", null).statusCode(), "channel/create needs the topic");
    assertEquals(200, post(node, "/topic/create?topic=pub_ok", null).statusCode());
    assertEquals(200, post(node, "/channel/create?topic=pub_ok&channel=c", null).statusCode());
    HttpResponse<String> r = post(node, "/pub?topic=pub_ok", "hello");
    assertEquals(200, r.statusCode());
    assertEquals("OK", r.body());
    assertEquals(Optional.of("text/plain; charset=utf-8"), r.headers().firstValue("Content-Type"));
    assertEquals(Optional.of("nsq; version=1.0"), r.headers().firstValue("X-NSQ-Content-Type"));
    assertEquals(1, channelDepth("pub_ok", "c"));
    assertEquals(200, post(node, "/pub?topic=pub_ok&defer=5000", "later").statusCode());
    JsonNode ch = json(get(node, "/stats?format=json&topic=pub_ok")).path("topics").path(0).path("channels").path(0);
    assertEquals(1, ch.path("deferred_count").asInt());
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
      "/pub|x|400|MISSING_ARG_TOPIC",
      "/pub?topic=bad*topic|x|400|INVALID_TOPIC",
      "/pub?topic=|x|400|INVALID_TOPIC",
      "/pub?topic=bad*topic||400|MSG_EMPTY",
      "/pub?topic=t;x=1|x|400|INVALID_REQUEST",
      "/pub?topic=t;x=1||400|MSG_EMPTY",
      "/topic/create?topic=t;x=1||400|INVALID_REQUEST",
      "/pub?topic=t&defer=abc|x|400|INVALID_DEFER",
      "/pub?topic=t&defer=-1|x|400|INVALID_DEFER",
      "/pub?topic=t&defer=3600001|x|400|INVALID_DEFER",
      "/mpub|x|400|MISSING_ARG_TOPIC",
      "/mpub?topic=a/b|x|400|INVALID_TOPIC",
      "/topic/create||400|MISSING_ARG_TOPIC",
      "/topic/create?topic=a*b||400|INVALID_TOPIC",
      "/topic/delete||400|MISSING_ARG_TOPIC",
      "/topic/delete?topic=a*b||404|TOPIC_NOT_FOUND",
      "/topic/empty?topic=a*b||400|INVALID_TOPIC",
      "/topic/empty?topic=nope||404|TOPIC_NOT_FOUND",
      "/topic/pause?topic=a*b||404|TOPIC_NOT_FOUND",
      "/topic/unpause||400|MISSING_ARG_TOPIC",
      "/channel/create||400|MISSING_ARG_TOPIC",
      "/channel/create?topic=a*b||400|INVALID_ARG_TOPIC",
      "/channel/create?topic=t||400|MISSING_ARG_CHANNEL",
      "/channel/create?topic=t&channel=a*b||400|INVALID_ARG_CHANNEL",
      "/channel/create?topic=never_made&channel=c||404|TOPIC_NOT_FOUND",
      "/channel/delete?topic=never_made&channel=c||404|TOPIC_NOT_FOUND",
  })
  void refusesBadRequestsWithNsqdsStatusAndToken(String path, String body, int status, String token) throws Exception {
    assertError(post(node, path, body), status, token);
  }

  @Test
  void aMalformedQueryStringIsAnInvalidRequest() throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", node.httpAddress().getPort())) {
      s.getOutputStream().write(("POST /pub?topic=t%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
      assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
      assertTrue(answer.endsWith("{\"message\":\"INVALID_REQUEST\"}"), answer);
    }
  }

  @Test
  void channelErrorsOnAnExistingTopic() throws Exception {
    post(node, "/topic/create?topic=chan_errs", null);
    for (String action : new String[] {"delete", "empty", "pause", "unpause"}) {
      assertError(post(node, "/channel/" + action + "?topic=chan_errs&channel=nope", null), 404, "CHANNEL_NOT_FOUND");
    }
  }

  @Test
  void bodiesOverTheLimitsAreRefused() throws Exception {
    assertError(post(node, "/pub?topic=t", "x".repeat(101)), 413, "MSG_TOO_BIG");
    assertError(post(node, "/mpub?topic=t", "x".repeat(1001)), 413, "BODY_TOO_BIG");
    assertError(post(node, "/mpub?topic=t", "ok\n" + "x".repeat(101)), 413, "MSG_TOO_BIG");
  }

  @Test
  void unknownPathsWrongMethodsHeadAndOptionsAnswerAsNsqd() throws Exception {
    assertError(get(node, "/nope"), 404, "NOT_FOUND");
    HttpResponse<String> wrong = get(node, "/pub?topic=t");
    assertError(wrong, 405, "METHOD_NOT_ALLOWED");
    assertEquals(Optional.of("OPTIONS, POST"), wrong.headers().firstValue("Allow"));
    HttpResponse<String> head = send(node, "HEAD", "/ping", null);
    assertEquals(405, head.statusCode());
    assertEquals(Optional.of("GET, OPTIONS"), head.headers().firstValue("Allow"));
    HttpResponse<String> options = send(node, "OPTIONS", "/pub", null);
    assertEquals(200, options.statusCode());
    assertEquals("", options.body());
    assertEquals(Optional.of("OPTIONS, POST"), options.headers().firstValue("Allow"));
    assertFalse(options.headers().firstValue("X-NSQ-Content-Type").isPresent());
  }

  @Test
  void actionsAnswerAnEmptyBodyWithoutContentType() throws Exception {
    HttpResponse<String> r = post(node, "/topic/create?topic=empty_answer", null);
    assertEquals(200, r.statusCode());
    assertEquals("", r.body());
    assertFalse(r.headers().firstValue("Content-Type").isPresent());
    assertEquals(Optional.of("nsq; version=1.0"), r.headers().firstValue("X-NSQ-Content-Type"));
  }

  @Test
  void mpubTextSkipsEmptyLinesAndKeepsCarriageReturns() throws Exception {
    post(node, "/topic/create?topic=mpub_text", null);
    post(node, "/channel/create?topic=mpub_text&channel=c", null);
    assertEquals(200, post(node, "/mpub?topic=mpub_text", "one\n\ntwo\r\nthree").statusCode());
    assertEquals(3, channelDepth("mpub_text", "c"));
    assertEquals(200, post(node, "/mpub?topic=mpub_text", "").statusCode(), "an empty text body publishes nothing");
    assertEquals(3, channelDepth("mpub_text", "c"));
  }

  @Test
  void mpubBinaryIsAllOrNothing() throws Exception {
    post(node, "/topic/create?topic=mpub_bin", null);
    post(node, "/channel/create?topic=mpub_bin&channel=c", null);
    ByteBuffer good = ByteBuffer.allocate(4 + 5 + 6).putInt(2).putInt(1).put((byte) 'a').putInt(2).put("bb".getBytes());
    assertEquals(200, HttpTestSupport.sendBytes(node, "/mpub?topic=mpub_bin&binary=true", good.array()).statusCode());
    assertEquals(2, channelDepth("mpub_bin", "c"));
    ByteBuffer bad = ByteBuffer.allocate(4 + 5 + 4 + 5).putInt(3).putInt(1).put((byte) 'a').putInt(0).putInt(1).put((byte) 'c');
    assertError(HttpTestSupport.sendBytes(node, "/mpub?topic=mpub_bin&binary=true", bad.array()), 413, "BAD_MESSAGE");
    assertEquals(2, channelDepth("mpub_bin", "c"), "nothing of a bad MPUB is published");
    assertError(HttpTestSupport.sendBytes(node, "/mpub?topic=mpub_bin&binary=1", new byte[0]), 413, "BAD_BODY");
    assertError(HttpTestSupport.sendBytes(node, "/mpub?topic=mpub_bin&binary=true", ByteBuffer.allocate(4).putInt(0).array()), 413, "BAD_BODY");
  }

  @Test
  void topicAndChannelAdministration() throws Exception {
    assertEquals(200, post(node, "/topic/create?topic=admin", null).statusCode());
    assertEquals(200, post(node, "/channel/create?topic=admin&channel=c", null).statusCode());
    post(node, "/pub?topic=admin", "m");
    assertEquals(200, post(node, "/channel/pause?topic=admin&channel=c", null).statusCode());
    assertTrue(json(get(node, "/stats?format=json&topic=admin")).path("topics").path(0).path("channels").path(0).path("paused").asBoolean());
    assertEquals(200, post(node, "/channel/unpause?topic=admin&channel=c", null).statusCode());
    assertEquals(200, post(node, "/channel/empty?topic=admin&channel=c", null).statusCode());
    assertEquals(0, channelDepth("admin", "c"));
    assertEquals(200, post(node, "/topic/pause?topic=admin", null).statusCode());
    assertTrue(json(get(node, "/stats?format=json&topic=admin")).path("topics").path(0).path("paused").asBoolean());
    post(node, "/pub?topic=admin", "held");
    assertEquals(1, json(get(node, "/stats?format=json&topic=admin")).path("topics").path(0).path("depth").asInt());
    assertEquals(200, post(node, "/topic/empty?topic=admin", null).statusCode());
    assertEquals(0, json(get(node, "/stats?format=json&topic=admin")).path("topics").path(0).path("depth").asInt());
    assertEquals(200, post(node, "/channel/delete?topic=admin&channel=c", null).statusCode());
    assertEquals(200, post(node, "/topic/delete?topic=admin", null).statusCode());
    JsonNode gone = json(get(node, "/stats?format=json&topic=admin"));
    assertTrue(gone.path("topics").isNull());
    assertTrue(gone.path("producers").isNull());
  }

  @Test
  void statsFiltersAndFlags() throws Exception {
    post(node, "/topic/create?topic=filter_a", null);
    post(node, "/channel/create?topic=filter_a&channel=x", null);
    post(node, "/topic/create?topic=filter_b", null);
    JsonNode onlyX = json(get(node, "/stats?format=json&channel=x&include_clients=false&include_mem=false"));
    for (JsonNode t : onlyX.path("topics")) {
      assertEquals("x", t.path("channels").path(0).path("channel_name").asText());
      assertTrue(t.path("channels").path(0).path("clients").isNull(), "clients null without include_clients");
    }
    assertFalse(onlyX.has("memory"));
    assertTrue(onlyX.path("producers").isNull());
    JsonNode b = json(get(node, "/stats?format=json&topic=filter_b"));
    assertEquals(0, b.path("topics").path(0).path("channels").size());
    assertTrue(b.path("topics").path(0).path("channels").isArray());
    assertTrue(json(get(node, "/stats?format=json&topic=filter_b&channel=none")).path("topics").isArray());
    HttpResponse<String> text = get(node, "/stats");
    assertEquals(Optional.of("text/plain; charset=utf-8"), text.headers().firstValue("Content-Type"));
    assertTrue(text.body().startsWith("nsqd v1.3.0"));
    assertTrue(text.body().contains("[filter_a       ] depth: 0"));
  }

  @Test
  void configOptionsReadAndWrite() throws Exception {
    HttpResponse<String> r = get(node, "/config/msg_timeout");
    assertNsqJson(r);
    assertEquals("60000000000", r.body());
    assertEquals("100", get(node, "/config/max_msg_size").body());
    assertEquals("[]", get(node, "/config/nsqlookupd_tcp_addresses").body());
    assertError(get(node, "/config/queue_scan_interval"), 400, "INVALID_OPTION");
    assertError(send(node, "PUT", "/config/msg_timeout", "5s"), 400, "INVALID_OPTION");
    assertEquals("[\"127.0.0.1:4160\"]", send(node, "PUT", "/config/nsqlookupd_tcp_addresses", "[\"127.0.0.1:4160\"]").body());
    assertEquals("[\"127.0.0.1:4160\"]", get(node, "/config/nsqlookupd_tcp_addresses").body());
    assertError(send(node, "PUT", "/config/nsqlookupd_tcp_addresses", "nope"), 400, "INVALID_VALUE");
    assertEquals("1", send(node, "PUT", "/config/log_level", "DEBUG").body());
    assertEquals("2", send(node, "PUT", "/config/log_level", "info").body());
    assertError(send(node, "PUT", "/config/log_level", "loud"), 400, "INVALID_VALUE");
    assertError(send(node, "PUT", "/config/log_level", ""), 413, "INVALID_VALUE");
  }
}
