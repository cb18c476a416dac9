package io.jnsq.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.jnsq.broker.Clock;
import io.jnsq.broker.MessageIdSource;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.config.NodeSettings;
import io.jnsq.tcp.Connections;
import io.jnsq.tcp.SessionSettings;
import io.jnsq.tcp.TcpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.javadsl.Tcp;

/**
 * A running jnsq node: the actor system (whose guardian is the topic registry), the TCP listener and the
 * directory of connections. Tests start nodes in-process with {@link #start}; {@code bin/jnsq node} does the same.
 */
public final class Node {
  private final ActorSystem<TopicRegistry.Command> system;
  private final NodeSettings settings;
  private final ActorRef<Connections.Command> connections;
  private final Tcp.ServerBinding tcp;
  private final long startTime;

  private Node(ActorSystem<TopicRegistry.Command> system, NodeSettings settings,
      ActorRef<Connections.Command> connections, Tcp.ServerBinding tcp, long startTime) {
    this.system = system;
    this.settings = settings;
    this.connections = connections;
    this.tcp = tcp;
    this.startTime = startTime;
  }

  /**
   * The full configuration: {@code overrides} (flags), then {@code file} if given, then the built-in
   * node defaults, then Pekko's own.
   */
  public static Config loadConfig(Path file, Map<String, ?> overrides) {
    Config fromFile = ConfigFactory.empty();
    if (file != null) {
      if (!Files.isReadable(file)) throw new IllegalArgumentException("cannot read config file " + file);
      fromFile = ConfigFactory.parseFile(file.toFile());
    }
    return ConfigFactory.parseMap(overrides)
        .withFallback(fromFile)
        .withFallback(ConfigFactory.parseResources("jnsq-defaults.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  /** Starts a node; the future fails if a listener cannot bind. */
  public static CompletionStage<Node> start(Config config) {
    NodeSettings settings = NodeSettings.fromConfig(config);
    long startMillis = System.currentTimeMillis();
    MessageIdSource ids = new MessageIdSource(settings.nodeId(), startMillis);
    ActorSystem<TopicRegistry.Command> system = ActorSystem.create(
        TopicRegistry.create(settings.channelSettings(), ids, Clock.SYSTEM), "jnsq", config);
    ActorRef<Connections.Command> connections = system.systemActorOf(Connections.create(), "connections", Props.empty());
    SessionSettings sessionSettings = SessionSettings.from(settings);
    CompletableFuture<Node> started = new CompletableFuture<>();
    TcpServer.bind(system, settings.tcpAddress().host(), settings.tcpAddress().port(), sessionSettings, system, connections)
        .whenComplete((binding, error) -> {
          if (error != null) {
            system.terminate();
            started.completeExceptionally(error);
            return;
          }
          Node node = new Node(system, settings, connections, binding, startMillis / 1000);
          node.registerShutdown();
          started.complete(node);
        });
    return started;
  }

  private void registerShutdown() {
    CoordinatedShutdown cs = CoordinatedShutdown.get(system);
    cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-tcp", () -> tcp.unbind().thenApply(x -> Done.getInstance()));
    cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "close-connections", () ->
        org.apache.pekko.actor.typed.javadsl.AskPattern.<Connections.Command, Done>ask(
            connections, Connections.CloseAll::new, Duration.ofSeconds(5), system.scheduler()));
  }

  /** Stops accepting, closes every connection, and terminates the actor system. */
  public CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
  }

  public ActorSystem<TopicRegistry.Command> system() { return system; }

  /** The topic registry (the system's guardian). */
  public ActorRef<TopicRegistry.Command> registry() { return system; }

  public ActorRef<Connections.Command> connections() { return connections; }

  public NodeSettings settings() { return settings; }

  /** Where the TCP listener actually is (the port is known even when 0 was asked for). */
  public InetSocketAddress tcpAddress() { return tcp.localAddress(); }

  /** Start time in Unix seconds, for {@code /info} and {@code /stats}. */
  public long startTime() { return startTime; }
}
