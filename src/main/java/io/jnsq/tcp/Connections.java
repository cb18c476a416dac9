package io.jnsq.tcp;

import io.jnsq.broker.ClientInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's live TCP connections: hands out connection ids, answers who has published what (the
 * {@code producers} of {@code /stats}) and how many are connected, and closes everyone at shutdown.
 */
public final class Connections {

  /** Everything the directory understands. */
  public sealed interface Command {}

  /** A session announces itself; it is forgotten when it stops. */
  public record Register(long connectionId, ActorRef<ProtocolV2.SessionCommand> session) implements Command {}

  /** Every connection that has published at least once, with its per-topic counts. */
  public record GetProducers(ActorRef<List<Producer>> replyTo) implements Command {}

  /** How many TCP connections are open now (for {@code /metrics}). */
  public record GetConnectionCount(ActorRef<Integer> replyTo) implements Command {}

  /** Closes every connection (graceful shutdown). */
  public record CloseAll(ActorRef<Done> replyTo) implements Command {}

  /** A publishing connection as {@code /stats} shows it under {@code producers}. */
  public record Producer(ClientInfo info, int state, Map<String, Long> pubCounts) {}

  private record SessionStopped(long connectionId) implements Command {}

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);

  public static Behavior<Command> create() {
    return Behaviors.setup(ctx -> new Connections(ctx).running());
  }

  private final ActorContext<Command> ctx;
  private final Map<Long, ActorRef<ProtocolV2.SessionCommand>> sessions = new HashMap<>();

  private Connections(ActorContext<Command> ctx) { this.ctx = ctx; }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Register.class, r -> {
          sessions.put(r.connectionId(), r.session());
          ctx.watchWith(r.session(), new SessionStopped(r.connectionId()));
          return Behaviors.same();
        })
        .onMessage(SessionStopped.class, s -> {
          sessions.remove(s.connectionId());
          return Behaviors.same();
        })
        .onMessage(GetProducers.class, this::onGetProducers)
        .onMessage(GetConnectionCount.class, g -> {
          g.replyTo().tell(sessions.size());
          return Behaviors.same();
        })
        .onMessage(CloseAll.class, c -> {
          sessions.values().forEach(s -> s.tell(new ProtocolV2.Shutdown()));
          c.replyTo().tell(Done.getInstance());
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onGetProducers(GetProducers get) {
    List<ActorRef<ProtocolV2.SessionCommand>> all = new ArrayList<>(sessions.values());
    ActorRef<List<Producer>> replyTo = get.replyTo();
    if (all.isEmpty()) {
      replyTo.tell(List.of());
      return Behaviors.same();
    }
    // Sessions that never published answer with null, so every session answers and none is waited for.
    Behavior<Object> gather = Behaviors.setup(c -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer("timeout", Boolean.FALSE, ASK_TIMEOUT);
      List<Producer> found = new ArrayList<>();
      int[] answered = {0};
      return Behaviors.receive(Object.class)
          .onMessageEquals(Boolean.FALSE, () -> {
            replyTo.tell(List.copyOf(found));
            return Behaviors.stopped();
          })
          .onMessage(ProtocolV2.ProducerReport.class, r -> {
            if (r.producer() != null) found.add(r.producer());
            if (++answered[0] < all.size()) return Behaviors.same();
            replyTo.tell(List.copyOf(found));
            return Behaviors.stopped();
          })
          .build();
    }));
    ActorRef<ProtocolV2.ProducerReport> gatherer = ctx.spawnAnonymous(gather).narrow();
    for (ActorRef<ProtocolV2.SessionCommand> s : all) s.tell(new ProtocolV2.ReportProducer(gatherer));
    return Behaviors.same();
  }
}
