package io.jnsq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import io.jnsq.storage.Persistence;
import io.jnsq.storage.TestStores;
import io.jnsq.storage.TopicLog;

/** A channel's delivery engine: RDY, in-flight, timeouts, REQ, TOUCH, disconnects, pause, empty, delete. */
class ChannelTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private ManualClock clock;
  private TestProbe<Topic.Command> topic;
  private long nextId;

  @BeforeEach void fresh() {
    clock = new ManualClock();
    topic = testKit.createTestProbe();
  }

  private TopicLog log;

  /** A channel reading a fresh log of its own; {@link #put} appends to that log. */
  private ActorRef<Channel.Command> channel(String name, ChannelSettings settings) {
    Persistence persistence = TestStores.memory(testKit.system());
    try {
      log = TopicLog.open(persistence.storage(), "t", persistence.log(), persistence.pool());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return testKit.spawn(Channel.create("t", name, topic.ref(), settings, clock, persistence, false,
        new Channel.Start(log, 0, 0, 0, 0, false)));
  }

  /** Appends to the channel's log as its topic does, due {@code delay} from now, and lets the channel read them. */
  private List<Message> put(ActorRef<Channel.Command> ch, List<Message> messages, Duration delay) {
    long due = delay.isZero() ? 0 : clock.epochNanos() / 1_000_000L + delay.toMillis();
    for (Message m : messages) assertTrue(log.append(m.id(), m.timestamp(), List.of(m.body()), due));
    ch.tell(new Channel.Appended(log.endPos(), log.endSeq()));
    return messages;
  }

  private List<Message> put(ActorRef<Channel.Command> ch, List<Message> messages) { return put(ch, messages, Duration.ZERO); }

  private ActorRef<Channel.Command> channel() { return channel("ch", ChannelSettings.of(1000, TIMEOUT)); }

  private List<Message> messages(int n) {
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(new Message(++nextId, clock.epochNanos(), 0, ByteString.fromString("m" + nextId)));
    return out;
  }

  private static ClientInfo client(long id) { return new ClientInfo(id, "c" + id, "h", "ua", "127.0.0.1:" + id, 0, 0, false, false, false); }

  private TestProbe<Channel.ConsumerEvent> subscribe(ActorRef<Channel.Command> ch, long id) {
    TestProbe<Channel.ConsumerEvent> p = testKit.createTestProbe();
    ch.tell(new Channel.Subscribe(client(id), p.ref(), TIMEOUT));
    p.expectMessageClass(Channel.Subscribed.class);
    return p;
  }

  private static List<Message> deliveries(TestProbe<Channel.ConsumerEvent> p) {
    return p.expectMessageClass(Channel.Deliveries.class).messages();
  }

  /** Moves both clocks; the channel scans deadlines on its 100 ms timer. */
  private void pass(Duration d) {
    clock.advance(d);
    time.timePasses(d);
    time.timePasses(Duration.ofMillis(100));
  }

  private static Channel.Fin fin(Message m) { return new Channel.Fin(m.id(), Long.toHexString(m.id()), true); }

  @Test
  void nothingIsDeliveredBeforeRdyAndNeverMoreThanRdyInFlight() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    put(ch, messages(5));
    c.expectNoMessage(Duration.ofMillis(50));
    ch.tell(new Channel.Ready(1, 2));
    List<Message> first = deliveries(c);
    assertEquals(2, first.size());
    assertEquals(1, first.get(0).attempts(), "the first delivery counts as attempt 1");
    c.expectNoMessage(Duration.ofMillis(50));
    ch.tell(new Channel.Operate(1, List.of(fin(first.get(0)))));
    assertEquals(List.of(), c.expectMessageClass(Channel.OpsDone.class).errors());
    assertEquals(1, deliveries(c).size(), "one more after one FIN");
  }

  @Test
  void consumersShareTheChannelFairly() {
    ActorRef<Channel.Command> ch = channel();
    List<TestProbe<Channel.ConsumerEvent>> cs = List.of(subscribe(ch, 1), subscribe(ch, 2), subscribe(ch, 3));
    for (long i = 1; i <= 3; i++) ch.tell(new Channel.Ready(i, 100));
    put(ch, messages(90));
    Set<Long> ids = new HashSet<>();
    for (TestProbe<Channel.ConsumerEvent> c : cs) {
      List<Message> got = deliveries(c);
      assertEquals(30, got.size());
      got.forEach(m -> ids.add(m.id()));
    }
    assertEquals(90, ids.size(), "each message to exactly one consumer");
  }

  @Test
  void anUnfinishedMessageTimesOutAndComesBackWithItsAttemptsCounted() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 1));
    put(ch, messages(1));
    Message first = deliveries(c).get(0);
    pass(TIMEOUT.minusSeconds(1));
    c.expectNoMessage(Duration.ofMillis(20));
    pass(Duration.ofSeconds(1));
    Message second = deliveries(c).get(0);
    assertEquals(first.id(), second.id());
    assertEquals(2, second.attempts());
    TestProbe<Stats.Channel> stats = testKit.createTestProbe();
    ch.tell(new Channel.GetStats(true, stats.ref()));
    Stats.Channel s = stats.receiveMessage();
    assertEquals(1, s.timeoutCount());
    assertEquals(1, s.inFlightCount());
    assertEquals(2, s.clients().get(0).messageCount());
  }

  @Test
  void reqWithoutDelayRequeuesAtOnceAndWithDelayDefers() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 2));
    put(ch, messages(2));
    List<Message> got = deliveries(c);
    ch.tell(new Channel.Operate(1, List.of(new Channel.Req(got.get(0).id(), "x", true, 0),
        new Channel.Req(got.get(1).id(), "y", true, 5000))));
    c.expectMessageClass(Channel.OpsDone.class);
    List<Message> again = deliveries(c);
    assertEquals(List.of(got.get(0).id()), again.stream().map(Message::id).toList());
    assertEquals(2, again.get(0).attempts());
    TestProbe<Stats.Channel> stats = testKit.createTestProbe();
    ch.tell(new Channel.GetStats(false, stats.ref()));
    Stats.Channel s = stats.receiveMessage();
    assertEquals(1, s.deferredCount());
    assertEquals(2, s.requeueCount());
    pass(Duration.ofMillis(4900));
    c.expectNoMessage(Duration.ofMillis(20));
    pass(Duration.ofMillis(100));
    Message late = deliveries(c).get(0);
    assertEquals(got.get(1).id(), late.id());
    assertEquals(2, late.attempts());
  }

  @Test
  void touchExtendsTheDeadlineButNotPastMaxMsgTimeout() {
    ChannelSettings s = new ChannelSettings(1000, TIMEOUT, Duration.ofSeconds(50), 0, List.of(), Duration.ofMinutes(10));
    ActorRef<Channel.Command> ch = channel("touch", s);
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 1));
    put(ch, messages(1));
    Message m = deliveries(c).get(0);
    pass(Duration.ofSeconds(20));
    ch.tell(new Channel.Operate(1, List.of(new Channel.Touch(m.id(), "x", true))));   // deadline: 20 + 30 = 50
    c.expectMessageClass(Channel.OpsDone.class);
    pass(Duration.ofSeconds(20));   // t = 40: the original deadline (30) has passed
    c.expectNoMessage(Duration.ofMillis(20));
    ch.tell(new Channel.Operate(1, List.of(new Channel.Touch(m.id(), "x", true))));   // capped at 0 + 50
    c.expectMessageClass(Channel.OpsDone.class);
    pass(Duration.ofSeconds(10));   // t = 50
    assertEquals(2, deliveries(c).get(0).attempts(), "times out at delivery + max-msg-timeout");
  }

  @Test
  void finOfAnUnknownOrForeignIdIsRefusedAndTheChannelGoesOn() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> a = subscribe(ch, 1);
    TestProbe<Channel.ConsumerEvent> b = subscribe(ch, 2);
    ch.tell(new Channel.Ready(1, 1));
    put(ch, messages(1));
    Message m = deliveries(a).get(0);
    ch.tell(new Channel.Operate(2, List.of(new Channel.Fin(m.id(), "0000000000000001", true),
        new Channel.Fin(0, "0123456789abcdeZ", false), new Channel.Touch(999, "00000000000003e7", true),
        new Channel.Req(m.id(), "0000000000000001", true, 0))));
    assertEquals(List.of(
        "E_FIN_FAILED FIN 0000000000000001 failed client does not own message",
        "E_FIN_FAILED FIN 0123456789abcdeZ failed ID not in flight",
        "E_TOUCH_FAILED TOUCH 00000000000003e7 failed ID not in flight",
        "E_REQ_FAILED REQ 0000000000000001 failed client does not own message"),
        b.expectMessageClass(Channel.OpsDone.class).errors());
    ch.tell(new Channel.Operate(1, List.of(fin(m))));
    assertEquals(List.of(), a.expectMessageClass(Channel.OpsDone.class).errors());
  }

  @Test
  void aDisconnectedConsumersMessagesGoToAnotherAtOnce() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> a = subscribe(ch, 1);
    TestProbe<Channel.ConsumerEvent> b = subscribe(ch, 2);
    ch.tell(new Channel.Ready(1, 10));
    put(ch, messages(3));
    List<Message> held = deliveries(a);
    ch.tell(new Channel.Ready(2, 10));
    ch.tell(new Channel.Unsubscribe(1));
    List<Message> got = deliveries(b);
    assertEquals(held.stream().map(Message::id).toList(), got.stream().map(Message::id).toList());
    assertTrue(got.stream().allMatch(m -> m.attempts() == 2));
  }

  @Test
  void aConsumerWhoseActorStopsIsTreatedAsDisconnected() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> a = subscribe(ch, 1);
    TestProbe<Channel.ConsumerEvent> b = subscribe(ch, 2);
    ch.tell(new Channel.Ready(1, 10));
    put(ch, messages(2));
    deliveries(a);
    ch.tell(new Channel.Ready(2, 10));
    a.stop();
    assertEquals(2, deliveries(b).size());
  }

  @Test
  void closingStopsDeliveryButFinStillWorks() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 1));
    put(ch, messages(2));
    Message m = deliveries(c).get(0);
    ch.tell(new Channel.StartClose(1));
    ch.tell(new Channel.Ready(1, 10));
    ch.tell(new Channel.Operate(1, List.of(fin(m))));
    assertEquals(List.of(), c.expectMessageClass(Channel.OpsDone.class).errors());
    c.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void pausedChannelHoldsMessagesUntilUnpaused() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    TestProbe<Done> done = testKit.createTestProbe();
    ch.tell(new Channel.SetPaused(true, done.ref()));
    done.receiveMessage();
    ch.tell(new Channel.Ready(1, 10));
    put(ch, messages(3));
    c.expectNoMessage(Duration.ofMillis(50));
    ch.tell(new Channel.SetPaused(false, done.ref()));
    assertEquals(3, deliveries(c).size());
  }

  @Test
  void emptyDropsQueuedDeferredAndInFlightMessages() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 1));
    put(ch, messages(3));
    Message m = deliveries(c).get(0);
    put(ch, messages(2), Duration.ofSeconds(5));
    TestProbe<Done> done = testKit.createTestProbe();
    ch.tell(new Channel.Empty(done.ref()));
    done.receiveMessage();
    TestProbe<Stats.Channel> stats = testKit.createTestProbe();
    ch.tell(new Channel.GetStats(true, stats.ref()));
    Stats.Channel s = stats.receiveMessage();
    assertEquals(List.of(0L, 0L, 0L, 0L), List.of(s.depth(), s.inFlightCount(), s.deferredCount(), s.clients().get(0).inFlightCount()));
    ch.tell(new Channel.Operate(1, List.of(fin(m))));
    assertEquals(1, c.expectMessageClass(Channel.OpsDone.class).errors().size(), "its in-flight message is gone");
    pass(Duration.ofSeconds(6));
    c.expectNoMessage(Duration.ofMillis(20));
  }

  @Test
  void deleteTellsConsumersAndStops() {
    ActorRef<Channel.Command> ch = channel();
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    TestProbe<Done> done = testKit.createTestProbe();
    ch.tell(new Channel.Delete(done.ref()));
    c.expectMessageClass(Channel.ChannelGone.class);
    done.expectTerminated(ch);
  }

  @Test
  void maxChannelConsumersRefusesOneTooMany() {
    ChannelSettings s = new ChannelSettings(1000, TIMEOUT, Duration.ofMinutes(15), 1, List.of(), Duration.ofMinutes(10));
    ActorRef<Channel.Command> ch = channel("limited", s);
    subscribe(ch, 1);
    TestProbe<Channel.ConsumerEvent> second = testKit.createTestProbe();
    ch.tell(new Channel.Subscribe(client(2), second.ref(), TIMEOUT));
    assertEquals("E_SUB_FAILED SUB failed consumers for t:limited exceeds limit of 1",
        assertInstanceOf(Channel.SubscribeRefused.class, second.receiveMessage()).error());
  }

  @Test
  void ephemeralChannelStopsWhenItsLastConsumerLeaves() {
    ActorRef<Channel.Command> ch = channel("tail#ephemeral", ChannelSettings.of(1000, TIMEOUT));
    subscribe(ch, 1);
    subscribe(ch, 2);
    TestProbe<Object> watcher = testKit.createTestProbe();
    ch.tell(new Channel.Unsubscribe(1));
    watcher.expectNoMessage(Duration.ofMillis(30));
    ch.tell(new Channel.Unsubscribe(2));
    watcher.expectTerminated(ch);
  }

  @Test
  void aChannelsDepthIsWhatItHasNotDeliveredWhereverTheBytesAre() {
    ActorRef<Channel.Command> ch = channel("nobody", ChannelSettings.of(2, TIMEOUT));
    put(ch, messages(5));
    TestProbe<Stats.Channel> stats = testKit.createTestProbe();
    ch.tell(new Channel.GetStats(false, stats.ref()));
    Stats.Channel s = stats.receiveMessage();
    assertEquals(5, s.depth(), "mem-queue-size no longer splits a channel's backlog");
    assertEquals(0, s.backendDepth(), "all of it is still in memory");
    assertEquals(5, s.messageCount());
  }

  @Test
  void aSpilledChannelDeliversMemoryThenDiskInOrder() {
    ActorRef<Channel.Command> ch = channel("spill", ChannelSettings.of(3, TIMEOUT));
    put(ch, messages(10));
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 100));
    List<Long> ids = new ArrayList<>();
    while (ids.size() < 10) for (Message m : deliveries(c)) ids.add(m.id());
    assertEquals(java.util.stream.LongStream.rangeClosed(1, 10).boxed().toList(), ids);
  }

  @Test
  void e2eLatencyPercentilesAreKeptWhenConfigured() {
    ChannelSettings s = new ChannelSettings(1000, TIMEOUT, Duration.ofMinutes(15), 0, List.of(0.5, 0.99), Duration.ofMinutes(10));
    ActorRef<Channel.Command> ch = channel("latency", s);
    TestProbe<Channel.ConsumerEvent> c = subscribe(ch, 1);
    ch.tell(new Channel.Ready(1, 10));
    put(ch, messages(2));
    List<Message> got = deliveries(c);
    clock.advance(Duration.ofMillis(250));
    ch.tell(new Channel.Operate(1, List.of(fin(got.get(0)), fin(got.get(1)))));
    c.expectMessageClass(Channel.OpsDone.class);
    TestProbe<Stats.Channel> stats = testKit.createTestProbe();
    ch.tell(new Channel.GetStats(false, stats.ref()));
    Stats.Latency l = stats.receiveMessage().e2eLatency();
    assertEquals(2, l.count());
    assertEquals(0.99, l.percentiles().get(1).quantile());
    long v = l.percentiles().get(1).valueNanos();
    assertTrue(v >= 249_000_000L && v <= 251_000_000L, "about 250 ms, got " + v);
  }
}
