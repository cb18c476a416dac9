package io.jnsq.broker;

import java.time.Duration;

/**
 * A channel's delivery policy: at most {@code maxAttempts} deliveries (0: no limit), after which a message
 * goes to {@code deadLetterTopic} (null: it is dropped), and no delivery of a message older than
 * {@code messageTtl} (zero: no limit). {@link #NONE} changes nothing.
 */
public record ChannelPolicy(int maxAttempts, String deadLetterTopic, Duration messageTtl) {
  public static final ChannelPolicy NONE = new ChannelPolicy(0, null, Duration.ZERO);

  public ChannelPolicy {
    if (deadLetterTopic != null && deadLetterTopic.isEmpty()) deadLetterTopic = null;
    if (messageTtl == null) messageTtl = Duration.ZERO;
  }

  /** Whether anything is to be checked before a delivery. */
  public boolean active() { return maxAttempts > 0 || !messageTtl.isZero(); }

  /** This policy with the topic's TTL where it is shorter (or the channel has none). */
  ChannelPolicy withTopicTtl(Duration topicTtl) {
    if (topicTtl.isZero() || (!messageTtl.isZero() && messageTtl.compareTo(topicTtl) <= 0)) return this;
    return new ChannelPolicy(maxAttempts, deadLetterTopic, topicTtl);
  }

  /**
   * The node's default for channel {@code channel} of {@code topic}: {@code --max-attempts},
   * {@code --message-ttl}, and the topic's name plus {@code --dead-letter-topic-suffix} (none for a
   * topic that already ends with it, so a dead-letter topic does not dead-letter into another).
   */
  static ChannelPolicy nodeDefault(io.jnsq.config.ChannelSettings s, String topic) {
    String suffix = s.deadLetterTopicSuffix();
    String dlq = suffix == null || suffix.isEmpty() || topic.endsWith(suffix) || topic.endsWith("#ephemeral")
        || !io.jnsq.protocol.Names.isValidTopic(topic + suffix) ? null : topic + suffix;
    return new ChannelPolicy(s.maxAttempts(), s.maxAttempts() > 0 ? dlq : null, s.messageTtl());
  }
}
