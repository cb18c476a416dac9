package io.jnsq.tcp;

import io.jnsq.auth.AuthServers;
import io.jnsq.config.NodeSettings;
import io.jnsq.protocol.IdentifyBounds;
import io.jnsq.protocol.Limits;
import io.jnsq.protocol.NodeFeatures;
import java.time.Duration;

/** What a connection needs of the node's settings, derived once at start. */
public record SessionSettings(
    Limits limits,
    IdentifyBounds identifyBounds,
    NodeFeatures features,
    Duration msgTimeout,
    Duration heartbeatInterval,
    Duration clientTimeout,
    Duration maxReqTimeout,
    int maxPendingPublishes,
    long maxOutputBacklog,
    AuthServers auth,     // shared with the HTTP API's checks
    int maxConnections,   // 0: no limit
    TlsContexts tls,      // null: no TLS
    boolean tlsRequired) {   // null: no auth servers, AUTH is disabled

  /** Publishes a connection may have waiting for their topic before it stops reading more. */
  static final int MAX_PENDING_PUBLISHES = 64;
  /** Bytes a connection may have waiting for the socket before it stops reading more commands. */
  static final long MAX_OUTPUT_BACKLOG = 4L << 20;

  public static SessionSettings from(NodeSettings s) {
    TlsContexts tls = null;
    if (!s.tlsCert().isEmpty() || !s.tlsKey().isEmpty()) {
      try {
        tls = TlsContexts.load(s.tlsCert(), s.tlsKey(), s.tlsRootCaFile(), s.tlsClientAuthPolicy(), s.tlsMinVersion());
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
    boolean tlsRequired = tls != null && (!s.tlsRequired().equals("false") || !s.tlsClientAuthPolicy().isEmpty());
    Limits limits = new Limits(s.maxMsgSize(), s.maxBodySize(), s.maxRdyCount(), s.maxReqTimeout().toMillis());
    IdentifyBounds bounds = new IdentifyBounds(
        s.maxHeartbeatInterval().toMillis(), s.maxOutputBufferSize(), s.minOutputBufferTimeout().toMillis(),
        s.maxOutputBufferTimeout().toMillis(), s.maxMsgTimeout().toMillis(), s.heartbeatInterval().toMillis(),
        16384, s.outputBufferTimeout().toMillis(), s.msgTimeout().toMillis(), s.maxDeflateLevel());
    AuthServers auth = s.authHttpAddresses().isEmpty() ? null
        : new AuthServers(s.authHttpAddresses(), s.httpClientConnectTimeout(), s.httpClientRequestTimeout());
    NodeFeatures features = new NodeFeatures(tls != null, s.snappy(), s.deflate(), s.maxDeflateLevel(), auth != null, s.maxRdyCount(),
        s.maxMsgTimeout().toMillis(), NodeSettings.NSQ_VERSION);
    return new SessionSettings(limits, bounds, features, s.msgTimeout(), s.heartbeatInterval(), s.clientTimeout(),
        s.maxReqTimeout(), MAX_PENDING_PUBLISHES, MAX_OUTPUT_BACKLOG, auth, s.maxConnections(), tls, tlsRequired);
  }
}
