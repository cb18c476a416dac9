package io.jnsq.storage;

import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's storage health, as nsqd reports it in {@code /ping} and {@code /stats}: "OK", or
 * "NOK - " and the latest failure while any queue's last disk write failed. A queue reports again
 * with a null error once a write succeeds, so a disk that has space again makes the node healthy.
 */
public final class Health {
  private Health() {}

  public sealed interface Command {}

  /** {@code source} (a queue name) failed with {@code error}, or is fine again when null. */
  public record Report(String source, String error) implements Command {}

  /** Answers "OK" or "NOK - ...". */
  public record Get(ActorRef<String> replyTo) implements Command {}

  public static Behavior<Command> create() {
    Map<String, String> failing = new TreeMap<>();
    return Behaviors.receive(Command.class)
        .onMessage(Report.class, r -> {
          if (r.error() == null) failing.remove(r.source()); else failing.put(r.source(), r.error());
          return Behaviors.same();
        })
        .onMessage(Get.class, g -> {
          g.replyTo().tell(failing.isEmpty() ? "OK" : "NOK - " + failing.values().iterator().next());
          return Behaviors.same();
        })
        .build();
  }
}
