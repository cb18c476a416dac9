package io.jnsq.cluster;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
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
}
