package io.jnsq.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.app.Node;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;

/** A node on free loopback ports and a plain JDK HTTP client to talk to it. */
class HttpTestSupport {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static Node startNode(Map<String, Object> extra) {
    Map<String, Object> all = new HashMap<>(Map.of(
        "jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0", "pekko.loglevel", "WARNING",
        "jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath(), "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0"));
    extra.forEach((k, v) -> all.put("jnsq." + k, v));
    return Node.start(Node.loadConfig(null, all)).toCompletableFuture().join();
  }

  static HttpResponse<String> send(Node node, String method, String pathAndQuery, String body) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + pathAndQuery));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> sendBytes(Node node, String pathAndQuery, byte[] body) throws IOException, InterruptedException {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + pathAndQuery))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(Node node, String pathAndQuery) throws IOException, InterruptedException {
    return send(node, "GET", pathAndQuery, null);
  }

  static HttpResponse<String> post(Node node, String pathAndQuery, String body) throws IOException, InterruptedException {
    return send(node, "POST", pathAndQuery, body == null ? "" : body);
  }

  static JsonNode json(HttpResponse<String> r) throws IOException { return JSON.readTree(r.body()); }
}
