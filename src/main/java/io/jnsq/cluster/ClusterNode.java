package io.jnsq.cluster;

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
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
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
      HostPort lookupTcpAddress, String broadcastAddress, Duration tombstoneLifetime, Duration inactiveProducerTimeout) {}

  /**
   * What this member saw of the cluster as its membership ended: the other members' addresses, and
   * whether every one of them was going down too (as when the split brain resolver downs all nodes).
   */
  public record LastView(Address self, List<Address> peers, boolean allDown) {}

  private final ActorSystem<LookupState.Command> system;
  private final ServerBinding http;
  private final Tcp.ServerBinding tcp;
  private final CompletableFuture<LastView> lastView;

  private ClusterNode(ActorSystem<LookupState.Command> system, ServerBinding http, Tcp.ServerBinding tcp,
      CompletableFuture<LastView> lastView) {
    this.system = system;
    this.http = http;
    this.tcp = tcp;
    this.lastView = lastView;
  }

  /**
   * The settings to join again with after this membership ended: the same address, and as seeds the
   * configured ones plus every member last seen, since the configured seeds may be the very nodes that
   * are gone. When every member was going down, this node is a seed too and all of them sort the seeds
   * alike, so the lowest address forms the cluster again and the others join it; otherwise some member
   * survives and this node only joins (never forming a second cluster beside the surviving one).
   */
  public static Settings rejoining(Settings configured, LastView view) {
    java.util.TreeSet<String> members = new java.util.TreeSet<>(java.util.Comparator
        .comparing((String s) -> HostPort.parse(s).host()).thenComparingInt(s -> HostPort.parse(s).port()));
    String self = hostPort(view.self());
    for (Address a : view.peers()) members.add(hostPort(a));
    if (view.allDown()) members.add(self);
    java.util.LinkedHashSet<String> seeds = new java.util.LinkedHashSet<>(members);
    seeds.addAll(configured.seedNodes());   // after the members: a configured seed may be long gone
    if (!view.allDown()) seeds.remove(self);
    return new Settings(HostPort.parse(self), List.copyOf(seeds), configured.lookupHttpAddress(), configured.lookupTcpAddress(),
        configured.broadcastAddress(), configured.tombstoneLifetime(), configured.inactiveProducerTimeout());
  }

  private static String hostPort(Address a) {
    return a.getHost().orElse("127.0.0.1") + ":" + a.getPort().orElse(0);
  }

  /** Completes as this membership ends (downed, or stopped) with what it last saw of the cluster. */
  public CompletionStage<LastView> lastView() { return lastView; }

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
    CompletableFuture<LastView> lastView = new CompletableFuture<>();
    LastView alone = new LastView(cluster.selfMember().address(), List.of(), false);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "remember-members", () ->
        org.apache.pekko.actor.typed.javadsl.AskPattern.<LookupState.Command, LastView>ask(system, LookupState.GetLastView::new,
                Duration.ofSeconds(3), system.scheduler())
            .handle((v, e) -> {
              lastView.complete(v == null ? alone : v);
              return Done.getInstance();
            }));
    if (s.seedNodes().isEmpty()) cluster.manager().tell(Join.create(cluster.selfMember().address()));
    log.info("lookup cluster: {} {}", cluster.selfMember().address(),
        s.seedNodes().isEmpty() ? "forms a cluster of its own" : "joins through " + s.seedNodes());
    AtomicInteger httpPort = new AtomicInteger();
    AtomicInteger tcpPort = new AtomicInteger();
    CompletionStage<ServerBinding> http = s.lookupHttpAddress() == null
        ? CompletableFuture.completedFuture(null)
        : Http.get(system).newServerAt(s.lookupHttpAddress().host(), s.lookupHttpAddress().port())
            .bind(api.route(system, system));
    CompletionStage<Tcp.ServerBinding> tcp = s.lookupTcpAddress() == null
        ? CompletableFuture.completedFuture(null)
        : Tcp.get(system).bind(s.lookupTcpAddress().host(), s.lookupTcpAddress().port())
            .to(Sink.foreach(conn -> conn.handleWith(v1(system, conn.remoteAddress(), s.broadcastAddress(), httpPort, tcpPort), system)))
            .run(system);
    return http.thenCombine(tcp, (h, t) -> {
      if (h != null) {
        httpPort.set(h.localAddress().getPort());
        log.info("lookup HTTP: listening on {}", h.localAddress());
      }
      if (t != null) {
        tcpPort.set(t.localAddress().getPort());
        log.info("lookup TCP (nsqlookupd protocol V1): listening on {}", t.localAddress());
      }
      return new ClusterNode(system, h, t, lastView);
    }).whenComplete((c, error) -> {
      if (error != null) system.terminate();
    });
  }

  /** One nsqd's V1 connection: a {@link V1Session} between the socket's bytes and the lookup state. */
  private static Flow<ByteString, ByteString, NotUsed> v1(ActorSystem<LookupState.Command> state, InetSocketAddress remote,
      String broadcastAddress, AtomicInteger httpPort, AtomicInteger tcpPort) {
    String peer = remote.getAddress().getHostAddress() + ":" + remote.getPort();
    V1Session session = new V1Session(peer, () -> V1Session.identifyReply(broadcastAddress, hostname(), httpPort.get(), tcpPort.get()),
        entry -> state.tell(new LookupState.SetExternal(peer, entry)));
    return Flow.of(ByteString.class)
        .mapConcat(session::feed)
        .takeWhile(b -> !b.equals(V1Session.CLOSE))
        .watchTermination((mat, done) -> {
          done.whenComplete((d, e) -> state.tell(new LookupState.SetExternal(peer, null)));
          return NotUsed.getInstance();
        });
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }

  /** Builds the lookup HTTP route (kept apart so this package does not depend on the HTTP package). */
  public interface LookupApiFactory {
    org.apache.pekko.http.javadsl.server.Route route(ActorSystem<?> system, org.apache.pekko.actor.typed.ActorRef<LookupState.Command> state);
  }

  public ActorSystem<LookupState.Command> system() { return system; }

  /** This node's lookup state actor. */
  public org.apache.pekko.actor.typed.ActorRef<LookupState.Command> state() { return system; }

  /** Where the lookup TCP (V1) server listens, or null. */
  public InetSocketAddress lookupTcpAddress() { return tcp == null ? null : tcp.localAddress(); }

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
