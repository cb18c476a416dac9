package io.jnsq.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnsq.broker.Stats;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nsqd's statsd prefix, names and packet batching, as pure functions. */
class StatsdFormatTest {

  @Test
  void prefixPutsTheBroadcastAddressAndHttpPortInPlaceOfPercentS() {
    assertEquals("nsq.10_0_0_1_4151.", StatsdFormat.prefix("nsq.%s", "10.0.0.1", 4151));
    assertEquals("nsq.host_example_com_4151.", StatsdFormat.prefix("nsq.%s.", "host.example.com", 4151));
    assertEquals("nsq.[__1]_4151.", StatsdFormat.prefix("nsq.%s", "::1", 4151));
    assertEquals("jnsq.", StatsdFormat.prefix("jnsq", "h", 1));
    assertEquals("", StatsdFormat.prefix("", "h", 1));
  }

  @Test
  void latencyQuantilesAreNamedInPercentRoundedAsGoDoes() {
    Stats.Latency l = new Stats.Latency(1, List.of(new Stats.Quantile(0.999, 3), new Stats.Quantile(0.95, 2),
        new Stats.Quantile(0.005, 1)));
    Stats.Topic t = new Stats.Topic("t", List.of(), 0, 0, 0, 0, false, l, 0);
    List<String> lines = StatsdFormat.topicLines("", List.of(), List.of(t));
    assertEquals(List.of("topic.t.e2e_processing_latency_100:3|g", "topic.t.e2e_processing_latency_95:2|g",
        "topic.t.e2e_processing_latency_0:1|g"), lines.subList(4, 7));
  }

  @Test
  void aCounterThatFellStartedAgainAndCountsFromZero() {
    Stats.Topic before = new Stats.Topic("t", List.of(), 0, 0, 10, 100, false, Stats.Latency.NONE, 0);
    Stats.Topic after = new Stats.Topic("t", List.of(), 0, 0, 4, 40, false, Stats.Latency.NONE, 0);
    List<String> lines = StatsdFormat.topicLines("", List.of(before), List.of(after));
    assertEquals("topic.t.message_count:4|c", lines.get(0));
    assertEquals("topic.t.message_bytes:40|c", lines.get(1));
  }

  @Test
  void packetsHoldWholeLinesUpToTheSize() {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 10; i++) lines.add("topic.t" + i + ".depth:" + i + "|g");   // 19 bytes with the newline
    List<byte[]> packets = StatsdFormat.packets(lines, 40);
    assertEquals(5, packets.size());
    StringBuilder all = new StringBuilder();
    for (byte[] p : packets) {
      assertEquals(38, p.length);
      all.append(new String(p, StandardCharsets.UTF_8));
    }
    assertEquals(String.join("\n", lines) + "\n", all.toString());
    assertEquals(List.of(19, 19), StatsdFormat.packets(lines.subList(0, 2), 37).stream().map(p -> p.length).toList());
    assertEquals(List.of(38), StatsdFormat.packets(lines.subList(0, 2), 38).stream().map(p -> p.length).toList());
  }

  @Test
  void aLineLongerThanThePacketGoesAloneRatherThanBeingCut() {
    String longLine = "topic." + "x".repeat(60) + ".depth:1|g";
    List<byte[]> packets = StatsdFormat.packets(List.of("a:1|g", longLine, "b:2|g"), 20);
    assertEquals(List.of("a:1|g\n", longLine + "\n", "b:2|g\n"),
        packets.stream().map(p -> new String(p, StandardCharsets.UTF_8)).toList());
  }

  @Test
  void excludeEphemeralLeavesOutEphemeralTopicsAndChannels() {
    Stats.Channel kept = new Stats.Channel("c", 0, 0, 0, 0, 0, 0, 0, 0, List.of(), false, Stats.Latency.NONE, 0);
    Stats.Channel gone = new Stats.Channel("c#ephemeral", 0, 0, 0, 0, 0, 0, 0, 0, List.of(), false, Stats.Latency.NONE, 0);
    Stats.Topic t = new Stats.Topic("t", List.of(gone, kept), 0, 0, 0, 0, false, Stats.Latency.NONE, 0);
    Stats.Topic e = new Stats.Topic("e#ephemeral", List.of(kept), 0, 0, 0, 0, false, Stats.Latency.NONE, 0);
    List<Stats.Topic> left = StatsdFormat.withoutEphemeral(List.of(t, e));
    assertEquals(1, left.size());
    assertEquals(List.of("c"), left.get(0).channels().stream().map(Stats.Channel::name).toList());
  }
}
