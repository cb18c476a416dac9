package io.jnsq.app;

import java.util.List;

/**
 * The flags of {@code bin/jnsq node}: each is nsqd's flag name, the same key in the {@code jnsq} block
 * of the HOCON config, and a description. Help text and config overrides are both generated from here,
 * so the two cannot drift apart.
 */
final class NodeFlags {
  private NodeFlags() {}

  /** One flag; its default comes from the built-in configuration. */
  /**
   * VALUE takes one value; BOOL may stand alone (= true); NUMBERS and STRINGS repeat or take a comma list;
   * IGNORED is one of nsqd's flags that means nothing here: accepted (alone or with a value), and logged
   * once as ignored.
   */
  enum Kind { VALUE, BOOL, NUMBERS, STRINGS, IGNORED }

  record Flag(String name, String description, Kind kind) {
    Flag(String name, String description) { this(name, description, Kind.VALUE); }

    boolean bool() { return kind == Kind.BOOL; }

    boolean ignored() { return kind == Kind.IGNORED; }

    /** The flag's names on the command line: Go's one dash and two. */
    String[] names() { return new String[] {"--" + name, "-" + name}; }

    String configKey() { return "jnsq." + name; }
  }

  private static final String IGNORED_WHY = "accepted for nsqd's sake and ignored: each channel times out its"
      + " in-flight and deferred messages on its own timers, so there is no queue scan to tune";

