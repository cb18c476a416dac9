package io.jnsq.protocol;

/** What the node offers in feature negotiation, and the limits it reports back in the IDENTIFY answer. */
public record NodeFeatures(
    boolean tls,
    boolean snappy,
    boolean deflate,
    int maxDeflateLevel,
    boolean authRequired,
    long maxRdyCount,
    long maxMsgTimeoutMs,
    String version) {}
