package io.jnsq.broker;

/**
 * How a connection introduced itself, fixed once it subscribes (IDENTIFY is only allowed before SUB):
 * the fields nsqd reports for each client in {@code /stats}.
 */
public record ClientInfo(
    long connectionId,
    String clientId,
    String hostname,
    String userAgent,
    String remoteAddress,
    long connectTs,
    int sampleRate,
    boolean tls,
    boolean snappy,
    boolean deflate) {}
