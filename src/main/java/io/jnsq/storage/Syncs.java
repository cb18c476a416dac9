package io.jnsq.storage;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * One owner's fsyncs of its disk queue: at most one runs at a time, on the I/O executor; the metadata
 * file is rewritten when {@code --sync-every} writes or {@code --sync-timeout} have passed (or when asked).
 */
public final class Syncs {
  private final DiskQueue queue;
  private final Executor io;
  private final long timeoutNanos;
  private final boolean durable;
  private boolean running;
  private long lastMetaNanos;

  /**
   * With {@code durable}, every sync also rewrites the metadata (without its own fsync), so that a
   * crash replays little; otherwise the metadata follows nsqd's cadence.
   */
  public Syncs(DiskQueue queue, Executor io, long timeoutNanos, long nowNanos, boolean durable) {
    this.durable = durable;
    this.queue = queue;
    this.io = io;
    this.timeoutNanos = timeoutNanos;
    this.lastMetaNanos = nowNanos;
  }

  /** Starts a sync unless one is running; returns its completion (the job, run) or null. */
  public CompletionStage<DiskQueue.SyncJob> start(long nowNanos, boolean withMeta) {
    if (running) return null;
    boolean due = withMeta || queue.syncDue() || nowNanos - lastMetaNanos >= timeoutNanos;
    if (due) lastMetaNanos = nowNanos;
    DiskQueue.SyncJob job = queue.prepareSync(due || durable, due);
    running = true;
    return CompletableFuture.supplyAsync(() -> {
      job.run();
      return job;
    }, io);
  }

  /** On the owner's thread, once the job ran. */
  public void finished(DiskQueue.SyncJob job) {
    running = false;
    queue.syncDone(job);
  }
}
