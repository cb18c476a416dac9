package io.jnsq.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Durations and sizes as settings take them, and back. */
class UnitsTest {
  @Test
  void goDurationsParseAndPrintBack() {
    assertEquals(Duration.ofHours(1), Units.parseDuration("1h"));
    assertEquals(Duration.ofMinutes(90), Units.parseDuration("1h30m"));
    assertEquals(Duration.ofMillis(1500), Units.parseDuration("1.5s"));
    assertEquals(Duration.ofMillis(250), Units.parseDuration("250ms"));
    assertEquals(Duration.ZERO, Units.parseDuration("0"));
    assertEquals("1h30m0s", Units.formatDuration(Duration.ofMinutes(90)));
    assertEquals("24h0m0s", Units.formatDuration(Duration.ofHours(24)));
    assertEquals("250ms", Units.formatDuration(Duration.ofMillis(250)));
    assertEquals("1.5s", Units.formatDuration(Duration.ofMillis(1500)));
    assertEquals(Duration.ofMinutes(90), Units.parseDuration(Units.formatDuration(Duration.ofMinutes(90))));
  }

  @Test
  void badDurationsAreRefusedWithTheValue() {
    for (String bad : new String[] {"", "1", "-1h", "1x", "h", "1h 30m", "99999999999h"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Units.parseDuration(bad), bad);
      assertEquals(true, e.getMessage().length() > 5);
    }
  }

  @Test
  void sizesTakeSiAndBinaryUnits() {
    assertEquals(10L << 30, Units.parseBytes("10GiB"));
    assertEquals(10_000_000_000L, Units.parseBytes("10GB"));
    assertEquals(1536, Units.parseBytes("1.5KiB"));
    assertEquals(4096, Units.parseBytes("4096"));
    assertEquals(512L << 20, Units.parseBytes("512 mib"));
    assertEquals("10GiB", Units.formatBytes(10L << 30));
    assertEquals("1000", Units.formatBytes(1000));
    assertThrows(IllegalArgumentException.class, () -> Units.parseBytes("10 parsecs"));
    assertThrows(IllegalArgumentException.class, () -> Units.parseBytes("-5"));
    assertThrows(IllegalArgumentException.class, () -> Units.parseBytes("99999999TiB"));
  }
}
