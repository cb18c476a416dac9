package io.jnsq.config;

import java.time.Duration;
import java.util.List;

/** What a topic or channel actor needs to know of the node's settings. */
public record ChannelSettings(
    long memQueueSize,
    Duration msgTimeout,
    Duration maxMsgTimeout,
    int maxChannelConsumers,
    List<Double> e2ePercentiles,
    Duration e2eWindow) {

  /** Settings for tests: the given queue size and msg-timeout, nsqd's defaults for the rest. */
  public static ChannelSettings of(long memQueueSize, Duration msgTimeout) {
    return new ChannelSettings(memQueueSize, msgTimeout, Duration.ofMinutes(15), 0, List.of(), Duration.ofMinutes(10));
  }
}
