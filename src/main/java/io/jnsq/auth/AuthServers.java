package io.jnsq.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The external auth servers of {@code --auth-http-address}, asked as nsqd asks them:
 * {@code GET /auth?common_name=&remote_ip=&secret=&tls=} with nsqd's Accept header, starting at a random
 * server and trying the others when one fails, each call bounded by the connect and request timeouts.
 * Non-blocking: answers arrive as completion stages. Secrets never go into exception messages.
 */
public final class AuthServers {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How the server's topic and channel patterns are matched: {@code WHOLE} (our default) against the
   * whole name, {@code NSQD} anywhere in it, as nsqd does (Go's MatchString), for servers written for it.
   */
  public enum Match { WHOLE, NSQD }

  /**
   * One entry of the server's reply: who may do what on topics and channels matching the patterns;
   * {@code anywhere}: a pattern may match part of a name (nsqd's way, {@code --auth-match nsqd}).
   */
  public record Authorization(Pattern topic, List<Pattern> channels, boolean publish, boolean subscribe, boolean anywhere) {

    public Authorization(Pattern topic, List<Pattern> channels, boolean publish, boolean subscribe) {
      this(topic, channels, publish, subscribe, false);
    }

    /**
     * Whether this entry allows the action. By default, unlike nsqd, patterns must match the whole name:
     * a grant for {@code clicks} does not open {@code xclicksy}.
     */
    boolean allows(String topicName, String channelName, boolean toPublish) {
      if (toPublish ? !publish : !subscribe) return false;
      if (!matches(topic, topicName)) return false;
      for (Pattern c : channels) if (matches(c, channelName)) return true;
      return false;
    }

    private boolean matches(Pattern p, String name) {
      return anywhere ? p.matcher(name).find() : p.matcher(name).matches();
    }
  }

  /** What a secret grants, until {@code expiresAtNanos} (System.nanoTime). */
  public record Grant(String identity, String identityUrl, List<Authorization> authorizations, long expiresAtNanos) {
    public boolean expired(long nowNanos) { return nowNanos >= expiresAtNanos; }

    /** PUB/MPUB/DPUB check the topic with an empty channel name, as nsqd does; SUB checks both. */
    public boolean allows(String topic, String channel, boolean publish) {
      for (Authorization a : authorizations) if (a.allows(topic, channel, publish)) return true;
      return false;
    }

    /** The AUTH reply: {"identity":…,"identity_url":…,"permission_count":n}. */
    public String replyJson() {
      return JSON.createObjectNode().put("identity", identity).put("identity_url", identityUrl)
          .put("permission_count", authorizations.size()).toString();
    }
  }

  private final List<String> addresses;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final Match match;

  public AuthServers(List<String> addresses, Duration connectTimeout, Duration requestTimeout) {
    this(addresses, HttpClient.newBuilder().connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NEVER).build(),
        requestTimeout, Match.WHOLE);
  }

  private AuthServers(List<String> addresses, HttpClient http, Duration requestTimeout, Match match) {
    this.addresses = List.copyOf(addresses);
    this.http = http;
    this.requestTimeout = requestTimeout;
    this.match = match;
  }

  /** The same servers, their patterns matched as {@code match} says. */
  public AuthServers withMatch(Match match) {
    return match == this.match ? this : new AuthServers(addresses, http, requestTimeout, match);
  }

  public Match match() { return match; }

  public boolean enabled() { return !addresses.isEmpty(); }

  /** Asks the servers what {@code secret} grants; fails when none gives a valid answer. */
  public CompletionStage<Grant> query(String remoteIp, boolean tls, String secret, String commonName) {
    String query = "common_name=" + enc(commonName) + "&remote_ip=" + enc(remoteIp) + "&secret=" + enc(secret)
        + "&tls=" + tls;
    int start = ThreadLocalRandom.current().nextInt(addresses.size());
    return attempt(query, start, 0, null);
  }

  private CompletionStage<Grant> attempt(String query, int start, int tried, Throwable last) {
    if (tried == addresses.size()) {
      return CompletableFuture.failedFuture(new IOException("no auth server answered: " + (last == null ? "" : last.getMessage())));
    }
    String address = addresses.get((start + tried) % addresses.size());
    String base = address.contains("://") ? address : "http://" + address + "/auth";
    URI uri;
    try {
      uri = URI.create(base + (base.contains("?") ? "&" : "?") + query);
    } catch (IllegalArgumentException e) {
      return attempt(query, start, tried + 1, new IOException("bad auth server address " + address));
    }
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(requestTimeout)
        .header("Accept", "application/vnd.nsq; version=1.0").GET().build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> {
          if (r.statusCode() != 200) throw new IllegalStateException("auth server " + address + " answered " + r.statusCode());
          try {
            return parse(r.body(), System.nanoTime(), match);
          } catch (IOException e) {
            throw new IllegalStateException("auth server " + address + ": " + e.getMessage());
          }
        })
        .handle((grant, error) -> grant != null ? CompletableFuture.completedFuture(grant)
            : attempt(query, start, tried + 1, new IOException(describe(address, error))))
        .thenCompose(x -> x);
  }

  private static String describe(String address, Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
    String message = cause.getMessage();
    return message != null && message.startsWith("auth server") ? message
        : "auth server " + address + ": " + cause.getClass().getSimpleName();
  }

  /** Validates and reads a reply: ttl > 0, permissions only "subscribe" and "publish", patterns that compile. */
  static Grant parse(String body, long nowNanos) throws IOException {
    return parse(body, nowNanos, Match.WHOLE);
  }

  static Grant parse(String body, long nowNanos, Match match) throws IOException {
    JsonNode o = JSON.readTree(body);
    if (o == null || !o.isObject()) throw new IOException("reply is not a JSON object");
    long ttl = o.path("ttl").asLong(0);
    if (ttl <= 0) throw new IOException("invalid ttl " + o.path("ttl"));
    List<Authorization> out = new ArrayList<>();
    for (JsonNode a : o.path("authorizations")) {
      boolean publish = false;
      boolean subscribe = false;
      for (JsonNode p : a.path("permissions")) {
        switch (p.asText()) {
          case "publish" -> publish = true;
          case "subscribe" -> subscribe = true;
          default -> throw new IOException("unknown permission " + p);
        }
      }
      try {
        List<Pattern> channels = new ArrayList<>();
        for (JsonNode c : a.path("channels")) channels.add(Pattern.compile(c.asText()));
        out.add(new Authorization(Pattern.compile(a.path("topic").asText()), List.copyOf(channels), publish, subscribe,
            match == Match.NSQD));
      } catch (PatternSyntaxException e) {
        throw new IOException("invalid pattern " + e.getPattern());
      }
    }
    return new Grant(o.path("identity").asText(""), o.path("identity_url").asText(""), List.copyOf(out),
        nowNanos + ttl * 1_000_000_000L);
  }

  private static String enc(String s) { return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8); }
}
