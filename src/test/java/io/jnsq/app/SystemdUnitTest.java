package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/systemd/jnsq.service}: systemd's own checker accepts it (where {@code systemd-analyze}
 * is installed; the test is skipped with that reason elsewhere), and it keeps what a stop and a fresh
 * machine need.
 */
class SystemdUnitTest {
  private static final Path UNIT = Path.of("deploy", "systemd", "jnsq.service");

  private record Result(int code, String output) {}

  private static Result run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + cmd);
    }
    return new Result(p.exitValue(), out);
  }

  private static String systemdAnalyze() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path p = Path.of(dir, "systemd-analyze");
      if (Files.isExecutable(p)) return p.toString();
    }
    return null;
  }

  /** The unit with its java path pointing at this JVM, since verify checks that ExecStart's binary exists. */
  private static Path unitForThisMachine() throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path dir = Files.createTempDirectory("jnsq-systemd");
    Path copy = dir.resolve("jnsq.service");
    Files.writeString(copy, Files.readString(UNIT).replace("ExecStart=/usr/bin/java ", "ExecStart=" + java + " "));
    return copy;
  }

  @Test
  void systemdAnalyzeVerifyAcceptsTheUnitWithoutAWarning() throws Exception {
    String analyze = systemdAnalyze();
    Assumptions.assumeTrue(analyze != null, "systemd-analyze is not installed here (Debian: apt-get install systemd)");
    Path unit = unitForThisMachine();
    Result r = run(List.of(analyze, "verify", "--man=no", unit.toString()));
    assertEquals(0, r.code(), r.output());
    assertEquals("", r.output().strip(), "verify prints nothing for a clean unit");
  }

  @Test
  void systemdRatesTheHardeningAsOk() throws Exception {
    String analyze = systemdAnalyze();
    Assumptions.assumeTrue(analyze != null, "systemd-analyze is not installed here (Debian: apt-get install systemd)");
    Result r = run(List.of(analyze, "security", "--offline=yes", unitForThisMachine().toString()));
    Assumptions.assumeTrue(r.code() == 0 || r.output().contains("exposure level"),
        "this systemd-analyze has no offline security check (systemd 250 or later): " + r.output());
    Matcher m = Pattern.compile("Overall exposure level for \\S+: ([0-9.]+)").matcher(r.output());
    assertTrue(m.find(), r.output());
    double exposure = Double.parseDouble(m.group(1));
    assertTrue(exposure <= 4.0, "exposure " + exposure + " (0 safest, 10 unprotected):\n" + r.output());
  }

  @Test
  void aStopIsCleanTheStateDirectoryIsMadeAndJavaOptionsStayOneAssignment() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(UNIT));
    assertTrue(lines.contains("SuccessExitStatus=143"), "SIGTERM's exit code 143 is a clean stop");
    assertTrue(lines.contains("StateDirectory=jnsq"), "systemd creates /var/lib/jnsq");
    assertTrue(lines.contains("NoNewPrivileges=yes"));
    assertTrue(lines.contains("ProtectSystem=strict"));
    assertTrue(lines.stream().anyMatch(l -> l.matches("Environment=\"JAVA_OPTS=[^\"]+\"")), "JAVA_OPTS quoted");
  }
}
