package io.jnsq.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations and sizes as users write them in settings: Go's durations ({@code 1h30m}, {@code 500ms},
 * {@code 0}) and byte sizes with SI or binary units ({@code 10GB}, {@code 10GiB}, {@code 4096}). The one
 * place they are parsed and printed, so every API spells them the same way.
 */
public final class Units {
  private Units() {}

  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]*)");

  /** A Go duration, e.g. {@code 1h}, {@code 1h30m}, {@code 250ms}, {@code 0}; negative ones are refused. */
  public static Duration parseDuration(String text) {
    String s = text == null ? "" : text.trim();
    if (s.equals("0")) return Duration.ZERO;
    if (s.isEmpty()) throw new IllegalArgumentException("empty duration");
    Matcher m = DURATION_PART.matcher(s);
    long nanos = 0;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException("\"" + text + "\" is not a duration such as 90s, 15m, 1h30m");
      }
      BigDecimal n = new BigDecimal(m.group(1).startsWith(".") ? "0" + m.group(1) : m.group(1));
      long unit = switch (m.group(2)) {
        case "ns" -> 1L;
        case "us", "µs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      };
      try {
        nanos = Math.addExact(nanos, n.multiply(BigDecimal.valueOf(unit)).longValueExact());
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("\"" + text + "\" is too long a duration");
      }
      at = m.end();
    }
    return Duration.ofNanos(nanos);
  }

  /** Go's way of printing a duration: {@code 1h30m0s}, {@code 250ms}, {@code 0s}. */
  public static String formatDuration(Duration d) {
    long ns = d.toNanos();
    if (ns == 0) return "0s";
    if (ns < 1_000_000_000L) {
      if (ns % 1_000_000L == 0) return ns / 1_000_000L + "ms";
      if (ns % 1_000L == 0) return ns / 1_000L + "µs";
      return ns + "ns";
    }
    long h = ns / 3_600_000_000_000L;
    long m = ns / 60_000_000_000L % 60;
    long rest = ns % 60_000_000_000L;
    String secs = BigDecimal.valueOf(rest, 9).stripTrailingZeros().toPlainString();
    StringBuilder b = new StringBuilder();
    if (h > 0) b.append(h).append('h');
    if (h > 0 || m > 0) b.append(m).append('m');
    return b.append(secs).append('s').toString();
  }

  /** A size in bytes: a number, or one with B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (of 1024). */
  public static long parseBytes(String text) {
    String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    Matcher m = SIZE.matcher(s);
    if (!m.matches()) throw new IllegalArgumentException("\"" + text + "\" is not a size such as 512MiB, 10GiB or 1000000");
    long unit = switch (m.group(2)) {
      case "", "b" -> 1L;
      case "kb", "k" -> 1_000L;
      case "mb", "m" -> 1_000_000L;
      case "gb", "g" -> 1_000_000_000L;
      case "tb", "t" -> 1_000_000_000_000L;
      case "kib", "ki" -> 1L << 10;
      case "mib", "mi" -> 1L << 20;
      case "gib", "gi" -> 1L << 30;
      case "tib", "ti" -> 1L << 40;
      default -> throw new IllegalArgumentException("\"" + text + "\" has an unknown unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
    };
    try {
      return new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)).setScale(0, java.math.RoundingMode.DOWN)
          .longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("\"" + text + "\" is too large a size");
    }
  }

  /** A size the way {@link #parseBytes} reads it back: the largest binary unit that divides it, e.g. {@code 10GiB}. */
  public static String formatBytes(long bytes) {
    String[] units = {"TiB", "GiB", "MiB", "KiB"};
    for (int i = 0; i < units.length; i++) {
      long u = 1L << (10 * (4 - i));
      if (bytes >= u && bytes % u == 0) return bytes / u + units[i];
    }
    return Long.toString(bytes);
  }
}
