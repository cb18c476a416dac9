package io.jnsq.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * nsqd's, nsqlookupd's and nsqadmin's config files ({@code contrib/*.cfg.example} in NSQ): TOML, keys
 * in snake_case (or the flag's own name, as NSQ also takes), read into our flags. Which program a file
 * is for decides what {@code http_address} means: nsqd's HTTP API, nsqlookupd's or nsqadmin's. The
 * file name tells (it contains nsqlookupd or nsqadmin), else its keys do. A key none of the three
 * knows is refused; one that means nothing here is noted, to be logged once.
 */
final class NsqConfigFile {
  private NsqConfigFile() {}

  enum App { NSQD, NSQLOOKUPD, NSQADMIN }

  /** What a file sets, keyed {@code jnsq.<flag>}, and a line for each key it sets that is ignored. */
  record Read(App app, Map<String, Object> values, List<String> notes) {}

  /** nsqd's config names that are not its flag's name with _ for -. */
  private static final Map<String, String> NSQD_RENAMED = Map.of(
      "id", "node-id",
      "nsqlookupd_tcp_addresses", "lookupd-tcp-address",
      "e2e_processing_latency_percentiles", "e2e-processing-latency-percentile",
      "auth_http_addresses", "auth-http-address");

  private static final Map<String, String> LOOKUPD = Map.of(
      "tcp_address", "lookup-tcp-address",
      "http_address", "lookup-http-address",
      "broadcast_address", "broadcast-address",
      "inactive_producer_timeout", "inactive-producer-timeout",
      "tombstone_lifetime", "tombstone-lifetime",
      "log_level", "log-level",
      "log_prefix", "log-prefix",
      "verbose", "verbose");

  private static final Map<String, String> ADMIN = Map.of(
      "http_address", "admin-http-address",
      "base_path", "admin-base-path",
      "notification_http_endpoint", "admin-notification-http-endpoint",
      "acl_http_header", "admin-acl-http-header",
      "admin_users", "admin-user",
      "log_level", "log-level",
      "log_prefix", "log-prefix",
      "verbose", "verbose");

  /** nsqadmin's keys that mean nothing here: a node's admin UI shows the cluster it is in. */
  private static final Set<String> ADMIN_IGNORED = Set.of("graphite_url", "proxy_graphite", "statsd_prefix",
      "statsd_counter_format", "statsd_gauge_format", "statsd_interval", "nsqlookupd_http_addresses",
      "nsqd_http_addresses", "http_client_connect_timeout", "http_client_request_timeout",
      "http_client_tls_insecure_skip_verify", "http_client_tls_root_ca_file", "http_client_tls_cert",
      "http_client_tls_key", "allow_config_from_cidr", "dev_static_path", "template_dir");

  /** Keys that only nsqadmin's file has, and only nsqlookupd's. */
  private static final Set<String> ADMIN_ONLY = Set.of("graphite_url", "proxy_graphite", "statsd_counter_format",
      "statsd_gauge_format", "nsqlookupd_http_addresses", "nsqd_http_addresses", "notification_http_endpoint",
      "acl_http_header", "admin_users", "base_path");
  private static final Set<String> LOOKUPD_ONLY = Set.of("inactive_producer_timeout", "tombstone_lifetime");

  /** Whether {@code file} is in NSQ's format rather than our HOCON: by its extension, else by its text. */
  static boolean isNsqFormat(Path file, String text) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".cfg") || name.endsWith(".toml") || name.endsWith(".cfg.example")) return true;
    if (name.endsWith(".conf") || name.endsWith(".hocon") || name.endsWith(".json") || name.endsWith(".properties")) {
      return false;
    }
    return !text.matches("(?s)(.*\\n)?\\s*jnsq\\s*[{.].*");
  }

  static Read read(Path file, String text) {
    JsonNode root;
    try {
      root = new TomlMapper().readTree(text);
    } catch (IOException e) {
      String why = String.valueOf(e.getMessage()).split("\n")[0];
      throw new ConfigProblem("--config " + file + ": not a valid nsqd config file (TOML): " + why);
    }
    List<String> keys = new ArrayList<>();
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) keys.add(it.next());
    App app = appOf(file, keys);
    Map<String, Object> values = new LinkedHashMap<>();
    List<String> notes = new ArrayList<>();
    for (String key : keys) {
      String cfg = key.replace('-', '_');
      JsonNode v = root.get(key);
      String where = "--config " + file.getFileName() + ": " + key;
      if (app == App.NSQADMIN && ADMIN_IGNORED.contains(cfg)) {
        notes.add(where + " is nsqadmin's and ignored: every node's admin UI shows the cluster it is in");
        continue;
      }
      String flagName = flagOf(app, cfg);
      NodeFlags.Flag flag = flagName == null ? null : NodeFlags.named(flagName);
      if (flag == null) {
        throw new ConfigProblem(where + " = " + shown(v) + ": unknown key (not one of " + appName(app)
            + "'s options; see bin/jnsq node --help for the keys, with _ for -)");
      }
      if (flag.ignored()) {
        values.put(flag.configKey(), shown(v));   // only named in the log line
        continue;
      }
      Object value = value(where, flag, cfg, v);
      if (value != null) values.put(flag.configKey(), value);
    }
    return new Read(app, values, notes);
  }

  private static String appName(App app) {
    return app.name().toLowerCase(Locale.ROOT);
  }

  private static App appOf(Path file, List<String> keys) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.contains("nsqlookupd")) return App.NSQLOOKUPD;
    if (name.contains("nsqadmin")) return App.NSQADMIN;
    if (name.contains("nsqd")) return App.NSQD;
    boolean admin = false;
    boolean lookupd = false;
    boolean nsqdOnly = false;
    for (String k : keys) {
      String cfg = k.replace('-', '_');
      admin |= ADMIN_ONLY.contains(cfg);
      lookupd |= LOOKUPD_ONLY.contains(cfg);
      nsqdOnly |= !LOOKUPD.containsKey(cfg) && !ADMIN.containsKey(cfg) && !ADMIN_IGNORED.contains(cfg);
    }
    if (admin) return App.NSQADMIN;
    if (lookupd && !nsqdOnly) return App.NSQLOOKUPD;
    return App.NSQD;
  }

  /** Our flag for a key of that program's file, or null. */
  private static String flagOf(App app, String cfg) {
    switch (app) {
      case NSQLOOKUPD: return LOOKUPD.get(cfg);
      case NSQADMIN: return ADMIN.get(cfg);
      default:
        if (NSQD_RENAMED.containsKey(cfg)) return NSQD_RENAMED.get(cfg);
        String name = cfg.replace('_', '-');
        return NodeFlags.named(name) == null ? null : name;
    }
  }

  /** A TOML value as the flag's value; null leaves the built-in default (nsqd's empty tls_min_version). */
  private static Object value(String where, NodeFlags.Flag flag, String cfg, JsonNode v) {
    FlagValues.Type type = FlagValues.type(flag);
    if (flag.name().equals("tls-min-version") && v.isTextual() && v.asText().isEmpty()) return null;
    if (flag.name().equals("log-level") && v.isIntegralNumber()) {
      // nsqd before 1.2 wrote the level as a number, 1 (debug) to 5 (fatal)
      int n = v.asInt();
      String[] names = {"debug", "info", "warn", "error", "fatal"};
      if (n < 1 || n > 5) throw new ConfigProblem(where + " = " + n + ": not a log level (debug, info, warn, error, fatal, or 1..5)");
      return names[n - 1];
    }
    switch (type) {
      case BOOL:
        if (!v.isBoolean()) throw new ConfigProblem(where + " = " + shown(v) + ": not a boolean (true or false)");
        return v.asBoolean();
      case NUMBER:
      case BYTES:
        if (!v.isNumber()) throw new ConfigProblem(where + " = " + shown(v) + ": not a number");
        return v.isIntegralNumber() ? (Object) v.asLong() : (Object) v.asDouble();
      case DURATION:
        if (v.isNumber()) {
          throw new ConfigProblem(where + " = " + shown(v) + ": a duration needs a unit, e.g. \"" + v.asText()
              + "s\" (ns, us, ms, s, m, h)");
        }
        Long nanos = v.isTextual() ? FlagValues.goDurationNanos(v.asText()) : null;
        if (nanos == null) {
          throw new ConfigProblem(where + " = " + shown(v) + ": not a duration (e.g. \"2s\", \"1m30s\"; units ns, us,"
              + " ms, s, m, h)");
        }
        return nanos + "ns";
      case LIST: {
        List<Object> out = new ArrayList<>();
        if (v.isArray()) {
          for (JsonNode e : v) out.add(element(where, flag, e));
        } else {
          out.add(element(where, flag, v));
        }
        return out;
      }
      default:
        if (v.isTextual()) return v.asText();
        if (v.isNumber() || v.isBoolean()) return v.asText();   // tls_required = false, rpc ports as numbers
        throw new ConfigProblem(where + " = " + shown(v) + ": not a string");
    }
  }

  private static Object element(String where, NodeFlags.Flag flag, JsonNode e) {
    if (flag.kind() == NodeFlags.Kind.NUMBERS) {
      if (!e.isNumber()) throw new ConfigProblem(where + ": " + shown(e) + " is not a number");
      return e.asDouble();
    }
    if (!e.isTextual()) throw new ConfigProblem(where + ": " + shown(e) + " is not a string");
    return e.asText();
  }

  private static String shown(JsonNode v) {
    return v.isTextual() ? "\"" + v.asText() + "\"" : v.toString();
  }
}
