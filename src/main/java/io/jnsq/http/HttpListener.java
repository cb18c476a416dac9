package io.jnsq.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds an HTTP listener whose connections are set up on the dispatcher, several at a time. Pekko
 * HTTP's own {@code bind} materializes each connection's server stream inside the listener's stage, one
 * after the other, so a burst of publishers (each on its own connection, as curl and most HTTP clients
 * publish) was set up on one core; here every core takes part. Requests are handled as {@code bind}
 * handles them: the sealed route, up to {@code pekko.http.server.pipelining-limit} at a time per connection.
 */
public final class HttpListener {
  private static final Logger log = LoggerFactory.getLogger(HttpListener.class);

  /** Connections being set up at once. */
  private static final int SETUP_PARALLELISM = 8;

  private HttpListener() {}

  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, ServerBuilder server, Route route) {
    var handler = route.handler(system);
    Materializer materializer = Materializer.matFromSystem(system);
    int pipelining = system.settings().config().getInt("pekko.http.server.pipelining-limit");
    return server.connectionSource()
        .to(Sink.foreachAsync(SETUP_PARALLELISM, conn -> CompletableFuture.runAsync(() -> {
          try {
            conn.handleWithAsyncHandler(handler, pipelining, materializer);
          } catch (RuntimeException e) {   // this connection is lost; the listener goes on
            log.error("HTTP: cannot serve {}: {}", conn.remoteAddress(), e.toString());
          }
        }, system.executionContext())))
        .run(system);
  }
}
