package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.config.ChannelSettings;
import io.jnsq.config.NodeSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --max-attempts, --dead-letter-topic-suffix and --message-ttl: read into the channels' defaults, bad values refused in one line. */
class PolicyFlagsTest {
  private static String refused(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "node";
    System.arraycopy(args, 0, all, 1, args.length);
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.run(all);
    } finally {
      System.setErr(saved);
    }
    String text = err.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, text);
    assertEquals(1, text.lines().count(), "one line:\n" + text);
    return text;
  }

  @Test
  void theFlagsBecomeTheDefaultsOfChannelsWithoutSettings() {
    ChannelSettings s = NodeSettings.fromConfig(Node.loadConfig(null, Map.of("jnsq.max-attempts", "5",
        "jnsq.dead-letter-topic-suffix", ".dead", "jnsq.message-ttl", "1h"))).channelSettings();
    assertEquals(5, s.maxAttempts());
    assertEquals(".dead", s.deadLetterTopicSuffix());
    assertEquals(Duration.ofHours(1), s.messageTtl());
    ChannelSettings none = NodeSettings.fromConfig(Node.loadConfig(null, Map.of())).channelSettings();
    assertEquals(0, none.maxAttempts());
    assertEquals("", none.deadLetterTopicSuffix());
    assertEquals(Duration.ZERO, none.messageTtl());
  }

  @Test
  void badValuesAreRefusedNamingTheFlag() {
    assertTrue(refused("--max-attempts", "-1").contains("--max-attempts"));
    assertTrue(refused("--max-attempts", "many").contains("--max-attempts"));
    assertTrue(refused("--message-ttl", "-5s").contains("--message-ttl"));
    assertTrue(refused("--dead-letter-topic-suffix", "/dead letters").contains("--dead-letter-topic-suffix"));
  }
}
