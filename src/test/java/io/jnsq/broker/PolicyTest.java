package io.jnsq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.config.ChannelSettings;
import io.jnsq.storage.MemoryStorage;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.TestStores;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Dead letters, TTL, bounded topics, rewind and settings through the registry, on virtual time. */
class PolicyTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private ManualClock clock;
  private MemoryStorage storage;
  private ActorRef<TopicRegistry.Command> registry;
  private long connections;

  @BeforeEach void fresh() {
    clock = new ManualClock();
    storage = new MemoryStorage();
    registry = registry(ChannelSettings.of(1000, TIMEOUT));
  }

  private ActorRef<TopicRegistry.Command> registry(ChannelSettings settings) {
    Persistence persistence = TestStores.memory(storage, false, testKit.system().ignoreRef());
    return testKit.spawn(TopicRegistry.create(settings, new MessageIdSource(1, 1_700_000_000_000L), clock, persistence));
  }

  private static JsonNode json(String s) {
    try {
      return PolicyJson.JSON.readTree(s);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private TopicRegistry.SettingsReply set(String topic, String channel, String body) {
    TestProbe<TopicRegistry.SettingsReply> p = testKit.createTestProbe();
    registry.tell(new TopicRegistry.UpdateSettings(topic, channel, json(body), p.ref()));
    return p.receiveMessage();
  }

  private ActorRef<Topic.Command> topic(String name) {
    TestProbe<TopicRegistry.TopicLookup> p = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetTopic(name, true, p.ref()));
    return p.receiveMessage().topic();
  }

  private ActorRef<Channel.Command> channel(String topic, String name) {
    TestProbe<Topic.ChannelLookup> p = testKit.createTestProbe();
    topic(topic).tell(new Topic.GetChannel(name, true, p.ref()));
    return p.receiveMessage().channel();
  }

  private Topic.PublishResult publish(String topic, String... bodies) {
    List<ByteString> list = new ArrayList<>();
    for (String b : bodies) list.add(ByteString.fromString(b));
    TestProbe<Topic.PublishResult> p = testKit.createTestProbe();
    topic(topic).tell(new Topic.Publish(1, list, 0, p.ref()));
    return p.receiveMessage();
  }

  /** A consumer with RDY {@code rdy}; its connection id is returned through {@code id[0]}. */
  private TestProbe<Channel.ConsumerEvent> consume(ActorRef<Channel.Command> ch, long rdy, long[] id) {
    TestProbe<Channel.ConsumerEvent> p = testKit.createTestProbe();
    long conn = ++connections;
    ch.tell(new Channel.Subscribe(new ClientInfo(conn, "c", "h", "ua", "127.0.0.1:1", 0, 0, false, false, false), p.ref(), TIMEOUT));
    p.expectMessageClass(Channel.Subscribed.class);
    ch.tell(new Channel.Ready(conn, rdy));
    id[0] = conn;
    return p;
  }

  private static List<String> bodies(Channel.Deliveries d) {
    List<String> out = new ArrayList<>();
    for (Message m : d.messages()) out.add(m.body().utf8String());
    return out;
  }

  private Stats.Topic stats(String topic) {
    TestProbe<List<Stats.Topic>> p = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetStats(topic, null, false, p.ref()));
    return p.receiveMessage().get(0);
  }

  private DeadLetterOffice.Browsed browse(String topic) {
    TestProbe<ActorRef<DeadLetterOffice.Command>> o = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetDeadLetterOffice(o.ref()));
    TestProbe<DeadLetterOffice.Browsed> p = testKit.createTestProbe();
    o.receiveMessage().tell(new DeadLetterOffice.Browse(topic, 0, 100, p.ref()));
    return p.receiveMessage();
  }

  private DeadLetterOffice.Requeued requeue(String topic, long seq) {
    TestProbe<ActorRef<DeadLetterOffice.Command>> o = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetDeadLetterOffice(o.ref()));
    TestProbe<DeadLetterOffice.Requeued> p = testKit.createTestProbe();
    o.receiveMessage().tell(new DeadLetterOffice.Requeue(topic, seq, p.ref()));
    return p.receiveMessage();
  }

  private static Channel.Req req(Message m) { return new Channel.Req(m.id(), Long.toHexString(m.id()), true, 0); }

  private static Channel.Fin fin(Message m) { return new Channel.Fin(m.id(), Long.toHexString(m.id()), true); }

  @Test
  void aMessageRequeuedPastMaxAttemptsGoesToTheDeadLetterTopicWithItsOriginAndCanBeMovedBack() {
    assertNull(set("orders", "billing", "{\"max_attempts\":3,\"dead_letter_topic\":\"orders.dead\"}").error());
    ActorRef<Channel.Command> ch = channel("orders", "billing");
    long[] id = new long[1];
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 1, id);
    assertTrue(publish("orders", "poison").accepted());
    for (int attempt = 1; attempt <= 3; attempt++) {
      Message m = c.expectMessageClass(Channel.Deliveries.class).messages().get(0);
      assertEquals(attempt, m.attempts());
      ch.tell(new Channel.Operate(id[0], List.of(req(m))));
      c.expectMessageClass(Channel.OpsDone.class);
    }
    c.expectNoMessage(Duration.ofMillis(200));   // a fourth delivery would be one too many
    Stats.Channel s = stats("orders").channels().get(0);
    assertEquals(1, s.deadLetteredCount());
    assertEquals(0, s.inFlightCount());
    DeadLetterOffice.Browsed dead = browse("orders.dead");
    assertTrue(dead.found());
    assertEquals(1, dead.records().size());
    DeadLetterOffice.Shown letter = dead.records().get(0);
    assertEquals("poison", letter.body().utf8String(), "the body is unchanged");
    assertEquals("orders", letter.letter().topic());
    assertEquals("billing", letter.letter().channel());
    assertEquals(3, letter.letter().attempts());
    assertEquals("max_attempts", letter.letter().reason());

    // Consumers of the dead-letter topic get the original body, attempts counted afresh.
    ActorRef<Channel.Command> dlqChannel = channel("orders.dead", "inspect");
    Message got = consume(dlqChannel, 10, new long[1]).expectMessageClass(Channel.Deliveries.class).messages().get(0);
    assertEquals("poison", got.body().utf8String());
    assertEquals(1, got.attempts());

    DeadLetterOffice.Requeued back = requeue("orders.dead", -1);
    assertEquals(1, back.requeued());
    Message again = c.expectMessageClass(Channel.Deliveries.class).messages().get(0);
    assertEquals("poison", again.body().utf8String());
    assertEquals(1, again.attempts(), "a letter moved back starts its attempts again");
    assertEquals(0, requeue("orders.dead", -1).requeued(), "all means all not moved yet");
    assertTrue(browse("orders.dead").records().get(0).requeued());
    ch.tell(new Channel.Operate(id[0], List.of(fin(again))));
    c.expectMessageClass(Channel.OpsDone.class);
  }

  @Test
  void withoutADeadLetterTopicAMessageOutOfAttemptsIsDroppedAndCounted() {
    set("t", "ch", "{\"max_attempts\":1}");
    ActorRef<Channel.Command> ch = channel("t", "ch");
    long[] id = new long[1];
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 1, id);
    publish("t", "once", "next");
    Message m = c.expectMessageClass(Channel.Deliveries.class).messages().get(0);
    ch.tell(new Channel.Operate(id[0], List.of(req(m))));
    c.expectMessageClass(Channel.OpsDone.class);
    Message n = c.expectMessageClass(Channel.Deliveries.class).messages().get(0);
    assertEquals("next", n.body().utf8String());
    ch.tell(new Channel.Operate(id[0], List.of(fin(n))));
    c.expectMessageClass(Channel.OpsDone.class);
    c.expectNoMessage(Duration.ofMillis(200));   // "once" had its one delivery
    Stats.Channel s = stats("t").channels().get(0);
    assertEquals(1, s.deadLetteredCount());
    assertEquals(0, s.depth() + s.inFlightCount());
  }

  @Test
  void anExpiredMessageIsNeverDeliveredAndGoesToTheDeadLetterTopic() {
    set("t", null, "{\"message_ttl\":\"10s\"}");
    set("t", "ch", "{\"dead_letter_topic\":\"t.dead\"}");
    ActorRef<Channel.Command> ch = channel("t", "ch");
    publish("t", "old");
    clock.advance(Duration.ofSeconds(11));
    publish("t", "fresh");
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 10, new long[1]);
    assertEquals(List.of("fresh"), bodies(c.expectMessageClass(Channel.Deliveries.class)));
    c.expectNoMessage(Duration.ofMillis(200));
    Stats.Channel s = stats("t").channels().get(0);
    assertEquals(1, s.expiredCount());
    assertEquals(Duration.ofSeconds(10), s.policy().messageTtl(), "the topic's TTL applies to its channels");
    DeadLetterOffice.Browsed dead = browse("t.dead");
    assertEquals("old", dead.records().get(0).body().utf8String());
    assertEquals("expired", dead.records().get(0).letter().reason());
  }

  @Test
  void aFullTopicRefusesWithAReason() {
    set("b", null, "{\"max_messages\":3,\"when_full\":\"refuse\"}");
    assertTrue(publish("b", "1", "2").accepted());
    assertTrue(publish("b", "3").accepted());
    Topic.PublishResult refused = publish("b", "4");
    assertFalse(refused.accepted());
    assertEquals("topic b is full (max_messages 3)", refused.reason());
    assertFalse(publish("b", "4", "5").accepted(), "a batch is refused whole");
    assertEquals(3, stats("b").depth());
  }

  @Test
  void aFullTopicDropsTheOldestWhenToldTo() {
    set("d", null, "{\"max_messages\":3,\"when_full\":\"drop-oldest\"}");
    ActorRef<Channel.Command> ch = channel("d", "ch");
    for (int i = 1; i <= 5; i++) assertTrue(publish("d", "m" + i).accepted());
    assertEquals(2, stats("d").droppedCount());
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 10, new long[1]);
    assertEquals(List.of("m3", "m4", "m5"), bodies(c.expectMessageClass(Channel.Deliveries.class)));
  }

  @Test
  void aRewoundChannelGetsAgainExactlyWhatWasPublishedSinceTheTime() {
    ActorRef<Channel.Command> ch = channel("r", "ch");
    long[] id = new long[1];
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 10, id);
    publish("r", "a", "b");
    List<Message> first = c.expectMessageClass(Channel.Deliveries.class).messages();
    clock.advance(Duration.ofSeconds(5));
    long since = clock.epochNanos() / 1_000_000L;
    publish("r", "c");
    publish("r", "d");
    List<Message> all = new ArrayList<>(first);
    while (all.size() < 4) all.addAll(c.expectMessageClass(Channel.Deliveries.class).messages());
    List<Channel.Op> fins = new ArrayList<>();
    for (Message m : all) fins.add(fin(m));
    ch.tell(new Channel.Operate(id[0], fins));
    c.expectMessageClass(Channel.OpsDone.class);

    TestProbe<Channel.Rewound> rewound = testKit.createTestProbe();
    topic("r").tell(new Topic.RewindChannel("ch", since, rewound.ref()));
    assertEquals(2, rewound.receiveMessage().depth());
    List<String> again = new ArrayList<>();
    while (again.size() < 2) again.addAll(bodies(c.expectMessageClass(Channel.Deliveries.class)));
    assertEquals(List.of("c", "d"), again);
    topic("r").tell(new Topic.RewindChannel("nope", since, rewound.ref()));
    assertFalse(rewound.receiveMessage().found());
  }

  private long segments(String topic) throws Exception {
    return storage.list().stream().filter(f -> f.startsWith(topic + ".log.")).count();
  }

  /** Virtual time for both the clock and the actors' timers (saves and sync ticks). */
  private void pass(Duration d) {
    clock.advance(d);
    time.timePasses(d);
  }

  @Test
  void retentionKeepsFinishedSegmentsUntilTheyAreOlderThanIt() throws Exception {
    set("keep", null, "{\"retention\":\"1h\"}");
    set("gone", null, "{}");
    for (String t : List.of("keep", "gone")) {
      ActorRef<Channel.Command> ch = channel(t, "ch");
      long[] id = new long[1];
      TestProbe<Channel.ConsumerEvent> c = consume(ch, 1000, id);
      String big = "x".repeat(500);
      for (int i = 0; i < 40; i++) assertTrue(publish(t, big + i).accepted());   // 4 KiB segments: several of them
      List<Channel.Op> fins = new ArrayList<>();
      while (fins.size() < 40) for (Message m : c.expectMessageClass(Channel.Deliveries.class).messages()) fins.add(fin(m));
      ch.tell(new Channel.Operate(id[0], fins));
      c.expectMessageClass(Channel.OpsDone.class);
    }
    for (int i = 0; i < 3; i++) pass(Duration.ofSeconds(2));   // saves report the floors; sync ticks release
    assertTrue(segments("gone") <= 1, "without retention what every channel finished goes");
    long kept = segments("keep");
    assertTrue(kept > 3, "retention keeps the finished segments: " + kept);
    pass(Duration.ofMinutes(61));
    for (int i = 0; i < 3; i++) pass(Duration.ofSeconds(2));
    assertTrue(segments("keep") <= 1, "older than the retention: released, " + segments("keep") + " left");
  }

  @Test
  void badSettingsAreRefusedAndChangeNothing() {
    set("t", "ch", "{\"max_attempts\":4}");
    for (String bad : new String[] {"{\"max_attempts\":-1}", "{\"max_attempts\":\"five\"}", "{\"message_ttl\":\"1 hour\"}",
        "{\"dead_letter_topic\":\"bad name!\"}", "{\"dead_letter_topic\":\"t\"}", "{\"max_attempts\":2,\"colour\":\"red\"}"}) {
      TopicRegistry.SettingsReply r = set("t", "ch", bad);
      assertNotNull(r.error(), bad);
    }
    assertNotNull(set("t", null, "{\"max_bytes\":\"ten gigs\"}").error());
    assertNotNull(set("t", null, "{\"when_full\":\"explode\"}").error());
    TestProbe<TopicRegistry.SettingsReply> p = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetSettings("t", "ch", p.ref()));
    assertEquals(new ChannelPolicy(4, null, Duration.ZERO), p.receiveMessage().own());
    registry.tell(new TopicRegistry.GetSettings("t", null, p.ref()));
    assertEquals(TopicPolicy.NONE, p.receiveMessage().topic());
  }

  @Test
  void settingsAreKeptInTheSettingsFileAndComeBackWithTheNode() {
    set("keep", null, "{\"retention\":\"24h\",\"max_bytes\":\"10GiB\",\"when_full\":\"drop-oldest\"}");
    set("keep", "ch", "{\"max_attempts\":5,\"dead_letter_topic\":\"keep.dead\",\"message_ttl\":\"1h\"}");
    assertNotNull(storage.load(PolicyJson.FILE));
    TestProbe<Done> persisted = testKit.createTestProbe();
    registry.tell(new TopicRegistry.Persist(persisted.ref()));
    persisted.receiveMessage();
    registry = registry(ChannelSettings.of(1000, TIMEOUT));   // the same storage: a restart
    TestProbe<TopicRegistry.SettingsReply> p = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetSettings("keep", null, p.ref()));
    TopicPolicy t = p.receiveMessage().topic();
    assertEquals(Duration.ofHours(24), t.retention());
    assertEquals(10L << 30, t.maxBytes());
    assertEquals(TopicPolicy.WhenFull.DROP_OLDEST, t.whenFull());
    registry.tell(new TopicRegistry.GetSettings("keep", "ch", p.ref()));
    assertEquals(new ChannelPolicy(5, "keep.dead", Duration.ofHours(1)), p.receiveMessage().own());
  }

  @Test
  void theNodesDefaultsApplyToChannelsWithoutSettings() {
    registry = registry(new ChannelSettings(1000, TIMEOUT, Duration.ofMinutes(15), 0, List.of(), Duration.ofMinutes(10),
        2, ".dlq", Duration.ZERO));
    ActorRef<Channel.Command> ch = channel("n", "ch");
    long[] id = new long[1];
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 1, id);
    publish("n", "x");
    for (int i = 0; i < 2; i++) {
      Message m = c.expectMessageClass(Channel.Deliveries.class).messages().get(0);
      ch.tell(new Channel.Operate(id[0], List.of(req(m))));
      c.expectMessageClass(Channel.OpsDone.class);
    }
    c.expectNoMessage(Duration.ofMillis(200));
    assertEquals("x", browse("n.dlq").records().get(0).body().utf8String());
    assertEquals(0, stats("n.dlq").channels().size());
    TestProbe<TopicRegistry.SettingsReply> p = testKit.createTestProbe();
    registry.tell(new TopicRegistry.GetSettings("n", "ch", p.ref()));
    TopicRegistry.SettingsReply r = p.receiveMessage();
    assertNull(r.own());
    assertEquals(new ChannelPolicy(2, "n.dlq", Duration.ZERO), r.effective());
  }
}
