package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code config/jnsq.conf} shows every flag of the flag table, and only those, each with its built-in default. */
class ConfigFileTest {
  /** A commented-out setting: {@code # key = value   # remark}; the value is a string, list or bare word. */
  private static final Pattern SETTING =
      Pattern.compile("^\\s*#\\s*([a-z0-9-]+)\\s*=\\s*(\"[^\"]*\"|\\[[^\\]]*\\]|[^\\s#]+)");

  private static Map<String, String> shown() throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("config", "jnsq.conf"))) {
      Matcher m = SETTING.matcher(line);
      if (m.find()) assertEquals(null, out.put(m.group(1), m.group(2)), "shown twice: " + m.group(1));
    }
    return out;
  }

  @Test
  void theSampleConfigNamesExactlyTheFlags() throws Exception {
    TreeSet<String> flags = new TreeSet<>();
    for (NodeFlags.Flag f : NodeFlags.ALL) flags.add(f.name());
    assertEquals(flags, new TreeSet<>(shown().keySet()));
  }

  @Test
  void eachShownValueIsTheBuiltInDefault() throws Exception {
    Config defaults = ConfigFactory.parseResources("jnsq-defaults.conf").resolve().getConfig("jnsq");
    for (Map.Entry<String, String> e : shown().entrySet()) {
      Object shown = ConfigFactory.parseString("v = " + e.getValue()).getValue("v").unwrapped();
      Object builtIn = defaults.getValue(e.getKey()).unwrapped();
      assertEquals(String.valueOf(builtIn), String.valueOf(shown), e.getKey());
    }
  }

  @Test
  void theSampleConfigLoadsAsIsAndUncommented() throws Exception {
    String text = Files.readString(Path.of("config", "jnsq.conf"));
    Path file = Files.createTempFile("jnsq", ".conf");
    try {
      Files.writeString(file, text.replaceAll("(?m)^(\\s*)# ([a-z0-9-]+ =)", "$1$2"));
      Config loaded = Node.loadConfig(file, Map.of());
      io.jnsq.config.NodeSettings s = io.jnsq.config.NodeSettings.fromConfig(loaded);
      assertEquals(4150, s.tcpAddress().port());
      assertTrue(s.seedNodes().isEmpty());
    } finally {
      Files.delete(file);
    }
  }
}
