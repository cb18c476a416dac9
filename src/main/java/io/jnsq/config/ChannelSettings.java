package io.jnsq.config;

import java.time.Duration;
import java.util.List;

/**
 * What a topic or channel actor needs to know of the node's settings. The last three are the defaults
 * of channels without settings of their own ({@code --max-attempts}, {@code --dead-letter-topic-suffix},
 * {@code --message-ttl}): 0, "" and zero mean none.
 */
public record ChannelSettings(
    long memQueueSize,
    Duration msgTimeout,
    Duration maxMsgTimeout,
    int maxChannelConsumers,
    List<Double> e2ePercentiles,
    Duration e2eWindow,
    int maxAttempts,
    String deadLetterTopicSuffix,
    Duration messageTtl) {

  /** Without dead-letter and TTL defaults. */
  public ChannelSettings(long memQueueSize, Duration msgTimeout, Duration maxMsgTimeout, int maxChannelConsumers,
      List<Double> e2ePercentiles, Duration e2eWindow) {
    this(memQueueSize, msgTimeout, maxMsgTimeout, maxChannelConsumers, e2ePercentiles, e2eWindow, 0, "", Duration.ZERO);
  }

  /** Settings for tests: the given queue size and msg-timeout, nsqd's defaults for the rest. */
  public static ChannelSettings of(long memQueueSize, Duration msgTimeout) {
    return new ChannelSettings(memQueueSize, msgTimeout, Duration.ofMinutes(15), 0, List.of(), Duration.ofMinutes(10));
  }
}
