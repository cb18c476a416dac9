package io.jnsq.replication;

import io.jnsq.broker.Topic;
import io.jnsq.broker.TopicFronts;
import io.jnsq.broker.TopicRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replicated topic on this node, standing where the registry would put the topic itself: it sends
 * PUB/MPUB/DPUB through Raft and answers them once committed, and runs this node's copy of the topic
 * behind it, to which the group's state machine hands every committed publish. While this node leads the
 * topic's group its copy has the channels (restored from the replicated cursors) and delivers; while it
 * follows, its copy has none and only keeps the log, and SUB is refused.
 *
 * <p>Publishes that arrive while {@link #MAX_IN_FLIGHT} entries are uncommitted go together into the next
 * entry (group commit), so a busy topic makes few large entries.
 */
final class ReplicatedTopic {
  private static final Logger log = LoggerFactory.getLogger(ReplicatedTopic.class);

  /** This node started or stopped leading the topic's group. */
  record Leading(boolean leading) {}

  private record Committed(List<Topic.Publish> publishes, String error) {}

  private record LocalStopped(boolean leading) {}

  private record ChannelsFound(boolean leading, Map<String, Boolean> channels) {}

  private record LocalTerminated(ActorRef<Topic.Command> ref) {}

  static final int MAX_IN_FLIGHT = 8;
  private static final Duration SWITCH_TIMEOUT = Duration.ofSeconds(60);

  static Behavior<Topic.Command> create(Replication node, String topic, int group, TopicFronts.LocalTopic local,
      ActorRef<TopicRegistry.Command> registry) {
    Behavior<Object> b = Behaviors.setup(ctx -> Behaviors.withStash(1 << 16, stash ->
        new ReplicatedTopic(ctx, stash, node, topic, group, local, registry).start()));
    return b.narrow();
  }

  private final ActorContext<Object> ctx;
  private final StashBuffer<Object> stash;
  private final Replication node;
  private final String topic;
  private final int group;
  private final TopicFronts.LocalTopic local;
  private final ActorRef<TopicRegistry.Command> registry;
  private final List<Topic.Publish> waiting = new ArrayList<>();
  private ActorRef<Topic.Command> copy;
  private boolean leading;
  private boolean closed;
  private int inFlight;
  private long localSeq;

  private ReplicatedTopic(ActorContext<Object> ctx, StashBuffer<Object> stash, Replication node, String topic, int group,
      TopicFronts.LocalTopic local, ActorRef<TopicRegistry.Command> registry) {
    this.ctx = ctx;
    this.stash = stash;
    this.node = node;
    this.topic = topic;
    this.group = group;
    this.local = local;
    this.registry = registry;
  }

  private Behavior<Object> start() {
    node.register(topic, group, ctx.getSelf());
    if (!node.leads(group)) {
      spawnCopy(Map.of());
      return running();
    }
    // Leading already: the copy starts with the replicated channels; a SUB sent meanwhile waits for it.
    leading = true;
    log.info("topic {}: this node leads its group {}", topic, group);
    ctx.pipeToSelf(node.channelsOf(topic), (channels, error) -> new ChannelsFound(true, channels != null ? channels : Map.of()));
    return switching();
  }

  private void spawnCopy(Map<String, Boolean> channels) {
    copy = ctx.spawn(local.create(channels), "copy-" + (localSeq++));
    ctx.watchWith(copy, new LocalTerminated(copy));
  }

  private Behavior<Object> running() {
    return Behaviors.receive(Object.class)
        .onMessage(Topic.Publish.class, this::onPublish)
        .onMessage(Committed.class, this::onCommitted)
        .onMessage(Leading.class, this::onLeading)
        .onMessage(Topic.GetChannel.class, g -> {
          if (leading) {
            copy.tell(g);
          } else {
            g.replyTo().tell(new Topic.ChannelLookup(g.name(), null));   // only the leader's channels deliver
          }
          return Behaviors.same();
        })
        .onMessage(Topic.Persist.class, p -> {
          closed = true;
          for (Topic.Publish w : waiting) w.replyTo().tell(new Topic.PublishResult(w.seq(), false, "exiting"));
          waiting.clear();
          copy.tell(p);
          return Behaviors.same();
        })
        .onMessage(Topic.Delete.class, d -> {
          node.unregister(topic, group, ctx.getSelf());
          copy.tell(d);
          return Behaviors.stopped();
        })
        .onMessage(LocalTerminated.class, t -> {
          if (!t.ref().equals(copy)) return Behaviors.same();
          log.warn("topic {}: this node's copy stopped; the topic starts again on the next use", topic);
          node.unregister(topic, group, ctx.getSelf());
          return Behaviors.stopped();
        })
        .onMessage(Topic.Command.class, c -> {   // stats, pause, empty, channel deletion: this node's copy answers
          copy.tell(c);
          return Behaviors.same();
        })
        .build();
  }

  // ---- publishing through Raft ----

  private Behavior<Object> onPublish(Topic.Publish p) {
    if (p.stamp() != null) {
      copy.tell(p);   // committed: this node's copy appends it
    } else if (closed) {
      p.replyTo().tell(new Topic.PublishResult(p.seq(), false, "exiting"));
    } else {
      waiting.add(p);
      if (inFlight < MAX_IN_FLIGHT) submit();
    }
    return Behaviors.same();
  }

  private void submit() {
    if (waiting.isEmpty()) return;
    List<Topic.Publish> batch = new ArrayList<>();
    List<Entries.Part> parts = new ArrayList<>();
    long now = System.currentTimeMillis();
    int messages = 0;
    while (!waiting.isEmpty() && messages + waiting.get(0).bodies().size() <= Entries.MAX_MESSAGES) {
      Topic.Publish p = waiting.remove(0);
      batch.add(p);
      messages += p.bodies().size();
      parts.add(new Entries.Part(p.deferMs() > 0 ? now + p.deferMs() : 0, p.bodies()));
    }
    if (batch.isEmpty()) {   // one publish larger than an entry can number
      Topic.Publish p = waiting.remove(0);
      p.replyTo().tell(new Topic.PublishResult(p.seq(), false, "more than " + Entries.MAX_MESSAGES + " messages"));
      return;
    }
    inFlight++;
    byte[] entry = Entries.publish(new Entries.Publish(topic, System.currentTimeMillis() * 1_000_000L, parts));
    ctx.pipeToSelf(node.submit(group, topic, entry), (error, failure) ->
        new Committed(batch, failure != null ? failure.toString() : error));
  }

  private Behavior<Object> onCommitted(Committed c) {
    inFlight--;
    for (Topic.Publish p : c.publishes()) {
      p.replyTo().tell(new Topic.PublishResult(p.seq(), c.error() == null, c.error() == null ? "" : c.error()));
    }
    while (inFlight < MAX_IN_FLIGHT && !waiting.isEmpty()) submit();
    return Behaviors.same();
  }

  // ---- leadership: whose channels deliver ----

  private Behavior<Object> onLeading(Leading l) {
    if (l.leading() == leading) return Behaviors.same();
    leading = l.leading();
    log.info("topic {}: this node {} its group {}", topic, leading ? "now leads" : "no longer leads", group);
    // The copy saves its cursors and log and stops; the next one starts from the replicated cursors.
    boolean lead = leading;
    ActorRef<Topic.Command> old = copy;
    ctx.ask(Done.class, old, SWITCH_TIMEOUT, Topic.Persist::new, (done, error) -> {
      ctx.stop(old);
      return new LocalStopped(lead);
    });
    return switching();
  }

  /** Between two copies: everything but the switch waits, in order. */
  private Behavior<Object> switching() {
    return Behaviors.receive(Object.class)
        .onMessage(LocalStopped.class, s -> {
          if (!s.leading()) return resume(Map.of());
          ctx.pipeToSelf(node.channelsOf(topic), (channels, error) ->
              new ChannelsFound(true, channels != null ? channels : Map.of()));
          return Behaviors.same();
        })
        .onMessage(ChannelsFound.class, f -> resume(f.channels()))
        .onMessage(LocalTerminated.class, t -> Behaviors.same())
        .onMessage(Committed.class, this::onCommitted)
        .onMessage(Topic.Publish.class, p -> {
          if (p.stamp() == null) return onPublish(p);   // goes to Raft; only committed ones wait for the copy
          stash.stash(p);
          return Behaviors.same();
        })
        .onAnyMessage(m -> {
          stash.stash(m);
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Object> resume(Map<String, Boolean> channels) {
    spawnCopy(channels);
    registry.tell(new TopicRegistry.RefreshRegistrations());
    return stash.unstashAll(running());
  }
}
