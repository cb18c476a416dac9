package io.jnsq.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.cluster.Registry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;

/**
 * The admin UI's view of the cluster's nodes: each producer's {@code /stats} fetched over its HTTP API (as
 * nsqadmin does, so registered Go nsqd processes show up too), and the sums across nodes in nsqadmin's
 * {@code TopicStats}/{@code ChannelStats} shapes.
 */
final class ClusterStats {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** One node's answer: its stats JSON, or why there is none. */
  record NodeStats(Registry.Producer producer, JsonNode stats, String error) {
    String node() { return producer.node(); }
  }

  /** An upstream call's answer: status and body, or the failure (status 0). */
  record Upstream(String node, int status, String body, String error) {
    boolean ok() { return status >= 200 && status < 300; }

    /** NSQ's error token from the body, or the transport error. */
    String problem() {
      if (error != null) return node + ": " + error;
      try {
        JsonNode j = Responses.JSON.readTree(body);
        if (j.hasNonNull("message")) return node + ": " + j.get("message").asText();
      } catch (Exception notJson) {
        // fall through
      }
      return node + ": HTTP " + status + (body.isEmpty() ? "" : " " + body);
    }
  }

  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final Duration timeout;
  private final org.apache.pekko.http.javadsl.HttpsConnectionContext https;   // null: this node has no TLS
  /** Nodes that turned plain HTTP away with TLS_REQUIRED, and the HTTPS port they named. */
  private final java.util.concurrent.ConcurrentHashMap<String, Integer> httpsPorts = new java.util.concurrent.ConcurrentHashMap<>();

  /** {@code tls}: the node's own TLS settings (its certificate as client certificate, its root CA as trust), or null. */
  ClusterStats(ActorSystem<?> system, Duration timeout, javax.net.ssl.SSLContext tls) {
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.timeout = timeout;
    this.https = tls == null ? null : org.apache.pekko.http.javadsl.ConnectionContext.httpsClient(tls);
  }

  /**
   * Calls {@code pathAndQuery} on {@code p}'s HTTP API. The caller's credentials go only to nodes of this
   * cluster: anyone who can reach the lookup TCP port can register an "nsqd" at any address.
   */
  CompletionStage<Upstream> call(Registry.Producer p, String method, String pathAndQuery, Optional<HttpHeader> auth) {
    return send(p, method, pathAndQuery, auth, null);
  }

  /** As {@link #call}, with a JSON body (null: none). */
  CompletionStage<Upstream> send(Registry.Producer p, String method, String pathAndQuery, Optional<HttpHeader> auth, String json) {
    Integer securePort = https == null ? null : httpsPorts.get(p.node());
    return call(p, method, pathAndQuery, auth, securePort, json).thenCompose(u -> {
      // A node under --tls-required answers plain HTTP with 403 TLS_REQUIRED and its HTTPS port: ask
      // again there, with this node's TLS settings, and go there directly from now on.
      if (https == null || u.status() != 403 || !u.body().contains("TLS_REQUIRED")) return CompletableFuture.completedFuture(u);
      int port;
      try {
        port = Responses.JSON.readTree(u.body()).path("https_port").asInt(0);
      } catch (Exception notJson) {
        port = 0;
      }
      if (port <= 0 || port > 65535 || (securePort != null && securePort == port)) return CompletableFuture.completedFuture(u);
      httpsPorts.put(p.node(), port);
      return call(p, method, pathAndQuery, auth, port, json);
    });
  }

  /** One call: over plain HTTP to the producer's HTTP port, or over HTTPS to {@code securePort}. */
  private CompletionStage<Upstream> call(Registry.Producer p, String method, String pathAndQuery, Optional<HttpHeader> auth,
      Integer securePort, String json) {
    HttpRequest req;
    try {
      String url = (securePort == null ? "http://" : "https://") + hostForUrl(p.broadcastAddress()) + ":"
          + (securePort == null ? p.httpPort() : securePort) + pathAndQuery;
      req = HttpRequest.create(url).withMethod(method.equals("POST") ? HttpMethods.POST : HttpMethods.GET);
      if (json != null) req = req.withEntity(org.apache.pekko.http.javadsl.model.ContentTypes.APPLICATION_JSON, json);
    } catch (RuntimeException badAddress) {   // e.g. a registered nsqd's broadcast address is no host name
      return CompletableFuture.completedFuture(new Upstream(p.node(), 0, "", describe(badAddress)));
    }
    if (auth.isPresent() && p.clusterMember()) req = req.addHeader(auth.get());
    var sent = securePort == null ? Http.get(system).singleRequest(req) : Http.get(system).singleRequest(req, https);
    CompletableFuture<Upstream> answer = sent
        .thenCompose(r -> r.entity().toStrict(timeout.toMillis(), materializer)
            .thenApply(e -> new Upstream(p.node(), r.status().intValue(), e.getData().utf8String(), null)))
        .toCompletableFuture();
    return answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(e -> new Upstream(p.node(), 0, "", describe(e)));
  }

