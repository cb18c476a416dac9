package io.jnsq.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A table of paths in NSQ's HTTP conventions, shared by the nsqd and nsqlookupd APIs: 404 {@code NOT_FOUND}
 * for unknown paths, {@code OPTIONS} listing the methods, 405 for the wrong method, 400
 * {@code INVALID_REQUEST} for a malformed query string, and 500 (logged) when a handler fails.
 */
final class Endpoints {
  private static final Logger log = LoggerFactory.getLogger(Endpoints.class);

  /**
   * A path's methods and handler. Most handlers want a well-formed query string before anything else;
   * {@code bodyFirst} ones (nsqd's /pub) check the body first and the query themselves.
   */
  record Endpoint(Set<HttpMethod> methods, Function<Call, CompletionStage<HttpResponse>> handler, boolean bodyFirst) {
    Endpoint(Set<HttpMethod> methods, Function<Call, CompletionStage<HttpResponse>> handler) { this(methods, handler, false); }
  }

  /** One request with its query string parsed; {@code query} is null when it was malformed (bodyFirst only). */
  record Call(HttpRequest request, Query query) {}

  static final Set<HttpMethod> GET = Set.of(HttpMethods.GET);
  static final Set<HttpMethod> POST = Set.of(HttpMethods.POST);

  private final Map<String, Endpoint> table = new LinkedHashMap<>();

  void put(String path, Endpoint e) { table.put(path, e); }

  /** Answers {@code req}; {@code dynamic} may supply an endpoint for paths not in the table (or null). */
  CompletionStage<HttpResponse> handle(HttpRequest req, Function<String, Endpoint> dynamic) {
    String path = req.getUri().path();
    Endpoint e = table.get(path);
    if (e == null && dynamic != null) e = dynamic.apply(path);
    if (e == null) return done(Responses.notFound("NOT_FOUND"));
    if (req.method().equals(HttpMethods.OPTIONS)) return done(Responses.options(e.methods()));
    if (!e.methods().contains(req.method())) return done(Responses.methodNotAllowed(e.methods()));
    Optional<Query> query = Query.parse(req.getUri().rawQueryString().orElse(""));
    if (query.isEmpty() && !e.bodyFirst()) return done(Responses.badRequest("INVALID_REQUEST"));
    CompletionStage<HttpResponse> answer;
    try {
      answer = e.handler().apply(new Call(req, query.orElse(null)));
    } catch (RuntimeException ex) {
      answer = CompletableFuture.failedFuture(ex);
    }
    return answer.exceptionally(ex -> {
      log.error("HTTP {} {} failed", req.method().name(), path, ex);
      return Responses.error(StatusCodes.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    });
  }

  static CompletionStage<HttpResponse> done(HttpResponse r) { return CompletableFuture.completedFuture(r); }

  /** The request's body, or null when it is longer than {@code limit} bytes (read no further than that). */
  static CompletionStage<org.apache.pekko.util.ByteString> readBody(HttpRequest req, long limit,
      org.apache.pekko.actor.ClassicActorSystemProvider system) {
    return req.entity().getDataBytes()
        .limitWeighted(limit, b -> (long) b.size())
        .runFold(org.apache.pekko.util.ByteString.emptyByteString(), org.apache.pekko.util.ByteString::concat, system)
        .exceptionally(e -> {
          Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause instanceof org.apache.pekko.stream.StreamLimitReachedException) return null;
          throw new IllegalStateException("reading the request body failed", cause);
        });
  }
}
