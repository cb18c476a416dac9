package io.jnsq.storage;

import java.io.IOException;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * How topics and channels keep what does not fit in memory: the store, the disk-queue settings,
 * whether publishes wait for fsync ({@code --durable}), the executor fsyncs run on (never an actor's
 * thread), and where storage failures are reported.
 */
public record Persistence(
    Storage storage, DiskQueue.Settings queue, boolean durable, Executor io, ActorRef<Health.Command> health) {

  /** Opens the disk queue named {@code name}. */
  public DiskQueue open(String name) throws IOException {
    return DiskQueue.open(storage, name, queue);
  }
}
