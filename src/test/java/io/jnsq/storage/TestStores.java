package io.jnsq.storage;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** Persistence for actor tests: an in-memory store, syncs run inline, health reports go to {@code health}. */
public final class TestStores {
  private TestStores() {}

  /** Small segments (4 KiB), so that tests cross segment boundaries. */
  public static final TopicLog.Settings LOG = new TopicLog.Settings(4096, 1 << 20);

  public static Persistence memory(MemoryStorage storage, boolean durable, ActorRef<Health.Command> health) {
    return memory(storage, durable, health, new BlockPool(64L << 20));
  }

  public static Persistence memory(MemoryStorage storage, boolean durable, ActorRef<Health.Command> health, BlockPool pool) {
    // As a node does, durable logs make their segments ahead of time.
    TopicLog.Settings log = new TopicLog.Settings(LOG.segmentBytes(), LOG.maxMsgSize(), durable);
    return new Persistence(storage, log, 2500, Duration.ofSeconds(2), durable, Runnable::run, health, pool);
  }

  /** A new empty directory for a test node's --data-path. */
  public static String freshDataPath() {
    try {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("jnsq-test-data");
      dir.toFile().deleteOnExit();
      return dir.toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public static Persistence memory(ActorSystem<?> system) {
    return memory(new MemoryStorage(), false, system.ignoreRef());
  }
}
