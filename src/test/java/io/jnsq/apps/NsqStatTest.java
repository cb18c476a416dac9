package io.jnsq.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.tcp.TestNodes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** nsq_stat's columns against a node in the test, found directly and through lookupd. */
class NsqStatTest {
  private static Node node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNodes.start(new HashMap<>(Map.of("broadcast-address", "127.0.0.1")));
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + node.httpAddress().getPort();
    http.send(HttpRequest.newBuilder(URI.create(base + "/topic/create?topic=statted"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    http.send(HttpRequest.newBuilder(URI.create(base + "/channel/create?topic=statted&channel=ch"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    for (int i = 0; i < 5; i++) {
      http.send(HttpRequest.newBuilder(URI.create(base + "/pub?topic=statted")).POST(HttpRequest.BodyPublishers.ofString("m" + i))
          .build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
  }

  private static void assertReport(AppTestSupport.Run run) throws Exception {
    assertEquals(0, run.exit.get(20, TimeUnit.SECONDS), run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(4, lines.size(), run.out());
    assertEquals("------rate------+----------------depth----------------+--------------metadata---------------", lines.get(0));
    assertEquals("ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients", lines.get(1));
    assertEquals("      0       0 |       5       5       0     0     0 |       0       0            5       0", lines.get(2));
    assertEquals(lines.get(2), lines.get(3));
  }

  @Test
  void printsNsqStatsColumnsForTheChannel() throws Exception {
    NsqStat app = new NsqStat();
    AppTestSupport.Run run = new AppTestSupport.Run();
    app.out = run.out;
    app.err = run.err;
    AppTestSupport.start(app, run, "-topic", "statted", "-channel", "ch", "-nsqd-http-address",
        "127.0.0.1:" + node.httpAddress().getPort(), "-interval", "50ms", "-count", "2");
    assertReport(run);
  }

  @Test
  void findsTheNodesThroughLookupd() throws Exception {
    NsqStat app = new NsqStat();
    AppTestSupport.Run run = new AppTestSupport.Run();
    app.out = run.out;
    app.err = run.err;
    AppTestSupport.start(app, run, "--topic=statted", "--channel=ch", "--lookupd-http-address",
        "127.0.0.1:" + node.lookupHttpAddress().getPort(), "--interval=50ms", "--count=2");
    assertReport(run);
  }

  @Test
  void anUnknownChannelOrBadFlagsEndWithAnError() {
    NsqStat app = new NsqStat();
    AppTestSupport.Run run = new AppTestSupport.Run();
    app.out = run.out;
    app.err = run.err;
    AppTestSupport.run(app, run, "-topic", "statted", "-channel", "nope", "-nsqd-http-address",
        "127.0.0.1:" + node.httpAddress().getPort(), "-count", "1");
    assertEquals(1, run.exit.join());
    assertTrue(run.err().contains("failed to find channel(nope) in stats metadata for topic(statted)"), run.err());

    NsqStat app2 = new NsqStat();
    AppTestSupport.Run run2 = new AppTestSupport.Run();
    app2.err = run2.err;
    AppTestSupport.run(app2, run2, "-topic", "statted", "-channel", "ch", "-nsqd-http-address", "http://x:1", "-count", "0");
    assertEquals(1, run2.exit.join());
    assertTrue(run2.err().contains("--count should be positive"), run2.err());
  }
}
