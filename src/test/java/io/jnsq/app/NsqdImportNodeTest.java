package io.jnsq.app;

import static io.jnsq.storage.NsqdFiles.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.storage.NsqdFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node started on nsqd's data path delivers nsqd's queued messages, each channel its own, once. */
class NsqdImportNodeTest {
  @TempDir Path dir;

  private void nsqdData() throws Exception {
    NsqdFiles.metadata(dir, "orders", "a", "b", "c");
    NsqdFiles.queue(dir, "orders:a", List.of(msg(99, "consumed")), List.of(msg(0, "a0"), msg(1, "a1"), msg(2, "a2")));
    NsqdFiles.queue(dir, "orders:b", List.of(), List.of(msg(3, "b0"), msg(4, "b1")));
    NsqdFiles.queue(dir, "orders", List.of(), List.of(msg(10, "t0"), msg(11, "t1")));
  }

  private static List<String> bodies(List<NodeClient.Received> got) {
    return got.stream().map(NodeClient.Received::body).sorted().toList();
  }

  @Test
  void eachChannelGetsItsOwnBacklogAndTheTopicsOnceAcrossRestarts() throws Exception {
    nsqdData();
    // started and stopped once before anyone reads: the channels' skips must survive their own save
    RestartTest.start(dir, Map.of()).stop().toCompletableFuture().join();
    Node node = RestartTest.start(dir, Map.of());
    try {
      var stats = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
          NodeClient.get(node.httpAddress(), "/stats?format=json").body());
      Map<String, Long> depth = new java.util.TreeMap<>();
      for (var t : stats.path("topics")) {
        for (var c : t.path("channels")) depth.put(c.path("channel_name").asText(), c.path("depth").asLong());
      }
      assertEquals(Map.of("a", 5L, "b", 4L, "c", 2L), depth, "each channel's depth leaves the others' stretches out");
      List<NodeClient.Received> a = NodeClient.drain(node.tcpAddress(), "orders", "a", 1500, 100);
      assertEquals(List.of("a0", "a1", "a2", "t0", "t1"), bodies(a));
      NodeClient.Received a1 = a.stream().filter(r -> r.body().equals("a1")).findFirst().orElseThrow();
      assertEquals(String.format("%016x", 0x0ab0c0d0e0f00001L), a1.frame().id(), "nsqd's id");
      assertEquals(1_700_000_000_000_000_001L, a1.frame().timestamp(), "nsqd's timestamp");
      assertTrue(a1.frame().attempts() >= 1, "nsqd's attempts (1), counted on from there: " + a1.frame().attempts());
      assertEquals(List.of("b0", "b1", "t0", "t1"), bodies(NodeClient.drain(node.tcpAddress(), "orders", "b", 1500, 100)));
      assertEquals(List.of("t0", "t1"), bodies(NodeClient.drain(node.tcpAddress(), "orders", "c", 1500, 100)));
    } finally {
      node.stop().toCompletableFuture().join();
    }
    Node again = RestartTest.start(dir, Map.of());
    try {
      for (String c : List.of("a", "b", "c")) {
        assertEquals(List.of(), bodies(NodeClient.drain(again.tcpAddress(), "orders", c, 700, 100)), "channel " + c);
      }
    } finally {
      again.stop().toCompletableFuture().join();
    }
    assertTrue(Files.exists(dir.resolve("orders:a.diskqueue.000000.dat.imported")));
  }

  @Test
  void importNsqdOfflinePrintsWhatItFound() throws Exception {
    nsqdData();
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int dry;
    int code;
    String dryText;
    try {
      dry = Main.run(new String[] {"import-nsqd", "--data-path", dir.toString(), "--dry-run"});
      dryText = out.toString(StandardCharsets.UTF_8);
      out.reset();
      assertTrue(Files.exists(dir.resolve("orders:a.diskqueue.000000.dat")), "a dry run changes nothing");
      code = Main.run(new String[] {"import-nsqd", "-data-path=" + dir});
    } finally {
      System.setOut(saved);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, dry);
    assertTrue(dryText.contains("orders:a: 3 messages, 6 bytes (nsqd's depth 3)"), dryText);
    assertTrue(dryText.contains("found 7 messages from 3 queues"), dryText);
    assertEquals(0, code);
    assertTrue(text.contains("imported 7 messages from 3 queues; nsqd's files are kept as *.imported"), text);
    assertTrue(Files.exists(dir.resolve("orders:a.cursor")));
  }
}