  static String enc(String s) { return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8); }

  private static String hostForUrl(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  static String describe(Throwable e) {
    Throwable c = e;
    while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof java.util.concurrent.TimeoutException) return "no answer within the timeout";
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  /** {@code pathAndQuery} called on every producer at once; the answers in the producers' order. */
  CompletionStage<List<Upstream>> callAll(List<Registry.Producer> producers, String method, String pathAndQuery,
      Optional<HttpHeader> auth) {
    List<CompletableFuture<Upstream>> calls = new ArrayList<>();
    for (Registry.Producer p : producers) calls.add(call(p, method, pathAndQuery, auth).toCompletableFuture());
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<Upstream> out = new ArrayList<>();
      for (CompletableFuture<Upstream> c : calls) out.add(c.join());
      return out;
    });
  }

  /**
   * Every producer's {@code /stats?format=json} (only {@code topic}'s, when given); failures kept as
   * errors. Sent without credentials: {@code /stats} is open, and reads should not spread a secret.
   */
  CompletionStage<List<NodeStats>> fetch(List<Registry.Producer> producers, String topic, boolean clients) {
    String query = "/stats?format=json&include_mem=false&include_clients=" + clients
        + (topic == null ? "" : "&topic=" + enc(topic));
    return callAll(producers, "GET", query, Optional.empty()).thenApply(answers -> {
      List<NodeStats> out = new ArrayList<>();
      for (int i = 0; i < answers.size(); i++) {
        Registry.Producer p = producers.get(i);
        Upstream u = answers.get(i);
        if (!u.ok()) {
          out.add(new NodeStats(p, null, u.problem()));
          continue;
        }
        try {
          out.add(new NodeStats(p, Responses.JSON.readTree(u.body()), null));
        } catch (Exception e) {
          out.add(new NodeStats(p, null, p.node() + ": unreadable stats"));
        }
      }
      return out;
    });
  }

  // ------------------------------------------------------------------ nsqadmin's shapes

  private static ObjectNode latency(JsonNode e2e, String topic, String channel, String host) {
    ObjectNode o = F.objectNode();
    o.put("count", e2e == null ? 0 : e2e.path("count").asLong());
    JsonNode p = e2e == null ? null : e2e.get("percentiles");
    if (p == null || p.isNull()) o.putNull("percentiles"); else o.set("percentiles", p.deepCopy());
    o.put("topic", topic);
    o.put("channel", channel);
    o.put("host", host);
    return o;
  }

  /** One node's channel, as nsqadmin shows it. */
  static ObjectNode channel(NodeStats n, String topic, JsonNode c) {
    ObjectNode o = F.objectNode();
    o.put("node", n.node());
    o.put("hostname", n.producer().hostname());
    o.put("topic_name", topic);
    o.put("channel_name", c.path("channel_name").asText());
    long depth = c.path("depth").asLong();
    long backend = c.path("backend_depth").asLong();
    o.put("depth", depth);
    o.put("memory_depth", depth - backend);
    o.put("backend_depth", backend);
    for (String f : List.of("in_flight_count", "deferred_count", "requeue_count", "timeout_count", "message_count", "client_count")) {
      o.put(f, c.path(f).asLong());
    }
    o.putNull("nodes");
    ArrayNode clients = o.putArray("clients");
    for (JsonNode cl : c.path("clients")) clients.add(client(n, cl));
    o.put("paused", c.path("paused").asBoolean());
    o.set("e2e_processing_latency", latency(c.get("e2e_processing_latency"), "", "", ""));
    return o;
  }

  private static final List<String> CLIENT_TEXT = List.of("client_id", "hostname", "version", "remote_address",
      "user_agent", "tls_version", "tls_cipher_suite", "auth_identity", "auth_identity_url");
  private static final List<String> CLIENT_NUMBERS = List.of("state", "ready_count", "in_flight_count", "message_count",
      "finish_count", "requeue_count", "connect_ts", "sample_rate");
  private static final List<String> CLIENT_FLAGS = List.of("deflate", "snappy", "tls", "authed");

  /**
   * A consumer as nsqd's /stats describes it, rebuilt field by field with the types nsqd gives them (a
   * registered "nsqd" could send anything), plus nsqadmin's node and connected seconds.
   */
  private static ObjectNode client(NodeStats n, JsonNode cl) {
    ObjectNode x = F.objectNode();
    x.put("node", n.node());
    for (String f : CLIENT_TEXT) if (cl.has(f)) x.put(f, cl.path(f).asText());
    for (String f : CLIENT_NUMBERS) if (cl.has(f)) x.put(f, cl.path(f).asLong());
    for (String f : CLIENT_FLAGS) if (cl.has(f)) x.put(f, cl.path(f).asBoolean());
    x.put("connected", Math.max(0, System.currentTimeMillis() / 1000 - cl.path("connect_ts").asLong()));
    return x;
  }

  /** One node's topic with its channels, as nsqadmin shows it. */
  static ObjectNode topic(NodeStats n, JsonNode t) {
    String name = t.path("topic_name").asText();
    ObjectNode o = F.objectNode();
    o.put("node", n.node());
    o.put("hostname", n.producer().hostname());
    o.put("topic_name", name);
    long depth = t.path("depth").asLong();
    long backend = t.path("backend_depth").asLong();
    o.put("depth", depth);
    o.put("memory_depth", depth - backend);
    o.put("backend_depth", backend);
    o.put("message_count", t.path("message_count").asLong());
    o.putNull("nodes");
    ArrayNode channels = o.putArray("channels");
    for (JsonNode c : t.path("channels")) channels.add(channel(n, name, c));
    o.put("paused", t.path("paused").asBoolean());
    o.set("e2e_processing_latency", latency(t.get("e2e_processing_latency"), "", "", ""));
    return o;
  }

  /** Every node's stats of {@code topic} (nodes without it are left out). */
  static List<ObjectNode> topicPerNode(List<NodeStats> nodes, String topic) {
    List<ObjectNode> out = new ArrayList<>();
    for (NodeStats n : nodes) {
      if (n.stats() == null) continue;
      for (JsonNode t : n.stats().path("topics")) {
        if (t.path("topic_name").asText().equals(topic)) out.add(topic(n, t));
      }
    }
    return out;
  }

  private static final List<String> SUMMED = List.of("depth", "memory_depth", "backend_depth", "in_flight_count",
      "deferred_count", "requeue_count", "timeout_count", "message_count", "client_count");

  /**
   * The sum of per-node channels of one name: node "*" with the parts under "nodes". Inside a topic a
   * channel on one node only stands as it is (as nsqadmin shows it); {@code alwaysSummed} makes the
   * "*" form regardless, as {@code /api/topics/:topic/:channel} answers.
   */
  static ObjectNode channelAcross(String topic, String channel, List<ObjectNode> parts, boolean alwaysSummed) {
    if (parts.size() == 1 && !alwaysSummed) return parts.get(0);
    ObjectNode o = F.objectNode();
    o.put("node", "*");
    o.put("hostname", "");
    o.put("topic_name", topic);
    o.put("channel_name", channel);
    for (String f : SUMMED) {
      long sum = 0;
      for (ObjectNode p : parts) sum += p.path(f).asLong();
      o.put(f, sum);
    }
    ArrayNode nodes = o.putArray("nodes");
    boolean paused = !parts.isEmpty();
    long count = 0;
    for (ObjectNode p : parts) {
      nodes.add(p);
      paused &= p.path("paused").asBoolean();
      count += p.path("e2e_processing_latency").path("count").asLong();
    }
    o.putNull("clients");
    o.put("paused", paused);
    ObjectNode e2e = latency(null, topic, channel, "*");
    e2e.put("count", count);
    o.set("e2e_processing_latency", e2e);
    return o;
  }

  /** {@code /api/topics/:topic}: the topic across nodes. */
  static ObjectNode topicAcross(String topic, List<ObjectNode> perNode) {
    ObjectNode o = F.objectNode();
    o.put("node", "*");
    o.put("hostname", "");
    o.put("topic_name", topic);
    for (String f : List.of("depth", "memory_depth", "backend_depth", "message_count")) {
      long sum = 0;
      for (ObjectNode p : perNode) sum += p.path(f).asLong();
      o.put(f, sum);
    }
    ArrayNode nodes = o.putArray("nodes");
    perNode.forEach(nodes::add);
    java.util.TreeMap<String, List<ObjectNode>> byChannel = new java.util.TreeMap<>();
    for (ObjectNode p : perNode) {
      for (JsonNode c : p.path("channels")) {
        byChannel.computeIfAbsent(c.path("channel_name").asText(), k -> new ArrayList<>()).add((ObjectNode) c);
      }
    }
    ArrayNode channels = o.putArray("channels");
    byChannel.forEach((name, parts) -> channels.add(channelAcross(topic, name, parts, false)));
    boolean paused = !perNode.isEmpty();
    for (ObjectNode p : perNode) paused &= p.path("paused").asBoolean();
    o.put("paused", paused);
    o.set("e2e_processing_latency", latency(null, topic, "", "*"));
    return o;
  }

  /** {@code /api/topics/:topic/:channel}: the channel across nodes, always with node "*" and its parts; null if none has it. */
  static ObjectNode channelOnly(String topic, String channel, List<ObjectNode> perNodeTopics) {
    List<ObjectNode> parts = new ArrayList<>();
    for (ObjectNode t : perNodeTopics) {
      for (JsonNode c : t.path("channels")) if (c.path("channel_name").asText().equals(channel)) parts.add((ObjectNode) c);
    }
    return parts.isEmpty() ? null : channelAcross(topic, channel, parts, true);
  }

  /** The warning nsqadmin adds when some nodes did not answer; empty when all did. */
  static String warning(List<String> problems) {
    return problems.isEmpty() ? "" : "WARNING: " + String.join("; ", problems);
  }
}
