package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.jnsq.app.Node;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** nsqjs with an auth secret: it sends AUTH after IDENTIFY, publishes and consumes what the grant allows. */
class NsqjsAuthTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @Test
  void nsqjsPublishesAndConsumesWithAGrantAndIsRefusedWithout() throws Exception {
    NsqjsClient.ensureInstalled();
    HttpServer auth = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    auth.createContext("/auth", ex -> {
      boolean ok = ex.getRequestURI().getRawQuery().contains("secret=s3cret");
      byte[] body = (ok ? "{\"ttl\":60,\"identity\":\"js\",\"identity_url\":\"\",\"authorizations\":[{\"topic\":\"js_auth\","
          + "\"channels\":[\".*\"],\"permissions\":[\"publish\",\"subscribe\"]}]}" : "{}").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(ok ? 200 : 403, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    auth.start();
    Node node = io.jnsq.tcp.TestNodes.start(new HashMap<>(Map.of(
        "auth-http-address", List.of("127.0.0.1:" + auth.getAddress().getPort()))));
    String port = String.valueOf(node.tcpAddress().getPort());
    try {
      NsqjsClient.Run consumer = NsqjsClient.start("consume.js", "--port", port, "--topic", "js_auth", "--channel", "c",
          "--expect", "50", "--timeout", "50", "--auth-secret", "s3cret");
      consumer.awaitEvent("connected", LIMIT);
      NsqjsClient.Run pub = NsqjsClient.start("publish.js", "--port", port, "--topic", "js_auth", "--count", "50",
          "--auth-secret", "s3cret");
      assertEquals(0, pub.await(LIMIT), "publisher: " + pub.stderr());
      assertEquals(0, consumer.await(LIMIT), "consumer: " + consumer.stderr());

      NsqjsClient.Run refused = NsqjsClient.start("publish.js", "--port", port, "--topic", "js_auth", "--count", "1",
          "--auth-secret", "wrong", "--timeout", "20");
      assertNotEquals(0, refused.await(LIMIT), "a wrong secret cannot publish");
      assertTrue(refused.stderr().contains("E_AUTH_FAILED") || refused.stderr().contains("AUTH"), refused.stderr());
    } finally {
      node.stop().toCompletableFuture().join();
      auth.stop(0);
    }
  }
}
