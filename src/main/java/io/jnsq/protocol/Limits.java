package io.jnsq.protocol;

/** The node's size and range limits the decoder enforces (nsqd's flags of the same names). */
public record Limits(long maxMsgSize, long maxBodySize, long maxRdyCount, long maxReqTimeoutMs) {

  /** nsqd's defaults. */
  public static Limits defaults() { return new Limits(1048576, 5242880, 2500, 3600000); }
}
