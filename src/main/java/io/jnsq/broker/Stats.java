package io.jnsq.broker;

import java.util.List;

/** Snapshots of topics, channels and their consumers, in the terms of nsqd's {@code /stats}. */
public final class Stats {
  private Stats() {}

  /** One quantile of the end-to-end processing latency, in nanoseconds. */
  public record Quantile(double quantile, long valueNanos) {}

  /** {@code e2e_processing_latency}: percentiles is null when none are configured. */
  public record Latency(long count, List<Quantile> percentiles) {
    public static final Latency NONE = new Latency(0, null);
  }

  /** A consumer as its channel sees it. State is nsqd's number: 3 subscribed, 4 closing. */
  public record Client(
      ClientInfo info, int state, long readyCount, long inFlightCount, long messageCount,
      long finishCount, long requeueCount) {}

  /**
   * A channel; depth excludes in-flight and deferred messages, as nsqd's does, and includes backendDepth
   * (on disk). corruptCount counts stretches of its disk queue skipped as corrupt.
   */
  public record Channel(
      String name, long depth, long backendDepth, long inFlightCount, long deferredCount,
      long messageCount, long requeueCount, long timeoutCount, int clientCount, List<Client> clients,
      boolean paused, Latency e2eLatency, long corruptCount, ChannelPolicy policy, long deadLetteredCount,
      long expiredCount) {
    public Channel(String name, long depth, long backendDepth, long inFlightCount, long deferredCount,
        long messageCount, long requeueCount, long timeoutCount, int clientCount, List<Client> clients,
        boolean paused, Latency e2eLatency, long corruptCount) {
      this(name, depth, backendDepth, inFlightCount, deferredCount, messageCount, requeueCount, timeoutCount, clientCount,
          clients, paused, e2eLatency, corruptCount, ChannelPolicy.NONE, 0, 0);
    }
  }

  /** A topic with its channels sorted by name; depth is what the topic itself still holds. */
  public record Topic(
      String name, List<Channel> channels, long depth, long backendDepth, long messageCount,
      long messageBytes, boolean paused, Latency e2eLatency, long corruptCount, TopicPolicy policy, long droppedCount) {
    public Topic(String name, List<Channel> channels, long depth, long backendDepth, long messageCount,
        long messageBytes, boolean paused, Latency e2eLatency, long corruptCount) {
      this(name, channels, depth, backendDepth, messageCount, messageBytes, paused, e2eLatency, corruptCount,
          TopicPolicy.NONE, 0);
    }
  }
}
