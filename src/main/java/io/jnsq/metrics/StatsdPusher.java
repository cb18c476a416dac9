package io.jnsq.metrics;

import io.jnsq.broker.Stats;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.config.NodeSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Pushes the node's stats to a statsd server over UDP every {@code --statsd-interval}, as nsqd does and
 * under nsqd's names ({@link StatsdFormat}): asks the registry for its stats, turns counters into their
 * growth since the previous push, and sends the lines in packets of at most {@code --statsd-udp-packet-size}
 * bytes from a non-blocking {@link DatagramChannel}. The server's name is resolved again for every push
 * (as nsqd dials it again), on Pekko's blocking-I/O dispatcher. Unlike nsqd, which spreads the packets
 * over the interval, a push sends them at once.
 */
public final class StatsdPusher {
  /** Everything the pusher understands; all of it is its own timer's and futures' doing. */
  public sealed interface Command {}
  private enum Tick implements Command { INSTANCE }
  private record Resolved(InetSocketAddress address, Throwable error) implements Command {}
  private record Collected(InetSocketAddress address, List<Stats.Topic> topics, Throwable error) implements Command {}

  /** Where and how to push; {@code prefix} is already expanded (see {@link #settings}). */
  public record Settings(String host, int port, String prefix, Duration interval, boolean memStats, int packetSize,
      boolean excludeEphemeral) {
    public Settings(String host, int port, String prefix, Duration interval, boolean memStats, int packetSize) {
      this(host, port, prefix, interval, memStats, packetSize, false);
    }
  }

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /**
   * The node's statsd settings, or null when {@code --statsd-address} is empty; {@code httpPort} as bound,
   * which {@code --broadcast-http-port} replaces in the prefix as in nsqd.
   */
  public static Settings settings(NodeSettings s, int httpPort) {
    if (s.statsdAddress() == null) return null;
    int port = s.broadcastHttpPort() > 0 ? s.broadcastHttpPort() : httpPort;
    return new Settings(s.statsdAddress().host(), s.statsdAddress().port(),
        StatsdFormat.prefix(s.statsdPrefix(), s.broadcastAddress(), port),
        s.statsdInterval(), s.statsdMemStats(), s.statsdUdpPacketSize(), s.statsdExcludeEphemeral());
  }

  public static Behavior<Command> create(Settings settings, ActorRef<TopicRegistry.Command> registry, MemoryStats memory) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      DatagramChannel channel;
      try {
        channel = DatagramChannel.open();
        channel.configureBlocking(false);   // a full socket buffer drops a packet rather than waiting
      } catch (IOException e) {
        ctx.getLog().error("STATSD: cannot open a UDP socket, not pushing: {}", e.toString());
        return Behaviors.stopped();
      }
      timers.startTimerAtFixedRate(Tick.INSTANCE, settings.interval());
      return new StatsdPusher(ctx, settings, registry, memory, channel).idle();
    }));
  }

  private final ActorContext<Command> ctx;
  private final Settings settings;
  private final ActorRef<TopicRegistry.Command> registry;
  private final MemoryStats memory;
  private final DatagramChannel channel;
  private final Executor blocking;
  private List<Stats.Topic> previous = List.of();
  private long previousGcRuns;

  private StatsdPusher(ActorContext<Command> ctx, Settings settings, ActorRef<TopicRegistry.Command> registry,
      MemoryStats memory, DatagramChannel channel) {
    this.ctx = ctx;
    this.settings = settings;
    this.registry = registry;
    this.memory = memory;
    this.channel = channel;
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
  }

  /** Waiting for the next tick. */
  private Behavior<Command> idle() {
    return Behaviors.receive(Command.class)
        .onMessage(Tick.class, t -> onTick())
        .onSignal(PostStop.class, s -> close())
        .onSignal(PreRestart.class, s -> close())
        .build();
  }

  /** A push is under way; a tick that comes meanwhile is skipped rather than queued. */
  private Behavior<Command> pushing() {
    return Behaviors.receive(Command.class)
        .onMessage(Tick.class, t -> Behaviors.same())
        .onMessage(Resolved.class, this::onResolved)
        .onMessage(Collected.class, this::onCollected)
        .onSignal(PostStop.class, s -> close())
        .onSignal(PreRestart.class, s -> close())
        .build();
  }

  private Behavior<Command> onTick() {
    String host = settings.host();
    int port = settings.port();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> new InetSocketAddress(host, port), blocking), Resolved::new);
    return pushing();
  }

  private Behavior<Command> onResolved(Resolved r) {
    if (r.error() != null || r.address().isUnresolved()) {
      ctx.getLog().warn("STATSD: cannot resolve {}:{}; skipping this push", settings.host(), settings.port());
      return idle();
    }
    InetSocketAddress address = r.address();
    ctx.ask(statsType(), registry, ASK_TIMEOUT, replyTo -> new TopicRegistry.GetStats(null, null, false, replyTo),
        (topics, error) -> new Collected(address, topics, error));
    return Behaviors.same();
  }

  private Behavior<Command> onCollected(Collected c) {
    if (c.error() != null) {
      ctx.getLog().warn("STATSD: no stats to push: {}", c.error().toString());
      return idle();
    }
    List<Stats.Topic> topics = settings.excludeEphemeral() ? StatsdFormat.withoutEphemeral(c.topics()) : c.topics();
    List<String> lines = new ArrayList<>(StatsdFormat.topicLines(settings.prefix(), previous, topics));
    previous = topics;
    if (settings.memStats()) {
      Map<String, Long> mem = memory.read();
      lines.addAll(StatsdFormat.memLines(settings.prefix(), mem, previousGcRuns));
      previousGcRuns = mem.get("gc_total_runs");
    }
    int dropped = 0;
    List<byte[]> packets = StatsdFormat.packets(lines, settings.packetSize());
    for (byte[] packet : packets) {
      try {
        if (channel.send(ByteBuffer.wrap(packet), c.address()) == 0) dropped++;
      } catch (IOException e) {
        dropped++;
      }
    }
    if (dropped > 0) ctx.getLog().warn("STATSD: {} of {} packets to {} could not be sent", dropped, packets.size(), c.address());
    ctx.getLog().debug("STATSD: pushed {} lines in {} packets to {}", lines.size(), packets.size(), c.address());
    return idle();
  }

  private Behavior<Command> close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // stopping anyway
    }
    return Behaviors.same();
  }

  @SuppressWarnings("unchecked")
  private static Class<List<Stats.Topic>> statsType() { return (Class<List<Stats.Topic>>) (Class<?>) List.class; }
}
