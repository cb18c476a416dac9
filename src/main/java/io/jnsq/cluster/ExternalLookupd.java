package io.jnsq.cluster;

import io.jnsq.broker.TopicRegistry;
import io.jnsq.config.HostPort;
import io.jnsq.config.NodeSettings;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node registering with external nsqlookupd instances, exactly as nsqd does for its
 * {@code --lookupd-tcp-address}: per address a connection that sends the magic, IDENTIFY, a REGISTER per
 * channel (or per topic without channels), a PING every 15 s, and REGISTER/UNREGISTER as topics and
 * channels come and go; a lost connection is made again on the next tick. The address list can be
 * replaced at runtime ({@code PUT /config/nsqlookupd_tcp_addresses}).
 */
public final class ExternalLookupd {
  private static final Logger log = LoggerFactory.getLogger(ExternalLookupd.class);
  private static final Duration PING = Duration.ofSeconds(15);

  public sealed interface Command {}

  /** The lookup servers to register with (replaces the previous list). */
  public record SetAddresses(List<String> addresses) implements Command {}

  /** This node's topics with their channels (from the topic registry). */
  public record Topics(Map<String, List<String>> topics) implements Command {}

  /** Who this node is (known once its listeners are bound); connections start then. */
  public record Identity(Registry.Producer producer) implements Command {}

  private record Closed(String address, long generation, Throwable cause) implements Command {}

  private record Tick() implements Command {}

  /** Registers {@code registry}'s topics with {@code addresses} once it gets its {@link Identity}. */
  public static Behavior<Command> create(ActorRef<TopicRegistry.Command> registry, List<String> addresses) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Tick(), PING);
      registry.tell(new TopicRegistry.WatchTopics("external-lookupd",
          ctx.messageAdapter(TopicRegistry.Topics.class, t -> new Topics(t.topics()))));
      ExternalLookupd e = new ExternalLookupd(ctx);
      e.setAddresses(addresses);
      return e.running();
    }));
  }

  private static final class Connection {
    final String address;
    BoundedSourceQueue<ByteString> queue;
    long generation;
    Map<String, TreeSet<String>> registered = new HashMap<>();

    Connection(String address) {
      this.address = address;
    }
  }

  private final ActorContext<Command> ctx;
  private Registry.Producer producer;   // null until Identity
  private final Map<String, Connection> connections = new LinkedHashMap<>();
  private Map<String, List<String>> topics = Map.of();

  private ExternalLookupd(ActorContext<Command> ctx) {
    this.ctx = ctx;
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(SetAddresses.class, m -> {
          setAddresses(m.addresses());
          return Behaviors.same();
        })
        .onMessage(Identity.class, m -> {
          producer = m.producer();
          for (Connection c : connections.values()) if (c.queue == null) connect(c);
          return Behaviors.same();
        })
        .onMessage(Topics.class, m -> {
          topics = m.topics();
          for (Connection c : connections.values()) sync(c);
          return Behaviors.same();
        })
        .onMessage(Closed.class, m -> {
          Connection c = connections.get(m.address());
          if (c != null && c.generation == m.generation()) {
            log.warn("lookupd {}: connection lost ({}); reconnecting on the next ping", m.address(),
                m.cause() == null ? "closed" : m.cause().getMessage());
            c.queue = null;
          }
          return Behaviors.same();
        })
        .onMessage(Tick.class, t -> {
          for (Connection c : connections.values()) {
            if (c.queue == null) connect(c); else send(c, "PING\n");
          }
          return Behaviors.same();
        })
        .build();
  }

  private void setAddresses(List<String> addresses) {
    for (String a : List.copyOf(connections.keySet())) {
      if (!addresses.contains(a)) {
        Connection c = connections.remove(a);
        if (c.queue != null) c.queue.complete();
      }
    }
    for (String a : addresses) {
      if (!connections.containsKey(a)) {
        Connection c = new Connection(a);
        connections.put(a, c);
        connect(c);
      }
    }
  }

  private void connect(Connection c) {
    if (producer == null) return;
    HostPort hp;
    try {
      hp = HostPort.parse(c.address);
    } catch (RuntimeException e) {
      log.error("lookupd {}: not a host:port address", c.address);
      return;
    }
    long generation = ++c.generation;
    Pair<BoundedSourceQueue<ByteString>, java.util.concurrent.CompletionStage<Done>> m = Source.<ByteString>queue(1024)
        .via(Tcp.get(ctx.getSystem()).outgoingConnection(new InetSocketAddress(hp.host(), hp.port()), java.util.Optional.empty(),
            List.of(), true, java.util.Optional.of(Duration.ofSeconds(1)), java.util.Optional.empty()))
        .toMat(Sink.ignore(), Keep.both())
        .run(ctx.getSystem());
    c.queue = m.first();
    String address = c.address;
    ctx.pipeToSelf(m.second(), (done, error) -> new Closed(address, generation, error));
    byte[] identify = Registry.JSON.createObjectNode().put("broadcast_address", producer.broadcastAddress())
        .put("hostname", producer.hostname()).put("http_port", producer.httpPort()).put("tcp_port", producer.tcpPort())
        .put("version", NodeSettings.NSQ_VERSION).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    c.queue.offer(ByteString.fromString("  V1IDENTIFY\n")
        .concat(ByteString.fromArrayUnsafe(ByteBuffer.allocate(4).putInt(identify.length).array()))
        .concat(ByteString.fromArrayUnsafe(identify)));
    c.registered = new HashMap<>();
    sync(c);
  }

  /** Sends the REGISTERs and UNREGISTERs that take {@code c}'s server from what it knows to {@code topics}. */
  private void sync(Connection c) {
    if (c.queue == null) return;
    StringBuilder lines = new StringBuilder();
    for (Map.Entry<String, TreeSet<String>> known : c.registered.entrySet()) {
      List<String> now = topics.get(known.getKey());
      if (now == null) {
        lines.append("UNREGISTER ").append(known.getKey()).append('\n');
        continue;
      }
      for (String ch : known.getValue()) if (!now.contains(ch)) lines.append("UNREGISTER ").append(known.getKey()).append(' ').append(ch).append('\n');
    }
    for (Map.Entry<String, List<String>> t : topics.entrySet()) {
      TreeSet<String> known = c.registered.get(t.getKey());
      if (t.getValue().isEmpty() && known == null) lines.append("REGISTER ").append(t.getKey()).append('\n');
      for (String ch : t.getValue()) {
        if (known == null || !known.contains(ch)) lines.append("REGISTER ").append(t.getKey()).append(' ').append(ch).append('\n');
      }
    }
    Map<String, TreeSet<String>> next = new HashMap<>();
    topics.forEach((t, cs) -> next.put(t, new TreeSet<>(cs)));
    c.registered = next;
    if (lines.length() > 0) send(c, lines.toString());
  }

  private void send(Connection c, String text) {
    if (c.queue != null) c.queue.offer(ByteString.fromString(text));
  }
}
