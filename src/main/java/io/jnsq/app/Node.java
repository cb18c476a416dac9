package io.jnsq.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.jnsq.broker.Clock;
import io.jnsq.broker.MessageIdSource;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.config.NodeSettings;
import io.jnsq.http.LookupApi;
import io.jnsq.http.NsqdApi;
import io.jnsq.metrics.MemoryStats;
import io.jnsq.metrics.StatsdPusher;
import io.jnsq.cluster.ClusterNode;
import io.jnsq.http.AdminApi;
import io.jnsq.cluster.ExternalLookupd;
import io.jnsq.cluster.LookupState;
import io.jnsq.cluster.Registry;
import io.jnsq.storage.BlockPool;
import io.jnsq.storage.TopicLog;
import io.jnsq.storage.FileStorage;
import io.jnsq.replication.ReplicatingStorage;
import io.jnsq.replication.Replication;
import io.jnsq.cluster.RaftDirectory;
import io.jnsq.storage.Storage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.StandardOpenOption;
import io.jnsq.tcp.Connections;
import io.jnsq.tcp.SessionSettings;
import io.jnsq.tcp.TcpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.Tcp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running jnsq node: the actor system (whose guardian is the topic registry), the TCP listener, the
 * HTTP API, the directory of connections and, with {@code --statsd-address}, the statsd pusher. Tests start nodes in-process with {@link #start}; {@code bin/jnsq node} does the same.
 */
public final class Node {
  private static final Logger log = LoggerFactory.getLogger(Node.class);
  private final ActorSystem<TopicRegistry.Command> system;
  private final NodeSettings settings;
  private final ActorRef<Connections.Command> connections;
  private final Tcp.ServerBinding tcp;
  private final ServerBinding http;   // null when the HTTP API is off
  private final long startTime;
  private volatile FileLock dataLock;   // null for nodes on a test store
  private volatile ClusterNode cluster;
  private volatile ServerBinding admin;   // null when the admin UI is off
  private volatile boolean stopping;
  private volatile Replication replication;   // null: --replicas 1
  private Config config;

  private Node(ActorSystem<TopicRegistry.Command> system, NodeSettings settings,
      ActorRef<Connections.Command> connections, Tcp.ServerBinding tcp, ServerBinding http, long startTime) {
    this.system = system;
    this.settings = settings;
    this.connections = connections;
    this.tcp = tcp;
    this.http = http;
    this.startTime = startTime;
  }

  /**
   * The full configuration: {@code overrides} (flags), then {@code file} if given, then the built-in
   * node defaults, then Pekko's own.
   */
  public static Config loadConfig(Path file, Map<String, ?> overrides) {
    return given(file, overrides)
        .withFallback(ConfigFactory.parseResources("jnsq-defaults.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  /**
   * {@code --auth-match nsqd}: the session settings' auth servers matching patterns anywhere in a name.
   * (Done here so that tcp's SessionSettings need not change; it could take it from NodeSettings itself.)
   */
  static SessionSettings withAuthMatch(SessionSettings s, String authMatch) {
    if (s.auth() == null || !authMatch.equals("nsqd")) return s;
    return new SessionSettings(s.limits(), s.identifyBounds(), s.features(), s.msgTimeout(), s.heartbeatInterval(),
        s.clientTimeout(), s.maxReqTimeout(), s.maxPendingPublishes(), s.maxOutputBacklog(),
        s.auth().withMatch(io.jnsq.auth.AuthServers.Match.NSQD), s.maxConnections(), s.tls(), s.tlsRequired());
  }

  /** What the operator gave: {@code overrides} (flags) over {@code file} (if any), unresolved. */
  private static Config given(Path file, Map<String, ?> overrides) {
    Config fromFile = ConfigFactory.empty();
    if (file != null) {
      String text = configText(file);
      if (NsqConfigFile.isNsqFormat(file, text)) {
        fromFile = ConfigFactory.parseMap(NsqConfigFile.read(file, text).values());
      } else {
        fromFile = ConfigFactory.parseFile(file.toFile());
        unknownKeys(file, fromFile);
      }
    }
    return ConfigFactory.parseMap(overrides).withFallback(fromFile);
  }

  /** Our HOCON file may set the jnsq block's flags and Pekko's settings, nothing else. */
  private static void unknownKeys(Path file, Config fromFile) {
    for (String top : fromFile.root().keySet()) {
      if (!top.equals("jnsq") && !top.equals("pekko")) {
        throw new ConfigProblem("--config " + file.getFileName() + ": " + top + ": unknown key (the file holds a jnsq { ... }"
            + " block, and pekko { ... } settings)");
      }
    }
    if (!fromFile.hasPath("jnsq")) return;
    for (String key : fromFile.getConfig("jnsq").root().keySet()) {
      if (NodeFlags.named(key) == null) {
        throw new ConfigProblem("--config " + file.getFileName() + ": jnsq." + key + ": unknown key (the keys are the"
            + " flags of bin/jnsq node --help, e.g. mem-queue-size)");
      }
    }
  }

  /**
   * {@link #loadConfig} strictly checked (see {@link ConfigCheck}), as {@code bin/jnsq node} starts:
   * a bad value is a {@link ConfigProblem} naming it.
   */
  static Config checkedConfig(Path file, Map<String, ?> overrides) {
    Config c = loadConfig(file, overrides);
    java.util.Set<String> fromFlags = new java.util.HashSet<>();
    for (String k : overrides.keySet()) fromFlags.add(k.startsWith("jnsq.") ? k.substring(5) : k);
    return ConfigCheck.check(c, fromFlags, file == null ? null : file.getFileName().toString());
  }

  /** The lines to log once about the config file: its keys that are ignored here. */
  static java.util.List<String> configNotes(Path file) {
    if (file == null) return java.util.List.of();
    String text = configText(file);
    return NsqConfigFile.isNsqFormat(file, text) ? NsqConfigFile.read(file, text).notes() : java.util.List.of();
  }

  private static String configText(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException | RuntimeException e) {
      throw new ConfigProblem("--config " + file + ": cannot read it (" + e.getMessage() + ")");
    }
  }

  /** The flag names (keys of the {@code jnsq} block) that the flags or the config file set. */
  static java.util.Set<String> givenKeys(Path file, Map<String, ?> overrides) {
    Config g = given(file, overrides);
    java.util.Set<String> out = new java.util.TreeSet<>();
    if (!g.hasPath("jnsq")) return out;
    for (Map.Entry<String, com.typesafe.config.ConfigValue> e : g.getConfig("jnsq").root().entrySet()) out.add(e.getKey());
    return out;
  }

  /**
   * Starts a node keeping its data in {@code --data-path}; the future fails if the data path cannot be
   * used (not writable, or locked by another node) or a listener cannot bind.
   */
  public static CompletionStage<Node> start(Config config) {
    NodeSettings settings = NodeSettings.fromConfig(config);
    FileLock lock;
    Path dir = Path.of(settings.dataPath());
    try {
      lock = lockDataPath(dir);
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    FileStorage storage = new FileStorage(dir);
    try {
      importNsqd(storage, settings);
    } catch (IOException | RuntimeException e) {
      release(lock);
      return CompletableFuture.failedFuture(new IOException("importing nsqd's queues from " + dir + " failed: " + e.getMessage(), e));
    }
    CompletionStage<Node> node = start(config, storage);
    return node.whenComplete((n, e) -> {
      if (e != null) {
        release(lock);
      } else {
        n.dataLock = lock;
        n.system.getWhenTerminated().whenComplete((d, x) -> release(lock));
      }
    });
  }

  /** nsqd's queue files in the data path become this store's logs and cursors, once (see broker.NsqdImport). */
  private static void importNsqd(FileStorage storage, NodeSettings settings) throws IOException {
    io.jnsq.broker.NsqdImport.Report r = io.jnsq.broker.NsqdImport.run(storage,
        new TopicLog.Settings(settings.maxBytesPerFile(), settings.maxMsgSize()), false);
    for (String note : r.notes()) log.info("NSQD IMPORT: {}", note);
    for (io.jnsq.broker.NsqdImport.Found f : r.found()) {
      log.info("NSQD IMPORT: {}: {} messages ({} bytes){}", f.queue().name(), f.messages(), f.bytes(),
          f.corrupt() > 0 ? ", " + f.corrupt() + " corrupt stretches skipped" : "");
    }
    if (r.imported() && !r.found().isEmpty()) log.info("NSQD IMPORT: done; nsqd's files are kept as *.imported");
  }

  /** Creates the data path if needed and takes its lock file, so two nodes never share one. */
  private static FileLock lockDataPath(Path dir) throws IOException {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IOException("--data-path " + dir + " cannot be created: " + e, e);
    }
    if (!Files.isWritable(dir)) throw new IOException("--data-path " + dir + " is not writable");
    FileChannel ch;
    try {
      ch = FileChannel.open(dir.resolve("jnsq.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new IOException("--data-path " + dir + " is not writable: " + e, e);
    }
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("--data-path " + dir + " is in use by another jnsq node");
    }
    return lock;
  }

  private static void release(FileLock lock) {
    try {
      lock.channel().close();
    } catch (IOException ignored) {
      // the lock goes with the process anyway
    }
  }

  /** Starts a node on {@code storage} (tests pass stores that simulate crashes and full disks). */
  public static CompletionStage<Node> start(Config config, Storage storage) {
    // Initialize logging before Pekko's threads race to do it (SLF4J would print a "replay" warning).
    LoggerFactory.getILoggerFactory();
    NodeSettings settings = NodeSettings.fromConfig(config);
    long startMillis = System.currentTimeMillis();
    MessageIdSource ids = new MessageIdSource(settings.nodeId(), startMillis);
    TopicLog.Settings logSettings = new TopicLog.Settings(settings.maxBytesPerFile(), settings.maxMsgSize(), settings.durable());
    long budget = BlockPool.effectiveBudget(settings.memBudget());
    if (settings.memBudget() > budget) {
      log.warn("--mem-budget {} is more than this JVM lets direct buffers use; using {} (raise -XX:MaxDirectMemorySize)",
          settings.memBudget(), budget);
    }
    BlockPool pool = new BlockPool(budget);
    Replication replication = replication(settings, storage);
    Storage store = storage;
    if (replication != null) {
      ReplicatingStorage replicating = new ReplicatingStorage(storage);
      replicating.replicateThrough(replication);
      store = replicating;
    }
    ActorSystem<TopicRegistry.Command> system = ActorSystem.create(
        TopicRegistry.create(settings.channelSettings(), ids, Clock.SYSTEM, store, logSettings, settings.syncEvery(),
            settings.syncTimeout(), settings.durable(), pool, replication),
        "jnsq", config);
    if (replication != null) {
      system.getWhenTerminated().thenRun(replication::close);   // Ratis's threads are not daemons
      try {
        replication.start(system, system);
      } catch (IOException | RuntimeException e) {
        system.terminate();
        return CompletableFuture.failedFuture(new IOException("--raft-address " + replication.address()
            + ": the Raft server cannot start: " + e.getMessage(), e));
      }
    }
    ActorRef<Connections.Command> connections = system.systemActorOf(Connections.create(), "connections", Props.empty());
    ActorRef<ExternalLookupd.Command> lookupd = system.systemActorOf(
        ExternalLookupd.create(system, settings.lookupdTcpAddresses()), "external-lookupd", Props.empty());
    SessionSettings sessionSettings = withAuthMatch(SessionSettings.from(settings), settings.authMatch());
    AtomicInteger tcpPort = new AtomicInteger();
    AtomicInteger httpPort = new AtomicInteger();
    CompletableFuture<Node> started = new CompletableFuture<>();
    TcpServer.bind(system, settings.tcpAddress().host(), settings.tcpAddress().port(), sessionSettings, system, connections)
        .thenCompose(tcp -> {
          tcpPort.set(tcp.localAddress().getPort());
          if (settings.httpAddress() == null) return CompletableFuture.completedFuture(Map.entry(tcp, Optional.<ServerBinding>empty()));
          NsqdApi api = new NsqdApi(system, system, connections, settings, startMillis / 1000, tcpPort::get, httpPort::get,
              addresses -> lookupd.tell(new ExternalLookupd.SetAddresses(addresses)), sessionSettings.auth());
          if (replication != null) api.withReplication(t -> t.endsWith("#ephemeral") ? null : replication.status(t));
          // With TLS, the same API is also served over HTTPS; --tls-required=true turns plain HTTP away.
          io.jnsq.tcp.TlsContexts tls = sessionSettings.tls();
          AtomicInteger httpsPort = new AtomicInteger();
          boolean refusePlain = tls != null && settings.tlsRequired().equals("true");
          org.apache.pekko.http.javadsl.server.Route plain = refusePlain
              ? org.apache.pekko.http.javadsl.server.Directives.extractRequest(req -> org.apache.pekko.http.javadsl.server.Directives.complete(
                  org.apache.pekko.http.javadsl.model.HttpResponse.create()
                      .withStatus(org.apache.pekko.http.javadsl.model.StatusCodes.FORBIDDEN)
                      .addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("X-NSQ-Content-Type", "nsq; version=1.0"))
                      .withEntity(org.apache.pekko.http.javadsl.model.ContentTypes.APPLICATION_JSON,
                          "{\"message\":\"TLS_REQUIRED\",\"https_port\":" + httpsPort.get() + "}")))
              : api.route();
          CompletionStage<Optional<ServerBinding>> https = tls == null ? CompletableFuture.completedFuture(Optional.empty())
              : io.jnsq.http.HttpListener.bind(system, Http.get(system).newServerAt(settings.httpsAddress().host(), settings.httpsAddress().port())
                  .enableHttps(org.apache.pekko.http.javadsl.ConnectionContext.httpsServer(tls.context())), api.route())
                  .thenApply(b -> {
                    httpsPort.set(b.localAddress().getPort());
                    log.info("HTTPS: listening on {}", b.localAddress());
                    return Optional.of(b);
                  });
          return https.thenCompose(secure -> io.jnsq.http.HttpListener.bind(system,
                  Http.get(system).newServerAt(settings.httpAddress().host(), settings.httpAddress().port()), plain)
              .thenApply(http -> {
                httpPort.set(http.localAddress().getPort());
                log.info("HTTP: listening on {}", http.localAddress());
                return Map.entry(tcp, Optional.of(http));
              }))
              .exceptionally(e -> {
                tcp.unbind();
                throw e instanceof CompletionException ce ? ce : new CompletionException(e);
              });
        })
        .whenComplete((bindings, error) -> {
          if (error != null) {
            system.terminate();
            started.completeExceptionally(error);
            return;
          }
          Node node = new Node(system, settings, connections, bindings.getKey(), bindings.getValue().orElse(null), startMillis / 1000);
          node.config = config;
          node.replication = replication;
          startStatsd(system, settings, httpPort.get());
          lookupd.tell(new ExternalLookupd.Identity(node.producer("")));
          node.registerShutdown();
          // nsqd's INFO lines for topics and channels created and deleted.
          system.systemActorOf(TopicEvents.create(system), "topic-events", Props.empty());
          node.startCluster().thenCompose(c -> node.bindAdmin(sessionSettings.auth())).whenComplete((c, e) -> {
            if (e == null) {
              started.complete(node);
            } else {
              node.stop();
              started.completeExceptionally(e);
            }
          });
        });
    return started;
  }

  /** With {@code --replicas} above 1, this node's replication (its Raft server starts with the node); else null. */
  private static Replication replication(NodeSettings settings, Storage storage) {
    io.jnsq.config.ReplicationSettings r = settings.replication();
    if (!r.enabled()) return null;
    String host = r.raftAddress().host();
    // A wildcard bind is reached through the broadcast address; the address names the replicas, so it must stay put.
    if (host.equals("0.0.0.0") || host.equals("::")) host = settings.broadcastAddress();
    return new Replication(r, new io.jnsq.config.HostPort(host, r.raftAddress().port()).toString(), storage,
        settings.durable(), Path.of(settings.dataPath(), "raft"));
  }

  /** With {@code --statsd-address}, the actor that pushes stats to statsd; its prefix needs the bound HTTP port. */
  private static void startStatsd(ActorSystem<TopicRegistry.Command> system, NodeSettings settings, int httpPort) {
    StatsdPusher.Settings statsd = StatsdPusher.settings(settings, httpPort);
    if (statsd == null) return;
    // A failure restarts the pusher, whose next push then counts from zero; nothing else depends on it.
    system.systemActorOf(Behaviors.supervise(StatsdPusher.create(statsd, system, MemoryStats.jvm()))
        .onFailure(SupervisorStrategy.restart()), "statsd", Props.empty());
    log.info("STATSD: pushing to {}:{} every {} as {}", statsd.host(), statsd.port(), statsd.interval(), statsd.prefix());
  }

  // ------------------------------------------------------------------ the lookup cluster

  /** Starts (or restarts) this node's lookup cluster system and tells the registry where to report. */
  private CompletionStage<ClusterNode> startCluster() {
    return startCluster(configuredCluster());
  }

  private ClusterNode.Settings configuredCluster() {
    return new ClusterNode.Settings(settings.clusterAddress(), settings.seedNodes(),
        settings.lookupHttpAddress(), settings.lookupTcpAddress(), settings.broadcastAddress(),
        settings.tombstoneLifetime(), settings.inactiveProducerTimeout());
  }

  private CompletionStage<ClusterNode> startCluster(ClusterNode.Settings s) {
    CompletionStage<ClusterNode> starting;
    try {
      starting = ClusterNode.start(config, s, (sys, state) -> new LookupApi(sys, state).route());
    } catch (RuntimeException e) {   // e.g. remoting could not bind the cluster address
      return CompletableFuture.failedFuture(e);
    }
    return starting.thenApply(c -> {
      cluster = c;
      c.state().tell(new LookupState.Follow(system, producer(c.clusterAddress().toString())));
      Replication rep = replication;
      if (rep != null) {
        // Placement and the replicas' addresses live in the lookup cluster's Distributed Data.
        c.system().systemActorOf(RaftDirectory.create(rep.selfId(), rep.address(), rep.settings().replicas(),
            rep.settings().raftGroups(), rep::onDirectory), "raft-directory", Props.empty());
      }
      c.whenTerminated().thenRun(() -> {
        var reason = CoordinatedShutdown.get(c.system()).getShutdownReason();
        boolean downed = reason.filter(r -> r.equals(CoordinatedShutdown.clusterDowningReason())).isPresent();
        boolean unjoined = reason.filter(r -> r.equals(CoordinatedShutdown.clusterJoinUnsuccessfulReason())).isPresent();
        if (downed && !stopping) {
          ClusterNode.Settings again = c.lastView().toCompletableFuture().thenApply(v -> ClusterNode.rejoining(configuredCluster(), v))
              .getNow(configuredCluster());
          log.warn("the lookup cluster stopped this node's membership (downed?); joining again in 2 s through {}", again.seedNodes());
          restartCluster(again);
        } else if (unjoined && !stopping) {
          // No seed let it in (those it rejoined through may be gone): start over as configured.
          log.warn("no seed node let this node join the lookup cluster; trying again as configured through {}",
              configuredCluster().seedNodes());
          restartCluster(configuredCluster());
        }
      });
      return c;
    });
  }

  /** The admin UI at --admin-http-address, reading the cluster through this node's lookup state. */
  private CompletionStage<Done> bindAdmin(io.jnsq.auth.AuthServers auth) {
    if (settings.adminHttpAddress() == null) return CompletableFuture.completedFuture(Done.getInstance());
    // While the lookup membership restarts there is no lookup state to ask; the API then says so.
    AdminApi api = new AdminApi(system, () -> {
      ClusterNode c = cluster;
      return c == null || c.whenTerminated().toCompletableFuture().isDone() ? null : c.state();
    }, () -> {
      // This node as a cluster member (its id marks it as one, so the caller's credentials may go to it).
      ClusterNode c = cluster;
      return producer(c == null ? "pekko://" + ClusterNode.SYSTEM + "@self" : c.clusterAddress().toString());
    }, settings.httpClientRequestTimeout(), auth, adminOptions());
    return io.jnsq.http.HttpListener.bind(system,
            Http.get(system).newServerAt(settings.adminHttpAddress().host(), settings.adminHttpAddress().port()), api.route())
        .thenApply(b -> {
          admin = b;
          log.info("admin UI: listening on {}", b.localAddress());
          CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-admin",
              () -> b.unbind().thenApply(x -> Done.getInstance()));
          return Done.getInstance();
        });
  }

  /** nsqadmin's flags, and this node's TLS settings for reading nodes that refuse plain HTTP. */
  private AdminApi.Options adminOptions() {
    javax.net.ssl.SSLContext tls = null;
    if (!settings.tlsCert().isEmpty()) {
      try {
        // No client-auth policy here: this context is only a client (its certificate, the root CA as trust).
        tls = io.jnsq.tcp.TlsContexts.load(settings.tlsCert(), settings.tlsKey(), settings.tlsRootCaFile(), "",
            settings.tlsMinVersion()).context();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return new AdminApi.Options(settings.adminBasePath(), settings.adminNotificationHttpEndpoint(),
        settings.adminAclHttpHeader(), settings.adminUsers(), tls);
  }

  /** This node as lookup describes it: broadcast address, host name, its TCP and HTTP ports. */
  private Registry.Producer producer(String id) {
    InetSocketAddress t = tcpAddress();
    InetSocketAddress h = httpAddress();
    return producer(settings, id, t.getPort(), h == null ? 0 : h.getPort());
  }

  /**
   * The producer lookup is told about, from the ports as bound; {@code --broadcast-tcp-port} and
   * {@code --broadcast-http-port} replace them (what clients outside a NAT or port mapping must dial).
   */
  static Registry.Producer producer(NodeSettings settings, String id, int boundTcp, int boundHttp) {
    String hostname = settings.broadcastAddress();
    try {
      hostname = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException ignored) {
      // keep the broadcast address
    }
    int tcpPort = settings.broadcastTcpPort() > 0 ? settings.broadcastTcpPort() : boundTcp;
    int httpPort = settings.broadcastHttpPort() > 0 ? settings.broadcastHttpPort() : boundHttp;
    return new Registry.Producer(id, settings.broadcastAddress() + ":" + tcpPort, hostname,
        settings.broadcastAddress(), tcpPort, httpPort, NodeSettings.NSQ_VERSION);
  }

  private void restartCluster(ClusterNode.Settings s) {
    try {
      system.scheduler().scheduleOnce(Duration.ofSeconds(2), () -> {
        if (stopping) return;
        startCluster(s).whenComplete((c, e) -> {
          if (e != null && !stopping) {
            // e.g. the old port is taken by now: fall back to the configured address and seeds
            log.warn("rejoining the lookup cluster failed ({}); trying again", e.getMessage());
            restartCluster(configuredCluster());
          }
        });
      }, system.executionContext());
    } catch (IllegalStateException shuttingDown) {
      // the node itself is stopping
    }
  }

  private void registerShutdown() {
    CoordinatedShutdown cs = CoordinatedShutdown.get(system);
    // Leave the lookup cluster first, so other nodes stop sending consumers here.
    cs.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "leave-cluster", () -> {
      stopping = true;
      ClusterNode c = cluster;
      return c == null ? CompletableFuture.completedFuture(Done.getInstance()) : c.stop();
    });
    cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-tcp", () -> tcp.unbind().thenApply(x -> Done.getInstance()));
    // A leaving leader hands its groups over before its channels stop (NSQ #1302: a clean drain).
    cs.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "hand-over-leadership", () -> {
      Replication r = replication;
      return r == null ? CompletableFuture.completedFuture(Done.getInstance())
          : CompletableFuture.supplyAsync(() -> {
              r.handOverLeadership();
              return Done.getInstance();
            });
    });
    if (http != null) {
      cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-http", () -> http.unbind().thenApply(x -> Done.getInstance()));
    }
    cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "close-connections", () ->
        org.apache.pekko.actor.typed.javadsl.AskPattern.<Connections.Command, Done>ask(
            connections, Connections.CloseAll::new, Duration.ofSeconds(5), system.scheduler()));
    // Then every topic and channel writes its memory (queued, in-flight, deferred) to disk, and nsqd.dat.
    cs.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "persist-queues", () ->
        org.apache.pekko.actor.typed.javadsl.AskPattern.<TopicRegistry.Command, Done>ask(
            system, TopicRegistry.Persist::new, Duration.ofSeconds(110), system.scheduler())
            .thenApplyAsync(done -> {
              Replication r = replication;
              if (r != null) r.close();   // after the topics: what Raft still applies meanwhile is replayed at start
              return done;
            }));
  }

  /** This node's replication, or null with {@code --replicas 1}. */
  public Replication replication() { return replication; }

  /** Stops accepting, closes every connection, and terminates the actor system. */
  public CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason())
        .thenCompose(d -> system.getWhenTerminated())
        .thenApply(t -> {
          if (dataLock != null) release(dataLock);   // before answering, so the data path can be reused at once
          return Done.getInstance();
        });
  }

  public ActorSystem<TopicRegistry.Command> system() { return system; }

  /** The topic registry (the system's guardian). */
  public ActorRef<TopicRegistry.Command> registry() { return system; }

  public ActorRef<Connections.Command> connections() { return connections; }

  public NodeSettings settings() { return settings; }

  /** Where the TCP listener actually is (the port is known even when 0 was asked for). */
  public InetSocketAddress tcpAddress() { return tcp.localAddress(); }

  /** Where the admin UI listens, or null when it is off. */
  public InetSocketAddress adminHttpAddress() {
    ServerBinding a = admin;
    return a == null ? null : a.localAddress();
  }

  /** Where nsqlookupd's HTTP API listens, or null when it is off. */
  public InetSocketAddress lookupHttpAddress() {
    ClusterNode c = cluster;
    return c == null ? null : c.lookupHttpAddress();
  }

  /** Where nsqlookupd's TCP protocol (V1) is served, or null when it is off. */
  public InetSocketAddress lookupTcpAddress() {
    ClusterNode c = cluster;
    return c == null ? null : c.lookupTcpAddress();
  }

  /** This node's lookup cluster membership (for tests and seeds). */
  public ClusterNode cluster() { return cluster; }

  /** Where the HTTP API listens, or null when it is off. */
  public InetSocketAddress httpAddress() { return http == null ? null : http.localAddress(); }

  /** Start time in Unix seconds, for {@code /info} and {@code /stats}. */
  public long startTime() { return startTime; }
}
