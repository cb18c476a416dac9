package io.jnsq.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Replicated topics (Apache Ratis): how many nodes keep each topic ({@code --replicas}, 1 = the topic
 * lives on one node only, as in nsqd), where this node's Raft server listens ({@code --raft-address}),
 * how many Raft groups the topics are spread over ({@code --raft-groups}) and how long a publish may wait
 * for its commit before it is refused ({@code --replication-timeout}).
 */
public record ReplicationSettings(int replicas, HostPort raftAddress, int raftGroups, Duration timeout) {

  /** Whether this node replicates topics at all; with {@code --replicas 1} no Raft server runs. */
  public boolean enabled() { return replicas > 1; }

  /** Reads the replication keys of the {@code jnsq} block; {@code tcpAddress} gives the derived raft address. */
  static ReplicationSettings fromConfig(Config c, HostPort tcpAddress) {
    int replicas = c.getInt("replicas");
    if (replicas < 1 || replicas > 9) throw new IllegalArgumentException("--replicas must be 1..9, got " + replicas);
    int groups = c.getInt("raft-groups");
    if (groups < 1 || groups > 1024) throw new IllegalArgumentException("--raft-groups must be 1..1024, got " + groups);
    Duration timeout = c.getDuration("replication-timeout");
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("--replication-timeout must be positive, got " + timeout);
    }
    String raft = c.getString("raft-address").trim();
    HostPort address = null;
    if (replicas > 1) {
      if (!raft.isEmpty()) {
        address = HostPort.parse(raft);
      } else if (tcpAddress.port() != 0 && tcpAddress.port() + 3 <= 65535) {
        address = new HostPort(tcpAddress.host(), tcpAddress.port() + 3);   // 4150 -> 4153
      }
      if (address == null || address.port() == 0) {
        // The address is the replica's name in every group it belongs to: it must stay the same across restarts.
        throw new IllegalArgumentException("--raft-address needs a fixed port with --replicas " + replicas
            + " (it names this node's replicas; derived from --tcp-address only when that has a port)");
      }
    }
    return new ReplicationSettings(replicas, address, groups, timeout);
  }
}
