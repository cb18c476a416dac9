package io.jnsq.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.tcp.TestNodes;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** to_nsq and nsq_tail end to end against a node in the test, with both spellings of their flags. */
class ToNsqAndTailTest {
  private static Node node;
  private static String tcp;

  @BeforeAll
  static void start() {
    node = TestNodes.start(new HashMap<>(Map.of("broadcast-address", "127.0.0.1")));
    tcp = "127.0.0.1:" + node.tcpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    node.stop().toCompletableFuture().join();
  }

  static ToNsq toNsq(String input, AppTestSupport.Run run) {
    ToNsq app = new ToNsq();
    app.in = new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8));
    app.out = run.out;
    app.err = run.err;
    return app;
  }

  static NsqTail tail(AppTestSupport.Run run) {
    NsqTail app = new NsqTail();
    app.out = run.out;
    app.err = run.err;
    return app;
  }

  @Test
  void toNsqPublishesEveryLineAndNsqTailStopsAfterN() throws Exception {
    StringBuilder in = new StringBuilder();
    for (int i = 0; i < 1000; i++) in.append("line ").append(i).append('\n');
    in.append("\n\nno newline at the end");
    AppTestSupport.Run pub = AppTestSupport.run(toNsq(in.toString(), new AppTestSupport.Run()), new AppTestSupport.Run(),
        "-topic", "tailed", "-nsqd-tcp-address", tcp);
    assertEquals(0, pub.exit.join(), pub.err());

    AppTestSupport.Run run = new AppTestSupport.Run();
    AppTestSupport.start(tail(run), run, "--topic=tailed", "--nsqd-tcp-address", tcp, "-n", "10", "-channel", "first");
    assertEquals(0, run.exit.get(20, TimeUnit.SECONDS), run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(10, lines.size(), run.out());
    assertEquals("line 0", lines.get(0));

    AppTestSupport.Run rest = new AppTestSupport.Run();
    AppTestSupport.start(tail(rest), rest, "-topic", "tailed", "-nsqd-tcp-address=" + tcp, "-n=991", "-channel", "first",
        "-print-topic");
    assertEquals(0, rest.exit.get(20, TimeUnit.SECONDS), rest.err());
    List<String> more = rest.out().lines().toList();
    assertEquals(991, more.size(), "the first tail FINed exactly its 10: " + more.size());
    assertTrue(more.contains("tailed | line 999") && more.contains("tailed | no newline at the end"), more.get(0));
    assertTrue(!more.contains("tailed | line 0"));
  }

  @Test
  void toNsqSplitsOnTheDelimiterAndPublishesToEveryNsqd() throws Exception {
    Node other = TestNodes.start(new HashMap<>());
    String otherTcp = "127.0.0.1:" + other.tcpAddress().getPort();
    try {
      AppTestSupport.Run pub = AppTestSupport.run(toNsq("a,b,,c", new AppTestSupport.Run()), new AppTestSupport.Run(),
          "--topic", "delimited", "--delimiter", ",", "--nsqd-tcp-address", tcp, "--nsqd-tcp-address", otherTcp, "-rate", "1000");
      assertEquals(0, pub.exit.join(), pub.err());
      for (String address : List.of(tcp, otherTcp)) {
        AppTestSupport.Run run = new AppTestSupport.Run();
        AppTestSupport.start(tail(run), run, "-topic", "delimited", "-nsqd-tcp-address", address, "-n", "3");
        assertEquals(0, run.exit.get(20, TimeUnit.SECONDS), run.err());
        assertEquals(List.of("a", "b", "c"), run.out().lines().toList());
      }
    } finally {
      other.stop().toCompletableFuture().join();
    }
  }

  @Test
  void badFlagsExitNonZeroWithAClearMessage() {
    AppTestSupport.Run noTopic = AppTestSupport.run(toNsq("", new AppTestSupport.Run()), new AppTestSupport.Run(), "-nsqd-tcp-address", tcp);
    assertEquals(1, noTopic.exit.join());
    AppTestSupport.Run r1 = new AppTestSupport.Run();
    ToNsq a1 = toNsq("", r1);
    AppTestSupport.run(a1, r1, "-nsqd-tcp-address", tcp);
    assertTrue(r1.err().contains("--topic required"), r1.err());

    AppTestSupport.Run r2 = new AppTestSupport.Run();
    AppTestSupport.run(toNsq("", r2), r2, "-topic", "t", "-nsqd-tcp-address", tcp, "-delimiter", "ab");
    assertEquals(1, r2.exit.join());
    assertTrue(r2.err().contains("--delimiter must be a single byte"), r2.err());

    AppTestSupport.Run r3 = new AppTestSupport.Run();
    AppTestSupport.run(toNsq("", r3), r3, "-topic", "t", "-no-such-flag");
    assertEquals(2, r3.exit.join(), "picocli's usage error");

    AppTestSupport.Run r4 = new AppTestSupport.Run();
    AppTestSupport.run(tail(r4), r4, "-topic", "t", "-nsqd-tcp-address", tcp, "-lookupd-http-address", "127.0.0.1:4161");
    assertEquals(1, r4.exit.join());
    assertTrue(r4.err().contains("use --nsqd-tcp-address or --lookupd-http-address not both"), r4.err());

    AppTestSupport.Run r5 = new AppTestSupport.Run();
    AppTestSupport.run(tail(r5), r5, "-topic", "t", "-nsqd-tcp-address", tcp, "-consumer-opt", "max_attempts,lots");
    assertEquals(1, r5.exit.join());
    assertTrue(r5.err().contains("max_attempts"), r5.err());

    AppTestSupport.Run r6 = new AppTestSupport.Run();
    AppTestSupport.run(tail(r6), r6, "-topic", "t", "-nsqd-tcp-address", "127.0.0.1:1");
    assertEquals(1, r6.exit.join());
    assertTrue(r6.err().contains("FATAL"), r6.err());
  }
}
