package io.jnsq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.jnsq.app.Node;
import io.jnsq.tcp.TestCerts;
import io.jnsq.tcp.TestNodes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client over TLS (with and without a client certificate, also with Snappy inside) and with AUTH. */
class ClientSecurityTest {

  private static void roundTrip(Node node, ClientConfig cfg, String topic) throws Exception {
    String tcp = "127.0.0.1:" + node.tcpAddress().getPort();
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer consumer = new Consumer(topic, "ch", cfg, got::add);
    try (Producer producer = new Producer(List.of(tcp), cfg)) {
      for (int i = 0; i < 20; i++) producer.publish(topic, "secret " + i);
      producer.publish(topic, "last").get(10, TimeUnit.SECONDS);
      consumer.connectToNsqd(tcp);
      List<String> bodies = ClientTest.take(got, 21);
      assertTrue(bodies.contains("secret 0") && bodies.contains("last"));
    } finally {
      consumer.stop();
    }
  }

  @Test
  void tlsRequiredNodeServesTheClientOverTls(@TempDir Path dir) throws Exception {
    Path[] files = TestCerts.make(dir);
    Node node = TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString(),
        "tls-required", "true")));
    try {
      roundTrip(node, new ClientConfig().set("tls_insecure_skip_verify", "true").maxInFlight(10), "tls");
      roundTrip(node, new ClientConfig().set("tls_insecure_skip_verify", "true").snappy(true), "tls_snappy");
      roundTrip(node, new ClientConfig().set("tls_insecure_skip_verify", "true").deflate(true, 1), "tls_deflate");
      CompletionException plain = assertThrows(CompletionException.class, () -> {
        try (Producer p = new Producer("127.0.0.1:" + node.tcpAddress().getPort())) {
          p.publish("tls", "in the clear").join();
        }
      });
      assertTrue(plain.getCause().getMessage().contains("TLS required"), plain.getCause().getMessage());
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void verifyingNodeAcceptsTheClientCertificate(@TempDir Path dir) throws Exception {
    Path[] files = TestCerts.make(dir);
    Node node = TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString(),
        "tls-client-auth-policy", "require-verify", "tls-root-ca-file", files[0].toString())));
    try {
      roundTrip(node, new ClientConfig().set("tls_insecure_skip_verify", "true")
          .set("tls_cert", files[0].toString()).set("tls_key", files[1].toString()), "mtls");
      assertThrows(IOException.class, () -> {
        Consumer c = new Consumer("mtls", "ch", new ClientConfig().set("tls_insecure_skip_verify", "true"), m -> { });
        try {
          c.connectToNsqd("127.0.0.1:" + node.tcpAddress().getPort());
        } finally {
          c.stop();
        }
      }, "without a certificate the handshake fails");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void authSecretIsSentWhenTheNodeAsksForIt() throws Exception {
    HttpServer auth = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    auth.createContext("/auth", ex -> {
      boolean ok = ex.getRequestURI().getRawQuery().contains("secret=s3cret");
      byte[] body = (ok ? "{\"ttl\":3600,\"identity\":\"app\",\"identity_url\":\"\",\"authorizations\":"
          + "[{\"topic\":\"guarded\",\"channels\":[\".*\"],\"permissions\":[\"publish\",\"subscribe\"]}]}"
          : "{\"message\":\"NOT_AUTHORIZED\"}").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(ok ? 200 : 403, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    auth.start();
    Node node = TestNodes.start(new HashMap<>(Map.of("auth-http-address", List.of("127.0.0.1:" + auth.getAddress().getPort()))));
    try {
      roundTrip(node, new ClientConfig().authSecret("s3cret"), "guarded");
      String tcp = "127.0.0.1:" + node.tcpAddress().getPort();
      try (Producer none = new Producer(tcp); Producer wrong = new Producer(List.of(tcp), new ClientConfig().authSecret("nope"))) {
        Throwable e1 = assertThrows(CompletionException.class, () -> none.publish("guarded", "x").join()).getCause();
        assertTrue(e1.getMessage().contains("auth_secret"), e1.getMessage());
        Throwable e2 = assertThrows(CompletionException.class, () -> wrong.publish("guarded", "x").join()).getCause();
        assertEquals("E_AUTH_FAILED", ((NsqException) e2).code(), e2.getMessage());
      }
    } finally {
      node.stop().toCompletableFuture().join();
      auth.stop(0);
    }
  }
}
