package io.jnsq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Folds the per-run JSON files of {@code bench/run.sh} (named {@code <scenario>.<n>.json}) into one JSON
 * document and a Markdown table: the median and the spread (min–max) of each figure over the runs.
 */
@Command(name = "summarize", mixinStandardHelpOptions = true, description = "Summarize bench/run.sh results (median and spread).")
final class Summary implements Callable<Integer> {
  private static final List<String> FIGURES = List.of("msgs_per_sec", "mb_per_sec", "latency_p50_ms", "latency_p99_ms",
      "latency_p999_ms", "node_rss_bytes", "node_heap_used_bytes", "bytes_per_message");

  @Parameters(index = "0", description = "directory with the runs' JSON files")
  File dir;
  @Option(names = "--machine", description = "file with the machine's description")
  File machine;
  @Option(names = "--out", required = true, description = "output path without extension (.json and .md are written)")
  String out;
  @Option(names = "--title", defaultValue = "jnsq benchmark", description = "title of the Markdown report")
  String title;

  @Override public Integer call() throws Exception {
    Map<String, List<JsonNode>> byScenario = new LinkedHashMap<>();
    File[] files = dir.listFiles((d, n) -> n.endsWith(".json"));
    Arrays.sort(files);
    for (File f : files) {
      String name = f.getName().replaceAll("\\.\\d+\\.json$", "").replaceAll("\\.json$", "");
      byScenario.computeIfAbsent(name, k -> new ArrayList<>()).add(BenchCommand.JSON.readTree(f));
    }
    ObjectNode doc = BenchCommand.JSON.createObjectNode();
    String machineText = machine == null ? "" : Files.readString(machine.toPath()).trim();
    doc.put("title", title).put("machine", machineText);
    ArrayNode scenarios = doc.putArray("scenarios");
    StringBuilder md = new StringBuilder("# ").append(title).append("\n\n```\n").append(machineText).append("\n```\n\n");
    md.append("| scenario | runs | msg/s (median, min–max) | MB/s | p50 ms | p99 ms | p99.9 ms | node RSS MB | bytes/msg |\n");
    md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Map.Entry<String, List<JsonNode>> e : byScenario.entrySet()) {
      ObjectNode s = scenarios.addObject();
      s.put("scenario", e.getKey()).put("runs", e.getValue().size());
      Map<String, double[]> stats = new LinkedHashMap<>();
      for (String fig : FIGURES) {
        double[] v = e.getValue().stream().filter(n -> n.has(fig)).mapToDouble(n -> n.path(fig).asDouble()).sorted().toArray();
        if (v.length == 0) continue;
        double[] mmm = {v[v.length / 2], v[0], v[v.length - 1]};
        stats.put(fig, mmm);
        s.putObject(fig).put("median", mmm[0]).put("min", mmm[1]).put("max", mmm[2]);
      }
      JsonNode loop = e.getValue().get(0);
      if (loop.has("mb_per_sec") && e.getKey().equals("loopback")) {
        md.append("| loopback TCP (reference) | ").append(e.getValue().size()).append(" | | ").append(fmt(stats.get("mb_per_sec"), 0))
            .append(" | | | | | |\n");
        continue;
      }
      md.append("| ").append(e.getKey()).append(" | ").append(e.getValue().size()).append(" | ")
          .append(range(stats.get("msgs_per_sec"))).append(" | ").append(fmt(stats.get("mb_per_sec"), 1)).append(" | ")
          .append(fmt(stats.get("latency_p50_ms"), 2)).append(" | ").append(fmt(stats.get("latency_p99_ms"), 2)).append(" | ")
          .append(fmt(stats.get("latency_p999_ms"), 2)).append(" | ")
          .append(stats.containsKey("node_rss_bytes") ? String.format("%.0f", stats.get("node_rss_bytes")[0] / 1048576.0) : "")
          .append(" | ").append(fmt(stats.get("bytes_per_message"), 0)).append(" |\n");
    }
    Files.writeString(Path.of(out + ".json"), BenchCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
    Files.writeString(Path.of(out + ".md"), md.toString());
    System.out.print(md);
    return 0;
  }

  private static String fmt(double[] v, int decimals) { return v == null ? "" : String.format("%." + decimals + "f", v[0]); }

  private static String range(double[] v) {
    return v == null ? "" : String.format("%,.0f (%,.0f–%,.0f)", v[0], v[1], v[2]);
  }
}
