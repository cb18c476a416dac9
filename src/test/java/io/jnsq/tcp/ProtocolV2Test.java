package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnsq.app.Node;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.config.NodeSettings;
import io.jnsq.protocol.Command;
import io.jnsq.protocol.Frames;
import io.jnsq.protocol.Inbound;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A session's heartbeats and deadlines on virtual time: the actor alone, its decoder and socket writer
 * played by probes, Pekko's timers on {@link ManualTime} and its {@link Ticker} moved with them.
 */
class ProtocolV2Test {
  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  // --client-timeout 2s: a heartbeat every second, the read deadline after two.
  private static final SessionSettings SETTINGS = SessionSettings.from(
      NodeSettings.fromConfig(Node.loadConfig(null, Map.of("jnsq.client-timeout", "2s"))));
  private static final Duration HEARTBEAT = Duration.ofSeconds(1);

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private final TestProbe<ProtocolV2.InputAck> input = testKit.createTestProbe();
  private final TestProbe<ProtocolV2.Output> writer = testKit.createTestProbe();
  private final TestProbe<TopicRegistry.Command> registry = testKit.createTestProbe();

  private ActorRef<ProtocolV2.SessionCommand> session() {
    ActorRef<ProtocolV2.SessionCommand> s = testKit.spawn(ProtocolV2.create(1, "127.0.0.1:5000",
        new ProtocolV2.Context(registry.ref(), SETTINGS, now::get), new AtomicReference<>(), new AtomicBoolean()));
    s.tell(new ProtocolV2.InputStarted(input.ref()));
    input.expectMessage(ProtocolV2.InputAck.INSTANCE);
    s.tell(new ProtocolV2.OutputStarted(writer.ref()));
    return s;
  }

  private void passes(Duration d) {
    now.addAndGet(d.toNanos());
    time.timePasses(d);
  }

  private static void read(ActorRef<ProtocolV2.SessionCommand> s, TestProbe<ProtocolV2.InputAck> ackTo, Inbound... items) {
    s.tell(new ProtocolV2.InputBatch(ackTo.ref(), List.of(items)));
  }

  /**
   * Reads {@code items} and waits until the session has taken them (its ack), so that virtual time moves
   * on only after the session saw the read, however slowly the machine runs the actor.
   */
  private void reads(ActorRef<ProtocolV2.SessionCommand> s, Inbound... items) {
    read(s, input, items);
    input.expectMessage(ProtocolV2.InputAck.INSTANCE);
  }

  private static final Command IDENTIFY = new Command.Identify(ByteString.fromString("{}"));

  @Test
  void heartbeatsStartOnlyOnceTheClientHasSentTheMagic() {
    ActorRef<ProtocolV2.SessionCommand> s = session();
    time.expectNoMessageFor(Duration.ofMillis(1500), writer);
    now.addAndGet(Duration.ofMillis(1500).toNanos());
    read(s, input);   // the decoder's first, empty batch: the magic
    input.expectMessage(ProtocolV2.InputAck.INSTANCE);
    reads(s, IDENTIFY);   // in use, so the idle check at --client-timeout leaves it alone
    assertEquals(new ProtocolV2.Bytes(Frames.OK), writer.receiveMessage());
    s.tell(ProtocolV2.OutputAck.INSTANCE);
    passes(HEARTBEAT);
    assertEquals(new ProtocolV2.Bytes(Frames.HEARTBEAT), writer.receiveMessage());
    s.tell(ProtocolV2.OutputAck.INSTANCE);
    reads(s, new Command.Nop());
    passes(HEARTBEAT);
    assertEquals(new ProtocolV2.Bytes(Frames.HEARTBEAT), writer.receiveMessage());
  }

  @Test
  void aClientSilentForTwoHeartbeatsIsDropped() {
    ActorRef<ProtocolV2.SessionCommand> s = session();
    reads(s, IDENTIFY);
    assertEquals(new ProtocolV2.Bytes(Frames.OK), writer.receiveMessage());
    s.tell(ProtocolV2.OutputAck.INSTANCE);
    passes(HEARTBEAT);
    assertEquals(new ProtocolV2.Bytes(Frames.HEARTBEAT), writer.receiveMessage());
    s.tell(ProtocolV2.OutputAck.INSTANCE);
    passes(HEARTBEAT);
    writer.fishForMessage(Duration.ofSeconds(3), m -> m instanceof ProtocolV2.Abort
        ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
  }

  @Test
  void aClientThatTalksButStopsReadingMeetsTheWriteDeadline() {
    ActorRef<ProtocolV2.SessionCommand> s = session();
    reads(s, IDENTIFY);
    assertEquals(new ProtocolV2.Bytes(Frames.OK), writer.receiveMessage());
    // No OutputAck from here on: the socket does not drain. The client keeps sending NOPs.
    passes(HEARTBEAT);
    reads(s, new Command.Nop());
    // Due at the second heartbeat. A repeating Pekko timer reschedules itself from the dispatcher, so on
    // a busy machine ManualTime may run that tick one step of virtual time late: allow one step more
    // (the client keeps talking, so only the write deadline can drop it).
    ProtocolV2.Output out = null;
    for (int step = 0; step < 2 && out == null; step++) {
      passes(HEARTBEAT);
      read(s, input, new Command.Nop());
      try {
        out = writer.receiveMessage(Duration.ofSeconds(2));
      } catch (AssertionError notYet) {
        // one more step
      }
    }
    assertEquals(new ProtocolV2.Abort(), out, "dropped for not reading, though it talks");
  }

  @Test
  void aClientThatReadsAndTalksStays() {
    ActorRef<ProtocolV2.SessionCommand> s = session();
    reads(s, IDENTIFY);
    assertEquals(new ProtocolV2.Bytes(Frames.OK), writer.receiveMessage());
    s.tell(ProtocolV2.OutputAck.INSTANCE);
    for (int i = 0; i < 5; i++) {
      passes(HEARTBEAT);
      assertEquals(new ProtocolV2.Bytes(Frames.HEARTBEAT), writer.receiveMessage());
      s.tell(ProtocolV2.OutputAck.INSTANCE);
      reads(s, new Command.Nop());
    }
  }
}
