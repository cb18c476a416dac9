package io.jnsq.app;

import io.jnsq.broker.TopicRegistry;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs topics and channels coming and going at INFO with nsqd's wording ({@code TOPIC(t): created},
 * {@code TOPIC(t): new channel(c)}, {@code CHANNEL(c): deleting}, {@code TOPIC(t): deleting}), from the
 * registry's own list of them, so operators see in the log what nsqd would show. It watches from outside
 * the broker, so a line comes when the registry publishes the change, a moment after it.
 */
final class TopicEvents {
  private TopicEvents() {}

  private static final Logger log = LoggerFactory.getLogger(TopicEvents.class);

  static Behavior<TopicRegistry.Topics> create(ActorRef<TopicRegistry.Command> registry) {
    return Behaviors.setup(ctx -> {
      registry.tell(new TopicRegistry.WatchTopics("log", ctx.getSelf()));
      return watching(new TreeMap<>());
    });
  }

  private static Behavior<TopicRegistry.Topics> watching(Map<String, List<String>> before) {
    return Behaviors.receiveMessage(now -> {
      for (String line : changes(before, now.topics())) log.info(line);
      return watching(now.topics());
    });
  }

  /** The log lines from one list of topics and channels to the next, in nsqd's order and words. */
  static List<String> changes(Map<String, List<String>> before, Map<String, List<String>> after) {
    List<String> lines = new java.util.ArrayList<>();
    for (Map.Entry<String, List<String>> t : new TreeMap<>(after).entrySet()) {
      List<String> had = before.get(t.getKey());
      if (had == null) lines.add("TOPIC(" + t.getKey() + "): created");
      Set<String> old = had == null ? Set.of() : new HashSet<>(had);
      for (String c : t.getValue()) if (!old.contains(c)) lines.add("TOPIC(" + t.getKey() + "): new channel(" + c + ")");
      Set<String> kept = new HashSet<>(t.getValue());
      if (had != null) for (String c : had) if (!kept.contains(c)) lines.add("CHANNEL(" + c + "): deleting");
    }
    for (String t : new TreeMap<>(before).keySet()) if (!after.containsKey(t)) lines.add("TOPIC(" + t + "): deleting");
    return lines;
  }
}
