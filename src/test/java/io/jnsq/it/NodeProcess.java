package io.jnsq.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A jnsq node in its own process, started from {@code target/jnsq.jar} as {@code bin/jnsq node} would,
 * on loopback ports picked free by the test, so it can be killed with SIGKILL or stopped with SIGTERM.
 */
final class NodeProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final Process process;
  final InetSocketAddress tcp;
  final InetSocketAddress http;
  final InetSocketAddress lookupHttp;
  final int clusterPort;
  final Path log;
  /** What it was started with, so that {@link #restart()} can start it again as it was. */
  final Path dataPath;
  final List<String> jvm;
  final List<String> flags;

  private NodeProcess(Process process, InetSocketAddress tcp, InetSocketAddress http, InetSocketAddress lookupHttp,
      int clusterPort, Path log, Path dataPath, List<String> jvm, List<String> flags) {
    this.process = process;
    this.tcp = tcp;
    this.http = http;
    this.lookupHttp = lookupHttp;
    this.clusterPort = clusterPort;
    this.log = log;
    this.dataPath = dataPath;
    this.jvm = List.copyOf(jvm);
    this.flags = List.copyOf(flags);
  }

  /**
   * {@code n} distinct free ports: all sockets are held open until every port is picked (one after the
   * other, the system may hand out a port just closed again, and the node refuses two listeners on one).
   */
  static int[] freePorts(int n) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        held.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : held) s.close();
    }
  }

  /** Starts a node on {@code dataPath} with {@code jvm} options and extra node flags; waits until /ping answers. */
  static NodeProcess start(Path dataPath, List<String> jvm, List<String> flags) throws Exception {
    int[] p = freePorts(4);
    return start(dataPath, jvm, flags, p[0], p[1], p[2], p[3]);
  }

  /** Starts a node again on this one's ports (after it was killed), on {@code dataPath}. */
  NodeProcess restart(Path dataPath, List<String> jvm, List<String> flags) throws Exception {
    if (process.isAlive()) throw new IllegalStateException("still running");
    return start(dataPath, jvm, flags, tcp.getPort(), http.getPort(), lookupHttp.getPort(), clusterPort);
  }

  /** Starts a node again on this one's ports, data path, JVM options and flags (after it was killed or stopped). */
  NodeProcess restart() throws Exception {
    return restart(dataPath, jvm, flags);
  }

  private static NodeProcess start(Path dataPath, List<String> jvm, List<String> flags, int tcpPort, int httpPort,
      int lookupPort, int clusterPort) throws Exception {
    Path jar = Path.of("target", "jnsq.jar").toAbsolutePath();
    if (!Files.exists(jar)) throw new IllegalStateException(jar + " is missing: run mvn package (mvn verify does)");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvm);
    cmd.addAll(List.of("-jar", jar.toString(), "node", "--tcp-address", "127.0.0.1:" + tcpPort,
        "--http-address", "127.0.0.1:" + httpPort, "--data-path", dataPath.toString(),
        "--lookup-http-address", "127.0.0.1:" + lookupPort, "--lookup-tcp-address", "127.0.0.1:0", "--admin-http-address", "127.0.0.1:0", "--cluster-address", "127.0.0.1:" + clusterPort,
        "--broadcast-address", "127.0.0.1"));
    cmd.addAll(flags);
    Path log = Files.createTempFile(Path.of("target"), "node-", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    NodeProcess node = new NodeProcess(p, new InetSocketAddress("127.0.0.1", tcpPort),
        new InetSocketAddress("127.0.0.1", httpPort), new InetSocketAddress("127.0.0.1", lookupPort), clusterPort, log,
        dataPath, jvm, flags);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try {
      while (System.nanoTime() < deadline) {
        if (!p.isAlive()) throw new IllegalStateException("node exited at start:\n" + Files.readString(log));
        try {
          if (node.get("/ping").statusCode() == 200 && node.lookup("/ping").statusCode() == 200) return node;
        } catch (IOException notYet) {
          // not listening yet
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException | RuntimeException e) {
      p.destroyForcibly();   // a test timed out while the node started: nobody else holds the process yet
      throw e;
    }
    p.destroyForcibly();
    throw new IllegalStateException("node did not answer /ping within 60 s:\n" + Files.readString(log));
  }

  HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getPort() + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> lookup(String pathAndQuery) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lookupHttp.getPort() + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String pathAndQuery, String body) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.getPort() + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Resident memory of the process in bytes (Linux /proc). */
  long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }
    return -1;
  }

  /** SIGKILL, and wait for it to be gone. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM; returns the exit code once it exited (within {@code seconds}). */
  int terminate(int seconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("node did not exit within " + seconds + " s of SIGTERM");
    }
    return process.exitValue();
  }

  /** SIGSTOP: the process freezes with its sockets open, as a node stalled by GC or a hung disk looks to its peers. */
  void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause}. */
  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    if (!process.isAlive()) throw new IllegalStateException("node " + process.pid() + " is not running");
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      throw new IOException("kill -" + name + " " + process.pid() + " failed: " + new String(kill.getInputStream().readAllBytes()));
    }
  }

  /** Deletes everything under the data path (the node must be dead), as a replaced disk would leave it. */
  void deleteDataPath() throws IOException {
    if (process.isAlive()) throw new IllegalStateException("the node is running on " + dataPath);
    if (!Files.exists(dataPath)) return;
    try (java.util.stream.Stream<Path> all = Files.walk(dataPath)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (!p.equals(dataPath)) Files.delete(p);
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) kill9();
  }
}
