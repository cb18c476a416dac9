package io.jnsq.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node processes of one test and the faults done to them: kill -9, SIGTERM, SIGSTOP/SIGCONT,
 * a wiped data directory, a restart on the same ports. Node {@code i} keeps its index across restarts.
 * Every process ever started is killed by {@link #close} (and, should the test JVM itself be ended
 * early, by a shutdown hook), whatever state the test left it in.
 */
final class Nodes implements AutoCloseable {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  private final List<NodeProcess> current = new ArrayList<>();
  private final List<NodeProcess> everStarted = new ArrayList<>();
  private final Thread reaper = new Thread(this::killAll, "nodes-reaper");

  private Nodes() {
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /**
   * Starts {@code count} nodes, each on its own data path under {@code dir} ({@code n0}, {@code n1}, …);
   * with more than one, nodes 1… join node 0's cluster. A node that fails to start kills the others.
   */
  static Nodes start(Path dir, int count, List<String> jvm, List<String> flags) throws Exception {
    return start(dir, count, jvm, i -> flags);
  }

  /**
   * {@link #start(Path, int, List, List)} with flags of each node's own ({@code flagsOf.apply(i)}), such as
   * a {@code --raft-address}; a restart keeps them.
   */
  static Nodes start(Path dir, int count, List<String> jvm, java.util.function.IntFunction<List<String>> flagsOf)
      throws Exception {
    Nodes nodes = new Nodes();
    try {
      for (int i = 0; i < count; i++) {
        List<String> own = new ArrayList<>(flagsOf.apply(i));
        if (i > 0) own.addAll(List.of("--seed-node", "127.0.0.1:" + nodes.node(0).clusterPort));
        nodes.add(NodeProcess.start(Files.createDirectories(dir.resolve("n" + i)), jvm, own));
      }
      return nodes;
    } catch (Exception | Error e) {
      nodes.close();
      throw e;
    }
  }

  private synchronized void add(NodeProcess n) {
    current.add(n);
    everStarted.add(n);
  }

  synchronized NodeProcess node(int i) {
    return current.get(i);
  }

  synchronized int size() {
    return current.size();
  }

  /** Every node's client TCP address, by index. */
  synchronized List<InetSocketAddress> tcpAddresses() {
    return current.stream().map(n -> n.tcp).toList();
  }

  synchronized boolean isRunning(int i) {
    return current.get(i).process.isAlive();
  }

  void kill9(int i) throws InterruptedException {
    NodeProcess n = node(i);
    n.kill9();
    if (n.process.isAlive()) throw new IllegalStateException("node " + i + " survived SIGKILL");
  }

  /** SIGTERM and wait (bounded) for the exit; returns the exit code. */
  int terminate(int i, Duration limit) throws InterruptedException {
    return node(i).terminate((int) Math.max(1, limit.toSeconds()));
  }

  void pause(int i) throws IOException, InterruptedException {
    node(i).pause();
  }

  void resume(int i) throws IOException, InterruptedException {
    node(i).resume();
  }

  /** Deletes node {@code i}'s data directory; the node must be down. */
  void deleteDataPath(int i) throws IOException {
    node(i).deleteDataPath();
  }

  /**
   * Starts node {@code i} again on its ports, data path and flags; waits (bounded) for /ping. In a
   * cluster it joins through the first other node that is running, not through itself.
   */
  void restart(int i) throws Exception {
    NodeProcess old = node(i);
    if (old.process.isAlive()) throw new IllegalStateException("node " + i + " is still running");
    List<String> flags = withoutSeeds(old.flags);
    int seed = -1;
    synchronized (this) {
      for (int k = 0; k < current.size() && seed < 0; k++) if (k != i && current.get(k).process.isAlive()) seed = k;
    }
    if (size() > 1 && seed >= 0) flags.addAll(List.of("--seed-node", "127.0.0.1:" + node(seed).clusterPort));
    NodeProcess again = old.restart(old.dataPath, old.jvm, flags);
    synchronized (this) {
      current.set(i, again);
      everStarted.add(again);
    }
  }

  private static List<String> withoutSeeds(List<String> flags) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < flags.size(); k++) {
      if (flags.get(k).equals("--seed-node")) {
        k++;
      } else {
        out.add(flags.get(k));
      }
    }
    return out;
  }

  /**
   * Waits (bounded) until node {@code i}'s lookup lists {@code members} nodes in {@code /nodes}: a cluster
   * formed, or a node back in it after a restart.
   */
  void awaitMembers(int i, int members, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    String last = "";
    while (System.nanoTime() - deadline < 0) {
      try {
        var r = node(i).lookup("/nodes");
        last = r.statusCode() + " " + r.body();
        if (r.statusCode() == 200 && JSON.readTree(r.body()).path("producers").size() == members) return;
      } catch (IOException notYet) {
        last = notYet.toString();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node " + i + " did not see " + members + " members within " + limit + "; last: " + last);
  }

  /** The last {@code lines} lines of every process's log, for a failure message. */
  synchronized String logs(int lines) {
    StringBuilder out = new StringBuilder();
    for (NodeProcess n : everStarted) {
      try {
        List<String> all = Files.readAllLines(n.log);
        out.append("\n--- ").append(n.log.getFileName()).append(" (pid ").append(n.process.pid()).append(", tcp ")
            .append(n.tcp.getPort()).append(")\n");
        for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) {
          out.append(l, 0, Math.min(l.length(), 300)).append('\n');
        }
      } catch (IOException e) {
        out.append("\n(").append(n.log).append(" unreadable: ").append(e).append(")\n");
      }
    }
    return out.toString();
  }

  /** SIGKILL to every process still alive (SIGKILL also ends a stopped one), each waited for, bounded. */
  private synchronized void killAll() {
    for (NodeProcess n : everStarted) {
      if (n.process.isAlive()) n.process.destroyForcibly();
    }
    for (NodeProcess n : everStarted) {
      try {
        n.process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or ran
    }
  }
}
