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
  record Flag(String name, String description) {
    String configKey() { return "jnsq." + name; }
  }

  static final List<Flag> ALL = List.of(
      new Flag("tcp-address", "<addr>:<port> to listen on for TCP clients"),
      new Flag("http-address", "<addr>:<port> to listen on for HTTP clients (empty to disable)"),
      new Flag("broadcast-address", "address this node announces to lookup (empty = host name)"),
      new Flag("node-id", "unique part for message IDs, 0..1023 (-1 = derived from the host name)"),
      new Flag("data-path", "path to store disk-backed messages and metadata (empty = current directory)"),
      new Flag("mem-queue-size", "number of messages to keep in memory (per topic/channel)"),
      new Flag("max-msg-size", "maximum size of a single message in bytes"),
      new Flag("max-body-size", "maximum size of a single command body (MPUB, IDENTIFY, AUTH)"),
      new Flag("msg-timeout", "default duration to wait before auto-requeueing a message"),
      new Flag("max-msg-timeout", "maximum duration before a message will timeout (IDENTIFY msg_timeout, TOUCH)"),
      new Flag("max-req-timeout", "maximum requeuing timeout for a message (REQ, DPUB, /pub?defer=)"),
      new Flag("max-rdy-count", "maximum RDY count for a client"),
      new Flag("max-heartbeat-interval", "maximum client configurable duration of time between client heartbeats"),
      new Flag("client-timeout", "time without a command after which a client is dropped; heartbeats go at half of it"),
      new Flag("max-output-buffer-size", "maximum client configurable size (in bytes) for a client output buffer"),
      new Flag("max-output-buffer-timeout", "maximum client configurable duration of time between flushing to a client"),
      new Flag("min-output-buffer-timeout", "minimum client configurable duration of time between flushing to a client"),
      new Flag("output-buffer-timeout", "default duration of time between flushing data to clients"),
      new Flag("max-channel-consumers", "maximum channel consumer connection count per nsqd instance (0 = unlimited)"),
      new Flag("max-deflate-level", "maximum deflate compression level a client can negotiate (> values == > nsqd CPU usage)"),
      new Flag("e2e-processing-latency-percentile",
          "message processing time percentiles to keep track of, e.g. 1.0,0.99,0.95 (repeatable or comma separated)"),
      new Flag("e2e-processing-latency-window-time", "how long a window of e2e processing latency covers"));
}
