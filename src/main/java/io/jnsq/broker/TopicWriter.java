package io.jnsq.broker;

import io.jnsq.storage.Persistence;
import io.jnsq.storage.TopicLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The topic's side of its log: appends publishes, writes them to the files on the I/O executor (one
 * write at a time, each taking everything appended meanwhile), fsyncs as nsqd does ({@code --sync-every}
 * records or {@code --sync-timeout}) or before every answer with {@code --durable}, and keeps the
 * durable publishes that wait for their fsync. Owned by the topic actor; nothing here blocks.
 */
final class TopicWriter {

  /** A durable publish waiting until an fsync covers {@code end}. */
  record Waiting(long seq, org.apache.pekko.actor.typed.ActorRef<Topic.PublishResult> replyTo, long end) {}

  private final TopicLog log;
  private final Persistence persistence;
  private final boolean durable;
  private final List<Waiting> waiting = new ArrayList<>();
  private long writesSinceSync;
  private boolean dropPending;
  private long answeredEnd = -1;   // durable: publishes up to here are answered by the flush job itself

  /** Durable, after a failed write: once no flush runs, what was refused leaves the log. */
  private void dropIfIdle() {
    if (dropPending && !log.flushing()) {
      log.dropUnflushed();
      dropPending = false;
    }
  }

  TopicWriter(TopicLog log, Persistence persistence, boolean durable) {
    this.log = log;
    this.persistence = persistence;
    this.durable = durable;
  }

  TopicLog log() { return log; }

  boolean durable() { return durable; }

  /** Appends; false when the node's memory for logs is spent (see {@link TopicLog#append}). */
  boolean append(long firstId, long timestamp, List<org.apache.pekko.util.ByteString> bodies, long dueEpochMs) {
    if (!log.append(firstId, timestamp, bodies, dueEpochMs)) return false;
    writesSinceSync += bodies.size();
    return true;
  }

  /** Appends one record with a header outside its body (a dead letter); false when memory is spent. */
  boolean appendWithHeader(long id, long timestamp, org.apache.pekko.util.ByteString body,
      org.apache.pekko.util.ByteString header) {
    if (!log.appendRecord(id, timestamp, 0, body, 0, header)) return false;
    writesSinceSync++;
    return true;
  }

  void await(long seq, org.apache.pekko.actor.typed.ActorRef<Topic.PublishResult> replyTo) {
    waiting.add(new Waiting(seq, replyTo, log.endPos()));
  }

  /**
   * The next write of the files, or null when one runs or nothing is to be done: with fsync when durable,
   * when {@code --sync-every} records were written since the last, or when {@code syncNow} (the timer).
   */
  CompletionStage<TopicLog.FlushJob> flush(boolean syncNow) {
    if (log.memoryOnly() || log.flushing()) return null;
    Runnable spare = log.spareJob();
    if (spare != null) persistence.io().execute(spare);
    boolean force = durable || writesSinceSync >= persistence.syncEvery() || syncNow;
    TopicLog.FlushJob job = log.prepareFlush(force);
    if (job == null) return null;
    if (force) writesSinceSync = 0;
    // Durable: every publish waiting now is covered by this job's fsync, and is answered from the I/O
    // thread as soon as it is done (one hop fewer before the OK); the topic learns of it after.
    List<Waiting> covered = durable ? List.copyOf(waiting) : List.of();
    answeredEnd = covered.isEmpty() ? answeredEnd : job.end();
    return CompletableFuture.supplyAsync(() -> {
      job.run();
      if (job.error() == null) {
        for (Waiting w : covered) w.replyTo().tell(new Topic.PublishResult(w.seq(), true, ""));
      }
      return job;
    }, persistence.io());
  }

  /**
   * A write finished: answers the durable publishes it covered (or, when it failed, every one waiting,
   * whose records are then dropped so no channel sees them). Returns the error text, or null.
   */
  String finished(TopicLog.FlushJob job) {
    if (!log.flushDone(job)) {
      String error = "writing the log to disk failed: " + log.flushError();
      if (durable) {
        for (Waiting w : waiting) w.replyTo().tell(new Topic.PublishResult(w.seq(), false, error));
        waiting.clear();
        dropPending = true;
      }
      dropIfIdle();
      return error;
    }
    dropIfIdle();
    if (durable) {
      long synced = log.syncedPos();
      int done = 0;
      while (done < waiting.size() && waiting.get(done).end() <= synced) {
        Waiting w = waiting.get(done++);
        if (w.end() > answeredEnd) w.replyTo().tell(new Topic.PublishResult(w.seq(), true, ""));
      }
      waiting.subList(0, done).clear();
    }
    return null;
  }

  /** Whether anything waits to be written or fsync'd. */
  boolean pending() { return log.unflushed() || log.unsynced() || !waiting.isEmpty(); }

  /** Refuses every waiting publish (the topic is deleted). */
  void failWaiting(String reason) {
    for (Waiting w : waiting) w.replyTo().tell(new Topic.PublishResult(w.seq(), false, reason));
    waiting.clear();
  }

  /** The position channels may read up to: everything appended, or with durable only what is fsync'd. */
  long visiblePos() { return durable ? log.syncedPos() : log.endPos(); }

  long visibleSeq() { return durable ? log.syncedSeq() : log.endSeq(); }
}
