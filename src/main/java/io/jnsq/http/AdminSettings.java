package io.jnsq.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.cluster.Registry;
import io.jnsq.http.Endpoints.Call;
import io.jnsq.http.Endpoints.Endpoint;
import io.jnsq.protocol.Names;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Authorization;

/**
 * The admin API's part for settings, rewind and dead letters, on every node that has the topic:
 * {@code /api/settings/:topic[/:channel]} (GET: the first node's, POST: a change to all),
 * {@code POST /api/rewind/:topic/:channel {"to":…}}, {@code GET /api/dead-letters/:topic} (each node's
 * letters) and {@code POST /api/dead-letters/:topic {"node":…,"seq":…} | {"all":true}}.
 */
final class AdminSettings {
  private final ActorSystem<?> system;
  private final ClusterStats cluster;
  private final Function<String, CompletionStage<List<Registry.Producer>>> producers;

  AdminSettings(ActorSystem<?> system, ClusterStats cluster, Function<String, CompletionStage<List<Registry.Producer>>> producers) {
    this.system = system;
    this.cluster = cluster;
    this.producers = producers;
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) { return CompletableFuture.completedFuture(r); }

  /** The endpoint for {@code path}, or null when it is not one of these. */
  Endpoint route(String path) {
    String[] p;
    if (path.startsWith("/api/settings/")) {
      p = names(path.substring("/api/settings/".length()));
      if (p == null || p.length > 2) return null;
      String q = p.length == 1 ? "/topic/settings?topic=" + ClusterStats.enc(p[0])
          : "/channel/settings?topic=" + ClusterStats.enc(p[0]) + "&channel=" + ClusterStats.enc(p[1]);
      return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.POST), c -> c.request().method().equals(HttpMethods.GET)
          ? first(c, p[0], q) : body(c).thenCompose(b -> b == null ? done(Responses.badRequest("INVALID_BODY")) : all(c, p[0], q, b.toString())));
    }
    if (path.startsWith("/api/rewind/")) {
      p = names(path.substring("/api/rewind/".length()));
      if (p == null || p.length != 2) return null;
      return new Endpoint(Endpoints.POST, c -> body(c).thenCompose(b -> {
        if (b == null || !b.path("to").isTextual()) return done(Responses.badRequest("INVALID_BODY"));
        return all(c, p[0], "/channel/rewind?topic=" + ClusterStats.enc(p[0]) + "&channel=" + ClusterStats.enc(p[1])
            + "&to=" + ClusterStats.enc(b.path("to").asText()), null);
      }));
    }
    if (path.startsWith("/api/dead-letters/")) {
      p = names(path.substring("/api/dead-letters/".length()));
      if (p == null || p.length != 1) return null;
      return new Endpoint(Set.of(HttpMethods.GET, HttpMethods.POST), c -> c.request().method().equals(HttpMethods.GET)
          ? letters(c, p[0]) : body(c).thenCompose(b -> requeue(c, p[0], b)));
    }
    return null;
  }

  /** The topic (and channel) of a path, decoded and valid, or null. */
  private static String[] names(String rest) {
    String[] parts = rest.split("/", -1);
    try {
      for (int i = 0; i < parts.length; i++) parts[i] = java.net.URLDecoder.decode(parts[i], java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (!Names.isValidTopic(parts[0])) return null;
    if (parts.length == 2 && !Names.isValidChannel(parts[1])) return null;
    return parts;
  }

  private static Optional<HttpHeader> credentials(Call c) {
    return c.request().getHeader(Authorization.class).map(h -> (HttpHeader) h);
  }

  private CompletionStage<JsonNode> body(Call c) {
    return Endpoints.readBody(c.request(), 64 * 1024, system).thenApply(b -> {
      if (b == null) return null;
      try {
        JsonNode j = Responses.JSON.readTree(b.toArray());
        return j != null && j.isObject() ? j : null;
      } catch (IOException e) {
        return null;
      }
    });
  }

  /** A node's answer as it came (status and JSON). */
  private static HttpResponse passOn(ClusterStats.Upstream u) {
    if (u.status() == 0) return Responses.error(StatusCodes.BAD_GATEWAY, "UPSTREAM_ERROR");
    String body = u.body().isEmpty() ? "{}" : u.body();
    try {
      JsonNode j = Responses.JSON.readTree(body);
      if (j == null || !j.isObject()) body = Responses.JSON.createObjectNode().put("message", u.body()).toString();
    } catch (IOException notJson) {
      body = Responses.JSON.createObjectNode().put("message", u.body()).toString();
    }
    return Responses.json(StatusCodes.lookup(u.status()).orElse(StatusCodes.BAD_GATEWAY), body);
  }

  /** GET on the first node that has the topic and answers. */
  private CompletionStage<HttpResponse> first(Call c, String topic, String q) {
    return producers.apply(topic).thenCompose(ps -> {
      if (ps.isEmpty()) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      return cluster.callAll(ps, "GET", q, credentials(c)).thenApply(answers -> {
        for (ClusterStats.Upstream u : answers) if (u.ok()) return passOn(u);
        return passOn(answers.get(0));
      });
    });
  }

  /** POST on every node of the topic: the first refusal as it came, else the first answer. */
  private CompletionStage<HttpResponse> all(Call c, String topic, String q, String json) {
    return producers.apply(topic).thenCompose(ps -> {
      if (ps.isEmpty()) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      List<CompletableFuture<ClusterStats.Upstream>> calls = new ArrayList<>();
      for (Registry.Producer p : ps) calls.add(cluster.send(p, "POST", q, credentials(c), json).toCompletableFuture());
      return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(v -> {
        for (CompletableFuture<ClusterStats.Upstream> f : calls) if (!f.join().ok()) return passOn(f.join());
        return passOn(calls.get(0).join());
      });
    });
  }

  private CompletionStage<HttpResponse> letters(Call c, String topic) {
    String q = "/topic/dead-letters?topic=" + ClusterStats.enc(topic) + "&count=" + ClusterStats.enc(c.query().get("count").orElse("50"))
        + "&from=" + ClusterStats.enc(c.query().get("from").orElse("0"));
    return producers.apply(topic).thenCompose(ps -> {
      if (ps.isEmpty()) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      return cluster.callAll(ps, "GET", q, credentials(c)).thenApply(answers -> {
        ObjectNode o = Responses.JSON.createObjectNode();
        o.put("topic_name", topic);
        ArrayNode nodes = o.putArray("nodes");
        List<String> problems = new ArrayList<>();
        for (ClusterStats.Upstream u : answers) {
          if (!u.ok()) {
            problems.add(u.problem());
            continue;
          }
          try {
            ObjectNode n = (ObjectNode) Responses.JSON.readTree(u.body());
            n.put("node", u.node());
            nodes.add(n);
          } catch (IOException | ClassCastException e) {
            problems.add(u.node() + ": unreadable answer");
          }
        }
        if (nodes.isEmpty() && !answers.isEmpty()) return passOn(answers.get(0));
        o.put("message", ClusterStats.warning(problems));
        return Responses.json(o);
      });
    });
  }

  private CompletionStage<HttpResponse> requeue(Call c, String topic, JsonNode b) {
    if (b == null) return done(Responses.badRequest("INVALID_BODY"));
    boolean all = b.path("all").asBoolean(false);
    if (!all && (!b.path("seq").canConvertToLong() || !b.path("node").isTextual())) return done(Responses.badRequest("INVALID_BODY"));
    String q = "/topic/dead-letters/requeue?topic=" + ClusterStats.enc(topic) + (all ? "&all=true" : "&seq=" + b.path("seq").asLong());
    return producers.apply(topic).thenCompose(ps -> {
      List<Registry.Producer> to = new ArrayList<>();
      for (Registry.Producer p : ps) if (all || p.node().equals(b.path("node").asText())) to.add(p);
      if (to.isEmpty()) return done(Responses.notFound("TOPIC_NOT_FOUND"));
      return cluster.callAll(to, "POST", q, credentials(c)).thenApply(answers -> {
        long requeued = 0;
        long skipped = 0;
        for (ClusterStats.Upstream u : answers) {
          if (!u.ok()) return passOn(u);
          try {
            JsonNode j = Responses.JSON.readTree(u.body());
            requeued += j.path("requeued").asLong();
            skipped += j.path("skipped").asLong();
          } catch (IOException e) {
            return passOn(u);
          }
        }
        ObjectNode o = Responses.JSON.createObjectNode();
        o.put("requeued", requeued);
        o.put("skipped", skipped);
        return Responses.json(o);
      });
    });
  }
}
