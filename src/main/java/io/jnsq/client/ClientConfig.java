package io.jnsq.client;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link Producer} or {@link Consumer}, named and defaulted as go-nsq's {@code Config}
 * ({@link #set(String, String)} takes go-nsq's option names, e.g. {@code max_attempts}, {@code snappy},
 * {@code tls_v1}). Change it before handing it to a client; the client reads it once.
 */
public final class ClientConfig {
  // connection
  Duration dialTimeout = Duration.ofSeconds(1);
  Duration readTimeout = Duration.ofSeconds(60);
  Duration writeTimeout = Duration.ofSeconds(1);
  String clientId = shortHostname();
  String hostname = fullHostname();
  String userAgent = "jnsq-client/0.1";
  Duration heartbeatInterval = Duration.ofSeconds(30);
  int sampleRate;
  int outputBufferSize = 16384;
  Duration outputBufferTimeout = Duration.ofMillis(250);
  Duration msgTimeout = Duration.ZERO;
  // negotiated features
  boolean tlsV1;
  boolean tlsInsecureSkipVerify;
  String tlsRootCaFile;
  String tlsCert;
  String tlsKey;
  String tlsMinVersion = "tls1.2";
  SSLContext sslContext;
  boolean deflate;
  int deflateLevel = 6;
  boolean snappy;
  String authSecret;
  // consumer
  int maxInFlight = 1;
  int maxAttempts = 5;
  Duration lookupdPollInterval = Duration.ofSeconds(60);
  double lookupdPollJitter = 0.3;
  Duration defaultRequeueDelay = Duration.ofSeconds(90);
  Duration maxRequeueDelay = Duration.ofMinutes(15);
  Duration backoffMultiplier = Duration.ofSeconds(1);
  Duration maxBackoffDuration = Duration.ofMinutes(2);
  Duration rdyRedistributeInterval = Duration.ofSeconds(5);
  int concurrency = 1;
  boolean autoTouch;
  // producer
  Duration linger = Duration.ZERO;
  int batchSize = 256;
  int batchBytes = 1 << 20;
  Duration holdTimeout = Duration.ofSeconds(10);
  int holdSize = 10_000;

  /** Defaults as go-nsq's {@code NewConfig()}. */
  public ClientConfig() {}

  /**
   * Sets one option by go-nsq's name ({@code max_in_flight}, {@code max_attempts}, {@code snappy},
   * {@code deflate}, {@code deflate_level}, {@code tls_v1}, {@code tls_insecure_skip_verify},
   * {@code tls_root_ca_file}, {@code tls_cert}, {@code tls_key}, {@code tls_min_version},
   * {@code auth_secret}, {@code output_buffer_size}, {@code output_buffer_timeout},
   * {@code heartbeat_interval}, {@code msg_timeout}, {@code sample_rate}, {@code client_id},
   * {@code hostname}, {@code user_agent}, {@code dial_timeout}, {@code read_timeout},
   * {@code write_timeout}, {@code lookupd_poll_interval}, {@code lookupd_poll_jitter},
   * {@code default_requeue_delay}, {@code max_requeue_delay}, {@code backoff_multiplier},
   * {@code max_backoff_duration}, {@code rdy_redistribute_interval}) or by one of ours
   * ({@code concurrency}, {@code auto_touch}, {@code linger}, {@code batch_size}, {@code batch_bytes},
   * {@code hold_timeout}, {@code hold_size}).
   * Durations are Go's ({@code 250ms}, {@code 1m30s}) or plain milliseconds; booleans alone mean true.
   *
   * @throws IllegalArgumentException for an unknown name or a bad value
   */
  public ClientConfig set(String name, String value) {
    String v = value == null ? "" : value.trim();
    switch (name.trim().toLowerCase(Locale.ROOT).replace('-', '_')) {
      case "dial_timeout": dialTimeout = duration(name, v); break;
      case "read_timeout": readTimeout = duration(name, v); break;
      case "write_timeout": writeTimeout = duration(name, v); break;
      case "client_id": clientId = v; break;
      case "hostname": hostname = v; break;
      case "user_agent": userAgent = v; break;
      case "heartbeat_interval": heartbeatInterval = duration(name, v); break;
      case "sample_rate": sampleRate = integer(name, v, 0, 99); break;
      case "output_buffer_size": outputBufferSize = integer(name, v, -1, Integer.MAX_VALUE); break;
      case "output_buffer_timeout": outputBufferTimeout = duration(name, v); break;
      case "msg_timeout": msgTimeout = duration(name, v); break;
      case "tls_v1": tlsV1 = bool(name, v); break;
      case "tls_insecure_skip_verify": tlsInsecureSkipVerify = bool(name, v); tlsV1 |= tlsInsecureSkipVerify; break;
      case "tls_root_ca_file": tlsRootCaFile = v; tlsV1 = true; break;
      case "tls_cert": tlsCert = v; tlsV1 = true; break;
      case "tls_key": tlsKey = v; tlsV1 = true; break;
      case "tls_min_version": tlsMinVersion = v; break;
      case "deflate": deflate = bool(name, v); break;
      case "deflate_level": deflateLevel = integer(name, v, 1, 9); break;
      case "snappy": snappy = bool(name, v); break;
      case "auth_secret": authSecret = v; break;
      case "max_in_flight": maxInFlight = integer(name, v, 0, Integer.MAX_VALUE); break;
      case "max_attempts": maxAttempts = integer(name, v, 0, 65535); break;
      case "lookupd_poll_interval": lookupdPollInterval = duration(name, v); break;
      case "lookupd_poll_jitter": lookupdPollJitter = fraction(name, v); break;
      case "default_requeue_delay": defaultRequeueDelay = duration(name, v); break;
      case "max_requeue_delay": maxRequeueDelay = duration(name, v); break;
      case "backoff_multiplier": backoffMultiplier = duration(name, v); break;
      case "max_backoff_duration": maxBackoffDuration = duration(name, v); break;
      case "rdy_redistribute_interval": rdyRedistributeInterval = duration(name, v); break;
      case "concurrency": concurrency = integer(name, v, 1, 10000); break;
      case "auto_touch": autoTouch = bool(name, v); break;
      case "linger": linger = duration(name, v); break;
      case "batch_size": batchSize = integer(name, v, 1, 1_000_000); break;
      case "batch_bytes": batchBytes = integer(name, v, 1, Integer.MAX_VALUE); break;
      case "hold_timeout": holdTimeout = duration(name, v); break;
      case "hold_size": holdSize = integer(name, v, 0, Integer.MAX_VALUE); break;
      default: throw new IllegalArgumentException("unknown option " + name);
    }
    return this;
  }

  /** Parses go-nsq's {@code name,value} form of {@code -consumer-opt}/{@code -producer-opt} ({@code name} alone means true). */
  public ClientConfig setOption(String nameCommaValue) {
    int comma = nameCommaValue.indexOf(',');
    return comma < 0 ? set(nameCommaValue, "true") : set(nameCommaValue.substring(0, comma), nameCommaValue.substring(comma + 1));
  }

  /** Messages a consumer may hold at once over all its connections (go-nsq's {@code max_in_flight}, default 1). */
  public ClientConfig maxInFlight(int n) { return set("max_in_flight", Integer.toString(n)); }

  /** Deliveries after which a consumer logs and FINs a message instead of handling it (default 5, 0 = no limit). */
  public ClientConfig maxAttempts(int n) { return set("max_attempts", Integer.toString(n)); }

  /** Handler threads of a consumer (default 1). */
  public ClientConfig concurrency(int n) { return set("concurrency", Integer.toString(n)); }

  /** Asks nsqd for Snappy compression. */
  public ClientConfig snappy(boolean on) { snappy = on; return this; }

  /** Asks nsqd for Deflate compression at {@code level} (1-9). */
  public ClientConfig deflate(boolean on, int level) { deflate = on; return set("deflate_level", Integer.toString(level)); }

  /** Upgrades to TLS in IDENTIFY with this context (its key managers give the client certificate, if any). */
  public ClientConfig tls(SSLContext context) { sslContext = context; tlsV1 = true; return this; }

  /** The secret sent with AUTH when nsqd asks for it. */
  public ClientConfig authSecret(String secret) { authSecret = secret; return this; }

  /** How long a producer waits for more publishes to batch into one MPUB (default 0: only what is queued already). */
  public ClientConfig linger(Duration d) { linger = d; return this; }

  /** Largest number of single publishes a producer puts into one MPUB (default 256). */
  public ClientConfig batchSize(int n) { return set("batch_size", Integer.toString(n)); }

  /**
   * How long a producer holds a publish while it has no connection to nsqd (reconnecting with
   * backoff) before failing it (default 10 s; 0 fails such publishes at once).
   */
  public ClientConfig holdTimeout(Duration d) { holdTimeout = d; return this; }

  /** How many publishes a producer holds at most while it has no connection; more fail at once (default 10,000). */
  public ClientConfig holdSize(int n) { return set("hold_size", Integer.toString(n)); }

  /** TOUCH each in-flight message at half its msg_timeout while the handler runs. */
  public ClientConfig autoTouch(boolean on) { autoTouch = on; return this; }

  /** How often a consumer asks each lookupd for the topic's producers (default 60 s). */
  public ClientConfig lookupdPollInterval(Duration d) { lookupdPollInterval = d; return this; }

  /** The base of a consumer's exponential backoff after failed messages (default 1 s). */
  public ClientConfig backoffMultiplier(Duration d) { backoffMultiplier = d; return this; }

  /** The delay of a REQ when a handler fails: this times the attempts, up to max_requeue_delay (default 90 s). */
  public ClientConfig defaultRequeueDelay(Duration d) { defaultRequeueDelay = d; return this; }

  /** A consumer's {@code max_in_flight}. */
  public int maxInFlightValue() { return maxInFlight; }

  /** The handler threads a consumer will use. */
  public int concurrencyValue() { return concurrency; }

  /** Sets the user agent sent in IDENTIFY. */
  public ClientConfig userAgent(String ua) { userAgent = ua; return this; }

  private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  /** Go's {@code time.ParseDuration} subset ({@code 1h2m3.5s}, {@code 250ms}), or a bare number of milliseconds. */
  public static Duration parseDuration(String v) {
    String s = v.trim();
    if (s.matches("\\d+")) return Duration.ofMillis(Long.parseLong(s));
    if (s.equals("0")) return Duration.ZERO;
    Matcher m = GO_DURATION.matcher(s);
    int at = 0;
    double nanos = 0;
    while (m.find() && m.start() == at) {
      double n = Double.parseDouble(m.group(1));
      switch (m.group(2)) {
        case "ns": nanos += n; break;
        case "us": case "µs": nanos += n * 1e3; break;
        case "ms": nanos += n * 1e6; break;
        case "s": nanos += n * 1e9; break;
        case "m": nanos += n * 60e9; break;
        default: nanos += n * 3600e9;
      }
      at = m.end();
    }
    if (at == 0 || at != s.length()) throw new IllegalArgumentException("bad duration " + v);
    return Duration.ofNanos((long) nanos);
  }

  private static Duration duration(String name, String v) {
    try {
      return parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("option " + name + ": bad duration " + v);
    }
  }

  private static int integer(String name, String v, int min, int max) {
    try {
      int n = Integer.parseInt(v);
      if (n < min || n > max) throw new IllegalArgumentException("option " + name + ": " + v + " not in " + min + ".." + max);
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option " + name + ": not a number: " + v);
    }
  }

  private static double fraction(String name, String v) {
    try {
      double d = Double.parseDouble(v);
      if (d < 0 || d > 1) throw new IllegalArgumentException("option " + name + ": " + v + " not in 0..1");
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option " + name + ": not a number: " + v);
    }
  }

  private static boolean bool(String name, String v) {
    switch (v.toLowerCase(Locale.ROOT)) {
      case "": case "true": case "1": case "t": return true;
      case "false": case "0": case "f": return false;
      default: throw new IllegalArgumentException("option " + name + ": not a boolean: " + v);
    }
  }

  private static String fullHostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }

  private static String shortHostname() {
    String h = fullHostname();
    int dot = h.indexOf('.');
    return dot > 0 ? h.substring(0, dot) : h;
  }
}
