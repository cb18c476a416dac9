package io.jnsq.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Parses a Prometheus text exposition with a parser nobody on this team wrote: the npm package
 * {@code parse-prometheus-text-format}, pinned in {@code test-clients/metrics} and run as a child process.
 * Installs it with {@code npm ci} when it is missing; without node/npm the tests fail saying so.
 */
final class PrometheusTextParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DIR = Path.of(System.getProperty("user.dir"), "test-clients", "metrics");

  private PrometheusTextParser() {}

  private static synchronized void ensureInstalled() throws IOException, InterruptedException {
    if (Files.isDirectory(DIR.resolve("node_modules").resolve("parse-prometheus-text-format"))) return;
    Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(DIR.toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("npm ci in " + DIR + " failed (node and npm must be on PATH):\n" + out);
    }
  }

  /** The metric families by name, each as the parser gives it: {@code name, help, type, metrics[{value, labels}]}. */
  static Map<String, JsonNode> families(byte[] exposition) throws IOException, InterruptedException {
    ensureInstalled();
    Path errors = Files.createTempFile("parse-prometheus", ".err");
    try {
      Process p = new ProcessBuilder("node", "parse.js").directory(DIR.toFile())
          .redirectError(errors.toFile()).start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(exposition);
      }
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("parse.js still running after 30 s");
      }
      if (p.exitValue() != 0) throw new AssertionError("parse.js failed: " + Files.readString(errors));
      Map<String, JsonNode> byName = new LinkedHashMap<>();
      for (JsonNode family : JSON.readTree(out)) {
        if (byName.put(family.path("name").asText(), family) != null) {
          throw new AssertionError("metric family listed twice: " + family.path("name").asText());
        }
      }
      return byName;
    } finally {
      Files.deleteIfExists(errors);
    }
  }
}
