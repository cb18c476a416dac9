package io.jnsq.lookup;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.jnsq.config.HostPort;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of the lookup cluster: a separate actor system (so that the cluster downing it
 * never takes the message broker with it) running Pekko Cluster, the replicated {@link LookupState},
 * and nsqlookupd's HTTP API on {@code --lookup-http-address}.
 */
public final class ClusterNode {
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
  /** The actor system name every member shares; seed nodes are addressed with it. */
  public static final String SYSTEM = "jnsq-lookup";

  /** What a node's cluster part needs from the node's settings. */
  public record Settings(HostPort clusterAddress, List<String> seedNodes, HostPort lookupHttpAddress,
      Duration tombstoneLifetime, Duration inactiveProducerTimeout) {}

  private final ActorSystem<LookupState.Command> system;
  private final ServerBinding http;

  private ClusterNode(ActorSystem<LookupState.Command> system, ServerBinding http) {
    this.system = system;
    this.http = http;
  }

  /** The Pekko configuration of the cluster system, on top of {@code base}. */
  static Config config(Config base, Settings s) {
    List<String> seeds = new ArrayList<>();
    for (String seed : s.seedNodes()) {
      HostPort hp = HostPort.parse(seed);
      seeds.add("pekko://" + SYSTEM + "@" + hp.host() + ":" + hp.port());
    }
    return ConfigFactory.parseResources("jnsq-cluster.conf")
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(s.clusterAddress().host()))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(s.clusterAddress().port()))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        .withFallback(base)
        .resolve();
  }

  /** Starts the cluster system, joins (itself, without seeds) and binds the lookup HTTP API. */
  public static CompletionStage<ClusterNode> start(Config base, Settings s, LookupApiFactory api) {
    ActorSystem<LookupState.Command> system = ActorSystem.create(
        LookupState.create(s.tombstoneLifetime(), s.inactiveProducerTimeout()), SYSTEM, config(base, s));
    Cluster cluster = Cluster.get(system);
    if (s.seedNodes().isEmpty()) cluster.manager().tell(Join.create(cluster.selfMember().address()));
    log.info("lookup cluster: {} {}", cluster.selfMember().address(),
        s.seedNodes().isEmpty() ? "forms a cluster of its own" : "joins through " + s.seedNodes());
    CompletionStage<ServerBinding> http = s.lookupHttpAddress() == null
        ? CompletableFuture.completedFuture(null)
        : Http.get(system).newServerAt(s.lookupHttpAddress().host(), s.lookupHttpAddress().port())
            .bind(api.route(system, system));
    return http.handle((binding, error) -> {
      if (error != null) {
        system.terminate();
        throw new IllegalStateException("lookup HTTP: cannot listen on " + s.lookupHttpAddress() + ": " + error.getMessage(), error);
      }
      if (binding != null) log.info("lookup HTTP: listening on {}", binding.localAddress());
      return new ClusterNode(system, binding);
    });
  }

  /** Builds the lookup HTTP route (kept apart so this package does not depend on the HTTP package). */
  public interface LookupApiFactory {
    org.apache.pekko.http.javadsl.server.Route route(ActorSystem<?> system, org.apache.pekko.actor.typed.ActorRef<LookupState.Command> state);
  }

  public ActorSystem<LookupState.Command> system() { return system; }

  /** This node's lookup state actor. */
  public org.apache.pekko.actor.typed.ActorRef<LookupState.Command> state() { return system; }

  /** Where the lookup HTTP API listens, or null. */
  public InetSocketAddress lookupHttpAddress() { return http == null ? null : http.localAddress(); }

  /** The cluster address other nodes use as a seed. */
  public Address clusterAddress() { return Cluster.get(system).selfMember().address(); }

  /** Leaves the cluster and stops this system. */
  public CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
  }

  /** Completes when this cluster system has terminated, for whatever reason (also when the cluster downed it). */
  public CompletionStage<Done> whenTerminated() { return system.getWhenTerminated(); }
}
