package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.core.spi.FilterReply;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The node's log: nsqd's lines for topics and channels, and no advice to join a cluster by hand. */
class NodeLogTest {

  @Test
  void topicAndChannelChangesGetNsqdsLines() {
    assertEquals(List.of("TOPIC(orders): created", "TOPIC(orders): new channel(billing)"),
        TopicEvents.changes(Map.of(), Map.of("orders", List.of("billing"))));
    assertEquals(List.of("TOPIC(orders): new channel(audit)", "CHANNEL(billing): deleting", "TOPIC(old): deleting"),
        TopicEvents.changes(Map.of("orders", List.of("billing"), "old", List.of()), Map.of("orders", List.of("audit"))));
    assertEquals(List.of(), TopicEvents.changes(Map.of("a", List.of("x")), Map.of("a", List.of("x"))), "nothing changed, nothing logged");
  }

  @Test
  void theSingleNodeSeedAdviceIsDroppedAndNothingElse() {
    QuietStartup filter = new QuietStartup();
    var cluster = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.apache.pekko.cluster.Cluster");
    String noise = "Cluster Node [pekko://jnsq-lookup@127.0.0.1:1] - No seed-nodes configured, manual cluster join required, see https://pekko.apache.org/";
    assertEquals(FilterReply.DENY, filter.decide(null, cluster, Level.INFO, noise, null, null));
    assertEquals(FilterReply.NEUTRAL, filter.decide(null, cluster, Level.INFO, "Cluster Node [x] - Started up successfully", null, null));
    assertEquals(FilterReply.NEUTRAL, filter.decide(null, cluster, Level.WARN, noise, null, null), "only the INFO line");
    var other = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.jnsq.app.Node");
    assertEquals(FilterReply.NEUTRAL, filter.decide(null, other, Level.INFO, noise, null, null));
  }
}
