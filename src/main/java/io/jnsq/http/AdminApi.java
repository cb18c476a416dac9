package io.jnsq.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.cluster.LookupState;
import io.jnsq.cluster.Registry;
import io.jnsq.http.Endpoints.Call;
import io.jnsq.http.Endpoints.Endpoint;
import static io.jnsq.http.Endpoints.done;
import io.jnsq.protocol.Names;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.CacheControl;
import org.apache.pekko.http.javadsl.model.headers.CacheDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

/**
 * The admin UI (what nsqadmin does, served by every node at {@code --admin-http-address}): the page and
 * its assets, and nsqadmin's JSON API under {@code /api/}. The cluster comes from the replicated lookup
 * state; figures from each node's {@code /stats}; actions go to each node's HTTP API with the caller's
 * credentials, so with auth on they are checked exactly as direct calls would be.
 */
public final class AdminApi {
  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
  private static final Duration ASK = Duration.ofSeconds(5);
  private static final Set<String> PAGES = Set.of("/", "/topics", "/nodes", "/counter", "/lookup");
  private static final Set<String> ACTIONS = Set.of("pause", "unpause", "empty");

  private final ActorSystem<?> system;
  private final Supplier<ActorRef<LookupState.Command>> lookup;
  private final Supplier<Registry.Producer> self;
  private final ClusterStats cluster;
  private final AdminSettings settingsRoutes;
  private final HttpAuth auth;   // null: auth is off
  private final Options options;
  private final Endpoints endpoints = new Endpoints();

  /**
   * nsqadmin's own flags: the path prefix ("" for the root), the URL every action is reported to ("": none),
   * the header an auth proxy names the user in, the users who may act (empty: everyone), and the TLS
   * context to read nodes that refuse plain HTTP with (null: the node has no TLS).
   */
  public record Options(String basePath, String notificationEndpoint, String aclHttpHeader, List<String> adminUsers,
      javax.net.ssl.SSLContext tls) {
    public static final Options DEFAULT = new Options("", "", "X-Forwarded-User", List.of(), null);
  }

  /**
   * {@code lookup} is this node's lookup state (null while its cluster membership restarts); {@code self}
   * is this node as a producer, where the UI creates topics and channels; {@code authServers} is null
   * when auth is off.
   */
  public AdminApi(ActorSystem<?> system, Supplier<ActorRef<LookupState.Command>> lookup, Supplier<Registry.Producer> self,
      Duration upstreamTimeout, io.jnsq.auth.AuthServers authServers, Options options) {
    this.system = system;
    this.options = options;
    this.auth = authServers == null ? null : new HttpAuth(authServers);
    this.lookup = lookup;
    this.self = self;
    this.cluster = new ClusterStats(system, upstreamTimeout, options.tls());
    this.settingsRoutes = new AdminSettings(system, cluster, t -> view().thenApply(v -> v.producers(t, System.currentTimeMillis())));
    endpoints.put("/ping", new Endpoint(Endpoints.GET, c -> done(Responses.textPlain("OK"))));
    endpoints.put("/api/topics", new Endpoint(Set.of(HttpMethods.GET, HttpMethods.POST),
        c -> c.request().method().equals(HttpMethods.GET) ? topics(c) : create(c)));
    endpoints.put("/api/nodes", new Endpoint(Endpoints.GET, this::nodes));
    endpoints.put("/api/counter", new Endpoint(Endpoints.GET, this::counter));
    endpoints.put("/api/summary", new Endpoint(Endpoints.GET, this::summary));
  }

  public Route route() {
    return extractRequest(req -> completeWithFuture(guarded(req)));
  }

