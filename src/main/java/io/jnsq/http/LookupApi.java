package io.jnsq.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.config.NodeSettings;
import io.jnsq.http.Endpoints.Call;
import io.jnsq.http.Endpoints.Endpoint;
import io.jnsq.cluster.LookupState;
import io.jnsq.cluster.Registry;
import io.jnsq.protocol.Names;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * nsqlookupd's HTTP API, served by every node from the cluster's replicated lookup state: the paths,
 * parameters, field names and errors of nsqlookupd 1.3, so the lookup pollers of go-nsq, pynsq and
 * nsqjs work unchanged against any node.
 */
public final class LookupApi {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private final ActorSystem<?> system;
  private final ActorRef<LookupState.Command> state;
  private final Endpoints endpoints = new Endpoints();

  public LookupApi(ActorSystem<?> system, ActorRef<LookupState.Command> state) {
    this.system = system;
    this.state = state;
    endpoints.put("/ping", new Endpoint(Endpoints.GET, c -> Endpoints.done(Responses.textPlain("OK"))));
    endpoints.put("/info", new Endpoint(Endpoints.GET, c -> Endpoints.done(
        Responses.json(Responses.JSON.createObjectNode().put("version", NodeSettings.NSQ_VERSION)))));
    endpoints.put("/lookup", new Endpoint(Endpoints.GET, this::lookup));
    endpoints.put("/topics", new Endpoint(Endpoints.GET, c -> view().thenApply(v -> {
      ObjectNode o = Responses.JSON.createObjectNode();
      strings(o.putArray("topics"), v.topics());
      return Responses.json(o);
    })));
    endpoints.put("/channels", new Endpoint(Endpoints.GET, this::channels));
    endpoints.put("/nodes", new Endpoint(Endpoints.GET, this::nodes));
    endpoints.put("/topic/create", new Endpoint(Endpoints.POST, c -> withTopic(c, true, t -> change(r -> new LookupState.Register(t, r)))));
    endpoints.put("/topic/delete", new Endpoint(Endpoints.POST, c -> withTopic(c, false, t -> change(r -> new LookupState.Unregister(t, null, r)))));
    endpoints.put("/channel/create", new Endpoint(Endpoints.POST, c -> channelChange(c, true)));
    endpoints.put("/channel/delete", new Endpoint(Endpoints.POST, c -> channelChange(c, false)));
    endpoints.put("/topic/tombstone", new Endpoint(Endpoints.POST, this::tombstone));
  }

  /** The whole API as one route. */
  public Route route() {
    return extractRequest(req -> completeWithFuture(handle(req)));
  }

  CompletionStage<HttpResponse> handle(HttpRequest req) {
    return endpoints.handle(req, null);
  }

  private CompletionStage<Registry.View> view() {
    return AskPattern.ask(state, LookupState.GetView::new, ASK_TIMEOUT, system.scheduler());
  }

  private CompletionStage<HttpResponse> change(Function<ActorRef<Done>, LookupState.Command> command) {
    return AskPattern.ask(state, command::apply, ASK_TIMEOUT, system.scheduler()).thenApply(d -> Responses.empty());
  }

  private static void strings(ArrayNode a, List<String> values) { values.forEach(a::add); }

  private static ObjectNode producer(ObjectNode o, Registry.Producer p) {
    return o.put("remote_address", p.remoteAddress()).put("hostname", p.hostname())
        .put("broadcast_address", p.broadcastAddress()).put("tcp_port", p.tcpPort()).put("http_port", p.httpPort())
        .put("version", p.version());
  }

  private CompletionStage<HttpResponse> lookup(Call c) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return Endpoints.done(Responses.badRequest("MISSING_ARG_TOPIC"));
    return view().thenApply(v -> {
      if (!v.hasTopic(topic.get())) return Responses.notFound("TOPIC_NOT_FOUND");
      ObjectNode o = Responses.JSON.createObjectNode();
      strings(o.putArray("channels"), v.channels(topic.get()));
      ArrayNode ps = o.putArray("producers");
      for (Registry.Producer p : v.producers(topic.get(), System.currentTimeMillis())) producer(ps.addObject(), p);
      return Responses.json(o);
    });
  }

  private CompletionStage<HttpResponse> channels(Call c) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return Endpoints.done(Responses.badRequest("MISSING_ARG_TOPIC"));
    return view().thenApply(v -> {
      ObjectNode o = Responses.JSON.createObjectNode();
      strings(o.putArray("channels"), v.channels(topic.get()));
      return Responses.json(o);
    });
  }

  private CompletionStage<HttpResponse> nodes(Call c) {
    return view().thenApply(v -> {
      ObjectNode o = Responses.JSON.createObjectNode();
      ArrayNode ps = o.putArray("producers");
      for (Map.Entry<Registry.Entry, List<Boolean>> n : v.nodes(System.currentTimeMillis())) {
        ObjectNode p = producer(ps.addObject(), n.getKey().producer());
        ArrayNode tombs = p.putArray("tombstones");
        n.getValue().forEach(tombs::add);
        strings(p.putArray("topics"), List.copyOf(n.getKey().topics().keySet()));
      }
      return Responses.json(o);
    });
  }

  private CompletionStage<HttpResponse> withTopic(Call c, boolean validate, Function<String, CompletionStage<HttpResponse>> then) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return Endpoints.done(Responses.badRequest("MISSING_ARG_TOPIC"));
    if (validate && !Names.isValidTopic(topic.get())) return Endpoints.done(Responses.badRequest("INVALID_ARG_TOPIC"));
    return then.apply(topic.get());
  }

  private CompletionStage<HttpResponse> channelChange(Call c, boolean create) {
    return withTopic(c, true, topic -> {
      Optional<String> channel = c.query().get("channel");
      if (channel.isEmpty()) return Endpoints.done(Responses.badRequest("MISSING_ARG_CHANNEL"));
      if (!Names.isValidChannel(channel.get())) return Endpoints.done(Responses.badRequest("INVALID_ARG_CHANNEL"));
      if (create) return change(r -> new LookupState.Register(topic + "/" + channel.get(), r));
      return view().thenCompose(v -> v.hasChannel(topic, channel.get())
          ? change(r -> new LookupState.Unregister(topic, channel.get(), r))
          : Endpoints.done(Responses.notFound("CHANNEL_NOT_FOUND")));
    });
  }

  private CompletionStage<HttpResponse> tombstone(Call c) {
    Optional<String> topic = c.query().get("topic");
    if (topic.isEmpty()) return Endpoints.done(Responses.badRequest("MISSING_ARG_TOPIC"));
    Optional<String> node = c.query().get("node");
    if (node.isEmpty()) return Endpoints.done(Responses.badRequest("MISSING_ARG_NODE"));
    return change(r -> new LookupState.Tombstone(topic.get(), node.get(), r));
  }
}
