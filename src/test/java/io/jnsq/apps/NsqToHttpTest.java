package io.jnsq.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.jnsq.app.Node;
import io.jnsq.client.Producer;
import io.jnsq.tcp.TestNodes;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** nsq_to_http against local HTTP servers: POST round-robin with retries of failed requests, multicast, GET with %s, bad flags. */
class NsqToHttpTest {
  private static Node node;
  private static String tcp;

  @BeforeAll
  static void start() {
    node = TestNodes.start(new HashMap<>());
    tcp = "127.0.0.1:" + node.tcpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
  }

  /** A server that records what it gets and fails each body's first request with 500 when asked. */
  static final class Upstream implements AutoCloseable {
    final HttpServer server;
    final List<String> bodies = new CopyOnWriteArrayList<>();
    final List<String> headers = new CopyOnWriteArrayList<>();
    final Set<String> failedOnce = ConcurrentHashMap.newKeySet();

    Upstream(boolean failFirst) throws Exception {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/", ex -> {
        String body = ex.getRequestMethod().equals("POST")
            ? new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
            : URLDecoder.decode(ex.getRequestURI().getRawQuery().replaceFirst("^data=", ""), StandardCharsets.UTF_8);
        int status = 200;
        if (failFirst && failedOnce.add(body)) {
          status = 500;
        } else {
          bodies.add(body);
          headers.add(ex.getRequestHeaders().getFirst("Content-Type") + "|" + ex.getRequestHeaders().getFirst("X-Test"));
        }
        ex.sendResponseHeaders(status, -1);
        ex.close();
      });
      server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
      server.start();
    }

    String url(String path) { return "http://127.0.0.1:" + server.getAddress().getPort() + path; }

    @Override public void close() { server.stop(0); }
  }

  static void publish(String topic, int n) throws Exception {
    try (Producer p = new Producer(tcp)) {
      for (int i = 0; i < n - 1; i++) p.publish(topic, "msg " + i);
      p.publish(topic, "msg " + (n - 1)).get(10, TimeUnit.SECONDS);
    }
  }

  static void await(String what, java.util.function.BooleanSupplier c) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(20);   // polling a condition
    }
  }

  @Test
  void postsRoundRobinAndRetriesFailedRequests() throws Exception {
    publish("to_http", 40);
    try (Upstream a = new Upstream(true); Upstream b = new Upstream(false)) {
      NsqToHttp app = new NsqToHttp();
      AppTestSupport.Run run = new AppTestSupport.Run();
      app.out = run.out;
      app.err = run.err;
      AppTestSupport.start(app, run, "-topic", "to_http", "-nsqd-tcp-address", tcp, "-post", a.url("/a"), "-post", b.url("/b"),
          "-mode", "round-robin", "-content-type", "text/plain", "-header", "X-Test: yes", "-n", "4", "-status-every", "10",
          "-consumer-opt", "backoff_multiplier,1ms", "-consumer-opt", "default_requeue_delay,0");
      await("all 40 bodies", () -> new HashSet<>(a.bodies).size() + new HashSet<>(b.bodies).size() >= 40
          && union(a, b).size() == 40);
      app.terminate();
      assertEquals(0, run.exit.get(30, TimeUnit.SECONDS), run.err());
      assertTrue(!a.bodies.isEmpty() && !b.bodies.isEmpty(), "both upstreams got requests");
      assertTrue(!a.failedOnce.isEmpty(), "some requests failed once and were retried");
      assertTrue(a.headers.stream().allMatch(h -> h.equals("text/plain|yes")), a.headers.toString());
      assertTrue(run.err().contains("[aggregate]: finished 10 - 99th: "), run.err());
    }
  }

  @Test
  void multicastSendsEveryMessageToEveryAddress() throws Exception {
    publish("to_http_all", 20);
    try (Upstream a = new Upstream(false); Upstream b = new Upstream(true)) {
      NsqToHttp app = new NsqToHttp();
      AppTestSupport.Run run = new AppTestSupport.Run();
      app.out = run.out;
      app.err = run.err;
      AppTestSupport.start(app, run, "-topic", "to_http_all", "-nsqd-tcp-address", tcp, "-post", a.url("/a"), "-post", b.url("/b"),
          "-mode", "multicast", "-n", "4", "-consumer-opt", "backoff_multiplier,1ms", "-consumer-opt", "default_requeue_delay,0");
      await("all 20 bodies at both", () -> new HashSet<>(a.bodies).size() == 20 && new HashSet<>(b.bodies).size() == 20);
      app.terminate();
      assertEquals(0, run.exit.get(30, TimeUnit.SECONDS), run.err());
      assertEquals(20, b.failedOnce.size(), "b failed each body once");
      // a message that failed at b was REQed and sent again to every address, a included
      assertEquals(40, a.bodies.size(), "a got each body twice: " + a.bodies.size());
      assertEquals(20, b.bodies.size());
      assertTrue(run.err().contains("WARNING: multicast mode is deprecated"), run.err());
    }
  }

  static Set<String> union(Upstream a, Upstream b) {
    Set<String> all = new HashSet<>(a.bodies);
    all.addAll(b.bodies);
    return all;
  }

  @Test
  void getsWithTheBodyInTheQueryAndRefusesBadFlags() throws Exception {
    publish("to_http_get", 5);
    try (Upstream up = new Upstream(false)) {
      NsqToHttp app = new NsqToHttp();
      AppTestSupport.Run run = new AppTestSupport.Run();
      app.err = run.err;
      AppTestSupport.start(app, run, "--topic=to_http_get", "--nsqd-tcp-address=" + tcp, "--get=" + up.url("/get?data=%s"));
      await("5 GETs", () -> up.bodies.size() >= 5);
      app.terminate();
      assertEquals(0, run.exit.get(30, TimeUnit.SECONDS), run.err());
      assertEquals(Set.of("msg 0", "msg 1", "msg 2", "msg 3", "msg 4"), new HashSet<>(up.bodies));
    }
    AppTestSupport.Run bad = new AppTestSupport.Run();
    NsqToHttp app = new NsqToHttp();
    app.err = bad.err;
    AppTestSupport.run(app, bad, "-topic", "t", "-nsqd-tcp-address", tcp, "-get", "http://127.0.0.1:1/no-placeholder");
    assertEquals(1, bad.exit.join());
    assertTrue(bad.err().contains("invalid GET address - must be a printf string"), bad.err());
    AppTestSupport.Run bad2 = new AppTestSupport.Run();
    NsqToHttp app2 = new NsqToHttp();
    app2.err = bad2.err;
    AppTestSupport.run(app2, bad2, "-topic", "t", "-nsqd-tcp-address", tcp, "-get", "http://x/%s", "-content-type", "text/plain");
    assertTrue(bad2.err().contains("--content-type only used with --post"), bad2.err());
  }
}