  static final List<Flag> ALL = List.of(
      new Flag("log-level", "log verbosity: debug, info, warn, error or fatal (logged as error)"),
      new Flag("log-prefix", "text put before every log line, e.g. \"[nsqd] \" as nsqd does (empty: none)"),
      new Flag("verbose", "the same as --log-level=debug (nsqd's older flag)", Kind.BOOL),
      new Flag("bind", "host (IP) for every listener whose own --*-address is not given: TCP, HTTP, HTTPS, lookup"
          + " TCP and HTTP, admin; e.g. 127.0.0.1 for this machine only (not in nsqd)"),
      new Flag("tcp-address", "host:port where TCP clients connect"),
      new Flag("http-address", "host:port of the HTTP API (empty: no HTTP API)"),
      new Flag("broadcast-address", "name other nodes and clients use to reach this one (empty: the host name)"),
      new Flag("broadcast-tcp-port", "TCP port announced to lookup, e.g. the outside port of a NAT or container"
          + " port mapping (0: the port --tcp-address listens on)"),
      new Flag("broadcast-http-port", "HTTP port announced to lookup and used in --statsd-prefix"
          + " (0: the port --http-address listens on)"),
      new Flag("node-id", "0..1023, mixed into every message id (-1: derived from the host name)"),
      new Flag("data-path", "directory for on-disk queues and metadata (empty: the working directory)"),
      new Flag("mem-queue-size", "accepted for nsqd's sake: a topic's log keeps its tail in memory by bytes (--mem-budget),"
          + " not by count; only memory-only (ephemeral) topics and channels still drop beyond this many messages"),
      new Flag("mem-budget", "bytes of off-heap memory for the recent tails of all topic logs (0: a quarter of the"
          + " heap's maximum); older messages are read back from the log's files"),
      new Flag("max-bytes-per-file", "size of one topic log segment file, in bytes"),
      new Flag("sync-every", "messages written to a topic log between fsyncs"),
      new Flag("sync-timeout", "longest time between fsyncs of a topic log (and between saves of channel cursors)"),
      new Flag("durable", "answer PUB/MPUB/DPUB only once the messages are fsync'd to disk; with it a crash loses"
          + " no acknowledged message (--durable or --durable=false)", Kind.BOOL),
      new Flag("max-msg-size", "largest message body accepted, in bytes"),
      new Flag("max-body-size", "largest command body (MPUB, IDENTIFY, AUTH) accepted, in bytes"),
      new Flag("msg-timeout", "how long a delivered message may go unanswered before it is requeued"),
      new Flag("max-msg-timeout", "upper bound for a client's msg_timeout and for TOUCH extensions"),
      new Flag("max-req-timeout", "upper bound for a REQ delay and for a deferred publish"),
      new Flag("max-rdy-count", "highest RDY a client may send"),
      new Flag("max-heartbeat-interval", "upper bound for a client's heartbeat_interval"),
      new Flag("client-timeout", "silence after which a client is dropped; heartbeats go out every half of it"),
      new Flag("max-output-buffer-size", "upper bound for a client's output_buffer_size, in bytes"),
      new Flag("max-output-buffer-timeout", "upper bound for a client's output_buffer_timeout"),
      new Flag("min-output-buffer-timeout", "lower bound for a client's output_buffer_timeout"),
      new Flag("output-buffer-timeout", "output_buffer_timeout of clients that do not choose one"),
      new Flag("max-channel-consumers", "consumers allowed on one channel (0: no limit)"),
      new Flag("max-attempts", "deliveries after which a message of a channel without settings of its own goes to its"
          + " dead-letter topic, or is dropped when it has none (0: no limit; /channel/settings sets it per channel)"),
      new Flag("dead-letter-topic-suffix", "dead-letter topic of channels without settings of their own: topic T's"
          + " channels dead-letter to T plus this suffix, e.g. .dead (empty: none)"),
      new Flag("message-ttl", "a message older than this is never delivered, for channels without settings of their"
          + " own (0s: no limit; /topic/settings and /channel/settings set it per topic and channel)"),
      new Flag("max-connections", "TCP clients allowed at once (0: no limit); a client beyond it gets E_TOO_MANY_CONNECTIONS after its magic, then the close"),
      new Flag("max-deflate-level", "highest deflate level a client may negotiate (1..9)"),
      new Flag("deflate", "let clients negotiate deflate compression (--deflate=false to refuse)", Kind.BOOL),
      new Flag("tls-cert", "PEM certificate (chain); with --tls-key, clients may upgrade to TLS in IDENTIFY"),
      new Flag("tls-key", "PEM private key (PKCS#8) of --tls-cert"),
      new Flag("tls-root-ca-file", "PEM CA that client certificates must chain to"),
      new Flag("tls-client-auth-policy", "require or require-verify: clients must present a certificate"),
      new Flag("tls-required", "false, true (TCP must upgrade, plain HTTP refused) or tcp-https (TCP must upgrade);"
          + " alone: true", Kind.BOOL),
      new Flag("tls-min-version", "lowest TLS version: tls1.0, tls1.1, tls1.2, tls1.3"),
      new Flag("https-address", "host:port of the HTTPS API (only with --tls-cert)"),
      new Flag("snappy", "let clients negotiate snappy compression (--snappy=false to refuse)", Kind.BOOL),
      new Flag("e2e-processing-latency-percentile",
          "publish-to-FIN latency percentiles to track per channel, e.g. 0.99,0.95 (repeatable)", Kind.NUMBERS),
      new Flag("e2e-processing-latency-window-time", "time window those latency percentiles cover"),
      new Flag("cluster-address", "host:port this node listens on for the other nodes of its cluster"),
      new Flag("seed-node", "cluster address (host:port) of a node to join (repeatable); none: a cluster of its own",
          Kind.STRINGS),
      new Flag("lookup-http-address", "host:port of nsqlookupd's HTTP API, served from the cluster (empty: off)"),
      new Flag("lookup-tcp-address", "host:port of nsqlookupd's TCP protocol, where nsqd processes register (empty: off)"),
      new Flag("admin-http-address", "host:port of the admin UI and nsqadmin's /api, showing the whole cluster (empty: off)"),
      new Flag("admin-base-path", "URL path prefix the admin UI and its /api are served under, e.g. /nsqadmin"
          + " behind a proxy (nsqadmin's --base-path)"),
      new Flag("admin-notification-http-endpoint", "URL that each admin action is POSTed to as nsqadmin's JSON"
          + " (nsqadmin's --notification-http-endpoint; empty: none)"),
      new Flag("admin-acl-http-header", "request header that names the user, as an auth proxy sets it"
          + " (nsqadmin's --acl-http-header)"),
      new Flag("admin-user", "a user (by --admin-acl-http-header) allowed to act in the admin UI (repeatable;"
          + " none: everyone; nsqadmin's --admin-user)", Kind.STRINGS),
      new Flag("lookupd-tcp-address", "an external nsqlookupd (host:port) to register with, as nsqd does (repeatable)",
          Kind.STRINGS),
      new Flag("replicas", "nodes that keep each new topic, through Raft (Apache Ratis): a publish is answered once a"
          + " majority has it; 1: this node only, as nsqd (not in nsqd)"),
      new Flag("raft-address", "host:port of this node's Raft server, with --replicas above 1; it names this node's"
          + " replicas, so keep it across restarts (empty: --tcp-address's port + 3; not in nsqd)"),
      new Flag("raft-groups", "Raft groups the replicated topics are spread over, many topics per group (not in nsqd)"),
      new Flag("replication-timeout", "longest wait for a replicated publish to commit before E_PUB_FAILED (not in nsqd)"),
      new Flag("tombstone-lifetime", "how long /topic/tombstone hides a node from /lookup of that topic"),
      new Flag("auth-http-address", "auth server (host:port or URL) asked by AUTH, as nsqd does (repeatable); set = auth required",
          Kind.STRINGS),
      new Flag("auth-match", "how the auth server's topic and channel patterns match a name: whole (the whole name)"
          + " or nsqd (anywhere in it, as nsqd does, for servers written for nsqd)"),
      new Flag("http-client-connect-timeout", "connect timeout of calls to auth servers"),
      new Flag("http-client-request-timeout", "whole-request timeout of calls to auth servers"),
      new Flag("inactive-producer-timeout", "an nsqd registered over TCP that has not pinged for this long is dropped"),
      new Flag("statsd-address", "host:port of a statsd server to push stats to over UDP (empty: no push)"),
      new Flag("statsd-prefix", "prefix of every statsd name; %s becomes this node's broadcast address and HTTP port"),
      new Flag("statsd-interval", "time between two statsd pushes"),
      new Flag("statsd-mem-stats", "also push the JVM's memory as nsqd's mem.* gauges (--statsd-mem-stats=false: not)",
          Kind.BOOL),
      new Flag("statsd-udp-packet-size", "largest UDP packet of a statsd push, in bytes"),
      new Flag("statsd-exclude-ephemeral", "leave #ephemeral topics and channels out of statsd pushes", Kind.BOOL),
      new Flag("queue-scan-interval", IGNORED_WHY, Kind.IGNORED),
      new Flag("queue-scan-refresh-interval", IGNORED_WHY, Kind.IGNORED),
      new Flag("queue-scan-selection-count", IGNORED_WHY, Kind.IGNORED),
      new Flag("queue-scan-worker-pool-max", IGNORED_WHY, Kind.IGNORED),
      new Flag("queue-scan-dirty-percent", IGNORED_WHY, Kind.IGNORED),
      new Flag("worker-id", "accepted for nsqd's sake and ignored (nsqd's older name of --node-id, with no effect there"
          + " either)", Kind.IGNORED));

  /** The flag of that name, or null. */
  static Flag named(String name) {
    for (Flag f : ALL) if (f.name().equals(name)) return f;
    return null;
  }
}
