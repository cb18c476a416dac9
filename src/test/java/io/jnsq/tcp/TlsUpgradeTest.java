package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS upgrade at the byte level: IDENTIFY's answer plain, the handshake, then OK and commands inside TLS. */
class TlsUpgradeTest {

  static SSLContext trustAll() throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new X509TrustManager() {
      @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
      @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }}, null);
    return ctx;
  }

  static String readFrame(DataInputStream in) throws Exception {
    int size = in.readInt();
    int type = in.readInt();
    byte[] data = new byte[size - 4];
    in.readFully(data);
    return type + " " + new String(data, StandardCharsets.UTF_8);
  }

  @Test
  void garbageInsteadOfAHandshakeClosesThatConnectionOnly(@TempDir Path dir) throws Exception {
    Path[] files = TestCerts.make(dir);
    Node node = TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString())));
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      NsqTestClient.Frame f = c.withBody("IDENTIFY", "{\"feature_negotiation\":true,\"tls_v1\":true}".getBytes()).read();
      assertTrue(f.text().contains("\"tls_v1\":true"));
      c.line("this is not a TLS record at all");
      assertTrue(c.closedByServer(), "a broken handshake ends the connection");
      try (NsqTestClient other = NsqTestClient.connect(node.tcpAddress())) {
        assertEquals("OK", other.withBody("PUB still_serving", "x".getBytes()).read().text());
      }
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void withTlsRequiredEveryCommandButIdentifyWaitsForTls(@TempDir Path dir) throws Exception {
    Path[] files = TestCerts.make(dir);
    Node node = TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString(),
        "tls-required", "true")));
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      NsqTestClient.Frame f = c.withBody("PUB t", "x".getBytes()).read();
      assertEquals("E_INVALID cannot PUB in current state (TLS required)", f.text());
      assertTrue(c.closedByServer());
      var http = java.net.http.HttpClient.newHttpClient();
      var plain = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
          "http://127.0.0.1:" + node.httpAddress().getPort() + "/stats")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(403, plain.statusCode());
      assertTrue(plain.body().startsWith("{\"message\":\"TLS_REQUIRED\",\"https_port\":"), plain.body());
      int httpsPort = Integer.parseInt(plain.body().replaceAll("[^0-9]", ""));
      var secure = java.net.http.HttpClient.newBuilder().sslContext(trustAll()).build().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("https://localhost:" + httpsPort + "/ping")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals("OK", secure.body(), "the API answers over HTTPS");
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  /** On {@code plain}: the magic, IDENTIFY with tls_v1 (its answer is checked), then a handshake with {@code client}. */
  private static SSLSocket handshake(Socket plain, Node node, SSLContext client) throws Exception {
    plain.setSoTimeout(5000);
    OutputStream out = plain.getOutputStream();
    out.write("  V2".getBytes(StandardCharsets.US_ASCII));
    out.write(NsqTestClient.lineWithBody("IDENTIFY", "{\"feature_negotiation\":true,\"tls_v1\":true}".getBytes()));
    out.flush();
    String answer = readFrame(new DataInputStream(plain.getInputStream()));
    assertTrue(answer.contains("\"tls_v1\":true"), answer);
    SSLSocket tls = (SSLSocket) client.getSocketFactory().createSocket(plain, "localhost", node.tcpAddress().getPort(), true);
    tls.setUseClientMode(true);
    tls.startHandshake();
    return tls;
  }

  /** The first frame inside TLS after the upgrade. */
  private static String upgrade(Node node, SSLContext client) throws Exception {
    try (Socket plain = new Socket("127.0.0.1", node.tcpAddress().getPort())) {
      return readFrame(new DataInputStream(handshake(plain, node, client).getInputStream()));
    }
  }

  @Test
  void clientCertificatesAreRequiredWhenThePolicySaysSo(@TempDir Path dir) throws Exception {
    Path[] server = TestCerts.make(java.nio.file.Files.createDirectories(dir.resolve("server")));
    Path[] client = TestCerts.make(java.nio.file.Files.createDirectories(dir.resolve("client")));
    Node node = TestNodes.start(new HashMap<>(Map.of("tls-cert", server[0].toString(), "tls-key", server[1].toString(),
        "tls-client-auth-policy", "require")));
    try {
      org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> upgrade(node, trustAll()),
          "without a client certificate the handshake fails");
      SSLContext withCert = TlsContexts.load(client[0].toString(), client[1].toString(), server[0].toString(), "", "tls1.2").context();
      assertEquals("0 OK", upgrade(node, withCert));
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }

  @Test
  void identifyThenHandshakeThenOkInsideTls(@TempDir Path dir) throws Exception {
    Path[] files = TestCerts.make(dir);
    Node node = TestNodes.start(new HashMap<>(Map.of("tls-cert", files[0].toString(), "tls-key", files[1].toString())));
    try (Socket plain = new Socket("127.0.0.1", node.tcpAddress().getPort())) {
      SSLSocket tls = handshake(plain, node, trustAll());
      DataInputStream in = new DataInputStream(tls.getInputStream());
      assertEquals("0 OK", readFrame(in));
      tls.getOutputStream().write(NsqTestClient.lineWithBody("PUB over_tls", "secret".getBytes()));
      tls.getOutputStream().flush();
      assertEquals("0 OK", readFrame(in));
    } finally {
      node.stop().toCompletableFuture().join();
    }
  }
}
