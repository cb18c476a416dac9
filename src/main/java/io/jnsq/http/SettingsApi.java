package io.jnsq.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.broker.Channel;
import io.jnsq.broker.ChannelPolicy;
import io.jnsq.broker.DeadLetterOffice;
import io.jnsq.broker.DeadLetters;
import io.jnsq.broker.PolicyJson;
import io.jnsq.broker.Topic;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.http.Endpoints.Call;
import io.jnsq.protocol.MessageIds;
import io.jnsq.protocol.Names;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * The API of what nsqd does not have: topic and channel settings ({@code /topic/settings},
 * {@code /channel/settings}), rewinding a channel ({@code /channel/rewind}, {@code /channel/create?from=})
 * and a dead-letter topic's letters ({@code /topic/dead-letters}, {@code /topic/dead-letters/requeue}).
 * Errors keep nsqd's shape, {@code {"message":"TOKEN"}}; a refused setting says why after the token.
 */
final class SettingsApi {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);
  /** Most records one browse of a dead-letter topic shows. */
  static final int BROWSE_MAX = 100;

  private final ActorSystem<?> system;
  private final ActorRef<TopicRegistry.Command> registry;
  private final NsqdApi api;

  SettingsApi(ActorSystem<?> system, ActorRef<TopicRegistry.Command> registry, NsqdApi api) {
    this.system = system;
    this.registry = registry;
    this.api = api;
  }

  void register(Endpoints endpoints) {
    java.util.Set<org.apache.pekko.http.javadsl.model.HttpMethod> getPost = java.util.Set.of(
        org.apache.pekko.http.javadsl.model.HttpMethods.GET, org.apache.pekko.http.javadsl.model.HttpMethods.POST);
    endpoints.put("/topic/settings", new Endpoints.Endpoint(getPost, c -> settings(c, false)));
    endpoints.put("/channel/settings", new Endpoints.Endpoint(getPost, c -> settings(c, true)));
    endpoints.put("/channel/rewind", new Endpoints.Endpoint(Endpoints.POST, this::rewind));
    endpoints.put("/topic/dead-letters", new Endpoints.Endpoint(Endpoints.GET, this::browse));
    endpoints.put("/topic/dead-letters/requeue", new Endpoints.Endpoint(Endpoints.POST, this::requeue));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) { return CompletableFuture.completedFuture(r); }

  /** nsqd's error shape with a message that explains: {@code {"message":"TOKEN: why"}}, escaped as JSON. */
  static HttpResponse explained(org.apache.pekko.http.javadsl.model.StatusCode status, String message) {
    ObjectNode o = Responses.JSON.createObjectNode();
    o.put("message", message);
    return Responses.json(status, o.toString());
  }

  /** The topic (and channel) named by the query, or the error response. */
  private record Target(String topic, String channel, HttpResponse error) {}

  private static Target names(Call c, boolean channel) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return new Target(null, null, Responses.badRequest("MISSING_ARG_TOPIC"));
    if (!Names.isValidTopic(topic.get())) return new Target(null, null, Responses.badRequest("INVALID_ARG_TOPIC"));
    if (!channel) return new Target(topic.get(), null, null);
    Optional<String> ch = c.query().get("channel");
    if (ch.isEmpty()) return new Target(null, null, Responses.badRequest("MISSING_ARG_CHANNEL"));
    if (!Names.isValidChannel(ch.get())) return new Target(null, null, Responses.badRequest("INVALID_ARG_CHANNEL"));
    return new Target(topic.get(), ch.get(), null);
  }

  // ---- settings ----

  private CompletionStage<HttpResponse> settings(Call c, boolean channel) {
    Target n = names(c, channel);
    if (n.error() != null) return done(n.error());
    if (c.request().method().equals(org.apache.pekko.http.javadsl.model.HttpMethods.GET)) {
      CompletionStage<TopicRegistry.SettingsReply> r = AskPattern.ask(registry,
          (ActorRef<TopicRegistry.SettingsReply> replyTo) -> new TopicRegistry.GetSettings(n.topic(), n.channel(), replyTo),
          ASK_TIMEOUT, system.scheduler());
      return r.thenApply(reply -> answer(reply, channel));
    }
    return api.readBody(c.request(), 64 * 1024).thenCompose(body -> {
      if (body == null) return done(Responses.tooLarge("BODY_TOO_BIG"));
      JsonNode change;
      try {
        change = Responses.JSON.readTree(body.toArray());
      } catch (java.io.IOException e) {
        change = null;
      }
      if (change == null || !change.isObject()) {
        return done(explained(StatusCodes.BAD_REQUEST, "INVALID_SETTINGS: the body must be a JSON object such as {\"max_attempts\":5}"));
      }
      JsonNode ch = change;
      CompletionStage<TopicRegistry.SettingsReply> r = AskPattern.ask(registry,
          (ActorRef<TopicRegistry.SettingsReply> replyTo) -> new TopicRegistry.UpdateSettings(n.topic(), n.channel(), ch, replyTo),
          ASK_TIMEOUT, system.scheduler());
      return r.thenApply(reply -> answer(reply, channel));
    });
  }

  private static HttpResponse answer(TopicRegistry.SettingsReply reply, boolean channel) {
    if (reply.notFound()) return Responses.notFound(channel ? "CHANNEL_NOT_FOUND" : "TOPIC_NOT_FOUND");
    if (reply.error() != null) {
      boolean server = reply.error().startsWith("writing");
      return explained(server ? StatusCodes.INTERNAL_SERVER_ERROR : StatusCodes.BAD_REQUEST,
          (server ? "INTERNAL_ERROR: " : "INVALID_SETTINGS: ") + reply.error());
    }
    if (!channel) return Responses.json(PolicyJson.toJson(reply.topic()));
    ObjectNode o = PolicyJson.toJson(reply.effective());
    o.put("source", reply.own() != null ? "channel" : "node");
    return Responses.json(o);
  }

  // ---- rewind ----

  /** RFC 3339, unix milliseconds, or "earliest"; null when it is none of them. */
  static Long parseTime(String to) {
    if (to.equals("earliest")) return Topic.EARLIEST;
    if (to.matches("\\d{1,15}")) return Long.parseLong(to);
    try {
      return OffsetDateTime.parse(to).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private CompletionStage<HttpResponse> rewind(Call c) {
    Target n = names(c, true);
    if (n.error() != null) return done(n.error());
    Long to = parseTime(c.query().get("to").orElse(""));
    if (to == null) return done(explained(StatusCodes.BAD_REQUEST, "INVALID_ARG_TO: an RFC 3339 time, unix milliseconds or earliest"));
    return rewindTo(n.topic(), n.channel(), to);
  }

  /** {@code /channel/create?from=}: the channel is made (as without it), then rewound. */
  CompletionStage<HttpResponse> createFrom(String topic, String channel, String from, ActorRef<Topic.Command> t) {
    Long to = parseTime(from);
    if (to == null) return done(explained(StatusCodes.BAD_REQUEST, "INVALID_ARG_FROM: an RFC 3339 time, unix milliseconds or earliest"));
    CompletionStage<Topic.ChannelLookup> lookup = AskPattern.ask(t,
        (ActorRef<Topic.ChannelLookup> replyTo) -> new Topic.GetChannel(channel, true, replyTo), ASK_TIMEOUT, system.scheduler());
    return lookup.thenCompose(l -> l.channel() == null ? done(Responses.notFound("CHANNEL_NOT_FOUND"))
        : rewindTo(topic, channel, to).thenApply(r -> r.status().intValue() == 200 ? Responses.empty() : r));
  }

  private CompletionStage<HttpResponse> rewindTo(String topic, String channel, long to) {
    return topicRef(topic).thenCompose(t -> {
      if (t == null) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      CompletionStage<Channel.Rewound> r = AskPattern.ask(t,
          (ActorRef<Channel.Rewound> replyTo) -> new Topic.RewindChannel(channel, to, replyTo), ASK_TIMEOUT, system.scheduler());
      return r.thenApply(rewound -> {
        if (!rewound.found()) return Responses.notFound("CHANNEL_NOT_FOUND");
        ObjectNode o = Responses.JSON.createObjectNode();
        o.put("depth", rewound.depth());
        return Responses.json(o);
      });
    });
  }

  private CompletionStage<ActorRef<Topic.Command>> topicRef(String name) {
    CompletionStage<TopicRegistry.TopicLookup> r = AskPattern.ask(registry,
        (ActorRef<TopicRegistry.TopicLookup> replyTo) -> new TopicRegistry.GetTopic(name, false, replyTo), ASK_TIMEOUT, system.scheduler());
    return r.thenApply(TopicRegistry.TopicLookup::topic);
  }

  // ---- dead letters ----

  private CompletionStage<ActorRef<DeadLetterOffice.Command>> office() {
    return AskPattern.ask(registry, TopicRegistry.GetDeadLetterOffice::new, ASK_TIMEOUT, system.scheduler());
  }

  private CompletionStage<HttpResponse> browse(Call c) {
    Target n = names(c, false);
    if (n.error() != null) return done(n.error());
    long from;
    int count;
    try {
      from = Long.parseLong(c.query().get("from").orElse("0"));
      count = Integer.parseInt(c.query().get("count").orElse("20"));
    } catch (NumberFormatException e) {
      return done(Responses.badRequest("INVALID_ARG_COUNT"));
    }
    if (count < 1 || count > BROWSE_MAX || from < 0) return done(Responses.badRequest("INVALID_ARG_COUNT"));
    return office().thenCompose(o -> AskPattern.ask(o,
        (ActorRef<DeadLetterOffice.Browsed> replyTo) -> new DeadLetterOffice.Browse(n.topic(), from, count, replyTo),
        ASK_TIMEOUT, system.scheduler())).thenApply(b -> {
          if (!b.found()) return Responses.notFound("TOPIC_NOT_FOUND");
          return Responses.json(browseJson(n.topic(), b));
        });
  }

  static ObjectNode browseJson(String topic, DeadLetterOffice.Browsed b) {
    ObjectNode o = Responses.JSON.createObjectNode();
    o.put("topic_name", topic);
    o.put("start_seq", b.startSeq());
    o.put("end_seq", b.endSeq());
    var list = o.putArray("letters");
    for (DeadLetterOffice.Shown s : b.records()) {
      ObjectNode m = list.addObject();
      m.put("seq", s.seq());
      m.put("id", MessageIds.toHex(s.id()));
      m.put("timestamp", s.timestamp());
      DeadLetters.Letter l = s.letter();
      if (l != null) {
        m.put("origin_id", MessageIds.toHex(l.id()));
        m.put("origin_topic", l.topic());
        m.put("origin_channel", l.channel());
        m.put("origin_timestamp", l.timestamp());
        m.put("attempts", l.attempts());
        m.put("reason", l.reason());
        m.put("dead_lettered_at", l.atEpochMs());
      }
      m.put("requeued", s.requeued());
      m.put("size", s.body().size());
      boolean truncated = s.body().size() > NsqdApi.PEEK_BODY_MAX;
      byte[] body = s.body().take(truncated ? NsqdApi.utf8Boundary(s.body(), NsqdApi.PEEK_BODY_MAX) : NsqdApi.PEEK_BODY_MAX).toArray();
      m.put("truncated", truncated);
      try {
        m.put("body", java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(body)).toString());
        m.put("encoding", "utf-8");
      } catch (java.nio.charset.CharacterCodingException binary) {
        m.put("body", java.util.Base64.getEncoder().encodeToString(body));
        m.put("encoding", "base64");
      }
    }
    return o;
  }

  private CompletionStage<HttpResponse> requeue(Call c) {
    Target n = names(c, false);
    if (n.error() != null) return done(n.error());
    long seq;
    Optional<String> one = c.query().get("seq");
    if (one.isPresent()) {
      try {
        seq = Long.parseLong(one.get());
      } catch (NumberFormatException e) {
        seq = -1;
      }
      if (seq < 0) return done(Responses.badRequest("INVALID_ARG_SEQ"));
    } else if (c.query().flag("all", false)) {
      seq = -1;
    } else {
      return done(explained(StatusCodes.BAD_REQUEST, "MISSING_ARG_SEQ: seq=<n> (one letter) or all=true"));
    }
    long s = seq;
    return office().thenCompose(o -> AskPattern.ask(o,
        (ActorRef<DeadLetterOffice.Requeued> replyTo) -> new DeadLetterOffice.Requeue(n.topic(), s, replyTo),
        Duration.ofSeconds(60), system.scheduler())).thenApply(r -> {
          if (!r.found()) return Responses.notFound("TOPIC_NOT_FOUND");
          ObjectNode o = Responses.JSON.createObjectNode();
          o.put("requeued", r.requeued());
          o.put("skipped", r.skipped());
          return Responses.json(o);
        });
  }
}
