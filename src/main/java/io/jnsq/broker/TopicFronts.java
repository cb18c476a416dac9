package io.jnsq.broker;

import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;

/**
 * The seam through which replicated topics (package {@code replication}) stand in for this node's own
 * topic actors: the registry spawns a front in place of the topic, and the front runs the node's copy of
 * the topic ({@link LocalTopic}) behind it. The broker knows nothing of Raft.
 */
public interface TopicFronts {

  /** The behaviour to spawn for {@code topic} in place of the topic itself, or null for a topic of this node alone. */
  Behavior<Topic.Command> front(String topic, LocalTopic local, ActorRef<TopicRegistry.Command> registry);

  /** Whether lookup lists this node as a producer of {@code topic} (for a replicated topic: only while it leads it). */
  boolean listed(String topic);

  /** Makes this node's own copy of a topic, with {@code channels} (name to paused) restored from their cursors. */
  interface LocalTopic {
    Behavior<Topic.Command> create(Map<String, Boolean> channels);
  }
}
