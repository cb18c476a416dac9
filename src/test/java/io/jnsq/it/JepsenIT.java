package io.jnsq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.jepsen.Checker;
import io.jnsq.jepsen.Fault;
import io.jnsq.jepsen.FaultProxy;
import io.jnsq.jepsen.History;
import io.jnsq.jepsen.Nemesis;
import io.jnsq.jepsen.Workload;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jepsen's queue test against real node processes: producers log each publish's attempt and its
 * acknowledgement, consumers log each delivery and FIN, a nemesis injects faults in rounds, and the
 * {@link Checker} sorts every message. Lost must be 0; every duplicate must be explained by a fault
 * that caught it in flight. Each scenario prints its figures (docs/RELIABILITY.md keeps them).
 */
class JepsenIT {
  /** C1 only: a node's start costs less CPU on a shared 2-core machine; this test judges safety, not speed. */
  private static final List<String> JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
  private static final String TOPIC = "jepsen";
  private static final String CHANNEL = "check";

  /** kill -9 of a --durable node while it is publishing and delivering, restarted on its data, three times. */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aDurableNodeKilledWithSigkillThreeTimesLosesNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    try (Nodes nodes = Nodes.start(dir, 1, JVM, List.of("--durable"))) {
      Nemesis.Outcome o = scenario("single node --durable, kill -9 x3", nodes, Nemesis.Plan.rounds(3).before(Duration.ofSeconds(1)),
          r -> NodeFaults.kill9(nodes, NodeFaults.Target.node(0)));
      assertSafe(o, nodes);
    }
  }

  /**
   * Every client's link to a --durable node stalls for 4 s (longer than three heartbeats, so consumers
   * give their connections up and redial into the stall), three times, through a {@link FaultProxy}.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aDurableNodeCutOffFromItsClientsThreeTimesLosesNoAcknowledgedMessage(@TempDir Path dir) throws Exception {
    try (Nodes nodes = Nodes.start(dir, 1, JVM, List.of("--durable"));
         FaultProxy link = FaultProxy.start(nodes.node(0).tcp)) {
      Nemesis.Outcome o = scenario("single node --durable, clients partitioned 4 s x3", nodes,
          Nemesis.Plan.rounds(3).before(Duration.ofSeconds(1)).holding(Duration.ofSeconds(4)),
          r -> NodeFaults.partition("clients from node 0", List.of(link)), () -> List.of(link.address()));
      assertSafe(o, nodes);
    }
  }

  /** {@link #scenario(String, Nodes, Nemesis.Plan, IntFunction, Supplier)} with clients dialling the nodes directly. */
  static Nemesis.Outcome scenario(String name, Nodes nodes, Nemesis.Plan plan, IntFunction<Fault> faults)
      throws Exception {
    return scenario(name, nodes, plan, faults, nodes::tcpAddresses);
  }

  /**
   * Creates the topic and channel on node 0, runs the workload (producers and consumers spread over
   * {@code clientTargets}, asked again at every redial) through the plan's rounds of {@code faults},
   * prints the figures, and keeps the history in {@code target/jepsen/} for a failure to be read.
   */
  static Nemesis.Outcome scenario(String name, Nodes nodes, Nemesis.Plan plan, IntFunction<Fault> faults,
      Supplier<List<InetSocketAddress>> clientTargets) throws Exception {
    assertEquals(200, nodes.node(0).post("/topic/create?topic=" + TOPIC, "").statusCode());
    assertEquals(200, nodes.node(0).post("/channel/create?topic=" + TOPIC + "&channel=" + CHANNEL, "").statusCode());
    return run(name, plan, faults, Workload.Settings.of(TOPIC, CHANNEL), clientTargets, clientTargets);
  }

  /**
   * Runs a workload whose topic and channel exist already, producers dialling {@code producerTargets} and
   * consumers {@code consumerTargets} (a replicated topic's consumers must find its leader), then prints
   * and saves as {@link #scenario(String, Nodes, Nemesis.Plan, IntFunction, Supplier)} does.
   */
  static Nemesis.Outcome run(String name, Nemesis.Plan plan, IntFunction<Fault> faults, Workload.Settings settings,
      Supplier<List<InetSocketAddress>> producerTargets, Supplier<List<InetSocketAddress>> consumerTargets)
      throws Exception {
    History history = new History();
    Workload workload = new Workload(history, settings, producerTargets, consumerTargets);
    Nemesis.Outcome o = Nemesis.run(history, workload, plan, faults);
    Checker.Result r = o.result();
    System.out.printf("jepsen: %s: %s%n", name, o.summary());
    // scenario | acknowledged | lost | redelivered (unexplained) | recovered | exposed | failover s, each fault
    System.out.printf("jepsen-row: | %s | %d | %d | %d (%d) | %d | %d | %s |%n", name, r.acknowledged(), r.lost().size(),
        r.redeliveries(), r.unexplainedDuplicates().size(), r.recovered().size(), r.exposed(),
        r.faults().stream().map(f -> String.format("%.1f", f.secondsToFirstAck())).collect(Collectors.joining(", ")));
    save(name, history);
    return o;
  }

  /** The checker's verdict as assertions, with the nodes' logs and examples when one fails. */
  static void assertSafe(Nemesis.Outcome o, Nodes nodes) {
    Checker.Result r = o.result();
    String context = "\n" + o.summary() + nodes.logs(30);
    assertEquals(List.of(), examples(r.lost()), "acknowledged, never delivered" + context);
    assertEquals(List.of(), examples(r.unexpected()), "delivered, never attempted" + context);
    assertEquals(List.of(), examples(r.unexplainedDuplicates()), "delivered again with no fault between" + context);
    assertEquals(List.of(), examples(r.reattempted()), "the workload sends each id once" + context);
    assertTrue(r.redeliveries() <= r.exposed(), "redeliveries beyond what faults caught in flight" + context);
    assertTrue(r.acknowledged() > 1000, "producers got going" + context);
    assertTrue(o.drained(), "consumers drained within the limit" + context);
    assertEquals(0, o.roundsNotRecovered(), "publishing came back after every fault" + context);
    for (Checker.FaultReport f : r.faults()) {
      assertTrue(Double.isFinite(f.secondsToFirstAck()), f.fault() + ": publishes never succeeded again" + context);
    }
  }

  private static List<String> examples(java.util.Set<String> ids) {
    return ids.stream().limit(10).collect(Collectors.toList());
  }

  private static void save(String name, History history) throws IOException {
    Path dir = Files.createDirectories(Path.of("target", "jepsen"));
    Path file = dir.resolve(name.replaceAll("[^A-Za-z0-9]+", "-") + ".history");
    Files.write(file, history.ops().stream().map(History.Op::toString).toList());
  }
}
