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
