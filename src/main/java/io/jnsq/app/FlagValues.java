package io.jnsq.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The kind of value each flag takes, read off its built-in default, and Go's duration syntax. */
final class FlagValues {
  private FlagValues() {}

  enum Type { BOOL, NUMBER, BYTES, DURATION, STRING, LIST }

  /** Flags read as a size in bytes (a number, or HOCON's 512MiB). */
  private static final Set<String> BYTES =
      Set.of("mem-budget", "max-bytes-per-file", "max-msg-size", "max-body-size", "max-output-buffer-size");
  private static final Pattern DEFAULT_DURATION = Pattern.compile("\\d+(ms|s|m|h)");
  private static final Config DEFAULTS = ConfigFactory.parseResources("jnsq-defaults.conf").resolve().getConfig("jnsq");

  static Type type(NodeFlags.Flag f) {
    if (BYTES.contains(f.name())) return Type.BYTES;
    ConfigValueType t = DEFAULTS.getValue(f.name()).valueType();
    if (t == ConfigValueType.BOOLEAN) return Type.BOOL;
    if (t == ConfigValueType.NUMBER) return Type.NUMBER;
    if (t == ConfigValueType.LIST) return Type.LIST;
    if (DEFAULT_DURATION.matcher(DEFAULTS.getString(f.name())).matches()) return Type.DURATION;
    return Type.STRING;
  }

  private static final Pattern GO_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

  /**
   * Go's time.ParseDuration syntax ({@code 300ms}, {@code 1.5s}, {@code 1h30m}, {@code -1s}) in
   * nanoseconds, or null when {@code text} is not one; a bare {@code 0} is zero, as in Go.
   */
  static Long goDurationNanos(String text) {
    String s = text.trim();
    boolean negative = s.startsWith("-");
    if (negative || s.startsWith("+")) s = s.substring(1);
    if (s.equals("0")) return 0L;
    if (s.isEmpty()) return null;
    Matcher m = GO_PART.matcher(s);
    BigDecimal total = BigDecimal.ZERO;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) return null;
      long unit;
      switch (m.group(2)) {
        case "ns": unit = 1L; break;
        case "us": case "µs": case "μs": unit = 1_000L; break;
        case "ms": unit = 1_000_000L; break;
        case "s": unit = 1_000_000_000L; break;
        case "m": unit = 60_000_000_000L; break;
        default: unit = 3_600_000_000_000L; break;
      }
      total = total.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
      at = m.end();
    }
    if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) return null;
    long nanos = total.longValue();
    return negative ? -nanos : nanos;
  }
}
