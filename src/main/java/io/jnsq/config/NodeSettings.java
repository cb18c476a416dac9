package io.jnsq.config;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * Every setting of a node, loaded once at start from the {@code jnsq} block of the configuration
 * (built-in defaults, then {@code config/jnsq.conf}, then command-line flags).
 */
public record NodeSettings(
    HostPort tcpAddress,
    HostPort httpAddress,   // null: no HTTP API
    String broadcastAddress,
    int broadcastTcpPort,    // 0: the port the TCP listener is bound to
    int broadcastHttpPort,   // 0: the port the HTTP listener is bound to
    String logLevel,         // debug, info, warn, error or fatal
    String logPrefix,
    int nodeId,
    String dataPath,
    long memQueueSize,
    long memBudget,         // bytes of off-heap memory for the tails of topic logs (0: a quarter of the heap's maximum)
    long maxBytesPerFile,
    long syncEvery,
    Duration syncTimeout,
    boolean durable,
    long maxMsgSize,
    long maxBodySize,
    Duration msgTimeout,
    Duration maxMsgTimeout,
    Duration maxReqTimeout,
    long maxRdyCount,
    Duration maxHeartbeatInterval,
    Duration clientTimeout,
    long maxOutputBufferSize,
    Duration maxOutputBufferTimeout,
    Duration minOutputBufferTimeout,
    Duration outputBufferTimeout,
    int maxChannelConsumers,
    int maxAttempts,                 // 0: no limit (channels without settings of their own)
    String deadLetterTopicSuffix,    // "": no dead-letter topic by default
    Duration messageTtl,             // zero: no limit
    int maxConnections,
    int maxDeflateLevel,
    boolean deflate,
    boolean snappy,
    String tlsCert,
    String tlsKey,
    String tlsRootCaFile,
    String tlsClientAuthPolicy,
    String tlsRequired,
    String tlsMinVersion,
    HostPort httpsAddress,
    List<Double> e2eProcessingLatencyPercentiles,
    Duration e2eProcessingLatencyWindowTime,
    HostPort clusterAddress,
    List<String> seedNodes,
    HostPort lookupHttpAddress,   // null: no lookup HTTP API
    HostPort lookupTcpAddress,    // null: no lookup TCP server
    HostPort adminHttpAddress,    // null: no admin UI
    String adminBasePath,         // "" for the root, else "/prefix" without a trailing slash
    String adminNotificationHttpEndpoint,
    String adminAclHttpHeader,
    List<String> adminUsers,
    List<String> lookupdTcpAddresses,
    Duration tombstoneLifetime,
    Duration inactiveProducerTimeout,
    List<String> authHttpAddresses,
    String authMatch,         // whole or nsqd
    Duration httpClientConnectTimeout,
    Duration httpClientRequestTimeout,
    HostPort statsdAddress,   // null: no statsd push
    String statsdPrefix,      // still with nsqd's %s (see metrics.StatsdPusher)
    Duration statsdInterval,
    boolean statsdMemStats,
    int statsdUdpPacketSize,
    boolean statsdExcludeEphemeral,
    ReplicationSettings replication) {

  /** The version string reported to clients; NSQ clients expect an nsqd-compatible one. */
  public static final String NSQ_VERSION = "1.3.0";

  /** Reads the {@code jnsq} block of {@code config}, which must contain every key (the defaults file does). */
  public static NodeSettings fromConfig(Config root) {
    Config c = root.getConfig("jnsq");
    String host = hostName();
    String broadcast = c.getString("broadcast-address");
    int nodeId = c.getInt("node-id");
    return new NodeSettings(
        HostPort.parse(c.getString("tcp-address")),
        c.getString("http-address").isBlank() ? null : HostPort.parse(c.getString("http-address")),
        broadcast.isEmpty() ? host : broadcast,
        c.getInt("broadcast-tcp-port"),
        c.getInt("broadcast-http-port"),
        c.getBoolean("verbose") ? "debug" : c.getString("log-level").trim().toLowerCase(java.util.Locale.ROOT),
        c.getString("log-prefix"),
        nodeId < 0 ? Math.floorMod(host.hashCode(), 1024) : nodeId,
        c.getString("data-path").isEmpty() ? System.getProperty("user.dir") : c.getString("data-path"),
        c.getLong("mem-queue-size"),
        c.getBytes("mem-budget"),
        c.getBytes("max-bytes-per-file"),
        c.getLong("sync-every"),
        c.getDuration("sync-timeout"),
        c.getBoolean("durable"),
        c.getBytes("max-msg-size"),
        c.getBytes("max-body-size"),
        c.getDuration("msg-timeout"),
        c.getDuration("max-msg-timeout"),
        c.getDuration("max-req-timeout"),
        c.getLong("max-rdy-count"),
        c.getDuration("max-heartbeat-interval"),
        c.getDuration("client-timeout"),
        c.getBytes("max-output-buffer-size"),
        c.getDuration("max-output-buffer-timeout"),
        c.getDuration("min-output-buffer-timeout"),
        c.getDuration("output-buffer-timeout"),
        c.getInt("max-channel-consumers"),
        c.getInt("max-attempts"),
        suffix(c.getString("dead-letter-topic-suffix").trim()),
        c.getDuration("message-ttl"),
        c.getInt("max-connections"),
        c.getInt("max-deflate-level"),
        c.getBoolean("deflate"),
        c.getBoolean("snappy"),
        c.getString("tls-cert"),
        c.getString("tls-key"),
        c.getString("tls-root-ca-file"),
        c.getString("tls-client-auth-policy"),
        c.getString("tls-required"),
        c.getString("tls-min-version"),
        HostPort.parse(c.getString("https-address")),
        List.copyOf(c.getDoubleList("e2e-processing-latency-percentile")),
        c.getDuration("e2e-processing-latency-window-time"),
        HostPort.parse(c.getString("cluster-address")),
        List.copyOf(c.getStringList("seed-node")),
        c.getString("lookup-http-address").isBlank() ? null : HostPort.parse(c.getString("lookup-http-address")),
        c.getString("lookup-tcp-address").isBlank() ? null : HostPort.parse(c.getString("lookup-tcp-address")),
        c.getString("admin-http-address").isBlank() ? null : HostPort.parse(c.getString("admin-http-address")),
        basePath(c.getString("admin-base-path")),
        c.getString("admin-notification-http-endpoint").trim(),
        c.getString("admin-acl-http-header").trim(),
        List.copyOf(c.getStringList("admin-user")),
        List.copyOf(c.getStringList("lookupd-tcp-address")),
        c.getDuration("tombstone-lifetime"),
        c.getDuration("inactive-producer-timeout"),
        List.copyOf(c.getStringList("auth-http-address")),
        c.getString("auth-match").trim().toLowerCase(java.util.Locale.ROOT),
        c.getDuration("http-client-connect-timeout"),
        c.getDuration("http-client-request-timeout"),
        c.getString("statsd-address").isBlank() ? null : HostPort.parse(c.getString("statsd-address")),
        c.getString("statsd-prefix"),
        positive(c.getDuration("statsd-interval"), "statsd-interval"),
        c.getBoolean("statsd-mem-stats"),
        packetSize(c.getInt("statsd-udp-packet-size")),
        c.getBoolean("statsd-exclude-ephemeral"),
        ReplicationSettings.fromConfig(c, HostPort.parse(c.getString("tcp-address"))));
  }

  /** "/" and "" are the root (""); "/x/" and "x" become "/x". */
  private static String basePath(String p) {
    String trimmed = p.trim();
    while (trimmed.endsWith("/")) trimmed = trimmed.substring(0, trimmed.length() - 1);
    if (trimmed.isEmpty()) return "";
    if (!trimmed.startsWith("/")) trimmed = "/" + trimmed;
    if (!trimmed.matches("(/[A-Za-z0-9._~-]+)+")) {
      throw new IllegalArgumentException("--admin-base-path must be a path such as /nsqadmin, got \"" + p + "\"");
    }
    return trimmed;
  }

  /** A suffix that makes a valid topic name of any valid one (its characters, at most 32 of them). */
  private static String suffix(String s) {
    if (!s.matches("[.a-zA-Z0-9_-]{0,32}")) {
      throw new IllegalArgumentException("--dead-letter-topic-suffix must be up to 32 of . a-z A-Z 0-9 _ -, got \"" + s + "\"");
    }
    return s;
  }

  /** Room for at least one line of a push, and no more than a UDP datagram carries. */
  private static int packetSize(int size) {
    if (size < 64 || size > 65_507) {
      throw new IllegalArgumentException("--statsd-udp-packet-size must be 64..65507 bytes, got " + size);
    }
    return size;
  }

  private static Duration positive(Duration d, String flag) {
    if (d.isZero() || d.isNegative()) throw new IllegalArgumentException("--" + flag + " must be positive, got " + d);
    return d;
  }

  /** The default heartbeat interval: half the client timeout, as nsqd does. */
  public Duration heartbeatInterval() { return clientTimeout.dividedBy(2); }

  /** The settings every channel needs, cut out of the node's. */
  public ChannelSettings channelSettings() {
    return new ChannelSettings(memQueueSize, msgTimeout, maxMsgTimeout, maxChannelConsumers,
        e2eProcessingLatencyPercentiles, e2eProcessingLatencyWindowTime, maxAttempts, deadLetterTopicSuffix, messageTtl);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
