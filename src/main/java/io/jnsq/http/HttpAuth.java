package io.jnsq.http;

import io.jnsq.auth.AuthServers;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With auth servers configured, the HTTP API's changing endpoints need {@code Authorization: Bearer
 * <secret>}, checked with the same auth servers as TCP's AUTH (nsqd leaves its HTTP API open):
 * publishing needs {@code publish} on the topic, topic administration too, channel administration needs
 * {@code subscribe} on the topic and channel, and {@code PUT /config} any valid grant. Reading
 * ({@code /ping}, {@code /info}, {@code /stats}, {@code /metrics}, {@code GET /config}) stays open:
 * {@code /metrics} shows nothing {@code /stats} does not, and Prometheus scrapers rarely carry a bearer
 * secret. Grants are cached per secret for their ttl.
 */
final class HttpAuth {
  private static final Logger log = LoggerFactory.getLogger(HttpAuth.class);

  /** What a request needs: publish or subscribe on topic/channel, or only a valid grant (topic null). */
  record Need(boolean publish, String topic, String channel) {}

  private final AuthServers servers;
  private final Map<String, AuthServers.Grant> cache = new ConcurrentHashMap<>();

  HttpAuth(AuthServers servers) {
    this.servers = servers;
  }

  /** The permission {@code path} needs with query {@code q}, or empty when it is open to everyone. */
  static Optional<Need> needFor(HttpRequest req, String path, Query q) {
    String topic = q == null ? "" : q.get("topic").orElse("");
    String channel = q == null ? "" : q.get("channel").orElse("");
    if (path.equals("/pub") || path.equals("/mpub") || path.startsWith("/topic/")) return Optional.of(new Need(true, topic, ""));
    if (path.startsWith("/channel/")) return Optional.of(new Need(false, topic, channel));
    if (path.startsWith("/config/") && !req.method().name().equals("GET")) return Optional.of(new Need(true, null, null));
    return Optional.empty();
  }

  /** Null when {@code req} may go on, else the answer to give instead. */
  CompletionStage<HttpResponse> check(HttpRequest req, Need need) {
    Optional<String> secret = req.getHeader(Authorization.class).map(Authorization::credentials)
        .filter(c -> c.scheme().equalsIgnoreCase("bearer")).map(HttpCredentials::token);
    if (secret.isEmpty() || secret.get().isEmpty()) {
      return CompletableFuture.completedFuture(Responses.error(StatusCodes.UNAUTHORIZED, "AUTH_REQUIRED"));
    }
    AuthServers.Grant cached = cache.get(secret.get());
    CompletionStage<AuthServers.Grant> grant = cached != null && !cached.expired(System.nanoTime())
        ? CompletableFuture.completedFuture(cached)
        : servers.query(remoteIp(req), false, secret.get(), "").thenApply(g -> {
          cache.put(secret.get(), g);
          return g;
        });
    return grant.handle((g, error) -> {
      if (error != null) {
        log.warn("HTTP {} {}: auth failed: {}", req.method().name(), req.getUri().path(),
            error.getCause() != null ? error.getCause().getMessage() : error.getMessage());
        return Responses.error(StatusCodes.FORBIDDEN, "AUTH_FAILED");
      }
      if (g.authorizations().isEmpty()) return Responses.error(StatusCodes.FORBIDDEN, "UNAUTHORIZED");
      if (need.topic() != null && !g.allows(need.topic(), need.channel(), need.publish())) {
        return Responses.error(StatusCodes.FORBIDDEN, "UNAUTHORIZED");
      }
      return null;
    });
  }

  static String remoteIp(HttpRequest req) {
    return req.getAttribute(AttributeKeys.remoteAddress)
        .flatMap(a -> a.getAddress()).map(java.net.InetAddress::getHostAddress).orElse("");
  }
}
