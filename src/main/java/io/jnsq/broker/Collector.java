package io.jnsq.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A short-lived actor that gathers a known number of replies (or what arrived before a timeout) and
 * hands them to a callback, so an actor can scatter a question to its children without waiting itself.
 * The callback runs inside the collector and must only send messages.
 */
final class Collector {
  private Collector() {}

  private record TimedOut() {}

  /** Spawns a collector for {@code expected} replies of type {@code R} and returns its address. */
  static <R> ActorRef<R> spawn(ActorContext<?> ctx, Class<R> type, int expected, Duration timeout,
      Consumer<List<R>> done) {
    if (expected == 0) {
      done.accept(List.of());
      return ctx.getSystem().ignoreRef();
    }
    Behavior<Object> behavior = Behaviors.setup(c -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(new TimedOut(), timeout);
      List<R> replies = new ArrayList<>(expected);
      return Behaviors.receive(Object.class)
          .onMessage(TimedOut.class, t -> {
            done.accept(List.copyOf(replies));
            return Behaviors.stopped();
          })
          .onAnyMessage(m -> {
            replies.add(type.cast(m));
            if (replies.size() < expected) return Behaviors.same();
            done.accept(List.copyOf(replies));
            return Behaviors.stopped();
          })
          .build();
    }));
    ActorRef<Object> ref = ctx.spawnAnonymous(behavior);
    return ref.narrow();
  }
}
