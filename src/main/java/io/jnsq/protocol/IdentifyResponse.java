package io.jnsq.protocol;

/** The JSON answer to IDENTIFY with feature negotiation, rendered with nsqd's exact key order. */
public record IdentifyResponse(
    long maxRdyCount,
    String version,
    long maxMsgTimeoutMs,
    long msgTimeoutMs,
    boolean tlsV1,
    boolean deflate,
    long deflateLevel,
    long maxDeflateLevel,
    boolean snappy,
    int sampleRate,
    boolean authRequired,
    long outputBufferSize,
    long outputBufferTimeoutMs) {

  /** Clients find the JSON form by its first byte, {@code {}, and some read the keys in this order. */
  public String toJson() {
    return "{\"max_rdy_count\":" + maxRdyCount
        + ",\"version\":\"" + version + "\""
        + ",\"max_msg_timeout\":" + maxMsgTimeoutMs
        + ",\"msg_timeout\":" + msgTimeoutMs
        + ",\"tls_v1\":" + tlsV1
        + ",\"deflate\":" + deflate
        + ",\"deflate_level\":" + deflateLevel
        + ",\"max_deflate_level\":" + maxDeflateLevel
        + ",\"snappy\":" + snappy
        + ",\"sample_rate\":" + sampleRate
        + ",\"auth_required\":" + authRequired
        + ",\"output_buffer_size\":" + outputBufferSize
        + ",\"output_buffer_timeout\":" + outputBufferTimeoutMs + "}";
  }
}
