package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import io.jnsq.config.Units;
import io.jnsq.storage.TopicLog;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;

/**
 * A topic's settings as its actor applies them: each channel's effective policy (its own, else the
 * node's defaults, with the topic's TTL where shorter), the bound on what the log holds (refuse, or drop
 * the oldest), and the floor below which retention lets the log's segments go. Owned by the topic actor;
 * only {@link #retentionFloor} runs on the I/O executor (it reads each segment's first record once).
 */
final class TopicPolicies {
  private final String topic;
  private final ChannelSettings node;
  private TopicPolicy policy = TopicPolicy.NONE;
  private Map<String, ChannelPolicy> channels = Map.of();
  private ActorRef<DeadLetterOffice.Command> office;
  private long droppedCount;
  private long dropPos = -1;
  private long dropSeq = -1;
  private boolean dropping;
  private LogSearch.Found retained;        // null: not computed yet (keep everything)
  private boolean retentionRunning;
  private final Map<Long, Long> firstTimestamps = new ConcurrentHashMap<>();   // segment start -> its first record's

  TopicPolicies(String topic, ChannelSettings node) {
    this.topic = topic;
    this.node = node;
  }

  void apply(TopicPolicy p, Map<String, ChannelPolicy> perChannel, ActorRef<DeadLetterOffice.Command> deadLetters) {
    if (!p.retention().equals(policy.retention())) retained = null;
    policy = p;
    channels = Map.copyOf(perChannel);
    office = deadLetters;
  }

  TopicPolicy policy() { return policy; }
  ActorRef<DeadLetterOffice.Command> office() { return office; }
  long droppedCount() { return droppedCount; }

  /** What channel {@code name} applies. */
  ChannelPolicy forChannel(String name) {
    ChannelPolicy own = channels.get(name);
    ChannelPolicy base = own != null ? own : ChannelPolicy.nodeDefault(node, topic);
    return base.withTopicTtl(policy.messageTtl());
  }

  // ---- bounded topics ----

  private long heldMessages(TopicLog l) { return l.endSeq() - Math.max(l.startSeq(), dropSeq); }

  private long heldBytes(TopicLog l) { return l.endPos() - Math.max(l.startPos(), dropPos); }

  /** Why a publish of {@code bodies} is refused (after "PUB failed"), or null. */
  String refusal(TopicLog l, List<ByteString> bodies) {
    if (!policy.bounded() || policy.whenFull() != TopicPolicy.WhenFull.REFUSE) return null;
    if (policy.maxMessages() > 0 && heldMessages(l) + bodies.size() > policy.maxMessages()) {
      return "topic " + topic + " is full (max_messages " + policy.maxMessages() + ")";
    }
    long bytes = 0;
    for (ByteString b : bodies) bytes += TopicLog.size(b.size(), 0);
    if (policy.maxBytes() > 0 && heldBytes(l) + bytes > policy.maxBytes()) {
      return "topic " + topic + " is full (max_bytes " + Units.formatBytes(policy.maxBytes()) + ")";
    }
    return null;
  }

  /**
   * With drop-oldest, after an append: the sequence and least position the oldest records must be
   * dropped up to, or null when the topic is within its bound (or a search for it runs already).
   */
  long[] dropTarget(TopicLog l) {
    if (!policy.bounded() || policy.whenFull() != TopicPolicy.WhenFull.DROP_OLDEST || dropping) return null;
    long overMessages = policy.maxMessages() > 0 ? heldMessages(l) - policy.maxMessages() : 0;
    long overBytes = policy.maxBytes() > 0 ? heldBytes(l) - policy.maxBytes() : 0;
    if (overMessages <= 0 && overBytes <= 0) return null;
    dropping = true;
    long seq = Math.max(l.startSeq(), dropSeq) + Math.max(0, overMessages);
    long pos = overBytes > 0 ? Math.max(l.startPos(), dropPos) + overBytes : 0;
    return new long[] {seq, pos};
  }

  /** A drop search ended at {@code to}: counts what went and returns true when channels must skip to there. */
  boolean dropped(TopicLog l, LogSearch.Found to) {
    dropping = false;
    if (to == null) return false;
    long from = Math.max(l.startSeq(), dropSeq);
    if (to.seq() <= from) return false;
    droppedCount += to.seq() - from;
    dropPos = to.pos();
    dropSeq = to.seq();
    return true;
  }

  // ---- retention ----

  boolean retains() { return !policy.retention().isZero(); }

  /** Where the log may be released up to, given every channel's lowest floor (or the visible end without channels). */
  LogSearch.Found releaseFloor(long pos, long seq) {
    if (!retains()) return new LogSearch.Found(pos, seq);
    LogSearch.Found keep = retained;
    if (keep == null) return new LogSearch.Found(0, 0);   // not known yet: release nothing
    if (dropPos > keep.pos()) keep = new LogSearch.Found(dropPos, dropSeq);
    return keep.pos() < pos ? keep : new LogSearch.Found(pos, seq);
  }

  /** Whether a retention floor should be computed now (at most one at a time). */
  boolean startRetention() {
    if (!retains() || retentionRunning) return false;
    retentionRunning = true;
    return true;
  }

  void retentionComputed(LogSearch.Found floor) {
    retentionRunning = false;
    if (floor != null && retains()) retained = floor;
  }

  /**
   * The start of the oldest segment that may hold a record younger than {@code cutoffNanos}: every
   * segment before it is wholly older (the next one's first record is). Blocking: for the I/O executor.
   */
  LogSearch.Found retentionFloor(TopicLog l, long cutoffNanos, long limitPos) throws IOException {
    LogSearch.Found floor = new LogSearch.Found(l.startPos(), l.startSeq());
    for (long[] s : l.segmentStarts()) {
      if (s[0] <= l.startPos()) continue;
      if (s[0] >= limitPos) break;
      Long ts = firstTimestamps.get(s[0]);
      if (ts == null) {
        TopicLog.Batch b = LogSearch.read(l, s[0], s[1], limitPos, 1, 256);
        if (b == null || b.entries().isEmpty()) break;
        ts = b.entries().get(0).timestamp();
        firstTimestamps.put(s[0], ts);
      }
      if (ts > cutoffNanos) break;
      floor = new LogSearch.Found(s[0], s[1]);
    }
    firstTimestamps.keySet().removeIf(k -> k < l.startPos());
    return floor;
  }
}
