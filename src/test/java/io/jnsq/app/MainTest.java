package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code bin/jnsq node --help} and the README's flag table both list every flag; NSQ's apps are subcommands. */
class MainTest {

  private static String run(String... args) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.run(args));
    } finally {
      System.setOut(saved);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void nodeHelpListsEveryFlagWithItsDefault() {
    String help = run("node", "--help").replaceAll("\\s+", " ");
    for (NodeFlags.Flag f : NodeFlags.ALL) assertTrue(help.contains("--" + f.name()), "--" + f.name() + " in:\n" + help);
    assertTrue(help.contains("(default: 10000)"), help);
    assertTrue(help.contains("--durable"), help);
  }

  @Test
  void theReadmeFlagTableNamesEveryFlag() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    for (NodeFlags.Flag f : NodeFlags.ALL) assertTrue(readme.contains("`--" + f.name() + "`"), "README lacks --" + f.name());
  }

  @Test
  void bindMovesEveryListenerWhoseAddressIsNotGiven() {
    var s = io.jnsq.config.NodeSettings.fromConfig(Node.loadConfig(null,
        java.util.Map.of("jnsq.bind", "127.0.0.1", "jnsq.http-address", "0.0.0.0:9151")));
    var listeners = Listeners.of(s);
    assertEquals("127.0.0.1:4150", s.tcpAddress().toString());
    assertEquals("0.0.0.0:9151", s.httpAddress().toString(), "an address given itself wins");
    assertEquals("127.0.0.1:4152", s.httpsAddress().toString());
    assertEquals("127.0.0.1:4160", s.lookupTcpAddress().toString());
    assertEquals("127.0.0.1:4161", s.lookupHttpAddress().toString());
    assertEquals("127.0.0.1:4171", s.adminHttpAddress().toString());
    assertEquals(java.util.List.of("--tcp-address", "--http-address", "--cluster-address", "--lookup-http-address",
        "--lookup-tcp-address", "--admin-http-address"), java.util.List.copyOf(listeners.keySet()));
    var defaults = io.jnsq.config.NodeSettings.fromConfig(Node.loadConfig(null, java.util.Map.of()));
    assertEquals("0.0.0.0:4150", defaults.tcpAddress().toString(), "nsqd's default stays");
  }

  @Test
  void aBusyPortEndsInOneLineNamingItsFlag() throws Exception {
    try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      String addr = "127.0.0.1:" + busy.getLocalPort();
      PrintStream saved = System.err;
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code;
      try {
        code = Main.run(new String[] {"node", "--bind", "127.0.0.1", "--tcp-address", "127.0.0.1:0",
            "--http-address", "127.0.0.1:0", "--lookup-tcp-address", "127.0.0.1:0", "--lookup-http-address", "",
            "--admin-http-address", addr, "--data-path", io.jnsq.storage.TestStores.freshDataPath()});
      } finally {
        System.setErr(saved);
      }
      String text = err.toString(StandardCharsets.UTF_8);
      assertEquals(1, code, text);
      assertEquals("jnsq: cannot start: --admin-http-address " + addr + ": the port is already in use"
          + " (another jnsq node or nsqd running? give --admin-http-address another port)\n", text);
    }
  }

  @Test
  void nsqsAppsAreSubcommandsWithTheirFlagsInBothSpellings() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    java.util.Map<String, String> flagOf = java.util.Map.of("to_nsq", "-delimiter", "nsq_tail", "-print-topic",
        "nsq_stat", "-interval", "nsq_to_file", "-rotate-size", "nsq_to_http", "-status-every", "nsq_to_nsq", "-destination-topic");
    flagOf.forEach((app, flag) -> {
      assertTrue(run(app, "-version").startsWith(app + " v"), app);
      String help = run(app, "--help");
      assertTrue(help.contains(flag + ", -" + flag), app + " --help lists " + flag + " both ways:\n" + help);
      assertTrue(readme.contains("`" + app + "`"), "README names " + app);
    });
  }

  /** nsqd 1.3.0's and nsqlookupd's flags, as their -help lists them. */
  static final java.util.List<String> NSQD_FLAGS = java.util.List.of("auth-http-address", "broadcast-address",
      "broadcast-http-port", "broadcast-tcp-port", "data-path", "deflate", "e2e-processing-latency-percentile",
      "e2e-processing-latency-window-time", "http-address", "http-client-connect-timeout",
      "http-client-request-timeout", "https-address", "log-level", "log-prefix", "lookupd-tcp-address",
      "max-body-size", "max-bytes-per-file", "max-channel-consumers", "max-deflate-level", "max-heartbeat-interval",
      "max-msg-size", "max-msg-timeout", "max-output-buffer-size", "max-output-buffer-timeout", "max-rdy-count",
      "max-req-timeout", "mem-queue-size", "min-output-buffer-timeout", "msg-timeout", "node-id",
      "output-buffer-timeout", "queue-scan-selection-count", "queue-scan-worker-pool-max", "snappy",
      "statsd-address", "statsd-exclude-ephemeral", "statsd-interval", "statsd-mem-stats", "statsd-prefix",
      "statsd-udp-packet-size", "sync-every", "sync-timeout", "tcp-address", "tls-cert", "tls-client-auth-policy",
      "tls-key", "tls-min-version", "tls-required", "tls-root-ca-file", "verbose", "worker-id",
      // nsqlookupd's own
      "inactive-producer-timeout", "tombstone-lifetime");

  @Test
  void everyNsqdAndNsqlookupdFlagIsAcceptedWithOneDashOrTwoAndEitherValueForm() {
    for (String name : NSQD_FLAGS) {
      assertTrue(NodeFlags.named(name) != null, "no flag --" + name);
      String value = NodeFlags.named(name).bool() ? "true" : "1";
      for (String dash : new String[] {"-", "--"}) {
        Main.nodeOverrides(dash + name + "=" + value);
        Main.nodeOverrides(dash + name, value);
      }
    }
    Main.nodeOverrides("-config", "x.cfg");
    Main.nodeOverrides("-config=x.cfg");
    assertTrue(run("node", "-version").startsWith("jnsq "));
    assertTrue(run("node", "-help").contains("--queue-scan-worker-pool-max"));
  }

  @Test
  void goSpellingsGiveTheSameSettings() {
    var o = Main.nodeOverrides("-tcp-address=127.0.0.1:9150", "-mem-queue-size", "5", "-deflate=false", "-snappy",
        "-lookupd-tcp-address=a:4160", "--lookupd-tcp-address", "b:4160", "-verbose", "-worker-id",
        "--queue-scan-worker-pool-max", "8");
    var s = io.jnsq.config.NodeSettings.fromConfig(Node.loadConfig(null, o));
    assertEquals("127.0.0.1:9150", s.tcpAddress().toString());
    assertEquals(5, s.memQueueSize());
    assertEquals(false, s.deflate());
    assertEquals(true, s.snappy());
    assertEquals(java.util.List.of("a:4160", "b:4160"), s.lookupdTcpAddresses());
    assertEquals("debug", s.logLevel(), "-verbose is --log-level=debug");
    assertEquals(java.util.Set.of("tcp-address", "mem-queue-size", "deflate", "snappy", "lookupd-tcp-address",
        "verbose", "worker-id", "queue-scan-worker-pool-max"), Node.givenKeys(null, o));
  }

  @Test
  void helpAndTheReadmeListTheIgnoredFlagsAsIgnored() throws Exception {
    String help = run("node", "--help").replaceAll("\\s+", " ");
    String readme = Files.readString(Path.of("README.md"));
    for (NodeFlags.Flag f : NodeFlags.ALL) {
      if (!f.ignored()) continue;
      int at = help.indexOf("--" + f.name() + "[=<value>]");
      assertTrue(at >= 0 && help.substring(at, Math.min(help.length(), at + 120)).contains("ignored"), f.name());
      assertTrue(readme.matches("(?s).*`--" + f.name() + "`[^\\n]*ignored.*"), "README: --" + f.name() + " ignored");
    }
  }

  @Test
  void broadcastPortsReplaceTheListeningOnesInWhatLookupIsTold() {
    var s = io.jnsq.config.NodeSettings.fromConfig(Node.loadConfig(null,
        Main.nodeOverrides("--broadcast-tcp-port=14150", "-broadcast-http-port", "14151", "--broadcast-address", "nat.example")));
    var p = Node.producer(s, "id", 4150, 4151);
    assertEquals(14150, p.tcpPort());
    assertEquals(14151, p.httpPort());
    assertEquals("nat.example", p.broadcastAddress());
    var plain = Node.producer(io.jnsq.config.NodeSettings.fromConfig(Node.loadConfig(null, java.util.Map.of())), "id", 4150, 0);
    assertEquals(4150, plain.tcpPort());
    assertEquals(0, plain.httpPort());
    assertEquals("nsq.nat_example_14151.", io.jnsq.metrics.StatsdPusher.settings(io.jnsq.config.NodeSettings.fromConfig(
        Node.loadConfig(null, java.util.Map.of("jnsq.statsd-address", "127.0.0.1:8125", "jnsq.broadcast-http-port", 14151,
            "jnsq.broadcast-address", "nat.example"))), 4151).prefix());
  }

  @Test
  void aLogPrefixIsLiteralTextInTheLogPattern() {
    assertEquals("[nsqd] ", NodeLogging.literal("[nsqd] "));
    assertEquals("50\\% \\(x\\) ", NodeLogging.literal("50% (x) "));
  }

  @Test
  void authMatchNsqdReachesTheSessionsAuthServers() {
    var s = io.jnsq.config.NodeSettings.fromConfig(Node.checkedConfig(null,
        Main.nodeOverrides("--auth-http-address=127.0.0.1:1", "-auth-match=nsqd")));
    var session = Node.withAuthMatch(io.jnsq.tcp.SessionSettings.from(s), s.authMatch());
    assertEquals(io.jnsq.auth.AuthServers.Match.NSQD, session.auth().match());
    var whole = io.jnsq.config.NodeSettings.fromConfig(Node.checkedConfig(null, Main.nodeOverrides("--auth-http-address=127.0.0.1:1")));
    assertEquals(io.jnsq.auth.AuthServers.Match.WHOLE,
        Node.withAuthMatch(io.jnsq.tcp.SessionSettings.from(whole), whole.authMatch()).auth().match());
  }
}
