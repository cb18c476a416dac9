package io.jnsq.http;

import io.jnsq.http.Endpoints.Call;
import io.jnsq.http.Endpoints.Endpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.broker.Channel;
import io.jnsq.broker.Stats;
import io.jnsq.broker.Topic;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.config.NodeSettings;
import io.jnsq.metrics.MemoryStats;
import io.jnsq.metrics.PrometheusMetrics;
import io.jnsq.protocol.Names;
import io.jnsq.tcp.Connections;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * nsqd's HTTP API: publishing, {@code /stats} (and Prometheus' {@code /metrics}), topic and channel
 * administration and runtime options, answered in NSQ 1.x's conventions (see {@link Responses}). Paths
 * are dispatched from one table so that an unknown path is 404 {@code NOT_FOUND}, a known path with
 * another method 405 with {@code Allow}, and OPTIONS lists the methods, exactly as nsqd's router does.
 */
public final class NsqdApi extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(NsqdApi.class);
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private final ActorSystem<?> system;
  private final ActorRef<TopicRegistry.Command> registry;
  private final ActorRef<Connections.Command> connections;
  private final NodeSettings settings;
  private final long startTime;
  private final IntSupplier tcpPort;
  private final IntSupplier httpPort;
  private final RuntimeOptions options;
  private final HttpAuth auth;   // null: auth is off
  private final MemoryStats memory = MemoryStats.jvm();
  private final Endpoints endpoints = new Endpoints();
  private final SettingsApi settingsApi;
  private volatile java.util.function.Function<String, io.jnsq.replication.Replication.GroupStatus> replication;

  /** With replicated topics: {@code /stats} and {@code /metrics} show each one's replication (null for other topics). */
  public NsqdApi withReplication(java.util.function.Function<String, io.jnsq.replication.Replication.GroupStatus> status) {
    this.replication = status;
    return this;
  }

  public NsqdApi(ActorSystem<?> system, ActorRef<TopicRegistry.Command> registry, ActorRef<Connections.Command> connections,
      NodeSettings settings, long startTime, IntSupplier tcpPort, IntSupplier httpPort,
      java.util.function.Consumer<List<String>> onLookupdChange, io.jnsq.auth.AuthServers authServers) {
    this.system = system;
    this.registry = registry;
    this.connections = connections;
    this.settings = settings;
    this.startTime = startTime;
    this.tcpPort = tcpPort;
    this.httpPort = httpPort;
    this.options = new RuntimeOptions(settings, httpPort, onLookupdChange);
    this.auth = authServers == null ? null : new HttpAuth(authServers);
    Set<HttpMethod> get = Set.of(HttpMethods.GET);
    Set<HttpMethod> post = Set.of(HttpMethods.POST);
    // nsqd answers 500 with its health text, as plain text like its OK, while a disk write is failing.
    endpoints.put("/ping", new Endpoint(get, c -> health().thenApply(h ->
        h.equals("OK") ? Responses.textPlain("OK") : Responses.textPlain(h)
            .withStatus(StatusCodes.INTERNAL_SERVER_ERROR))));
    endpoints.put("/info", new Endpoint(get, this::info));
    endpoints.put("/stats", new Endpoint(get, this::stats));
    endpoints.put("/metrics", new Endpoint(get, this::metrics));
    endpoints.put("/pub", new Endpoint(post, this::pub, true));
    endpoints.put("/mpub", new Endpoint(post, this::mpub));
    endpoints.put("/topic/create", new Endpoint(post, this::topicCreate));
    endpoints.put("/topic/delete", new Endpoint(post, this::topicDelete));
    endpoints.put("/topic/empty", new Endpoint(post, c -> topicAction(c, true, t -> new Topic.Empty(t))));
    endpoints.put("/topic/pause", new Endpoint(post, c -> topicAction(c, false, t -> new Topic.SetPaused(true, t))));
    endpoints.put("/topic/unpause", new Endpoint(post, c -> topicAction(c, false, t -> new Topic.SetPaused(false, t))));
    endpoints.put("/channel/create", new Endpoint(post, c -> channelAction(c, "create")));
    endpoints.put("/channel/delete", new Endpoint(post, c -> channelAction(c, "delete")));
    endpoints.put("/channel/empty", new Endpoint(post, c -> channelAction(c, "empty")));
    endpoints.put("/channel/pause", new Endpoint(post, c -> channelAction(c, "pause")));
    endpoints.put("/channel/unpause", new Endpoint(post, c -> channelAction(c, "unpause")));
    endpoints.put("/channel/peek", new Endpoint(get, this::channelPeek));
    this.settingsApi = new SettingsApi(system, registry, this);
    settingsApi.register(endpoints);   // settings, rewind, dead letters: not in nsqd
  }

  /** The whole API as one route. */
  public Route route() {
    return extractRequest(req -> completeWithFuture(handle(req)));
  }

  CompletionStage<HttpResponse> handle(HttpRequest req) {
    if (auth != null) {
      String path = req.getUri().path();
      Optional<HttpAuth.Need> need = HttpAuth.needFor(req, path,
          Query.parse(req.getUri().rawQueryString().orElse("")).orElse(null));
      if (need.isPresent() && !req.method().equals(HttpMethods.OPTIONS)) {
        return auth.check(req, need.get()).thenCompose(refusal -> refusal != null ? done(refusal) : route(req));
      }
    }
    return route(req);
  }

  private CompletionStage<HttpResponse> route(HttpRequest req) {
    return endpoints.handle(req, path -> {
      if (!path.startsWith("/config/") || path.length() == "/config/".length()) return null;
      String opt = path.substring("/config/".length());
      return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.PUT), c -> options.handle(c, opt, this::readBody));
    });
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) { return CompletableFuture.completedFuture(r); }

  // ------------------------------------------------------------------ /info

  private CompletionStage<HttpResponse> info(Call c) {
    ObjectNode o = Responses.JSON.createObjectNode();
    o.put("version", NodeSettings.NSQ_VERSION);
    o.put("broadcast_address", settings.broadcastAddress());
    o.put("hostname", hostname());
    o.put("http_port", httpPort.getAsInt());
    o.put("tcp_port", tcpPort.getAsInt());
    o.put("start_time", startTime);
    o.put("max_heartbeat_interval", settings.maxHeartbeatInterval().toNanos());
    o.put("max_output_buffer_size", settings.maxOutputBufferSize());
    o.put("max_output_buffer_timeout", settings.maxOutputBufferTimeout().toNanos());
    o.put("max_deflate_level", settings.maxDeflateLevel());
    return done(Responses.json(o));
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }

  // ------------------------------------------------------------------ publishing

  private CompletionStage<HttpResponse> pub(Call c) {
    Optional<Long> declared = c.request().entity().getContentLengthOption().isPresent()
        ? Optional.of(c.request().entity().getContentLengthOption().getAsLong()) : Optional.empty();
    if (declared.isPresent() && declared.get() > settings.maxMsgSize()) return done(Responses.tooLarge("MSG_TOO_BIG"));
    return readBody(c.request(), settings.maxMsgSize()).thenCompose(body -> {
      if (body == null) return done(Responses.tooLarge("MSG_TOO_BIG"));
      if (body.isEmpty()) return done(Responses.badRequest("MSG_EMPTY"));
      if (c.query() == null) return done(Responses.badRequest("INVALID_REQUEST"));
      Optional<String> topic = c.query().get("topic");
      if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
      if (!Names.isValidTopic(topic.get())) return done(Responses.badRequest("INVALID_TOPIC"));
      long defer = 0;
      if (c.query().has("defer")) {
        try {
          defer = Long.parseLong(c.query().get("defer").get());
        } catch (NumberFormatException e) {
          return done(Responses.badRequest("INVALID_DEFER"));
        }
        if (defer < 0 || defer > settings.maxReqTimeout().toMillis()) return done(Responses.badRequest("INVALID_DEFER"));
      }
      return publish(topic.get(), List.of(body), defer);
    });
  }

  private CompletionStage<HttpResponse> mpub(Call c) {
    if (c.request().entity().getContentLengthOption().isPresent()
        && c.request().entity().getContentLengthOption().getAsLong() > settings.maxBodySize()) {
      return done(Responses.tooLarge("BODY_TOO_BIG"));
    }
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
    if (!Names.isValidTopic(topic.get())) return done(Responses.badRequest("INVALID_TOPIC"));
    boolean binary = c.query().flag("binary", false);
    // nsqd creates the topic before it looks at the body.
    return topicRef(topic.get(), true).thenCompose(ref -> readBody(c.request(), settings.maxBodySize()).thenCompose(body -> {
      if (body == null) return done(Responses.tooLarge("BODY_TOO_BIG"));
      MpubBody.Parsed parsed = binary ? MpubBody.binary(body, settings.maxMsgSize(), settings.maxBodySize())
          : MpubBody.text(body, settings.maxMsgSize());
      if (parsed.error() != null) return done(Responses.tooLarge(parsed.error()));
      if (parsed.messages().isEmpty()) return done(Responses.text("OK"));
      return publishTo(ref, topic.get(), parsed.messages(), 0);
    }));
  }

  private CompletionStage<HttpResponse> publish(String topic, List<ByteString> bodies, long deferMs) {
    return topicRef(topic, true).thenCompose(ref -> publishTo(ref, topic, bodies, deferMs));
  }

  /** OK only once the topic has accepted every message. */
  private CompletionStage<HttpResponse> publishTo(ActorRef<Topic.Command> ref, String topic, List<ByteString> bodies, long deferMs) {
    // No topic although it was to be created: the node is shutting down.
    if (ref == null) return done(Responses.error(StatusCodes.SERVICE_UNAVAILABLE, "EXITING"));
    CompletionStage<Topic.PublishResult> r = AskPattern.ask(ref,
        (ActorRef<Topic.PublishResult> replyTo) -> new Topic.Publish(0, bodies, deferMs, replyTo), ASK_TIMEOUT, system.scheduler());
    return r.handle((result, error) -> {
      if (error == null && result.accepted()) return Responses.text("OK");
      log.warn("HTTP publish to {} refused: {}", topic, error != null ? "topic gone" : result.reason());
      // A failed disk write (full disk, I/O error) is a server error; anything else is nsqd's 503 EXITING.
      if (error == null && result.reason().endsWith(")") && result.reason().contains(" is full (")) {
        return Responses.error(StatusCodes.SERVICE_UNAVAILABLE, "TOPIC_FULL");   // a bounded topic refusing
      }
      if (error == null && result.reason().contains("disk")) {
        return Responses.error(StatusCodes.INTERNAL_SERVER_ERROR, "PUB_FAILED");
      }
      return Responses.error(StatusCodes.SERVICE_UNAVAILABLE, "EXITING");
    });
  }

  /**
   * The request body, or null when it is longer than {@code limit} (the declared length may be absent or
   * wrong, as with a chunked upload, so the limit is enforced while reading).
   */
  CompletionStage<ByteString> readBody(HttpRequest req, long limit) { return Endpoints.readBody(req, limit, system); }

  // ------------------------------------------------------------------ /stats

  private CompletionStage<String> health() {
    return AskPattern.ask(registry, TopicRegistry.GetHealth::new, ASK_TIMEOUT, system.scheduler());
  }

  private CompletionStage<HttpResponse> stats(Call c) {
    boolean json = "json".equals(c.query().get("format").orElse(""));
    String topic = c.query().get("topic").orElse(null);
    String channel = c.query().get("channel").orElse(null);
    boolean includeClients = c.query().flag("include_clients", true);
    boolean includeMem = c.query().flag("include_mem", true);
    CompletionStage<List<Stats.Topic>> topics = AskPattern.ask(registry,
        (ActorRef<List<Stats.Topic>> replyTo) -> new TopicRegistry.GetStats(topic, channel, includeClients, replyTo),
        ASK_TIMEOUT, system.scheduler());
    CompletionStage<List<Connections.Producer>> producers = includeClients
        ? AskPattern.ask(connections, Connections.GetProducers::new, ASK_TIMEOUT, system.scheduler())
        : CompletableFuture.completedFuture(List.of());
    CompletionStage<Boolean> topicExists = topic == null ? CompletableFuture.completedFuture(true)
        : topicRef(topic, false).thenApply(ref -> ref != null);
    CompletionStage<String> health = health();
    return topics.thenCombine(producers, (ts, ps) -> Map.entry(ts, ps)).thenCombine(health, (tp, h) -> Map.entry(tp, h))
        .thenCombine(topicExists, (tph, exists) -> {
      var tp = tph.getKey();
      List<Stats.Topic> ts = tp.getKey();
      List<Connections.Producer> shown = new ArrayList<>();
      for (Connections.Producer p : tp.getValue()) if (topic == null || p.pubCounts().containsKey(topic)) shown.add(p);
      // An unknown topic= gives "topics":null (and "producers":null), not an empty list.
      StatsFormat.Snapshot s = new StatsFormat.Snapshot(startTime, tph.getValue(), ts, !exists, includeClients, includeMem, shown, topic);
      if (!json) return Responses.text(StatsFormat.text(s, memory, System.currentTimeMillis()));
      var out = StatsFormat.json(s, memory);
      if (replication != null) ReplicationStats.addTo(out, replication);
      return Responses.json(out);
    });
  }

  // ------------------------------------------------------------------ /metrics

  /**
   * Prometheus' text format. The figures come from the actors by ask, like {@code /stats}; the exposition
   * is rendered on the dispatcher as a task of its own, not inside whichever actor answered last.
   */
  private CompletionStage<HttpResponse> metrics(Call c) {
    CompletionStage<List<Stats.Topic>> topics = AskPattern.ask(registry,
        (ActorRef<List<Stats.Topic>> replyTo) -> new TopicRegistry.GetStats(null, null, false, replyTo),
        ASK_TIMEOUT, system.scheduler());
    CompletionStage<Integer> clients = AskPattern.ask(connections, Connections.GetConnectionCount::new,
        ASK_TIMEOUT, system.scheduler());
    return topics.thenCombine(health(), (ts, h) -> Map.entry(h, ts))
        .thenCombine(clients, (ht, n) -> new PrometheusMetrics.NodeView(ht.getKey(), ht.getValue(), n))
        .thenApplyAsync(view -> {
          byte[] node = PrometheusMetrics.render(view);
          var status = replication;
          if (status == null) return Responses.prometheus(node);
          byte[] extra = ReplicationStats.prometheus(view.topics().stream().map(Stats.Topic::name).toList(), status);
          byte[] all = java.util.Arrays.copyOf(node, node.length + extra.length);
          System.arraycopy(extra, 0, all, node.length, extra.length);
          return Responses.prometheus(all);
        }, system.executionContext());
  }

  // ------------------------------------------------------------------ topics and channels

  private CompletionStage<ActorRef<Topic.Command>> topicRef(String name, boolean create) {
    CompletionStage<TopicRegistry.TopicLookup> r = AskPattern.ask(registry,
        (ActorRef<TopicRegistry.TopicLookup> replyTo) -> new TopicRegistry.GetTopic(name, create, replyTo), ASK_TIMEOUT, system.scheduler());
    return r.thenApply(TopicRegistry.TopicLookup::topic);
  }

  private CompletionStage<HttpResponse> topicCreate(Call c) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
    if (!Names.isValidTopic(topic.get())) return done(Responses.badRequest("INVALID_TOPIC"));
    return topicRef(topic.get(), true).thenApply(ref -> Responses.empty());
  }

  private CompletionStage<HttpResponse> topicDelete(Call c) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
    CompletionStage<Boolean> deleted = AskPattern.ask(registry,
        (ActorRef<Boolean> replyTo) -> new TopicRegistry.DeleteTopic(topic.get(), replyTo), ASK_TIMEOUT, system.scheduler());
    return deleted.thenApply(found -> {
      if (!found) return Responses.notFound("TOPIC_NOT_FOUND");
      log.info("HTTP: deleted topic {}", topic.get());
      return Responses.empty();
    });
  }

  /** empty/pause/unpause of a topic; only empty validates the name (an invalid one is simply not found otherwise). */
  private CompletionStage<HttpResponse> topicAction(Call c, boolean validate, Function<ActorRef<Done>, Topic.Command> action) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
    if (validate && !Names.isValidTopic(topic.get())) return done(Responses.badRequest("INVALID_TOPIC"));
    return topicRef(topic.get(), false).thenCompose(ref -> {
      if (ref == null) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      CompletionStage<Done> r = AskPattern.ask(ref, action::apply, ASK_TIMEOUT, system.scheduler());
      return r.thenApply(d -> Responses.empty());
    });
  }

  private CompletionStage<HttpResponse> channelAction(Call c, String action) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
    if (!Names.isValidTopic(topic.get())) return done(Responses.badRequest("INVALID_ARG_TOPIC"));
    Optional<String> channel = c.query().get("channel");
    if (channel.isEmpty()) return done(Responses.badRequest("MISSING_ARG_CHANNEL"));
    if (!Names.isValidChannel(channel.get())) return done(Responses.badRequest("INVALID_ARG_CHANNEL"));
    return topicRef(topic.get(), false).thenCompose(t -> {
      if (t == null) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      if (action.equals("delete")) {
        CompletionStage<Boolean> deleted = AskPattern.ask(t,
            (ActorRef<Boolean> replyTo) -> new Topic.DeleteChannel(channel.get(), replyTo), ASK_TIMEOUT, system.scheduler());
        return deleted.thenApply(found -> {
          if (!found) return Responses.notFound("CHANNEL_NOT_FOUND");
          log.info("HTTP: deleted channel {}/{}", topic.get(), channel.get());
          return Responses.empty();
        });
      }
      boolean create = action.equals("create");
      if (create && c.query().has("from")) return settingsApi.createFrom(topic.get(), channel.get(), c.query().get("from").get(), t);
      CompletionStage<Topic.ChannelLookup> lookup = AskPattern.ask(t,
          (ActorRef<Topic.ChannelLookup> replyTo) -> new Topic.GetChannel(channel.get(), create, replyTo), ASK_TIMEOUT, system.scheduler());
      return lookup.thenCompose(l -> {
        if (l.channel() == null) return done(Responses.notFound("CHANNEL_NOT_FOUND"));
        if (create) return done(Responses.empty());
        Function<ActorRef<Done>, Channel.Command> message = switch (action) {
          case "empty" -> Channel.Empty::new;
          case "pause" -> r -> new Channel.SetPaused(true, r);
          default -> r -> new Channel.SetPaused(false, r);
        };
        if (action.equals("empty")) log.info("HTTP: emptied channel {}/{}", topic.get(), channel.get());
        CompletionStage<Done> r = AskPattern.ask(l.channel(), message::apply, ASK_TIMEOUT, system.scheduler());
        return r.thenApply(d -> Responses.empty());
      });
    });
  }

  // ------------------------------------------------------------------ peek (not in nsqd)

  /** Most messages one peek shows, and the most of a body it includes. */
  static final int PEEK_MAX = 100;
  static final int PEEK_BODY_MAX = 4096;

  /**
   * {@code GET /channel/peek?topic=&channel=&count=}: the next {@code count} (default 10) messages the
   * channel will deliver, in order, without consuming them.
   */
  private CompletionStage<HttpResponse> channelPeek(Call c) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return done(Responses.badRequest("MISSING_ARG_TOPIC"));
    Optional<String> channel = c.query().get("channel");
    if (channel.isEmpty()) return done(Responses.badRequest("MISSING_ARG_CHANNEL"));
    int count;
    try {
      count = Integer.parseInt(c.query().get("count").orElse("10"));
    } catch (NumberFormatException e) {
      count = -1;
    }
    if (count < 1 || count > PEEK_MAX) return done(Responses.badRequest("INVALID_ARG_COUNT"));
    int n = count;
    return topicRef(topic.get(), false).thenCompose(t -> {
      if (t == null) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      CompletionStage<Topic.ChannelLookup> lookup = AskPattern.ask(t,
          (ActorRef<Topic.ChannelLookup> replyTo) -> new Topic.GetChannel(channel.get(), false, replyTo), ASK_TIMEOUT, system.scheduler());
      return lookup.thenCompose(l -> {
        if (l.channel() == null) return done(Responses.notFound("CHANNEL_NOT_FOUND"));
        CompletionStage<Channel.Peeked> peeked = AskPattern.ask(l.channel(),
            (ActorRef<Channel.Peeked> replyTo) -> new Channel.Peek(n, replyTo), ASK_TIMEOUT, system.scheduler());
        return peeked.thenApply(p -> Responses.json(peekJson(topic.get(), channel.get(), p)));
      });
    });
  }

  /** {@code limit}, moved back so a cut there splits no UTF-8 sequence (continuation bytes are 10xxxxxx). */
  static int utf8Boundary(org.apache.pekko.util.ByteString body, int limit) {
    int end = limit;
    while (end > 0 && end > limit - 4 && (body.apply(end) & 0xC0) == 0x80) end--;
    return end;
  }

  static ObjectNode peekJson(String topic, String channel, Channel.Peeked p) {
    ObjectNode o = Responses.JSON.createObjectNode();
    o.put("topic_name", topic);
    o.put("channel_name", channel);
    o.put("depth", p.depth());
    var list = o.putArray("messages");
    java.nio.charset.CharsetDecoder utf8 = java.nio.charset.StandardCharsets.UTF_8.newDecoder();
    for (Channel.Queued q : p.messages()) {
      ObjectNode m = list.addObject();
      m.put("id", io.jnsq.protocol.MessageIds.toHex(q.message().id()));
      m.put("timestamp", q.message().timestamp());
      m.put("attempts", q.message().attempts());
      m.put("size", q.message().body().size());
      m.put("on_disk", q.onDisk());
      boolean truncated = q.message().body().size() > PEEK_BODY_MAX;
      byte[] body = q.message().body().take(truncated ? utf8Boundary(q.message().body(), PEEK_BODY_MAX) : PEEK_BODY_MAX).toArray();
      m.put("truncated", truncated);
      try {
        m.put("body", utf8.decode(java.nio.ByteBuffer.wrap(body)).toString());
        m.put("encoding", "utf-8");
      } catch (java.nio.charset.CharacterCodingException binary) {
        m.put("body", java.util.Base64.getEncoder().encodeToString(body));
        m.put("encoding", "base64");
      }
    }
    return o;
  }
}
