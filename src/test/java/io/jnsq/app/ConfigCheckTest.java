package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.config.NodeSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad flag or config value ends {@code bin/jnsq node} with one line naming it, and status 2. */
class ConfigCheckTest {
  @TempDir Path dir;

  /** Runs {@code node args...} and returns what it printed on stderr, which must be one line, after status 2. */
  private static String refused(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "node";
    System.arraycopy(args, 0, all, 1, args.length);
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.run(all);
    } finally {
      System.setErr(saved);
    }
    String text = err.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, text);
    assertEquals(1, text.lines().count(), "one line:\n" + text);
    assertTrue(text.startsWith("jnsq: cannot start: "), text);
    return text.substring("jnsq: cannot start: ".length()).trim();
  }

  private Path file(String name, String text) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, text);
    return f;
  }

  @Test
  void aMisspelledKeyOfOurFileIsRefused() throws Exception {
    assertEquals("--config jnsq.conf: jnsq.tcp-adress: unknown key (the keys are the flags of bin/jnsq node --help,"
        + " e.g. mem-queue-size)", refused("--config", file("jnsq.conf", "jnsq { tcp-adress = \"127.0.0.1:1\" }").toString()));
    assertTrue(refused("--config", file("j.conf", "jsnq { tcp-address = \"127.0.0.1:1\" }").toString())
        .startsWith("--config j.conf: jsnq: unknown key"));
  }

  @Test
  void aValueOfTheWrongKindInOurFileIsRefusedNamingTheKey() throws Exception {
    assertEquals("--config jnsq.conf: mem-queue-size = \"lots\": not a number",
        refused("--config", file("jnsq.conf", "jnsq { mem-queue-size = lots }").toString()));
    assertEquals("--config jnsq.conf: msg-timeout = 10: a duration needs a unit, e.g. 10s (ns, us, ms, s, m, h)",
        refused("--config", file("jnsq.conf", "jnsq { msg-timeout = 10 }").toString()));
  }

  @Test
  void enumerationsTakeOnlyTheirValues() {
    assertEquals("--tls-required=yes: not allowed; allowed: true, false, tcp-https", refused("--tls-required=yes"));
    assertEquals("--tls-client-auth-policy=optional: not allowed; allowed: \"\" (none), require, require-verify",
        refused("-tls-client-auth-policy", "optional"));
    assertEquals("--tls-min-version=tls1.4: not allowed; allowed: tls1.0, tls1.1, tls1.2, tls1.3",
        refused("--tls-min-version", "tls1.4"));
    assertEquals("--tls-min-version=ssl3.0: SSL 3.0 is not supported; allowed: tls1.0, tls1.1, tls1.2, tls1.3",
        refused("--tls-min-version=ssl3.0"));
    assertEquals("--log-level=loud: not allowed; allowed: debug, info, warn, error, fatal", refused("-log-level=loud"));
    assertEquals("--auth-match=regex: not allowed; allowed: whole, nsqd", refused("--auth-match", "regex"));
  }

  @Test
  void anUnknownFlagIsOneLineToo() {
    assertEquals("Unknown option: '--tcp-adress=1' (bin/jnsq node --help lists the flags)", refused("--tcp-adress=1"));
  }

  @Test
  void durationsNeedAUnitAndARange() {
    assertEquals("--msg-timeout=10: a duration needs a unit, e.g. 10s (ns, us, ms, s, m, h)", refused("--msg-timeout", "10"));
    assertEquals("--msg-timeout=0s: must be more than zero", refused("--msg-timeout=0s"));
    assertEquals("--max-req-timeout=-1s: must be zero or more", refused("--max-req-timeout=-1s"));
    assertEquals("--sync-timeout=soon: not a duration (e.g. 250ms, 60s, 1m30s, 1h; units ns, us, ms, s, m, h)",
        refused("--sync-timeout=soon"));
  }

  @Test
  void numbersMustBeNumbersInRange() {
    assertEquals("--mem-queue-size=abc: not a number", refused("--mem-queue-size", "abc"));
    assertEquals("--mem-queue-size=1.5: not a whole number", refused("--mem-queue-size", "1.5"));
    assertEquals("--node-id=5000: out of range; allowed: -1..1023", refused("--node-id=5000"));
    assertEquals("--max-deflate-level=0: out of range; allowed: 1..9", refused("--max-deflate-level=0"));
    assertEquals("--broadcast-tcp-port=70000: out of range; allowed: 0..65535", refused("--broadcast-tcp-port=70000"));
    assertEquals("--sync-every=0: out of range; allowed: 1 or more", refused("--sync-every=0"));
    assertEquals("--max-msg-size=big: not a size in bytes (e.g. 1048576 or 1MiB)", refused("--max-msg-size=big"));
    assertEquals("--e2e-processing-latency-percentile=x: not a number", refused("--e2e-processing-latency-percentile=x"));
    assertTrue(refused("--e2e-processing-latency-percentile=0.99,1.5").endsWith("1.5 is out of range; allowed: more than 0, up to 1"));
    assertEquals("--deflate=maybe: not a boolean (true or false)", refused("--deflate=maybe"));
    assertEquals("--statsd-udp-packet-size=10: out of range; allowed: 64..65507", refused("--statsd-udp-packet-size=10"));
  }

  @Test
  void addressesAndConflictingListenersAreRefused() {
    assertEquals("--tcp-address=nowhere: not an address; allowed: host:port with a port 0..65535",
        refused("--tcp-address=nowhere"));
    assertEquals("--http-address=0.0.0.0:14150 conflicts with --tcp-address=127.0.0.1:14150: two listeners on one port;"
        + " give one of them another port", refused("--tcp-address=127.0.0.1:14150", "--http-address=0.0.0.0:14150"));
    assertEquals("--tls-required=true: needs --tls-cert and --tls-key", refused("--tls-required"));
    assertEquals("--tls-cert without --tls-key", refused("--tls-cert=/x.pem"));
  }

  @Test
  void goDurationsAndNsqdsBooleanSpellingsAreTakenAsNsqdTakesThem() {
    NodeSettings s = NodeSettings.fromConfig(Node.checkedConfig(null,
        Main.nodeOverrides("--msg-timeout=1m30s", "--tls-min-version=TLS1.3", "--max-req-timeout=0", "-log-level=WARN")));
    assertEquals(Duration.ofSeconds(90), s.msgTimeout());
    assertEquals(Duration.ZERO, s.maxReqTimeout());
    assertEquals("tls1.3", s.tlsMinVersion());
    assertEquals("warn", s.logLevel());
    assertEquals("false", NodeSettings.fromConfig(Node.checkedConfig(null, Map.of("jnsq.tls-required", "F"))).tlsRequired());
  }

  @Test
  void theDefaultsAndTheSampleConfigPassTheCheck() throws Exception {
    Node.checkedConfig(null, Map.of());
    String text = Files.readString(Path.of("config", "jnsq.conf"));
    Path f = file("jnsq.conf", text.replaceAll("(?m)^(\\s*)# ([a-z0-9-]+ =)", "$1$2"));
    Node.checkedConfig(f, Map.of());
  }

  @Test
  void pekkoSettingsInOurFileAreStillAllowed() throws Exception {
    // as deploy/kubernetes/jnsq.yaml's ConfigMap has it
    Path f = file("jnsq.conf", "jnsq {\n  data-path = \"/var/lib/jnsq\"\n}\npekko.remote.artery.bind.hostname = \"0.0.0.0\"\n"
        + "pekko.remote.artery.bind.port = 7350\n");
    assertEquals("/var/lib/jnsq", NodeSettings.fromConfig(Node.checkedConfig(f, Map.of())).dataPath());
  }
}
