package io.jnsq.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Placement of Raft groups: the same everywhere, distinct nodes, spread evenly, little movement. */
class PlacementTest {
  private static List<String> nodes(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add("n-10.0.0." + i + "_4153");
    return out;
  }

  @Test
  void everyNodeComputesTheSamePlacementWhateverTheOrderItKnowsTheNodesIn() {
    List<String> a = nodes(7);
    List<String> b = new ArrayList<>(a);
    java.util.Collections.reverse(b);
    assertEquals(Placement.placeAll(64, a, 3), Placement.placeAll(64, b, 3));
  }

  @Test
  void aGroupsReplicasAreDistinctNodesAndAsManyAsAsked() {
    for (List<String> peers : Placement.placeAll(100, nodes(5), 3)) {
      assertEquals(3, peers.size());
      assertEquals(3, new HashSet<>(peers).size());
    }
    assertEquals(List.of(2), Placement.placeAll(1, nodes(2), 3).stream().map(List::size).toList(),
        "fewer nodes than replicas: every node, no duplicates");
  }

  @Test
  void replicasAndLeadersSpreadEvenly() {
    int groups = 200;
    List<List<String>> all = Placement.placeAll(groups, nodes(10), 3);
    Map<String, Integer> replicas = new HashMap<>();
    Map<String, Integer> leaders = new HashMap<>();
    for (List<String> peers : all) {
      for (String p : peers) replicas.merge(p, 1, Integer::sum);
      leaders.merge(peers.get(0), 1, Integer::sum);
    }
    // 60 replicas and 20 leaders per node on average.
    for (int r : replicas.values()) assertTrue(r > 40 && r < 80, "replicas per node: " + replicas);
    for (int l : leaders.values()) assertTrue(l >= 19 && l <= 21, "leaders per node: " + leaders);
  }

  @Test
  void aNodeAddedLaterMovesOnlyTheGroupsItWins() {
    int groups = 300;
    List<String> before = nodes(6);
    List<String> after = new ArrayList<>(before);
    after.add("n-10.0.0.99_4153");
    int moved = 0;
    for (int g = 0; g < groups; g++) {
      List<String> x = Placement.place(g, before, 3);
      List<String> y = Placement.place(g, after, 3);
      if (!new HashSet<>(x).equals(new HashSet<>(y))) {
        moved++;
        assertTrue(y.contains("n-10.0.0.99_4153"), "a group changes only by taking the new node");
      }
    }
    assertTrue(moved < groups * 0.6, "about 3/7 of the groups take the new node: " + moved);
  }

  @Test
  void aTopicsGroupIsAStableHashOfItsName() {
    assertEquals(Placement.groupOf("orders", 16), Placement.groupOf("orders", 16));
    int[] counts = new int[16];
    for (int i = 0; i < 16_000; i++) counts[Placement.groupOf("topic-" + i, 16)]++;
    for (int c : counts) assertTrue(c > 800 && c < 1200, java.util.Arrays.toString(counts));
  }
}
