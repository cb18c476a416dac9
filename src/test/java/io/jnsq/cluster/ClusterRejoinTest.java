package io.jnsq.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.config.HostPort;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;

/**
 * A node the cluster downs (what the split brain resolver does to the losing side of a partition)
 * restarts only its lookup membership, joins again, and both sides converge; its broker never stops.
 */
class ClusterRejoinTest {

  @Test
  void aDownedNodeRejoinsAndTheViewsConverge() throws Exception {
    Node a = ClusterLookupTest.start(List.of());
    Node b = ClusterLookupTest.start(List.of(ClusterLookupTest.seedOf(a)));
    try {
      ClusterLookupTest.post(b.httpAddress(), "/topic/create?topic=survivor");
      ClusterLookupTest.await(a.lookupHttpAddress(), "/lookup?topic=survivor", r -> ClusterLookupTest.hasProducer(r, b));
      ClusterNode before = b.cluster();
      Address downed = before.clusterAddress();
      Cluster.get(a.cluster().system()).manager().tell(new Down(downed));
      // b's lookup system stops, a new one joins through the seed, and b's topics come back.
      long deadline = System.nanoTime() + 60_000_000_000L;
      while ((b.cluster() == before || b.lookupHttpAddress() == null) && System.nanoTime() < deadline) Thread.sleep(100);
      assertNotEquals(before, b.cluster(), "a new lookup membership was started");
      ClusterLookupTest.await(a.lookupHttpAddress(), "/lookup?topic=survivor", r -> ClusterLookupTest.hasProducer(r, b));
      ClusterLookupTest.await(b.lookupHttpAddress(), "/nodes", r -> r.body().split("\"tcp_port\"").length - 1 == 2);
      assertTrue(ClusterLookupTest.get(b.httpAddress(), "/ping").statusCode() == 200, "the broker kept running");
    } finally {
      b.stop().toCompletableFuture().join();
      a.stop().toCompletableFuture().join();
    }
  }

  @Test
  void aDownedNodeWhoseSeedIsGoneRejoinsThroughTheMembersItKnew() throws Exception {
    Node a = ClusterLookupTest.start(List.of());
    Node b = ClusterLookupTest.start(List.of(ClusterLookupTest.seedOf(a)));
    Node c = ClusterLookupTest.start(List.of(ClusterLookupTest.seedOf(a)));
    try {
      ClusterLookupTest.await(c.lookupHttpAddress(), "/nodes", r -> r.body().split("\"tcp_port\"").length - 1 == 3);
      a.stop().toCompletableFuture().join();   // the only configured seed is gone for good
      ClusterLookupTest.await(b.lookupHttpAddress(), "/nodes", r -> r.body().split("\"tcp_port\"").length - 1 == 2);
      ClusterNode before = b.cluster();
      Cluster.get(c.cluster().system()).manager().tell(new Down(before.clusterAddress()));
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (b.cluster() == before && System.nanoTime() < deadline) Thread.sleep(100);
      assertNotEquals(before, b.cluster(), "a new lookup membership was started");
      ClusterLookupTest.post(c.httpAddress(), "/topic/create?topic=reformed");
      ClusterLookupTest.await(b.lookupHttpAddress(), "/lookup?topic=reformed", r -> ClusterLookupTest.hasProducer(r, c));
      ClusterLookupTest.post(b.httpAddress(), "/topic/create?topic=rejoined");
      ClusterLookupTest.await(c.lookupHttpAddress(), "/lookup?topic=rejoined", r -> ClusterLookupTest.hasProducer(r, b));
    } finally {
      c.stop().toCompletableFuture().join();
      b.stop().toCompletableFuture().join();
    }
  }

  @Test
  void rejoinSeedsPutTheMembersFirstAndTheSelfOnlyWhenAllWentDown() {
    ClusterNode.Settings configured = new ClusterNode.Settings(HostPort.parse("127.0.0.1:0"), List.of("127.0.0.1:7350"),
        null, null, "127.0.0.1", Duration.ofSeconds(45), Duration.ofSeconds(300));
    Address self = new Address("pekko", ClusterNode.SYSTEM, "127.0.0.1", 7352);
    List<Address> peers = List.of(new Address("pekko", ClusterNode.SYSTEM, "127.0.0.1", 7353),
        new Address("pekko", ClusterNode.SYSTEM, "127.0.0.1", 7351));

    ClusterNode.Settings allDown = ClusterNode.rejoining(configured, new ClusterNode.LastView(self, peers, true));
    assertEquals(List.of("127.0.0.1:7351", "127.0.0.1:7352", "127.0.0.1:7353", "127.0.0.1:7350"), allDown.seedNodes());
    assertEquals(HostPort.parse("127.0.0.1:7352"), allDown.clusterAddress(), "the same address again, even when 0 was configured");

    ClusterNode.Settings someLive = ClusterNode.rejoining(configured, new ClusterNode.LastView(self, peers, false));
    assertEquals(List.of("127.0.0.1:7351", "127.0.0.1:7353", "127.0.0.1:7350"), someLive.seedNodes(), "never a seed of itself");
  }
}
