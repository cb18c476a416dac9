package io.jnsq.it;

import io.jnsq.jepsen.Fault;
import io.jnsq.jepsen.FaultProxy;
import java.time.Duration;
import java.util.List;

/**
 * The faults of issue 13's list as {@link Fault}s on the node processes of a {@link Nodes}: each picks
 * its target when injected (so "the leader" means the leader of that moment) and heals that same node.
 */
final class NodeFaults {
  private NodeFaults() {}

  /** Which node a fault hits, chosen at the moment it is injected; {@code name} is how the figures call it. */
  record Target(String name, Picker picker) {
    /** Picks a node's index. */
    @FunctionalInterface
    interface Picker {
      int pick(Nodes nodes) throws Exception;
    }

    static Target node(int i) {
      return new Target("node " + i, nodes -> i);
    }

    int pick(Nodes nodes) throws Exception {
      return picker.pick(nodes);
    }
  }

  /** Remembers the node picked at injection, for the heal. */
  private abstract static class OnNode implements Fault {
    final Nodes nodes;
    final Target target;
    final String what;
    int picked = -1;

    OnNode(Nodes nodes, Target target, String what) {
      this.nodes = nodes;
      this.target = target;
      this.what = what;
    }

    @Override public String name() { return what + " " + target.name(); }
    @Override public void inject() throws Exception {
      picked = target.pick(nodes);
      onInject(picked);
    }
    @Override public void heal() throws Exception { onHeal(picked); }
    abstract void onInject(int node) throws Exception;
    abstract void onHeal(int node) throws Exception;
  }

  /** {@code kill -9}, then a restart on the same data path and ports. */
  static Fault kill9(Nodes nodes, Target target) {
    return new OnNode(nodes, target, "kill -9") {
      @Override void onInject(int n) throws Exception { nodes.kill9(n); }
      @Override void onHeal(int n) throws Exception { nodes.restart(n); }
    };
  }

  /** {@code kill -9}, the whole data directory deleted (a lost disk), then a restart on the empty one. */
  static Fault kill9AndWipe(Nodes nodes, Target target) {
    return new OnNode(nodes, target, "kill -9, data deleted,") {
      @Override void onInject(int n) throws Exception {
        nodes.kill9(n);
        nodes.deleteDataPath(n);
      }
      @Override void onHeal(int n) throws Exception { nodes.restart(n); }
    };
  }

  /** SIGTERM (a clean stop, which must exit within {@code limit}), then a restart. */
  static Fault terminate(Nodes nodes, Target target, Duration limit) {
    return new OnNode(nodes, target, "SIGTERM") {
      @Override void onInject(int n) throws Exception {
        int code = nodes.terminate(n, limit);
        if (code != 0 && code != 143) throw new AssertionError("exit code after SIGTERM: " + code);
      }
      @Override void onHeal(int n) throws Exception { nodes.restart(n); }
    };
  }

  /** SIGSTOP, held for the plan's {@code faultFor} (longer than an election timeout, for a follower), then SIGCONT. */
  static Fault pause(Nodes nodes, Target target) {
    return new OnNode(nodes, target, "SIGSTOP") {
      @Override void onInject(int n) throws Exception { nodes.pause(n); }
      @Override void onHeal(int n) throws Exception { nodes.resume(n); }
    };
  }

  /** Every link through these proxies stalls (see {@link FaultProxy#blackhole}) until healed. */
  static Fault partition(String name, List<FaultProxy> links) {
    return Fault.of("partition " + name, () -> links.forEach(FaultProxy::blackhole), () -> links.forEach(FaultProxy::pass));
  }

  /** Every link through these proxies is reset, and refused while the fault lasts. */
  static Fault reset(String name, List<FaultProxy> links) {
    return Fault.of("reset " + name, () -> links.forEach(FaultProxy::reset), () -> links.forEach(FaultProxy::pass));
  }

  /** Every chunk through these proxies waits {@code millis} while the fault lasts. */
  static Fault delay(String name, List<FaultProxy> links, long millis) {
    return Fault.of("delay " + millis + " ms " + name, () -> links.forEach(l -> l.delay(millis)),
        () -> links.forEach(FaultProxy::pass));
  }
}
