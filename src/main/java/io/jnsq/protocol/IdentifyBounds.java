package io.jnsq.protocol;

/** The node's bounds and defaults for what a client may ask in IDENTIFY (all times in milliseconds). */
public record IdentifyBounds(
    long maxHeartbeatIntervalMs,
    long maxOutputBufferSize,
    long minOutputBufferTimeoutMs,
    long maxOutputBufferTimeoutMs,
    long maxMsgTimeoutMs,
    long defaultHeartbeatIntervalMs,
    long defaultOutputBufferSize,
    long defaultOutputBufferTimeoutMs,
    long defaultMsgTimeoutMs,
    int maxDeflateLevel) {

  /** nsqd's defaults. */
  public static IdentifyBounds defaults() {
    return new IdentifyBounds(60000, 65536, 25, 30000, 900000, 30000, 16384, 250, 60000, 6);
  }
}
