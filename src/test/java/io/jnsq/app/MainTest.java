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
}
