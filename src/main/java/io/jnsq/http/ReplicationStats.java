package io.jnsq.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.replication.Replication;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * What {@code /stats} and {@code /metrics} add for a replicated topic (fields nsqd does not have; nsqd's
 * own are unchanged): its Raft group, replicas, leader, whether this node leads, the commit and applied
 * index here, each replica's lag behind the commit index, and whether a majority is in touch.
 */
final class ReplicationStats {
  private ReplicationStats() {}

  /** Adds a {@code replication} object to each topic of a {@code /stats} JSON whose status is known. */
  static void addTo(ObjectNode stats, Function<String, Replication.GroupStatus> status) {
    if (!(stats.get("topics") instanceof ArrayNode topics)) return;
    for (var t : topics) {
      Replication.GroupStatus s = status.apply(t.path("topic_name").asText());
      if (s != null && t instanceof ObjectNode o) o.set("replication", json(s));
    }
  }

  static ObjectNode json(Replication.GroupStatus s) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("raft_group", s.group());
    ArrayNode replicas = o.putArray("replicas");
    s.replicas().forEach(replicas::add);
    o.put("leader", s.leader());
    o.put("leading", s.leading());
    o.put("commit_index", s.commitIndex());
    o.put("applied_index", s.appliedIndex());
    ObjectNode lag = o.putObject("commit_lag");
    s.followerLag().forEach(lag::put);
    o.put("healthy", s.healthy());
    return o;
  }

  /** Prometheus text for the replicated topics, after the node's own families. */
  static byte[] prometheus(List<String> topics, Function<String, Replication.GroupStatus> status) {
    StringBuilder leader = new StringBuilder("# HELP jnsq_topic_replication_leader 1 while this node leads the topic's Raft group\n"
        + "# TYPE jnsq_topic_replication_leader gauge\n");
    StringBuilder healthy = new StringBuilder("# HELP jnsq_topic_replication_healthy 1 while the topic's group has a leader"
        + " and a majority of its replicas in touch\n# TYPE jnsq_topic_replication_healthy gauge\n");
    StringBuilder lag = new StringBuilder("# HELP jnsq_topic_replication_commit_lag entries a replica of the topic's group"
        + " is behind the commit index, as this node sees it\n# TYPE jnsq_topic_replication_commit_lag gauge\n");
    int n = 0;
    for (String t : topics) {
      Replication.GroupStatus s = status.apply(t);
      if (s == null) continue;
      n++;
      String label = "topic=\"" + t + "\"";   // topic names are [.a-zA-Z0-9_-]: nothing to escape
      leader.append("jnsq_topic_replication_leader{").append(label).append("} ").append(s.leading() ? 1 : 0).append('\n');
      healthy.append("jnsq_topic_replication_healthy{").append(label).append("} ").append(s.healthy() ? 1 : 0).append('\n');
      s.followerLag().forEach((replica, l) -> lag.append("jnsq_topic_replication_commit_lag{").append(label)
          .append(",replica=\"").append(replica).append("\"} ").append(l).append('\n'));
    }
    if (n == 0) return new byte[0];
    return (leader.toString() + healthy + lag).getBytes(StandardCharsets.UTF_8);
  }
}
