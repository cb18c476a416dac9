package io.jnsq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.config.ChannelSettings;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import io.jnsq.storage.TestStores;

/** The registry creates, lists, deletes and reports on topics. */
class TopicRegistryTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private ActorRef<TopicRegistry.Command> registry() {
    return testKit.spawn(TopicRegistry.create(ChannelSettings.of(100, Duration.ofSeconds(30)),
        new MessageIdSource(1, System.currentTimeMillis()), new ManualClock(), TestStores.memory(testKit.system())));
  }

  private ActorRef<Topic.Command> get(ActorRef<TopicRegistry.Command> r, String name, boolean create) {
    TestProbe<TopicRegistry.TopicLookup> p = testKit.createTestProbe();
    r.tell(new TopicRegistry.GetTopic(name, create, p.ref()));
    return p.receiveMessage().topic();
  }

  @Test
  void createsOnlyWhenAsked() {
    ActorRef<TopicRegistry.Command> r = registry();
    assertNull(get(r, "t", false));
    ActorRef<Topic.Command> t = get(r, "t", true);
    assertNotNull(t);
    assertEquals(t, get(r, "t", false));
  }

  @Test
  void listsTopicsByNameAndDeletesThem() {
    ActorRef<TopicRegistry.Command> r = registry();
    get(r, "b", true);
    ActorRef<Topic.Command> a = get(r, "a", true);
    TestProbe<List<TopicRegistry.TopicLookup>> list = testKit.createTestProbe();
    r.tell(new TopicRegistry.ListTopics(list.ref()));
    assertEquals(List.of("a", "b"), list.receiveMessage().stream().map(TopicRegistry.TopicLookup::name).toList());
    TestProbe<Boolean> deleted = testKit.createTestProbe();
    r.tell(new TopicRegistry.DeleteTopic("a", deleted.ref()));
    assertTrue(deleted.receiveMessage());
    deleted.expectTerminated(a);
    r.tell(new TopicRegistry.DeleteTopic("a", deleted.ref()));
    assertFalse(deleted.receiveMessage());
    assertNull(get(r, "a", false));
  }

  @Test
  void statsFilterByTopicAndChannel() {
    ActorRef<TopicRegistry.Command> r = registry();
    ActorRef<Topic.Command> x = get(r, "x", true);
    get(r, "y", true);
    TestProbe<Topic.ChannelLookup> ch = testKit.createTestProbe();
    x.tell(new Topic.GetChannel("only_x", true, ch.ref()));
    ch.receiveMessage();
    TestProbe<List<Stats.Topic>> stats = testKit.createTestProbe();
    r.tell(new TopicRegistry.GetStats(null, null, true, stats.ref()));
    assertEquals(List.of("x", "y"), stats.receiveMessage().stream().map(Stats.Topic::name).toList());
    r.tell(new TopicRegistry.GetStats("y", null, true, stats.ref()));
    assertEquals(List.of("y"), stats.receiveMessage().stream().map(Stats.Topic::name).toList());
    r.tell(new TopicRegistry.GetStats(null, "only_x", true, stats.ref()));
    assertEquals(List.of("x"), stats.receiveMessage().stream().map(Stats.Topic::name).toList(), "topics lacking the channel are left out");
    r.tell(new TopicRegistry.GetStats("nope", null, true, stats.ref()));
    assertEquals(List.of(), stats.receiveMessage());
  }
}
