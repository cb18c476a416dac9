package io.jnsq.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the driver scripts of the third-party Node.js client nsqjs ({@code test-clients/nsqjs}) as child
 * processes. Installs the pinned client with {@code npm ci} when it is missing, so {@code mvn verify} works on
 * a fresh clone; without node/npm the tests fail with a message saying so, they do not skip.
 */
public final class NsqjsClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DIR = Path.of(System.getProperty("user.dir"), "test-clients", "nsqjs");

  private NsqjsClient() {}

  public static void ensureInstalled() throws IOException, InterruptedException { ensureInstalled("nsqjs", "nsqjs"); }

  /** Runs {@code npm ci} in {@code test-clients/<client>} unless its {@code module} is installed already. */
  public static synchronized void ensureInstalled(String client, String module) throws IOException, InterruptedException {
    Path dir = DIR.resolveSibling(client);
    if (Files.isDirectory(dir.resolve("node_modules").resolve(module))) return;
    Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("npm ci in " + dir + " failed (node and npm must be on PATH):\n" + out);
    }
  }

  /** A running script: its JSON stdout lines are collected as they come. */
  public static final class Run {
    final Process process;
    // Appended by the reader thread, read by the test: a copy-on-write list would copy the whole list per
    // line (10,000 lines = 50M element copies), and a loaded machine then lagged seconds behind the script.
    final List<JsonNode> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    final StringBuilder stderr = new StringBuilder();
    private final Thread reader;

    Run(Process process) {
      this.process = process;
      this.reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            if (line.startsWith("{")) lines.add(JSON.readTree(line));
          }
        } catch (IOException ignored) {
          // the process ended
        }
      });
      reader.setDaemon(true);
      reader.start();
      Thread err = new Thread(() -> {
        try {
          String s = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
          synchronized (stderr) {
            stderr.append(s);
          }
        } catch (IOException ignored) {
          // the process ended
        }
      });
      err.setDaemon(true);
      err.start();
    }

    /** Waits for the exit code; kills the script and fails if it outlives {@code limit}. */
    public int await(Duration limit) throws InterruptedException {
      if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("nsqjs script still running after " + limit + "; stderr: " + stderr());
      }
      reader.join(limit.toMillis());   // every line the script printed is read before anyone looks at them
      return process.exitValue();
    }

    /** Waits until some output line has {@code "event":event}. */
    public void awaitEvent(String event, Duration limit) throws InterruptedException {
      long deadline = System.nanoTime() + limit.toNanos();
      while (System.nanoTime() < deadline) {
        for (JsonNode n : snapshot()) if (event.equals(n.path("event").asText())) return;
        if (!process.isAlive()) break;
        Thread.sleep(20);
      }
      throw new AssertionError("no '" + event + "' from nsqjs within " + limit + "; stderr: " + stderr());
    }

    public List<JsonNode> events(String event) {
      List<JsonNode> out = new ArrayList<>();
      for (JsonNode n : snapshot()) if (event.equals(n.path("event").asText())) out.add(n);
      return out;
    }

    private List<JsonNode> snapshot() {
      synchronized (lines) {
        return new ArrayList<>(lines);
      }
    }

    public String stderr() {
      synchronized (stderr) {
        return stderr.toString();
      }
    }

    public void kill() { process.destroyForcibly(); }
  }

  public static Run start(String script, String... args) throws IOException { return startIn("nsqjs", script, args); }

  /** Starts {@code node script args} in {@code test-clients/<client>}. */
  public static Run startIn(String client, String script, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("node", script));
    cmd.addAll(List.of(args));
    return new Run(new ProcessBuilder(cmd).directory(DIR.resolveSibling(client).toFile()).start());
  }
}
