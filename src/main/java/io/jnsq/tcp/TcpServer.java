package io.jnsq.tcp;

import io.jnsq.broker.TopicRegistry;
import io.jnsq.protocol.CommandDecoder;
import io.jnsq.protocol.Frames;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens for TCP clients and gives each connection its pipeline:
 * socket bytes → {@link CommandDecoder} (one batch of commands per read) → {@link SessionStage} ⇄ {@link ProtocolV2} actor
 * → one ByteString per write → socket.
 */
public final class TcpServer {
  private static final Logger log = LoggerFactory.getLogger(TcpServer.class);

  /**
   * Connections the kernel may queue before we accept them (capped by {@code net.core.somaxconn}).
   * Pekko's default of 100 made a burst of clients wait in SYN retransmits once 100 were queued.
   */
  static final int BACKLOG = 4096;

  /** Connections being set up at once (stream built, session started, materialized). */
  private static final int SETUP_PARALLELISM = 8;

  private static final ByteString MAGIC_V2 = ByteString.fromString("  V2");
  /** How long a refused connection may take to send the magic before it is closed anyway. */
  private static final java.time.Duration REFUSAL_WAIT = java.time.Duration.ofSeconds(2);

  private TcpServer() {}

  /** Binds {@code host:port} (port 0 = any free port) and serves until the binding is unbound. */
  public static CompletionStage<Tcp.ServerBinding> bind(ActorSystem<?> system, String host, int port,
      SessionSettings settings, ActorRef<TopicRegistry.Command> registry, ActorRef<Connections.Command> connections) {
    AtomicLong ids = new AtomicLong();
    java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    ProtocolV2.Context context = new ProtocolV2.Context(registry, settings);
    return Tcp.get(system).bind(host, port, BACKLOG, List.of(), false, scala.concurrent.duration.Duration.Inf())
        // Each connection's stream and session are built and materialized on the dispatcher, several at
        // a time, rather than inside the listener's stage, so that accepting uses every core.
        .to(Sink.foreachAsync(SETUP_PARALLELISM, conn -> CompletableFuture.runAsync(() -> {
          long id = ids.incrementAndGet();
          InetSocketAddress remote = conn.remoteAddress();
          String remoteAddress = remote.getAddress().getHostAddress() + ":" + remote.getPort();
          log.info("TCP: new client({})", remoteAddress);
          try {
            if (settings.maxConnections() == 0) {   // nothing to count
              conn.handleWith(sessionFlow(system, id, remoteAddress, context, connections), system);
            } else if (open.incrementAndGet() > settings.maxConnections()) {   // set up in parallel: count first
              open.decrementAndGet();
              log.warn("TCP: refusing {}: --max-connections ({}) reached", remoteAddress, settings.maxConnections());
              conn.handleWith(refusal(settings.maxConnections()), system);
            } else {
              try {
                conn.handleWith(sessionFlow(system, id, remoteAddress, context, connections)
                    .watchTermination((mat, done) -> {
                      done.whenComplete((d, e) -> open.decrementAndGet());
                      return mat;
                    }), system);
              } catch (RuntimeException e) {
                open.decrementAndGet();
                throw e;
              }
            }
          } catch (RuntimeException e) {   // one connection is lost; the listener goes on
            log.error("TCP: cannot serve {}: {}", remoteAddress, e.toString());
          }
        }, system.executionContext())))
        .run(system)
        .whenComplete((binding, error) -> {
          if (error != null) log.error("TCP: cannot listen on {}:{}: {}", host, port, error.getMessage());
          else log.info("TCP: listening on {}", binding.localAddress());
        });
  }

  /**
   * A connection over {@code --max-connections}: a client that sends the magic gets one error frame,
   * so its log says why, and then the close; anyone else (or silence) gets only the close.
   */
  private static Flow<ByteString, ByteString, NotUsed> refusal(int maxConnections) {
    ByteString frame = Frames.error("E_TOO_MANY_CONNECTIONS max connections (" + maxConnections + ") reached");
    return Flow.of(ByteString.class)
        .statefulMapConcat(() -> {
          ByteString[] seen = {ByteString.emptyByteString()};
          return bytes -> {
            seen[0] = seen[0].concat(bytes);
            return seen[0].size() >= 4 ? List.of(seen[0].take(4)) : List.of();
          };
        })
        .take(1)
        .map(magic -> magic.equals(MAGIC_V2) ? frame : ByteString.emptyByteString())
        .completionTimeout(REFUSAL_WAIT)
        .recover(TimeoutException.class, ByteString::emptyByteString);
  }

  private static Flow<ByteString, ByteString, NotUsed> sessionFlow(ActorSystem<?> system, long id, String remote,
      ProtocolV2.Context context, ActorRef<Connections.Command> connections) {
    // Compression negotiated in IDENTIFY: the session sets it before it lets the decoder read on, and the
    // client sends compressed bytes only after IDENTIFY's answer, so the switch falls between commands.
    java.util.concurrent.atomic.AtomicReference<StreamCodec> inbound = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean tlsPending = new java.util.concurrent.atomic.AtomicBoolean();
    ActorRef<ProtocolV2.SessionCommand> session = system.systemActorOf(
        ProtocolV2.create(id, remote, context, inbound, tlsPending), "client-" + id, Props.empty());
    connections.tell(new Connections.Register(id, session));

    Flow<ByteString, ByteString, NotUsed> app = CommandDecoder.flow(context.settings().limits(), bytes -> {
          StreamCodec codec = inbound.get();
          return codec == null ? bytes : codec.decode(bytes);
        })
        .via(Flow.fromGraph(new SessionStage(session)));
    TlsContexts tls = context.settings().tls();
    if (tls == null) return app;
    return org.apache.pekko.stream.javadsl.BidiFlow.fromGraph(new StartTls(tls::serverEngine, tlsPending)).join(app);
  }
}
