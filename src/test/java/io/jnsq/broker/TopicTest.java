package io.jnsq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.config.ChannelSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import io.jnsq.storage.TestStores;

/** A topic's fan-out, holding, pausing, deferral, memory bound and ids. */
class TopicTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());
  private final ManualClock clock = new ManualClock();
  private final MessageIdSource ids = new MessageIdSource(5, 1_700_000_000_000L);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private ActorRef<Topic.Command> topic(String name, long memQueueSize) {
    return testKit.spawn(Topic.create(name, ChannelSettings.of(memQueueSize, TIMEOUT), ids, clock,
        TestStores.memory(testKit.system())));
  }

  private Stats.Topic stats(ActorRef<Topic.Command> t) {
    TestProbe<Stats.Topic> stats = testKit.createTestProbe();
    t.tell(new Topic.GetStats(null, false, stats.ref()));
    return stats.receiveMessage();
  }

  private static List<String> allBodies(TestProbe<Channel.ConsumerEvent> p, int n) {
    List<String> got = new ArrayList<>();
    while (got.size() < n) got.addAll(bodiesOf(p));
    return got;
  }

  private static List<ByteString> bodies(String... s) {
    List<ByteString> out = new ArrayList<>();
    for (String x : s) out.add(ByteString.fromString(x));
    return out;
  }

  private Topic.PublishResult publish(ActorRef<Topic.Command> t, long deferMs, String... s) {
    TestProbe<Topic.PublishResult> reply = testKit.createTestProbe();
    t.tell(new Topic.Publish(7, bodies(s), deferMs, reply.ref()));
    Topic.PublishResult r = reply.receiveMessage();
    assertEquals(7, r.seq());
    return r;
  }

  private ActorRef<Channel.Command> channel(ActorRef<Topic.Command> t, String name) {
    TestProbe<Topic.ChannelLookup> reply = testKit.createTestProbe();
    t.tell(new Topic.GetChannel(name, true, reply.ref()));
    return reply.receiveMessage().channel();
  }

  /** Subscribes a probe with RDY 100 and returns it. */
  private TestProbe<Channel.ConsumerEvent> consume(ActorRef<Channel.Command> ch, long id) {
    TestProbe<Channel.ConsumerEvent> p = testKit.createTestProbe();
    ch.tell(new Channel.Subscribe(new ClientInfo(id, "c", "h", "ua", "127.0.0.1:1", 0, 0, false, false, false), p.ref(), TIMEOUT));
    p.expectMessageClass(Channel.Subscribed.class);
    ch.tell(new Channel.Ready(id, 100));
    return p;
  }

  private static List<String> bodiesOf(TestProbe<Channel.ConsumerEvent> p) {
    return p.expectMessageClass(Channel.Deliveries.class).messages().stream().map(m -> m.body().utf8String()).toList();
  }

  @Test
  void everyChannelGetsEveryMessageWithTheSameId() {
    ActorRef<Topic.Command> t = topic("fanout", 100);
    TestProbe<Channel.ConsumerEvent> a = consume(channel(t, "a"), 1);
    TestProbe<Channel.ConsumerEvent> b = consume(channel(t, "b"), 2);
    assertTrue(publish(t, 0, "x", "y").accepted());
    List<Message> ma = a.expectMessageClass(Channel.Deliveries.class).messages();
    List<Message> mb = b.expectMessageClass(Channel.Deliveries.class).messages();
    assertEquals(List.of("x", "y"), ma.stream().map(m -> m.body().utf8String()).toList());
    assertEquals(ma.stream().map(Message::id).toList(), mb.stream().map(Message::id).toList());
    assertEquals(ma.get(0).timestamp(), mb.get(0).timestamp());
  }

  @Test
  void aStampedPublishKeepsItsIdsAndTimestampAndAReplayIsNotAppendedAgain() {
    ActorRef<Topic.Command> t = topic("stamped", 100);
    TestProbe<Channel.ConsumerEvent> c = consume(channel(t, "c"), 1);
    TestProbe<Topic.PublishResult> reply = testKit.createTestProbe();
    Topic.Stamp stamp = new Topic.Stamp(1000, 123_456_789L, 0);
    t.tell(new Topic.Publish(1, bodies("x", "y"), 0, reply.ref(), stamp));
    assertTrue(reply.receiveMessage().accepted());
    List<Message> got = c.expectMessageClass(Channel.Deliveries.class).messages();
    assertEquals(List.of(1000L, 1001L), got.stream().map(Message::id).toList());
    assertEquals(123_456_789L, got.get(0).timestamp());
    // The same entry applied again (Raft replays its log after a restart): answered, not appended.
    t.tell(new Topic.Publish(2, bodies("x", "y"), 0, reply.ref(), stamp));
    assertTrue(reply.receiveMessage().accepted());
    t.tell(new Topic.Publish(3, bodies("z"), 0, reply.ref(), new Topic.Stamp(1002, 5, 0)));
    assertTrue(reply.receiveMessage().accepted());
    assertEquals(List.of("z"), bodiesOf(c));
    assertEquals(3, stats(t).messageCount());
  }

  @Test
  void aTopicWithoutChannelsHoldsMessagesForItsFirstChannel() {
    ActorRef<Topic.Command> t = topic("held", 100);
    publish(t, 0, "early1", "early2");
    TestProbe<Channel.ConsumerEvent> first = consume(channel(t, "first"), 1);
    assertEquals(List.of("early1", "early2"), bodiesOf(first));
    TestProbe<Channel.ConsumerEvent> later = consume(channel(t, "later"), 2);
    later.expectNoMessage(Duration.ofMillis(50));
    publish(t, 0, "new");
    assertEquals(List.of("new"), bodiesOf(later));
    assertEquals(List.of("new"), bodiesOf(first));
  }

  @Test
  void aPausedTopicHoldsMessagesUntilUnpaused() {
    ActorRef<Topic.Command> t = topic("paused", 100);
    TestProbe<Channel.ConsumerEvent> c = consume(channel(t, "c"), 1);
    TestProbe<Done> done = testKit.createTestProbe();
    t.tell(new Topic.SetPaused(true, done.ref()));
    done.receiveMessage();
    assertTrue(publish(t, 0, "p").accepted(), "a paused topic keeps accepting");
    c.expectNoMessage(Duration.ofMillis(50));
    t.tell(new Topic.SetPaused(false, done.ref()));
    assertEquals(List.of("p"), bodiesOf(c));
  }

  @Test
  void deferredPublishReachesChannelsAfterTheDelay() {
    ActorRef<Topic.Command> t = topic("deferred", 100);
    TestProbe<Channel.ConsumerEvent> c = consume(channel(t, "c"), 1);
    publish(t, 2000, "later");
    c.expectNoMessage(Duration.ofMillis(30));
    clock.advance(Duration.ofMillis(2000));
    time.timePasses(Duration.ofMillis(2100));
    assertEquals(List.of("later"), bodiesOf(c));
  }

  @Test
  void aChannelsBacklogIsTheChannelsDepthNotTheTopics() {
    ActorRef<Topic.Command> t = topic("bounded", 3);
    ActorRef<Channel.Command> ch = channel(t, "slow");
    for (int i = 1; i <= 10; i += 2) assertTrue(publish(t, 0, "" + i, "" + (i + 1)).accepted());
    // As nsqd reports it: the channel holds the backlog, the topic (which has a channel) holds nothing.
    Stats.Topic ts = stats(t);
    Stats.Channel s = ts.channels().get(0);
    assertEquals(0, ts.depth());
    assertEquals(10, s.depth());
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 1);
    assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), allBodies(c, 10));
  }

  @Test
  void aTopicWithoutChannelsHoldsItsBacklogForItsFirstChannel() {
    ActorRef<Topic.Command> t = topic("ownbound", 2);
    assertTrue(publish(t, 0, "a", "b").accepted());
    assertTrue(publish(t, 0, "c").accepted());
    assertTrue(publish(t, 0, "d", "e").accepted());
    Stats.Topic s = stats(t);
    assertEquals(5, s.depth());
    TestProbe<Channel.ConsumerEvent> c = consume(channel(t, "first"), 1);
    assertEquals(List.of("a", "b", "c", "d", "e"), allBodies(c, 5));
    assertEquals(0, stats(t).depth());
  }

  @Test
  void aBacklogBeyondTheMemoryBudgetIsReadBackFromTheFilesInOrder() {
    io.jnsq.storage.Persistence small = io.jnsq.storage.TestStores.memory(new io.jnsq.storage.MemoryStorage(), false,
        testKit.system().ignoreRef(), new io.jnsq.storage.BlockPool(2 << 20));
    ActorRef<Topic.Command> t = testKit.spawn(Topic.create("budget", ChannelSettings.of(10, TIMEOUT), ids, clock, small));
    ActorRef<Channel.Command> ch = channel(t, "c");
    String pad = "x".repeat(1000);
    for (int i = 0; i < 3000; i += 10) {
      String[] batch = new String[10];
      for (int k = 0; k < 10; k++) batch[k] = (i + k) + pad;
      assertTrue(publish(t, 0, batch).accepted());
    }
    Stats.Channel s = stats(t).channels().get(0);
    assertEquals(3000, s.depth());
    assertTrue(s.backendDepth() > 1000, "most of 3 MB went to the files, not the 2 MB budget: " + s);
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 1);
    ch.tell(new Channel.Ready(1, 3000));
    List<String> got = allBodies(c, 3000);
    for (int i = 0; i < 3000; i++) assertEquals(i + pad, got.get(i));
  }

  @Test
  void aDeferredPublishKeepsItsDelay() {
    ActorRef<Topic.Command> t = topic("deferdisk", 0);
    assertTrue(publish(t, 5000, "later").accepted());
    assertEquals(1, stats(t).depth());
    TestProbe<Channel.ConsumerEvent> c = consume(channel(t, "c"), 1);
    c.expectNoMessage(Duration.ofMillis(50));
    clock.advance(Duration.ofMillis(5000));
    time.timePasses(Duration.ofMillis(5100));
    assertEquals(List.of("later"), bodiesOf(c));
  }

  @Test
  void ephemeralTopicDropsOverflowButAnswersOk() {
    ActorRef<Topic.Command> t = topic("eph#ephemeral", 2);
    assertTrue(publish(t, 0, "a", "b", "c").accepted());
    TestProbe<Channel.ConsumerEvent> c = consume(channel(t, "c"), 1);
    assertEquals(List.of("a", "b"), bodiesOf(c));
  }

  @Test
  void ephemeralTopicGoesAwayWithItsLastChannel() {
    ActorRef<Topic.Command> t = topic("gone#ephemeral", 10);
    channel(t, "c");
    TestProbe<Boolean> deleted = testKit.createTestProbe();
    t.tell(new Topic.DeleteChannel("c", deleted.ref()));
    assertTrue(deleted.receiveMessage());
    deleted.expectTerminated(t);
  }

  @Test
  void deletingAnUnknownChannelAnswersFalse() {
    ActorRef<Topic.Command> t = topic("nodelete", 10);
    TestProbe<Boolean> deleted = testKit.createTestProbe();
    t.tell(new Topic.DeleteChannel("nope", deleted.ref()));
    assertFalse(deleted.receiveMessage());
  }

  @Test
  void emptyDropsWhatTheTopicHolds() {
    ActorRef<Topic.Command> t = topic("emptied", 10);
    publish(t, 0, "x");
    TestProbe<Done> done = testKit.createTestProbe();
    t.tell(new Topic.Empty(done.ref()));
    done.receiveMessage();
    consume(channel(t, "c"), 1).expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void statsListChannelsByNameWithTopicCounts() {
    ActorRef<Topic.Command> t = topic("stats", 10);
    channel(t, "zeta");
    channel(t, "alpha");
    publish(t, 0, "abc", "de");
    TestProbe<Stats.Topic> stats = testKit.createTestProbe();
    t.tell(new Topic.GetStats(null, true, stats.ref()));
    Stats.Topic s = stats.receiveMessage();
    assertEquals(List.of("alpha", "zeta"), s.channels().stream().map(Stats.Channel::name).toList());
    assertEquals(2, s.messageCount());
    assertEquals(5, s.messageBytes());
    assertEquals(2, s.channels().get(0).depth());
    t.tell(new Topic.GetStats("zeta", false, stats.ref()));
    assertEquals(List.of("zeta"), stats.receiveMessage().channels().stream().map(Stats.Channel::name).toList());
  }

  @Test
  void messageIdsAreUniqueAcrossTopicsSharingTheNodesSource() {
    ActorRef<Topic.Command> t1 = topic("ids1", 1000);
    ActorRef<Topic.Command> t2 = topic("ids2", 1000);
    TestProbe<Channel.ConsumerEvent> c1 = consume(channel(t1, "c"), 1);
    TestProbe<Channel.ConsumerEvent> c2 = consume(channel(t2, "c"), 2);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      publish(t1, 0, "a", "b", "c");
      publish(t2, 0, "d", "e", "f");
    }
    int got = 0;
    while (got < 30) {
      for (TestProbe<Channel.ConsumerEvent> c : List.of(c1, c2)) {
        for (Message m : c.expectMessageClass(Channel.Deliveries.class).messages()) {
          assertTrue(seen.add(m.id()), "duplicate id " + m.id());
          assertEquals(5, m.id() >>> 54, "node id in the top bits");
          got++;
        }
      }
    }
  }

  /**
   * A consumer REQs one message with a 1 h delay while thousands flow past and are FINed: the log's
   * segments are still deleted behind the others (the deferred one is saved with its body, so it pins
   * nothing), and the deferred message survives a restart with its delay.
   */
  @Test
  void aLongRequeueDoesNotPinTheLogAndSurvivesARestart() {
    io.jnsq.storage.MemoryStorage disk = new io.jnsq.storage.MemoryStorage();
    io.jnsq.storage.Persistence durable = io.jnsq.storage.TestStores.memory(disk, true, testKit.system().ignoreRef());
    ActorRef<Topic.Command> t = testKit.spawn(Topic.create("longreq", ChannelSettings.of(10, TIMEOUT), ids, clock, durable));
    ActorRef<Channel.Command> ch = channel(t, "c");
    TestProbe<Channel.ConsumerEvent> c = consume(ch, 1);
    assertTrue(publish(t, 0, "first").accepted());
    Message first = c.expectMessageClass(Channel.Deliveries.class).messages().get(0);
    ch.tell(new Channel.Operate(1, List.of(new Channel.Req(first.id(), "x", true, 3_600_000))));
    c.expectMessageClass(Channel.OpsDone.class);
    String pad = "p".repeat(100);
    long flowed = 0;
    long most = 0;
    for (int round = 0; round < 200; round++) {
      String[] batch = new String[50];
      for (int k = 0; k < 50; k++) batch[k] = round + "-" + k + pad;
      assertTrue(publish(t, 0, batch).accepted());
      int got = 0;
      while (got < 50) {
        Channel.ConsumerEvent e = c.receiveMessage();
        if (!(e instanceof Channel.Deliveries d)) continue;
        List<Channel.Op> fins = new ArrayList<>();
        for (Message m : d.messages()) fins.add(new Channel.Fin(m.id(), "x", true));
        got += fins.size();
        ch.tell(new Channel.Operate(1, fins));
      }
      flowed += 50L * (pad.length() + 8);
      most = Math.max(most, disk.used());
    }
    assertTrue(flowed > 1_000_000, "a megabyte flowed past");
    assertTrue(disk.used() < 64 * 1024, "segments behind the FINed ones are deleted: " + disk.used() + " bytes left");
    assertEquals(1, stats(t).channels().get(0).deferredCount());
    TestProbe<Done> done = testKit.createTestProbe();
    t.tell(new Topic.Persist(done.ref()));
    done.receiveMessage(Duration.ofSeconds(10));
    testKit.stop(t);

    ActorRef<Topic.Command> again = testKit.spawn(Topic.create("longreq", ChannelSettings.of(10, TIMEOUT), ids, clock,
        durable, null, false, java.util.Map.of("c", false)));
    assertEquals(1, stats(again).channels().get(0).deferredCount(), "the deferred message came back deferred");
    TestProbe<Topic.ChannelLookup> lookup = testKit.createTestProbe();
    again.tell(new Topic.GetChannel("c", false, lookup.ref()));
    TestProbe<Channel.ConsumerEvent> later = consume(lookup.receiveMessage().channel(), 2);
    later.expectNoMessage(Duration.ofMillis(50));
    clock.advance(Duration.ofHours(1));
    time.timePasses(Duration.ofHours(1));
    time.timePasses(Duration.ofMillis(200));
    List<Message> back = later.expectMessageClass(Channel.Deliveries.class).messages();
    assertEquals("first", back.get(0).body().utf8String());
    assertEquals(2, back.get(0).attempts(), "its earlier delivery is counted");
  }

  @Test
  void whatIsPublishedWhilePausedStaysWithTheTopicAcrossARestart() {
    io.jnsq.storage.Persistence disk = io.jnsq.storage.TestStores.memory(new io.jnsq.storage.MemoryStorage(), false,
        testKit.system().ignoreRef());
    ActorRef<Topic.Command> t = testKit.spawn(Topic.create("pausedrestart", ChannelSettings.of(10, TIMEOUT), ids, clock, disk));
    channel(t, "c");
    assertTrue(publish(t, 0, "before").accepted());
    TestProbe<Done> done = testKit.createTestProbe();
    t.tell(new Topic.SetPaused(true, done.ref()));
    done.receiveMessage();
    assertTrue(publish(t, 0, "while-paused").accepted());
    t.tell(new Topic.Persist(done.ref()));
    done.receiveMessage(Duration.ofSeconds(10));
    testKit.stop(t);
    ActorRef<Topic.Command> again = testKit.spawn(Topic.create("pausedrestart", ChannelSettings.of(10, TIMEOUT), ids, clock,
        disk, null, true, java.util.Map.of("c", false)));
    Stats.Topic s = stats(again);
    assertEquals(1, s.depth(), "the topic still holds what came while it was paused");
    assertEquals(1, s.channels().get(0).depth());
    TestProbe<Channel.ConsumerEvent> c = consume(channel(again, "c"), 1);
    assertEquals(List.of("before"), bodiesOf(c));
    again.tell(new Topic.SetPaused(false, done.ref()));
    done.receiveMessage();
    assertEquals(List.of("while-paused"), bodiesOf(c));
  }
}
