package io.jnsq.broker;

import io.jnsq.config.ChannelSettings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's topics by name. Connections and routes ask it for a topic's address once and then talk to
 * the topic directly, so it is not on the per-message path.
 */
public final class TopicRegistry {

  /** Everything the registry understands. */
  public sealed interface Command {}

  /** Finds (and with {@code create}, makes) a topic. */
  public record GetTopic(String name, boolean create, ActorRef<TopicLookup> replyTo) implements Command {}

  /** A topic's address, or null when it does not exist. */
  public record TopicLookup(String name, ActorRef<Topic.Command> topic) {}

  /** Every topic's name and address, sorted by name. */
  public record ListTopics(ActorRef<List<TopicLookup>> replyTo) implements Command {}

  /** Deletes a topic with its channels; answers false when there was none. */
  public record DeleteTopic(String name, ActorRef<Boolean> replyTo) implements Command {}

  /** Stats of all topics (or only {@code topic}), each filtered to {@code channel} when given. */
  public record GetStats(String topic, String channel, boolean includeClients, ActorRef<List<Stats.Topic>> replyTo)
      implements Command {}

  private record TopicTerminated(String name, ActorRef<Topic.Command> ref) implements Command {}

  private static final Duration STATS_TIMEOUT = Duration.ofSeconds(4);

  /** A registry whose topics use {@code settings}. */
  public static Behavior<Command> create(ChannelSettings settings, MessageIdSource ids, Clock clock) {
    return Behaviors.setup(ctx -> new TopicRegistry(ctx, settings, ids, clock).running());
  }

  private final ActorContext<Command> ctx;
  private final ChannelSettings settings;
  private final MessageIdSource ids;
  private final Clock clock;
  private final TreeMap<String, ActorRef<Topic.Command>> topics = new TreeMap<>();
  private long childSeq;

  private TopicRegistry(ActorContext<Command> ctx, ChannelSettings settings, MessageIdSource ids, Clock clock) {
    this.ctx = ctx;
    this.settings = settings;
    this.ids = ids;
    this.clock = clock;
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(GetTopic.class, this::onGetTopic)
        .onMessage(ListTopics.class, this::onListTopics)
        .onMessage(DeleteTopic.class, this::onDeleteTopic)
        .onMessage(TopicTerminated.class, this::onTopicTerminated)
        .onMessage(GetStats.class, this::onGetStats)
        .build();
  }

  private Behavior<Command> onGetTopic(GetTopic get) {
    ActorRef<Topic.Command> ref = topics.get(get.name());
    if (ref == null && get.create()) {
      String childName = "topic-" + URLEncoder.encode(get.name(), StandardCharsets.UTF_8) + "-" + (childSeq++);
      // Default supervision (stop on failure): a topic that hits a bug stops, its producers and consumers
      // see it terminate, and the next PUB creates it afresh, rather than restarting with half its state.
      ref = ctx.spawn(Topic.create(get.name(), settings, ids, clock), childName);
      ctx.watchWith(ref, new TopicTerminated(get.name(), ref));
      topics.put(get.name(), ref);
    }
    get.replyTo().tell(new TopicLookup(get.name(), ref));
    return Behaviors.same();
  }

  private Behavior<Command> onListTopics(ListTopics list) {
    List<TopicLookup> out = new ArrayList<>(topics.size());
    topics.forEach((name, ref) -> out.add(new TopicLookup(name, ref)));
    list.replyTo().tell(List.copyOf(out));
    return Behaviors.same();
  }

  private Behavior<Command> onDeleteTopic(DeleteTopic del) {
    ActorRef<Topic.Command> ref = topics.remove(del.name());
    if (ref != null) ref.tell(new Topic.Delete(ctx.getSystem().<Done>ignoreRef()));
    del.replyTo().tell(ref != null);
    return Behaviors.same();
  }

  private Behavior<Command> onTopicTerminated(TopicTerminated t) {
    if (t.ref().equals(topics.get(t.name()))) topics.remove(t.name());
    return Behaviors.same();
  }

  private Behavior<Command> onGetStats(GetStats get) {
    List<ActorRef<Topic.Command>> asked = new ArrayList<>();
    if (get.topic() == null) {
      asked.addAll(topics.values());
    } else if (topics.containsKey(get.topic())) {
      asked.add(topics.get(get.topic()));
    }
    ActorRef<List<Stats.Topic>> replyTo = get.replyTo();
    String channel = get.channel();
    ActorRef<Stats.Topic> collector = Collector.spawn(ctx, Stats.Topic.class, asked.size(), STATS_TIMEOUT, replies -> {
      List<Stats.Topic> sorted = new ArrayList<>();
      for (Stats.Topic t : replies) {
        // With a channel filter, topics lacking that channel are left out, as nsqd does.
        if (channel == null || !t.channels().isEmpty()) sorted.add(t);
      }
      sorted.sort(Comparator.comparing(Stats.Topic::name));
      replyTo.tell(List.copyOf(sorted));
    });
    for (ActorRef<Topic.Command> t : asked) t.tell(new Topic.GetStats(channel, get.includeClients(), collector));
    return Behaviors.same();
  }
}
