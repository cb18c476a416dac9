package io.jnsq.broker;

import java.time.Duration;

/**
 * A topic's policy: a TTL for all its channels ({@code messageTtl}, zero: none), how long its log is
 * kept after every channel finished it ({@code retention}, zero: not at all), and a bound on what it
 * holds ({@code maxBytes}, {@code maxMessages}, 0: none) with what happens at the bound. {@link #NONE}
 * changes nothing.
 */
public record TopicPolicy(Duration messageTtl, Duration retention, long maxBytes, long maxMessages, WhenFull whenFull) {
  public static final TopicPolicy NONE = new TopicPolicy(Duration.ZERO, Duration.ZERO, 0, 0, WhenFull.REFUSE);

  /** What a full topic does with a publish. */
  public enum WhenFull {
    REFUSE("refuse"), DROP_OLDEST("drop-oldest");

    public final String text;
    WhenFull(String text) { this.text = text; }

    public static WhenFull parse(String s) {
      for (WhenFull w : values()) if (w.text.equals(s)) return w;
      throw new IllegalArgumentException("when_full must be refuse or drop-oldest, got \"" + s + "\"");
    }
  }

  public TopicPolicy {
    if (messageTtl == null) messageTtl = Duration.ZERO;
    if (retention == null) retention = Duration.ZERO;
    if (whenFull == null) whenFull = WhenFull.REFUSE;
  }

  public boolean bounded() { return maxBytes > 0 || maxMessages > 0; }
}
