package io.jnsq.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.jepsen.History.Op;
import io.jnsq.jepsen.History.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The checker on histories written by hand, one edge case each. */
class CheckerTest {
  private static final Duration SLACK = Duration.ofMillis(100);

  /** A hand-made history: each op one millisecond after the previous unless {@link #at} says otherwise. */
  private static final class Script {
    final List<Op> ops = new ArrayList<>();
    long millis;

    Script at(long ms) { millis = ms; return this; }
    Script op(Type type, String process, String id, String info) {
      ops.add(new Op(ops.size(), millis * 1_000_000L, type, process, id, info));
      millis++;
      return this;
    }
    Script attempt(String id) { return op(Type.ATTEMPT, "p1", id, null); }
    Script ack(String id) { return op(Type.ACK, "p1", id, null); }
    Script fail(String id, String why) { return op(Type.FAIL, "p1", id, why); }
    Script deliver(String consumer, String id) { return op(Type.DELIVER, consumer, id, null); }
    Script fin(String consumer, String id) { return op(Type.FIN, consumer, id, null); }
    Script disconnect(String consumer) { return op(Type.DISCONNECT, consumer, null, null); }
    Script fault(String what) { return op(Type.FAULT, "nemesis", null, what); }
    Script heal(String what) { return op(Type.HEAL, "nemesis", null, what); }
    Checker.Result check() { return Checker.check(ops, SLACK); }
  }

  @Test
  void anAcknowledgedMessageDeliveredOnceIsFine() {
    Checker.Result r = new Script().attempt("a").ack("a").deliver("c1", "a").fin("c1", "a").check();
    assertEquals(1, r.attempted());
    assertEquals(1, r.acknowledged());
    assertEquals(Set.of(), r.lost());
    assertEquals(Map.of(), r.duplicated());
    assertEquals(Set.of(), r.unexpected());
    assertEquals(Set.of(), r.recovered());
    assertEquals(Set.of(), r.unacknowledgedUndelivered());
  }

  @Test
  void anAcknowledgedMessageNeverDeliveredIsLost() {
    Checker.Result r = new Script().attempt("a").ack("a").attempt("b").ack("b").deliver("c1", "b").check();
    assertEquals(Set.of("a"), r.lost());
  }

  @Test
  void aMessageAckedAndDeliveredTwiceAcrossAFaultIsAnExplainedDuplicate() {
    Checker.Result r = new Script().attempt("a").ack("a").deliver("c1", "a").fault("kill -9 n1")
        .disconnect("c1").heal("restart n1").deliver("c2", "a").fin("c2", "a").check();
    assertEquals(Set.of(), r.lost());
    assertEquals(Map.of("a", 2), r.duplicated());
    assertEquals(1, r.redeliveries());
    assertEquals(Set.of(), r.unexplainedDuplicates());
    assertEquals(1, r.faults().size());
    assertEquals(1, r.faults().get(0).exposed());
    assertEquals(1, r.faults().get(0).redelivered());
    assertTrue(Double.isNaN(r.faults().get(0).latestLostFinMillis()), "no FIN was sent, so none was undone");
  }

  @Test
  void aDuplicateWithNoFaultOrDisconnectBetweenIsUnexplained() {
    Checker.Result r = new Script().attempt("a").ack("a").deliver("c1", "a").fin("c1", "a")
        .deliver("c1", "a").fin("c1", "a").check();
    assertEquals(Map.of("a", 2), r.duplicated());
    assertEquals(Set.of("a"), r.unexplainedDuplicates());
  }

  @Test
  void aDuplicateFinishedLongBeforeTheFaultIsUnexplained() {
    // FIN sent 500 ms before the kill: the node had it saved, so delivering it again replays history.
    Checker.Result r = new Script().at(0).attempt("a").ack("a").deliver("c1", "a").fin("c1", "a")
        .at(500).fault("kill -9 n1").disconnect("c1").heal("restart n1").deliver("c1", "a").check();
    assertEquals(Set.of("a"), r.unexplainedDuplicates());
    assertEquals(0, r.faults().get(0).exposed());
  }

  @Test
  void aFinSentJustBeforeTheFaultStillCountsAsInFlight() {
    Checker.Result r = new Script().at(0).attempt("a").ack("a").deliver("c1", "a").at(450).fin("c1", "a")
        .at(500).fault("kill -9 n1").heal("restart n1").deliver("c1", "a").check();
    assertEquals(Set.of(), r.unexplainedDuplicates());
    assertEquals(1, r.faults().get(0).exposed());
    assertEquals(50.0, r.faults().get(0).latestLostFinMillis(), 1e-9, "the FIN the kill undid was sent 50 ms before it");
  }

