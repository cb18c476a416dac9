package io.jnsq.storage;

import java.time.Duration;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * How topics and channels keep their messages: the store their logs and cursors live in, the log's
 * settings, nsqd's fsync cadence ({@code --sync-every} records or {@code --sync-timeout}), whether
 * publishes wait for fsync ({@code --durable}), the executor every file operation runs on (never an
 * actor's thread), where storage failures are reported, and the node's memory for log tails.
 */
public record Persistence(
    Storage storage, TopicLog.Settings log, long syncEvery, Duration syncTimeout, boolean durable, Executor io,
    ActorRef<Health.Command> health, BlockPool pool) {}
