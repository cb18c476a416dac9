package io.jnsq.app;

import io.jnsq.tcp.NsqTestClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/** Small helpers the restart and fault tests share: HTTP calls and draining a channel over TCP. */
final class NodeClient {
  static final HttpClient HTTP = HttpClient.newHttpClient();

  private NodeClient() {}

  static HttpResponse<String> post(InetSocketAddress http, String pathAndQuery, String body)
      throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getPort() + pathAndQuery))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(InetSocketAddress http, String pathAndQuery) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getPort() + pathAndQuery)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A subscribed consumer with RDY {@code rdy}. */
  static NsqTestClient subscribe(InetSocketAddress tcp, String topic, String channel, int rdy) throws IOException {
    NsqTestClient c = NsqTestClient.connect(tcp);
    c.line("SUB " + topic + " " + channel).read();
    c.line("RDY " + rdy);
    return c;
  }

  /**
   * Receives and FINs messages until {@code quietMillis} pass without one (or {@code max} arrived);
   * returns the messages.
   */
  /** A message and when it arrived (wall clock, ms). */
  record Received(NsqTestClient.Frame frame, long atMillis) {
    String body() { return frame.body(); }
  }

  static List<Received> drain(InetSocketAddress tcp, String topic, String channel, int quietMillis, int max)
      throws IOException {
    List<Received> got = new ArrayList<>();
    try (NsqTestClient c = subscribe(tcp, topic, channel, 500)) {
      c.setTimeout(quietMillis);
      while (got.size() < max) {
        NsqTestClient.Frame f;
        try {
          f = c.read();
        } catch (java.net.SocketTimeoutException e) {
          break;
        }
        if (f.type() != 2) continue;
        got.add(new Received(f, System.currentTimeMillis()));
        c.line("FIN " + f.id());
      }
    }
    return got;
  }
}