  @Test
  void aFinSentShortlyBeforeTheConnectionWentSilentMayBeLostWithIt() {
    // The consumer heard from the node last at 20 ms and gave the connection up at 3 s: the FIN at 10 ms
    // went into a stalled link.
    Checker.Result r = new Script().at(0).attempt("a").ack("a").deliver("c1", "a").at(10).fin("c1", "a")
        .at(20).disconnect("c1").at(3000).deliver("c2", "a").check();
    assertEquals(Set.of(), r.unexplainedDuplicates());
    Checker.Result heard = new Script().at(0).attempt("a").ack("a").deliver("c1", "a").at(10).fin("c1", "a")
        .at(900).disconnect("c1").at(3000).deliver("c2", "a").check();
    assertEquals(Set.of("a"), heard.unexplainedDuplicates(), "the link worked for 890 ms after the FIN");
  }

  @Test
  void anotherConsumersDisconnectDoesNotExplainARedelivery() {
    Checker.Result r = new Script().attempt("a").ack("a").deliver("c1", "a").disconnect("c2")
        .deliver("c2", "a").check();
    assertEquals(Set.of("a"), r.unexplainedDuplicates());
    Checker.Result own = new Script().attempt("a").ack("a").deliver("c1", "a").disconnect("c1")
        .deliver("c2", "a").check();
    assertEquals(Set.of(), own.unexplainedDuplicates());
  }

  @Test
  void aMessageDeliveredBeforeItsAckArrivedIsNeitherUnexpectedNorRecovered() {
    Checker.Result r = new Script().attempt("a").deliver("c1", "a").fin("c1", "a").ack("a").check();
    assertEquals(1, r.acknowledged());
    assertEquals(Set.of(), r.unexpected());
    assertEquals(Set.of(), r.recovered());
    assertEquals(Set.of(), r.lost());
  }

  @Test
  void aProducerThatTimedOutMayOrMayNotHaveWritten() {
    Checker.Result r = new Script().attempt("a").fail("a", "timeout").attempt("b").fail("b", "connection reset")
        .deliver("c1", "a").fin("c1", "a").check();
    assertEquals(2, r.failedAttempts());
    assertEquals(0, r.acknowledged());
    assertEquals(Set.of("a"), r.recovered());
    assertEquals(Set.of("b"), r.unacknowledgedUndelivered());
    assertEquals(Set.of(), r.lost());
  }

  @Test
  void aDeliveryNobodyAttemptedIsUnexpected() {
    Checker.Result r = new Script().attempt("a").ack("a").deliver("c1", "a").deliver("c1", "ghost").check();
    assertEquals(Set.of("ghost"), r.unexpected());
    assertEquals(1, r.attempted());
  }

  @Test
  void aDeliveryRecordedBeforeItsAttemptIsUnexpected() {
    Checker.Result r = new Script().deliver("c1", "a").attempt("a").ack("a").check();
    assertEquals(Set.of("a"), r.unexpected());
    assertEquals(Set.of(), r.lost());
  }

  @Test
  void aRetryOfTheSameIdIsReportedAsReattempted() {
    Checker.Result r = new Script().attempt("a").fail("a", "timeout").attempt("a").ack("a").deliver("c1", "a").check();
    assertEquals(Set.of("a"), r.reattempted());
    assertEquals(1, r.attempted());
    assertEquals(Set.of(), r.lost());
  }

  @Test
  void failoverTimeCountsOnlyAcksOfPublishesAttemptedAfterTheFault() {
    Checker.Result r = new Script().at(0).attempt("old").at(0).fault("kill -9 n1")
        .at(100).ack("old")                 // sent before the kill: says nothing about recovery
        .at(200).attempt("x").fail("x", "connection refused")
        .at(900).heal("restart n1")
        .at(1000).attempt("new").at(1250).ack("new").check();
    Checker.FaultReport f = r.faults().get(0);
    assertEquals(0.9, f.secondsToHeal(), 1e-9);
    assertEquals(1.25, f.secondsToFirstAck(), 1e-9);
    assertEquals(Set.of("x"), r.unacknowledgedUndelivered());
  }

  @Test
  void aFaultAfterWhichNothingSucceedsHasNoFailoverTime() {
    Checker.Result r = new Script().attempt("a").ack("a").fault("kill -9 n1").attempt("b").fail("b", "refused").check();
    assertTrue(Double.isNaN(r.faults().get(0).secondsToFirstAck()));
  }

  @Test
  void theResultDoesNotDependOnTheOrderTheOpsAreGivenIn() {
    Script s = new Script().attempt("a").ack("a").attempt("b").deliver("c1", "a").fault("f").disconnect("c1")
        .deliver("c2", "a").attempt("c").ack("c");
    List<Op> shuffled = new ArrayList<>(s.ops);
    Collections.reverse(shuffled);
    assertEquals(s.check(), Checker.check(shuffled, SLACK));
  }

  @Test
  void anOperationOnAMessageWithoutAnIdIsABrokenHistory() {
    Script s = new Script().attempt(null);
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, s::check);
  }
}
