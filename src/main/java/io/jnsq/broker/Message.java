package io.jnsq.broker;

import org.apache.pekko.util.ByteString;

/**
 * One NSQ message as a channel holds it: node-unique id, publish timestamp (ns since the epoch), how
 * many deliveries it has had on this channel, and the body (a slice of what the client sent, never copied).
 * Immutable: the topic hands the same instance to every channel.
 */
public record Message(long id, long timestamp, int attempts, ByteString body) {

  /** The copy that goes out on the next delivery: NSQ counts the current delivery in attempts. */
  public Message withNextAttempt() {
    return new Message(id, timestamp, attempts + 1 > 65535 ? 65535 : attempts + 1, body);
  }
}
