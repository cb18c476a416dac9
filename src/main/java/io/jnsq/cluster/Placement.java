package io.jnsq.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Where each Raft group's replicas go: rendezvous (highest random weight) hashing of the group over the
 * nodes, so that every node computes the same distinct nodes for a group from the same node set, groups
 * spread evenly, and a node added later moves only the groups it now wins. The first node of a group's
 * list is the one preferred as its leader (Raft priority), which spreads the leaders as evenly.
 */
public final class Placement {
  private Placement() {}

  /** The {@code replicas} nodes of group {@code group}, best first; fewer when there are fewer nodes. */
  public static List<String> place(int group, Collection<String> nodes, int replicas) {
    List<String> sorted = new ArrayList<>(nodes);
    sorted.sort(Comparator.comparingLong((String n) -> weight(group, n)).reversed().thenComparing(n -> n));
    return List.copyOf(sorted.subList(0, Math.min(replicas, sorted.size())));
  }

  /**
   * Leaders balanced too: each group's list is rotated so that its preferred leader is the node that leads
   * the fewest groups so far among its replicas (rendezvous alone leaves leaders uneven for few groups).
   */
  public static List<List<String>> placeAll(int groups, Collection<String> nodes, int replicas) {
    java.util.Map<String, Integer> leads = new java.util.HashMap<>();
    List<List<String>> out = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      List<String> peers = new ArrayList<>(place(g, nodes, replicas));
      String first = peers.stream().min(Comparator.comparingInt((String n) -> leads.getOrDefault(n, 0))
          .thenComparingInt(peers::indexOf)).orElse(null);
      if (first != null) {
        peers.remove(first);
        peers.add(0, first);
        leads.merge(first, 1, Integer::sum);
      }
      out.add(List.copyOf(peers));
    }
    return out;
  }

  /** Which group a topic belongs to: a stable hash of its name, the same on every node and every version. */
  public static int groupOf(String topic, int groups) {
    CRC32C crc = new CRC32C();
    crc.update(topic.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % groups);
  }

  private static long weight(int group, String node) {
    // 64-bit mix of both (splitmix64 over a string hash): stable across JVMs, unlike Object.hashCode of records.
    CRC32C crc = new CRC32C();
    crc.update(node.getBytes(StandardCharsets.UTF_8));
    long z = (crc.getValue() << 32) ^ (group * 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
