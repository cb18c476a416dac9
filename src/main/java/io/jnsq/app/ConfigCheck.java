package io.jnsq.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.jnsq.config.HostPort;
import io.jnsq.config.NodeSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The strict check of a node's settings before it starts: every value of the {@code jnsq} block is of
 * its flag's kind and in range, enumerations take only their values, a duration has a unit, and no two
 * listeners share a port. A failure is a {@link ConfigProblem} whose one line names the flag (or the
 * config file's key), the value and what is allowed. Durations in Go's syntax ({@code 1m30s}) and
 * nsqd's spellings of booleans in {@code --tls-required} are rewritten to what the settings read.
 */
final class ConfigCheck {
  private ConfigCheck() {}

  /** Inclusive bounds of the numbers that have them. */
  private static final Map<String, long[]> RANGES = Map.ofEntries(
      Map.entry("node-id", new long[] {-1, 1023}),
      Map.entry("mem-queue-size", new long[] {0, Long.MAX_VALUE}),
      Map.entry("mem-budget", new long[] {0, Long.MAX_VALUE}),
      Map.entry("max-bytes-per-file", new long[] {1, Long.MAX_VALUE}),
      Map.entry("sync-every", new long[] {1, Long.MAX_VALUE}),
      Map.entry("max-msg-size", new long[] {1, Integer.MAX_VALUE}),
      Map.entry("max-body-size", new long[] {1, Integer.MAX_VALUE}),
      Map.entry("max-rdy-count", new long[] {1, Integer.MAX_VALUE}),
      Map.entry("max-output-buffer-size", new long[] {1, Integer.MAX_VALUE}),
      Map.entry("max-channel-consumers", new long[] {0, Integer.MAX_VALUE}),
      Map.entry("max-attempts", new long[] {0, 65_535}),
      Map.entry("max-connections", new long[] {0, Integer.MAX_VALUE}),
      Map.entry("max-deflate-level", new long[] {1, 9}),
      Map.entry("statsd-udp-packet-size", new long[] {64, 65_507}),
      Map.entry("broadcast-tcp-port", new long[] {0, 65_535}),
      Map.entry("broadcast-http-port", new long[] {0, 65_535}));

  /** Durations that must be more than zero; every other one may be zero but not negative. */
  private static final Set<String> POSITIVE = Set.of("msg-timeout", "max-msg-timeout", "sync-timeout",
      "client-timeout", "max-heartbeat-interval", "statsd-interval", "e2e-processing-latency-window-time",
      "http-client-connect-timeout", "http-client-request-timeout", "tombstone-lifetime", "inactive-producer-timeout",
      "max-output-buffer-timeout");

  /** Listen addresses: host:port (empty = off where the flag says so). */
  private static final Set<String> ADDRESSES = Set.of("tcp-address", "http-address", "https-address",
      "cluster-address", "lookup-http-address", "lookup-tcp-address", "admin-http-address", "statsd-address");

  /**
   * Checks the resolved {@code root}; {@code fromFlags} are the flags given on the command line (the rest
   * came from {@code file}, or are defaults). Returns the config with values rewritten as said above.
   */
  static Config check(Config root, Set<String> fromFlags, String file) {
    Config c = root;
    for (NodeFlags.Flag f : NodeFlags.ALL) {
      if (f.ignored()) continue;
      String key = f.configKey();
      Source src = new Source(f.name(), fromFlags.contains(f.name()), file, c.getValue(key));
      Object fixed = checkOne(f, c, key, src);
      if (fixed != null) c = c.withValue(key, ConfigValueFactory.fromAnyRef(fixed));
    }
    NodeSettings s;
    try {
      s = NodeSettings.fromConfig(c);
    } catch (ConfigException | IllegalArgumentException e) {
      throw new ConfigProblem(oneLine(e.getMessage()));
    }
    conflicts(s);
    return c;
  }

  /** Where a value came from, for the message. */
  private record Source(String flag, boolean fromFlag, String file, ConfigValue value) {
    String shown() {
      Object raw = value.unwrapped();
      String v = raw instanceof String ? "\"" + raw + "\"" : String.valueOf(raw);
      if (fromFlag) return "--" + flag + "=" + (raw instanceof String ? (String) raw : v);
      return (file == null ? "" : "--config " + file + ": ") + flag + " = " + v;
    }
  }

  /** Null when the value stays as it is, else its rewritten form. */
  private static Object checkOne(NodeFlags.Flag f, Config c, String key, Source src) {
    switch (f.name()) {
      case "tls-required": return tlsRequired(c.getValue(key), src);
      case "tls-client-auth-policy": return oneOf(c.getValue(key), src, List.of("", "require", "require-verify"));
      case "tls-min-version": {
        String v = String.valueOf(c.getValue(key).unwrapped()).trim().toLowerCase(Locale.ROOT);
        if (v.equals("ssl3.0")) throw new ConfigProblem(src.shown() + ": SSL 3.0 is not supported; allowed: tls1.0, tls1.1, tls1.2, tls1.3");
        return oneOf(c.getValue(key), src, List.of("tls1.0", "tls1.1", "tls1.2", "tls1.3"));
      }
      case "log-level": return oneOf(c.getValue(key), src, List.of("debug", "info", "warn", "error", "fatal"));
      case "auth-match": return oneOf(c.getValue(key), src, List.of("whole", "nsqd"));
      default: break;
    }
    switch (FlagValues.type(f)) {
      case DURATION: return duration(f, c.getValue(key), src);
      case NUMBER: {
        long n;
        try {
          n = c.getNumber(key).longValue();
          if (c.getNumber(key).doubleValue() != n) throw new ConfigProblem(src.shown() + ": not a whole number");
        } catch (ConfigException e) {
          throw new ConfigProblem(src.shown() + ": not a number");
        }
        range(f, n, src);
        return null;
      }
      case BYTES: {
        long n;
        try {
          n = c.getBytes(key);
        } catch (ConfigException e) {
          throw new ConfigProblem(src.shown() + ": not a size in bytes (e.g. 1048576 or 1MiB)");
        }
        range(f, n, src);
        return null;
      }
      case BOOL:
        try {
          c.getBoolean(key);
        } catch (ConfigException e) {
          throw new ConfigProblem(src.shown() + ": not a boolean (true or false)");
        }
        return null;
      case LIST:
        if (f.kind() == NodeFlags.Kind.NUMBERS) percentiles(c, key, src);
        return null;
      default:
        if (c.getValue(key).valueType() != ConfigValueType.STRING && c.getValue(key).valueType() != ConfigValueType.NUMBER
            && c.getValue(key).valueType() != ConfigValueType.BOOLEAN) {
          throw new ConfigProblem(src.shown() + ": not a string");
        }
        if (ADDRESSES.contains(f.name())) address(f, c.getString(key), src);
        return null;
    }
  }

  private static void range(NodeFlags.Flag f, long n, Source src) {
    long[] r = RANGES.get(f.name());
    if (r == null || (n >= r[0] && n <= r[1])) return;
    String allowed = r[1] == Long.MAX_VALUE || r[1] == Integer.MAX_VALUE ? r[0] + " or more" : r[0] + ".." + r[1];
    throw new ConfigProblem(src.shown() + ": out of range; allowed: " + allowed);
  }

  /** A duration with a unit: Go's syntax (rewritten to nanoseconds) or HOCON's; never a bare number. */
  private static Object duration(NodeFlags.Flag f, ConfigValue v, Source src) {
    String text = String.valueOf(v.unwrapped()).trim();
    boolean zero = text.matches("[+-]?0");   // Go takes a bare 0 as a duration
    if (!zero && (v.valueType() == ConfigValueType.NUMBER || text.matches("[+-]?\\d+(\\.\\d+)?"))) {
      throw new ConfigProblem(src.shown() + ": a duration needs a unit, e.g. " + text + "s (ns, us, ms, s, m, h)");
    }
    Long nanos = FlagValues.goDurationNanos(text);
    if (nanos == null) {
      try {
        nanos = com.typesafe.config.ConfigFactory.parseMap(Map.of("d", text)).getDuration("d").toNanos();
      } catch (ConfigException | ArithmeticException e) {
        throw new ConfigProblem(src.shown() + ": not a duration (e.g. 250ms, 60s, 1m30s, 1h; units ns, us, ms, s, m, h)");
      }
    }
    if (nanos < 0 || (nanos == 0 && POSITIVE.contains(f.name()))) {
      throw new ConfigProblem(src.shown() + ": must be " + (POSITIVE.contains(f.name()) ? "more than zero" : "zero or more"));
    }
    return nanos + "ns";
  }

  /** nsqd's --tls-required: true, false (any of Go's boolean spellings) or tcp-https. */
  private static Object tlsRequired(ConfigValue v, Source src) {
    String s = String.valueOf(v.unwrapped()).trim();
    switch (s) {
      case "1": case "t": case "T": case "TRUE": case "true": case "True": return "true";
      case "0": case "f": case "F": case "FALSE": case "false": case "False": return "false";
      default:
        if (s.equalsIgnoreCase("tcp-https")) return "tcp-https";
        throw new ConfigProblem(src.shown() + ": not allowed; allowed: true, false, tcp-https");
    }
  }

  private static Object oneOf(ConfigValue v, Source src, List<String> allowed) {
    String s = String.valueOf(v.unwrapped()).trim().toLowerCase(Locale.ROOT);
    if (allowed.contains(s)) return s;
    List<String> shown = new ArrayList<>();
    for (String a : allowed) shown.add(a.isEmpty() ? "\"\" (none)" : a);
    throw new ConfigProblem(src.shown() + ": not allowed; allowed: " + String.join(", ", shown));
  }

  private static void percentiles(Config c, String key, Source src) {
    List<Double> values;
    try {
      values = c.getDoubleList(key);
    } catch (ConfigException e) {
      throw new ConfigProblem(src.shown() + ": not a list of numbers");
    }
    for (double p : values) {
      if (!(p > 0 && p <= 1)) throw new ConfigProblem(src.shown() + ": " + p + " is out of range; allowed: more than 0, up to 1");
    }
  }

  private static void address(NodeFlags.Flag f, String value, Source src) {
    if (value.isBlank() && !f.name().equals("tcp-address") && !f.name().equals("cluster-address")
        && !f.name().equals("https-address")) {
      return;   // off
    }
    try {
      HostPort.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem(src.shown() + ": not an address; allowed: host:port with a port 0..65535");
    }
  }

  /** Two listeners on one port of overlapping hosts, and TLS required without a certificate. */
  private static void conflicts(NodeSettings s) {
    List<Map.Entry<String, HostPort>> all = new ArrayList<>(Listeners.of(s).entrySet());
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        HostPort a = all.get(i).getValue();
        HostPort b = all.get(j).getValue();
        if (a.port() == 0 || a.port() != b.port()) continue;
        if (a.host().equals(b.host()) || wildcard(a.host()) || wildcard(b.host())) {
          throw new ConfigProblem(all.get(j).getKey() + "=" + b + " conflicts with " + all.get(i).getKey() + "=" + a
              + ": two listeners on one port; give one of them another port");
        }
      }
    }
    boolean wantsTls = !s.tlsRequired().equals("false") || !s.tlsClientAuthPolicy().isEmpty();
    if (wantsTls && s.tlsCert().isEmpty()) {
      throw new ConfigProblem((s.tlsClientAuthPolicy().isEmpty() ? "--tls-required=" + s.tlsRequired()
          : "--tls-client-auth-policy=" + s.tlsClientAuthPolicy()) + ": needs --tls-cert and --tls-key");
    }
    if (s.tlsCert().isEmpty() != s.tlsKey().isEmpty()) {
      throw new ConfigProblem(s.tlsCert().isEmpty() ? "--tls-key without --tls-cert" : "--tls-cert without --tls-key");
    }
  }

  private static boolean wildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
  }

  private static String oneLine(String message) {
    String m = String.valueOf(message);
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
