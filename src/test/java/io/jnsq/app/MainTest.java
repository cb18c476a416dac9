package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code bin/jnsq node --help} and the README's flag table both list every flag. */
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
}
