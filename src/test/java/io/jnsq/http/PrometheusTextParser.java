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
 * Installed with {@code npm ci} when it is missing; without node/npm the tests fail saying so.
 */
final class PrometheusTextParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DIR = Path.of(System.getProperty("user.dir"), "test-clients", "metrics");

  private PrometheusTextParser() {}

  /** The metric families by name, each as the parser gives it: {@code name, help, type, metrics[{value, labels}]}. */
  static Map<String, JsonNode> families(byte[] exposition) throws IOException, InterruptedException {
    io.jnsq.e2e.NsqjsClient.ensureInstalled("metrics", "parse-prometheus-text-format");
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