  /**
   * A POST must say its body is JSON (as the UI's do): a page on another site can send a form POST
   * without asking, but not one with this content type, so browsers cannot be made to act for it.
   */
  private CompletionStage<HttpResponse> guarded(HttpRequest original) {
    HttpRequest req = original;
    String base = options.basePath();
    if (!base.isEmpty()) {
      String path = req.getUri().path();
      if (path.equals(base)) {
        return done(HttpResponse.create().withStatus(StatusCodes.MOVED_PERMANENTLY)
            .addHeader(org.apache.pekko.http.javadsl.model.headers.Location.create(base + "/")));
      }
      if (!path.startsWith(base + "/")) return done(Responses.notFound("NOT_FOUND"));
      req = req.withUri(req.getUri().path(path.substring(base.length())));
    }
    boolean acting = req.method().equals(HttpMethods.POST) || req.method().equals(HttpMethods.DELETE);
    if (acting && req.getUri().path().startsWith("/api/") && !isAdmin(req)) {
      return done(Responses.error(StatusCodes.FORBIDDEN, "FORBIDDEN"));
    }
    boolean json = req.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON);
    if (req.method().equals(HttpMethods.POST) && !json && req.getUri().path().startsWith("/api/")) {
      return done(Responses.error(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "CONTENT_TYPE_NOT_JSON"));
    }
    return endpoints.handle(req, this::dynamic);
  }

  /** nsqadmin's rule: with --admin-user set, only a request whose ACL header names one of them may act. */
  private boolean isAdmin(HttpRequest req) {
    if (options.adminUsers().isEmpty()) return true;
    String user = req.getHeader(options.aclHttpHeader()).map(HttpHeader::value).orElse("");
    return options.adminUsers().contains(user);
  }

  /** A path segment as sent, percent-decoded ("#ephemeral" arrives as %23ephemeral); null when malformed. */
  private static String segment(String raw) {
    try {
      return java.net.URLDecoder.decode(raw.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static Endpoint invalid(String token) {
    return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.POST, HttpMethods.DELETE), c -> done(Responses.badRequest(token)));
  }

  /** Paths with names in them: the UI's pages, its assets, and the API's topics, channels and nodes. */
  private Endpoint dynamic(String path) {
    if (PAGES.contains(path) || path.startsWith("/topics/") || path.startsWith("/nodes/")) {
      return new Endpoint(Endpoints.GET, c -> done(page(c.request())));
    }
    if (path.startsWith("/static/")) return new Endpoint(Endpoints.GET, c -> done(asset(path.substring("/static/".length()))));
    if (path.startsWith("/api/nodes/")) {
      String node = segment(path.substring("/api/nodes/".length()));
      if (node == null) return invalid("INVALID_NODE");
      return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.DELETE),
          c -> c.request().method().equals(HttpMethods.GET) ? node(c, node) : tombstone(c, node));
    }
    Endpoint settings = settingsRoutes.route(path);   // settings, rewind, dead letters
    if (settings != null) return settings;
    if (!path.startsWith("/api/topics/")) return null;
    String[] parts = path.substring("/api/topics/".length()).split("/", -1);
    for (int i = 0; i < parts.length && i < 2; i++) parts[i] = segment(parts[i]);
    if (parts[0] == null || !Names.isValidTopic(parts[0])) return invalid("INVALID_TOPIC");
    if (parts.length >= 2 && (parts[1] == null || !Names.isValidChannel(parts[1]))) return invalid("INVALID_CHANNEL");
    if (parts.length == 1) {
      String topic = parts[0];
      return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.POST, HttpMethods.DELETE), c -> {
        if (c.request().method().equals(HttpMethods.GET)) return topic(topic, c);
        if (c.request().method().equals(HttpMethods.POST)) return action(c, topic, null);
        return delete(c, topic, null);
      });
    }
    if (parts.length == 2) {
      return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.POST, HttpMethods.DELETE), c -> {
        if (c.request().method().equals(HttpMethods.GET)) return channel(parts[0], parts[1], c);
        if (c.request().method().equals(HttpMethods.POST)) return action(c, parts[0], parts[1]);
        return delete(c, parts[0], parts[1]);
      });
    }
    if (parts.length == 3 && parts[2].equals("peek")) return new Endpoint(Endpoints.GET, c -> peek(c, parts[0], parts[1]));
    return null;
  }

  // ------------------------------------------------------------------ the page and its assets

  /** The page's files, read from the jar once. */
  private static final java.util.concurrent.ConcurrentHashMap<String, Optional<byte[]>> ASSETS = new java.util.concurrent.ConcurrentHashMap<>();

  private static Optional<byte[]> load(String name) {
    try (InputStream in = AdminApi.class.getResourceAsStream("/admin/" + name)) {
      return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The page, with its base path (links, assets and API calls go under it) and whether this caller may
   * act (the page then offers the actions) filled in, as nsqadmin's index handler does.
   */
  private HttpResponse page(HttpRequest req) {
    Optional<byte[]> found = ASSETS.computeIfAbsent("index.html", AdminApi::load);
    if (found.isEmpty()) return Responses.notFound("NOT_FOUND");
    String html = new String(found.get(), java.nio.charset.StandardCharsets.UTF_8)
        .replace("{{BASE_PATH}}", options.basePath())
        .replace("{{IS_ADMIN}}", String.valueOf(isAdmin(req)));
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, html))
        .addHeader(CacheControl.create(CacheDirectives.NO_CACHE));
  }

  private static HttpResponse asset(String name) {
    if (!name.matches("[A-Za-z0-9_.-]+") || name.startsWith(".")) return Responses.notFound("NOT_FOUND");
    try {
      Optional<byte[]> found = ASSETS.computeIfAbsent(name, AdminApi::load);
      if (found.isEmpty()) return Responses.notFound("NOT_FOUND");
      byte[] bytes = found.get();
      ContentType type = name.endsWith(".html") ? ContentTypes.TEXT_HTML_UTF8
          : name.endsWith(".css") ? MediaTypes.TEXT_CSS.toContentType(org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8)
          : name.endsWith(".js") ? MediaTypes.APPLICATION_JAVASCRIPT.toContentType(org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8)
          : name.endsWith(".svg") ? MediaTypes.IMAGE_SVG_XML.toContentType()
          : ContentTypes.APPLICATION_OCTET_STREAM;
      return HttpResponse.create().withEntity(HttpEntities.create(type, bytes))
          .addHeader(CacheControl.create(CacheDirectives.NO_CACHE));
    } catch (java.io.UncheckedIOException e) {
      return Responses.error(StatusCodes.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    }
  }

  // ------------------------------------------------------------------ reading the cluster

  private CompletionStage<Registry.View> view() {
    ActorRef<LookupState.Command> l = lookup.get();
    if (l == null) return CompletableFuture.failedFuture(new IllegalStateException("this node's lookup is restarting"));
    return AskPattern.ask(l, LookupState.GetView::new, ASK, system.scheduler());
  }

  /** Answers from the view, or 502 when this node cannot read it just now. */
  private CompletionStage<HttpResponse> withView(java.util.function.Function<Registry.View, CompletionStage<HttpResponse>> f) {
    return view().handle((v, e) -> e == null ? f.apply(v) : done(upstreamError("lookup: " + ClusterStats.describe(e))))
        .thenCompose(x -> x);
  }

  private static HttpResponse upstreamError(String problem) {
    return Responses.error(StatusCodes.BAD_GATEWAY, "UPSTREAM_ERROR: " + problem);
  }

  private static HttpResponse ok(ObjectNode body, List<String> problems) {
    body.put("message", ClusterStats.warning(problems));
    return Responses.json(body);
  }

  private static Optional<HttpHeader> credentials(Call c) {
    return c.request().getHeader(Authorization.class).map(h -> (HttpHeader) h);
  }

  private static List<String> problems(List<ClusterStats.NodeStats> nodes) {
    List<String> out = new ArrayList<>();
    for (ClusterStats.NodeStats n : nodes) if (n.error() != null) out.add(n.error());
    return out;
  }

  /** Every producer, each once (a node's own entry and an nsqd's registration never share an address). */
  private static List<Registry.Producer> producers(Registry.View v) {
    Map<String, Registry.Producer> out = new TreeMap<>();
    for (Registry.Entry e : v.entries()) out.putIfAbsent(e.producer().node(), e.producer());
    return new ArrayList<>(out.values());
  }

  private CompletionStage<HttpResponse> topics(Call c) {
    boolean inactive = "true".equals(c.query().get("inactive").orElse(""));
    return withView(v -> {
      ObjectNode o = Responses.JSON.createObjectNode();
      if (inactive) {
        ObjectNode map = o.putObject("topics");
        long now = System.currentTimeMillis();
        for (String t : v.topics()) {
          if (!v.producers(t, now).isEmpty()) continue;
          ArrayNode cs = map.putArray(t);
          v.channels(t).forEach(cs::add);
        }
      } else {
        ArrayNode list = o.putArray("topics");
        v.topics().forEach(list::add);
      }
      return done(ok(o, List.of()));
    });
  }

  private CompletionStage<HttpResponse> topic(String topic, Call c) {
    return withView(v -> {
      List<Registry.Producer> ps = v.producers(topic, System.currentTimeMillis());
      if (ps.isEmpty() && !v.hasTopic(topic)) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      return cluster.fetch(ps, topic, true).thenApply(nodes -> {
        List<String> problems = problems(nodes);
        List<ObjectNode> perNode = ClusterStats.topicPerNode(nodes, topic);
        if (perNode.isEmpty() && !problems.isEmpty()) return upstreamError(String.join("; ", problems));
        return ok(ClusterStats.topicAcross(topic, perNode), problems);
      });
    });
  }

  private CompletionStage<HttpResponse> channel(String topic, String channel, Call c) {
    return withView(v -> {
      List<Registry.Producer> ps = v.producers(topic, System.currentTimeMillis());
      if (ps.isEmpty() && !v.hasTopic(topic)) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      return cluster.fetch(ps, topic, true).thenApply(nodes -> {
        List<String> problems = problems(nodes);
        ObjectNode ch = ClusterStats.channelOnly(topic, channel, ClusterStats.topicPerNode(nodes, topic));
        if (ch == null) {
          return problems.isEmpty() ? Responses.notFound("CHANNEL_NOT_FOUND") : upstreamError(String.join("; ", problems));
        }
        return ok(ch, problems);
      });
    });
  }

  private CompletionStage<HttpResponse> nodes(Call c) {
    return withView(v -> cluster.fetch(producers(v), "", false).thenApply(stats -> {
      Map<String, ClusterStats.NodeStats> byNode = new TreeMap<>();
      for (ClusterStats.NodeStats n : stats) byNode.put(n.node(), n);
      long now = System.currentTimeMillis();
      ObjectNode o = Responses.JSON.createObjectNode();
      ArrayNode list = o.putArray("nodes");
      Set<String> listed = new java.util.HashSet<>();
      for (Map.Entry<Registry.Entry, List<Boolean>> e : v.nodes(now)) {
        Registry.Producer p = e.getKey().producer();
        if (!listed.add(p.node())) continue;
        ObjectNode n = list.addObject();
        n.putArray("remote_addresses").add(p.remoteAddress());
        n.put("remote_address", p.remoteAddress());
        n.put("hostname", p.hostname());
        n.put("broadcast_address", p.broadcastAddress());
        n.put("tcp_port", p.tcpPort());
        n.put("http_port", p.httpPort());
        n.put("version", p.version());
        ArrayNode ts = n.putArray("topics");
        List<String> names = new ArrayList<>(e.getKey().topics().keySet());
        for (int i = 0; i < names.size(); i++) ts.addObject().put("topic", names.get(i)).put("tombstoned", e.getValue().get(i));
        n.put("out_of_date", false);
        // Not in nsqadmin: what the node's own /stats says of it.
        ClusterStats.NodeStats s = byNode.get(p.node());
        n.put("node", p.node());
        if (s != null && s.stats() != null) {
          n.put("health", s.stats().path("health").asText());
          n.put("start_time", s.stats().path("start_time").asLong());
          n.put("reachable", true);
        } else {
          n.put("health", s == null ? "unknown" : s.error());
          n.put("reachable", false);
        }
      }
      return ok(o, problems(stats));
    }));
  }

  private CompletionStage<HttpResponse> node(Call c, String node) {
    return withView(v -> {
      Registry.Producer p = null;
      for (Registry.Producer x : producers(v)) if (x.node().equals(node)) p = x;
      if (p == null) return done(Responses.notFound("NODE_NOT_FOUND"));
      Registry.Producer found = p;
      return cluster.fetch(List.of(p), null, true).thenApply(stats -> {
        ClusterStats.NodeStats s = stats.get(0);
        if (s.stats() == null) return upstreamError(s.error());
        ObjectNode o = Responses.JSON.createObjectNode();
        o.put("node", node);
        ArrayNode ts = o.putArray("topics");
        long messages = 0;
        long clients = 0;
        for (JsonNode t : s.stats().path("topics")) {
          ObjectNode x = ClusterStats.topic(s, t);
          ts.add(x);
          messages += x.path("message_count").asLong();
          for (JsonNode ch : x.path("channels")) clients += ch.path("clients").size();
        }
        o.put("total_messages", messages);
        o.put("total_clients", clients);
        // Not in nsqadmin: the node's own description.
        o.put("hostname", found.hostname());
        o.put("broadcast_address", found.broadcastAddress());
        o.put("tcp_port", found.tcpPort());
        o.put("http_port", found.httpPort());
        o.put("version", s.stats().path("version").asText(found.version()));
        o.put("health", s.stats().path("health").asText());
        o.put("start_time", s.stats().path("start_time").asLong());
        return ok(o, List.of());
      });
    });
  }

  private CompletionStage<HttpResponse> counter(Call c) {
    return withView(v -> cluster.fetch(producers(v), null, false).thenApply(stats -> {
      ObjectNode o = Responses.JSON.createObjectNode();
      ObjectNode all = o.putObject("stats");
      for (ClusterStats.NodeStats n : stats) {
        if (n.stats() == null) continue;
        for (JsonNode t : n.stats().path("topics")) {
          String topic = t.path("topic_name").asText();
          for (JsonNode ch : t.path("channels")) {
            String channel = ch.path("channel_name").asText();
            all.putObject(topic + ":" + channel + ":" + n.node()).put("node", n.node()).put("topic_name", topic)
                .put("channel_name", channel).put("message_count", ch.path("message_count").asLong());
          }
        }
      }
      return ok(o, problems(stats));
    }));
  }

  /**
   * jnsq's {@code /api/summary}: every topic's totals across the cluster from one {@code /stats} per node,
   * so a list of many topics costs one call per node rather than one per topic.
   */
  private CompletionStage<HttpResponse> summary(Call c) {
    return withView(v -> cluster.fetch(producers(v), null, false).thenApply(stats -> {
      Map<String, List<ObjectNode>> byTopic = new TreeMap<>();
      for (String t : v.topics()) byTopic.put(t, new ArrayList<>());
      for (ClusterStats.NodeStats n : stats) {
        if (n.stats() == null) continue;
        for (JsonNode t : n.stats().path("topics")) {
          byTopic.computeIfAbsent(t.path("topic_name").asText(), k -> new ArrayList<>()).add(ClusterStats.topic(n, t));
        }
      }
      ObjectNode o = Responses.JSON.createObjectNode();
      ArrayNode list = o.putArray("topics");
      byTopic.forEach((topic, perNode) -> {
        ObjectNode all = ClusterStats.topicAcross(topic, perNode);
        ObjectNode x = list.addObject();
        x.put("topic_name", topic);
        for (String f : List.of("depth", "memory_depth", "backend_depth", "message_count")) x.put(f, all.path(f).asLong());
        // Channel-aware: what the topic's channels hold besides the topic's own queue (nsqadmin's "depth"
        // of a topic is only the latter, which is 0 once every message went to the channels).
        long inChannels = 0;
        long deepest = 0;
        for (JsonNode ch : all.path("channels")) {
          inChannels += ch.path("depth").asLong();
          deepest = Math.max(deepest, ch.path("depth").asLong());
        }
        x.put("channel_depth", inChannels);
        x.put("max_channel_depth", deepest);
        x.put("channel_count", all.path("channels").size());
        x.put("node_count", perNode.size());
        x.put("paused", all.path("paused").asBoolean());
      });
      return ok(o, problems(stats));
    }));
  }

  /** jnsq's peek: the next messages of a channel on each node that has it, none consumed. */
  private CompletionStage<HttpResponse> peek(Call c, String topic, String channel) {
    String count = c.query().get("count").orElse("10");
    return withView(v -> {
      List<Registry.Producer> ps = v.producers(topic, System.currentTimeMillis());
      if (ps.isEmpty()) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      String q = "/channel/peek?topic=" + ClusterStats.enc(topic) + "&channel=" + ClusterStats.enc(channel)
          + "&count=" + ClusterStats.enc(count);
      return cluster.callAll(ps, "GET", q, credentials(c)).thenApply(answers -> {
        ObjectNode o = Responses.JSON.createObjectNode();
        o.put("topic_name", topic);
        o.put("channel_name", channel);
        ArrayNode nodes = o.putArray("nodes");
        List<String> problems = new ArrayList<>();
        ClusterStats.Upstream refusal = null;
        for (ClusterStats.Upstream u : answers) {
          if (u.ok()) {
            try {
              nodes.add(peeked(u.node(), Responses.JSON.readTree(u.body())));
            } catch (IOException e) {
              problems.add(u.node() + ": unreadable answer");
            }
          } else if (u.status() == 404 && u.body().contains("CHANNEL_NOT_FOUND")) {
            // this node does not have the channel
          } else {
            if (u.status() == 400 || u.status() == 401 || u.status() == 403) refusal = u;
            problems.add(u.problem());
          }
        }
        if (refusal != null && nodes.isEmpty()) return passOn(refusal);
        if (nodes.isEmpty() && problems.isEmpty()) return Responses.notFound("CHANNEL_NOT_FOUND");
        if (nodes.isEmpty()) return upstreamError(String.join("; ", problems));
        return ok(o, problems);
      });
    });
  }

  /** One node's peek answer rebuilt field by field with its types (a registered "nsqd" could send anything). */
  private static ObjectNode peeked(String node, JsonNode answer) {
    ObjectNode n = Responses.JSON.createObjectNode();
    n.put("node", node);
    n.put("topic_name", answer.path("topic_name").asText());
    n.put("channel_name", answer.path("channel_name").asText());
    n.put("depth", answer.path("depth").asLong());
    ArrayNode messages = n.putArray("messages");
    for (JsonNode m : answer.path("messages")) {
      messages.addObject().put("id", m.path("id").asText()).put("timestamp", m.path("timestamp").asLong())
          .put("attempts", m.path("attempts").asInt()).put("size", m.path("size").asLong())
          .put("on_disk", m.path("on_disk").asBoolean()).put("truncated", m.path("truncated").asBoolean())
          .put("body", m.path("body").asText()).put("encoding", m.path("encoding").asText());
    }
    return n;
  }

  // ------------------------------------------------------------------ actions

  /** An upstream node's refusal (bad request, auth) passed on as it came. */
  private static HttpResponse passOn(ClusterStats.Upstream u) {
    var status = StatusCodes.lookup(u.status()).orElse(StatusCodes.BAD_GATEWAY);
    String body;
    try {
      JsonNode j = Responses.JSON.readTree(u.body());
      body = j != null && j.isObject() ? u.body() : null;
    } catch (IOException notJson) {
      body = null;
    }
    if (body == null) body = Responses.JSON.createObjectNode().put("message", u.body()).toString();
    return Responses.json(status, body);
  }

  /**
   * Answers an action sent to several nodes: all refused the same way (e.g. 403) → that refusal; some
   * failed → done with nsqadmin's "WARNING: …"; all failed → 502.
   */
  private static HttpResponse summarize(List<ClusterStats.Upstream> answers, String notFound) {
    List<String> problems = new ArrayList<>();
    int ok = 0;
    int missing = 0;
    ClusterStats.Upstream refusal = null;
    for (ClusterStats.Upstream u : answers) {
      if (u.ok()) {
        ok++;
      } else if (u.status() == 404) {
        missing++;
      } else {
        if (u.status() >= 400 && u.status() < 500) refusal = u;
        problems.add(u.problem());
      }
    }
    if (ok == 0 && refusal != null) return passOn(refusal);
    if (ok == 0 && problems.isEmpty() && missing > 0) return Responses.notFound(notFound);
    if (ok == 0 && !problems.isEmpty()) return upstreamError(String.join("; ", problems));
    return ok(Responses.JSON.createObjectNode(), problems);
  }

  /** Most bytes of an action's JSON body; anything longer is not one of ours. */
  private static final long BODY_MAX = 64 * 1024;

  /** The JSON object the request carries, or null (too long, not JSON, not an object). */
  private CompletionStage<JsonNode> body(Call c) {
    return Endpoints.readBody(c.request(), BODY_MAX, system).thenApply(b -> {
      if (b == null) return null;
      try {
        JsonNode j = Responses.JSON.readTree(b.utf8String());
        return j == null || !j.isObject() ? null : j;
      } catch (IOException bad) {
        return null;
      }
    });
  }

  private static String who(Call c) { return HttpAuth.remoteIp(c.request()); }

  /**
   * With --admin-notification-http-endpoint, POSTs nsqadmin's record of an action there, in the
   * background: action, topic, channel and node (when there is one), Unix time, user, the caller's
   * address and user agent, the request's URL and this host's name. A failure is logged, never retried.
   */
  private void notifyAction(String action, String topic, String channel, String node, Call c) {
    if (options.notificationEndpoint().isEmpty()) return;
    HttpRequest req = c.request();
    ObjectNode a = Responses.JSON.createObjectNode();
    a.put("action", action);
    a.put("topic", topic);
    if (channel != null && !channel.isEmpty()) a.put("channel", channel);
    if (!node.isEmpty()) a.put("node", node);
    a.put("timestamp", System.currentTimeMillis() / 1000);
    String user = user(req);
    if (!user.isEmpty()) a.put("user", user);
    a.put("remote_ip", HttpAuth.remoteIp(req));
    a.put("user_agent", req.getHeader("User-Agent").map(HttpHeader::value).orElse(""));
    boolean https = req.getHeader("X-Scheme").map(h -> h.value().equals("https")).orElse(false)
        || req.getUri().getScheme().equals("https");
    String host = req.getHeader("Host").map(HttpHeader::value).orElse(req.getUri().host().address());
    String query = req.getUri().rawQueryString().map(q -> "?" + q).orElse("");
    a.put("url", (https ? "https" : "http") + "://" + host + options.basePath() + req.getUri().path() + query);
    a.put("via", hostname());
    HttpRequest post;
    try {
      post = HttpRequest.POST(options.notificationEndpoint())
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, a.toString()));
    } catch (RuntimeException badUrl) {
      log.warn("admin: --admin-notification-http-endpoint {} is no URL: {}", options.notificationEndpoint(), badUrl.getMessage());
      return;
    }
    org.apache.pekko.http.javadsl.Http.get(system).singleRequest(post).whenComplete((r, e) -> {
      if (e != null) {
        log.warn("admin: notifying {} of {} failed: {}", options.notificationEndpoint(), action, ClusterStats.describe(e));
      } else {
        if (!r.status().isSuccess()) log.warn("admin: {} answered {} to the {} notification", options.notificationEndpoint(), r.status(), action);
        r.discardEntityBytes(system);
      }
    });
  }

  /** The user an auth proxy named in the ACL header, else the user of HTTP basic auth (nsqadmin's), else "". */
  private String user(HttpRequest req) {
    String proxied = req.getHeader(options.aclHttpHeader()).map(HttpHeader::value).orElse("");
    if (!proxied.isEmpty()) return proxied;
    String authz = req.getHeader("Authorization").map(HttpHeader::value).orElse("");
    if (!authz.startsWith("Basic ")) return "";
    try {
      String pair = new String(java.util.Base64.getDecoder().decode(authz.substring(6).trim()), java.nio.charset.StandardCharsets.UTF_8);
      int colon = pair.indexOf(':');
      return colon < 0 ? "" : pair.substring(0, colon);
    } catch (IllegalArgumentException notBase64) {
      return "";
    }
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "";
    }
  }

  /** With auth on, what lookup alone changes needs the same grant a direct call would: null when allowed. */
  private CompletionStage<HttpResponse> refusal(Call c, String topic, String channel) {
    if (auth == null) return CompletableFuture.completedFuture(null);
    return auth.check(c.request(), new HttpAuth.Need(channel == null, topic, channel == null ? "" : channel));
  }

  /** {@code POST /api/topics {"topic":…,"channel":…}}: creates them on this node (and so in lookup). */
  private CompletionStage<HttpResponse> create(Call c) {
    return body(c).thenCompose(b -> {
      if (b == null) return done(Responses.badRequest("INVALID_BODY"));
      String topic = b.path("topic").asText("");
      String channel = b.path("channel").asText("");
      if (!Names.isValidTopic(topic)) return done(Responses.badRequest("INVALID_TOPIC"));
      if (!channel.isEmpty() && !Names.isValidChannel(channel)) return done(Responses.badRequest("INVALID_CHANNEL"));
      Registry.Producer me = self.get();
      String q = channel.isEmpty() ? "/topic/create?topic=" + ClusterStats.enc(topic)
          : "/channel/create?topic=" + ClusterStats.enc(topic) + "&channel=" + ClusterStats.enc(channel);
      CompletionStage<ClusterStats.Upstream> first = channel.isEmpty() ? cluster.call(me, "POST", q, credentials(c))
          : cluster.call(me, "POST", "/topic/create?topic=" + ClusterStats.enc(topic), credentials(c))
              .thenCompose(u -> u.ok() ? cluster.call(me, "POST", q, credentials(c)) : CompletableFuture.completedFuture(u));
      return first.thenApply(u -> {
        if (!u.ok()) return u.status() == 0 ? upstreamError(u.problem()) : passOn(u);
        log.info("admin: created {}{} on {} (request from {})", topic, channel.isEmpty() ? "" : "/" + channel, me.node(), who(c));
        notifyAction(channel.isEmpty() ? "create_topic" : "create_channel", topic, channel, "", c);
        return ok(Responses.JSON.createObjectNode(), List.of());
      });
    });
  }

  /** {@code POST /api/topics/:topic[/:channel] {"action":"pause"|"unpause"|"empty"}} on every node of the topic. */
  private CompletionStage<HttpResponse> action(Call c, String topic, String channel) {
    return body(c).thenCompose(b -> {
      if (b == null) return done(Responses.badRequest("INVALID_BODY"));
      String action = b.path("action").asText("");
      if (!ACTIONS.contains(action)) return done(Responses.badRequest("INVALID_ACTION"));
      return withView(v -> {
        List<Registry.Producer> ps = v.producers(topic, System.currentTimeMillis());
        if (ps.isEmpty()) return done(Responses.notFound("TOPIC_NOT_FOUND"));
        String q = channel == null ? "/topic/" + action + "?topic=" + ClusterStats.enc(topic)
            : "/channel/" + action + "?topic=" + ClusterStats.enc(topic) + "&channel=" + ClusterStats.enc(channel);
        return cluster.callAll(ps, "POST", q, credentials(c)).thenApply(answers -> {
          HttpResponse r = summarize(answers, channel == null ? "TOPIC_NOT_FOUND" : "CHANNEL_NOT_FOUND");
          if (r.status().isSuccess()) {
            log.info("admin: {} {}{} on {} node(s) (request from {})", action, topic, channel == null ? "" : "/" + channel,
                ps.size(), who(c));
            notifyAction(action + (channel == null ? "_topic" : "_channel"), topic, channel, "", c);
          }
          return r;
        });
      });
    });
  }

  /** {@code DELETE /api/topics/:topic[/:channel]}: on every node of the topic, and from lookup's registrations. */
  private CompletionStage<HttpResponse> delete(Call c, String topic, String channel) {
    return withView(v -> {
      List<Registry.Producer> ps = v.producers(topic, System.currentTimeMillis());
      if (ps.isEmpty() && !v.hasTopic(topic)) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      String q = channel == null ? "/topic/delete?topic=" + ClusterStats.enc(topic)
          : "/channel/delete?topic=" + ClusterStats.enc(topic) + "&channel=" + ClusterStats.enc(channel);
      CompletionStage<List<ClusterStats.Upstream>> calls = ps.isEmpty()
          ? refusal(c, topic, channel).thenApply(no -> no == null ? List.of() : List.of(
              new ClusterStats.Upstream("lookup", no.status().intValue(), "{\"message\":\"UNAUTHORIZED\"}", null)))
          : cluster.callAll(ps, "POST", q, credentials(c));
      return calls.thenCompose(answers -> {
        HttpResponse r = answers.isEmpty() ? ok(Responses.JSON.createObjectNode(), List.of())
            : summarize(answers, channel == null ? "TOPIC_NOT_FOUND" : "CHANNEL_NOT_FOUND");
        // Lookup's registrations go only once the nodes did it (or none has the topic): not after a refusal or failure.
        if (!r.status().isSuccess() && r.status().intValue() != 404) return done(r);
        ActorRef<LookupState.Command> l = lookup.get();
        CompletionStage<Done> unregistered = l == null ? CompletableFuture.completedFuture(Done.getInstance())
            : AskPattern.ask(l, (ActorRef<Done> replyTo) -> new LookupState.Unregister(topic, channel, replyTo), ASK, system.scheduler());
        return unregistered.thenApply(d -> {
          if (r.status().isSuccess()) {
            log.info("admin: deleted {}{} on {} node(s) (request from {})", topic, channel == null ? "" : "/" + channel,
                ps.size(), who(c));
            notifyAction(channel == null ? "delete_topic" : "delete_channel", topic, channel, "", c);
          }
          return r;
        });
      });
    });
  }

  /** {@code DELETE /api/nodes/:node {"topic":…}}: tombstones the topic on that node in lookup. */
  private CompletionStage<HttpResponse> tombstone(Call c, String node) {
    return body(c).thenCompose(b -> {
      if (b == null) return done(Responses.badRequest("INVALID_BODY"));
      String topic = b.path("topic").asText("");
      if (!Names.isValidTopic(topic)) return done(Responses.badRequest("INVALID_TOPIC"));
      ActorRef<LookupState.Command> l = lookup.get();
      if (l == null) return done(upstreamError("lookup: this node's lookup is restarting"));
      return refusal(c, topic, null).thenCompose(no -> {
        if (no != null) return done(no);
        CompletionStage<Done> r = AskPattern.ask(l, (ActorRef<Done> replyTo) -> new LookupState.Tombstone(topic, node, replyTo),
            ASK, system.scheduler());
        return r.thenApply(d -> {
          log.info("admin: tombstoned topic {} on node {} (request from {})", topic, node, who(c));
          notifyAction("tombstone_topic_producer", topic, "", node, c);
          return ok(Responses.JSON.createObjectNode(), List.of());
        });
      });
    });
  }
}
