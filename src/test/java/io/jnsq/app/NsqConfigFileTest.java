package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.config.NodeSettings;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --config} reads NSQ's TOML .cfg files (nsqd's, nsqlookupd's, nsqadmin's) as well as our HOCON. */
class NsqConfigFileTest {
  @TempDir Path dir;

  private Path resource(String name) throws Exception {
    Path out = dir.resolve(name);
    try (InputStream in = getClass().getResourceAsStream("/nsq-cfg/" + name)) {
      Files.write(out, in.readAllBytes());
    }
    return out;
  }

  private Path file(String name, String text) throws Exception {
    Path out = dir.resolve(name);
    Files.writeString(out, text);
    return out;
  }

  private static NodeSettings settings(Path file, Map<String, ?> flags) {
    return NodeSettings.fromConfig(Node.loadConfig(file, flags));
  }

  @Test
  void nsqdsExampleConfigLoadsUnchanged() throws Exception {
    NodeSettings s = settings(resource("nsqd.cfg"), Map.of());
    assertEquals("0.0.0.0:4150", s.tcpAddress().toString());
    assertEquals("0.0.0.0:4151", s.httpAddress().toString());
    assertEquals(List.of("127.0.0.1:4160"), s.lookupdTcpAddresses());
    assertEquals(1024768, s.maxMsgSize());
    assertEquals(5123840, s.maxBodySize());
    assertEquals(Duration.ofSeconds(1), s.maxOutputBufferTimeout());
    assertEquals(Duration.ofMinutes(15), s.maxMsgTimeout());
    assertEquals(List.of(1.0, 0.99, 0.95), s.e2eProcessingLatencyPercentiles());
    assertEquals("false", s.tlsRequired());
    assertEquals("tls1.2", s.tlsMinVersion(), "nsqd's empty tls_min_version keeps the default");
    assertEquals("info", s.logLevel());
  }

  @Test
  void flagsOverrideTheCfgFile() throws Exception {
    NodeSettings s = settings(resource("nsqd.cfg"), Main.nodeOverrides("-tcp-address=127.0.0.1:9150", "-max-msg-size", "99"));
    assertEquals("127.0.0.1:9150", s.tcpAddress().toString());
    assertEquals(99, s.maxMsgSize());
  }

  @Test
  void nsqlookupdsConfigSetsTheLookupListeners() throws Exception {
    NodeSettings s = settings(resource("nsqlookupd.cfg"), Map.of());
    assertEquals("0.0.0.0:4160", s.lookupTcpAddress().toString());
    assertEquals("0.0.0.0:4161", s.lookupHttpAddress().toString());
    assertEquals("0.0.0.0:4151", s.httpAddress().toString(), "nsqd's HTTP API keeps its default");
    assertEquals(Duration.ofSeconds(300), s.inactiveProducerTimeout());
    assertEquals(Duration.ofSeconds(45), s.tombstoneLifetime());
  }

  @Test
  void nsqadminsConfigSetsTheAdminListenerAndNotesWhatItIgnores() throws Exception {
    Path f = resource("nsqadmin.cfg");
    NodeSettings s = settings(f, Map.of());
    assertEquals("0.0.0.0:4171", s.adminHttpAddress().toString());
    assertEquals("", s.adminNotificationHttpEndpoint());
    List<String> notes = Node.configNotes(f);
    assertTrue(notes.stream().anyMatch(n -> n.contains("graphite_url is nsqadmin's and ignored")), notes.toString());
    assertTrue(notes.stream().anyMatch(n -> n.contains("nsqlookupd_http_addresses")), notes.toString());
  }

  @Test
  void theProgramIsToldByTheKeysWhenTheNameSaysNothing() throws Exception {
    Path lookupd = file("a.cfg", "tcp_address = \"127.0.0.1:5160\"\ntombstone_lifetime = \"10s\"\n");
    assertEquals("127.0.0.1:5160", settings(lookupd, Map.of()).lookupTcpAddress().toString());
    Path nsqd = file("b.cfg", "tcp_address = \"127.0.0.1:5150\"\nmem_queue_size = 5\n");
    assertEquals("127.0.0.1:5150", settings(nsqd, Map.of()).tcpAddress().toString());
    Path admin = file("c.toml", "http_address = \"127.0.0.1:5171\"\ngraphite_url = \"\"\n");
    assertEquals("127.0.0.1:5171", settings(admin, Map.of()).adminHttpAddress().toString());
  }

  @Test
  void ourHoconFileIsStillReadAndToldApartByItsText() throws Exception {
    Path conf = file("jnsq.conf", "jnsq { mem-queue-size = 7 }\n");
    assertEquals(7, settings(conf, Map.of()).memQueueSize());
    Path bare = file("settings", "jnsq.mem-queue-size = 8\n");
    assertEquals(8, settings(bare, Map.of()).memQueueSize());
    Path toml = file("nsqd-settings", "mem_queue_size = 9\n");
    assertEquals(9, settings(toml, Map.of()).memQueueSize());
  }

  @Test
  void anUnknownKeyIsRefusedNamingIt() throws Exception {
    Path f = file("nsqd.cfg", "tcp_adress = \"0.0.0.0:4150\"\n");
    ConfigProblem p = assertThrows(ConfigProblem.class, () -> Node.loadConfig(f, Map.of()));
    assertTrue(p.getMessage().startsWith("--config nsqd.cfg: tcp_adress = \"0.0.0.0:4150\": unknown key"), p.getMessage());
  }

  @Test
  void valuesOfTheWrongKindAreRefusedNamingTheKey() throws Exception {
    String m = assertThrows(ConfigProblem.class, () -> Node.loadConfig(file("nsqd.cfg", "msg_timeout = 10\n"), Map.of())).getMessage();
    assertEquals("--config nsqd.cfg: msg_timeout = 10: a duration needs a unit, e.g. \"10s\" (ns, us, ms, s, m, h)", m);
    m = assertThrows(ConfigProblem.class, () -> Node.loadConfig(file("nsqd.cfg", "mem_queue_size = \"lots\"\n"), Map.of())).getMessage();
    assertEquals("--config nsqd.cfg: mem_queue_size = \"lots\": not a number", m);
    m = assertThrows(ConfigProblem.class, () -> Node.loadConfig(file("nsqd.cfg", "deflate = \"yes\"\n"), Map.of())).getMessage();
    assertEquals("--config nsqd.cfg: deflate = \"yes\": not a boolean (true or false)", m);
    m = assertThrows(ConfigProblem.class, () -> Node.loadConfig(file("nsqd.cfg", "tcp_address = [\n"), Map.of())).getMessage();
    assertTrue(m.startsWith("--config "), m);
    assertTrue(!m.contains("\n"), m);
  }

  @Test
  void mainRefusesABadCfgWithOneLineAndStatusTwo() throws Exception {
    Path f = file("nsqd.cfg", "no_such_option = 1\n");
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.run(new String[] {"node", "-config=" + f});
    } finally {
      System.setErr(saved);
    }
    String text = err.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, text);
    assertEquals(1, text.lines().count(), text);
    assertTrue(text.startsWith("jnsq: cannot start: --config nsqd.cfg: no_such_option = 1: unknown key"), text);
  }

  @Test
  void goDurationsAsNsqdParsesThem() {
    assertEquals(2_000_000_000L, FlagValues.goDurationNanos("2s"));
    assertEquals(5_400_000_000_000L, FlagValues.goDurationNanos("1h30m"));
    assertEquals(1_500_000_000L, FlagValues.goDurationNanos("1.5s"));
    assertEquals(300_000L, FlagValues.goDurationNanos("300us"));
    assertEquals(0L, FlagValues.goDurationNanos("0"));
    assertEquals(-1_000_000L, FlagValues.goDurationNanos("-1ms"));
    assertNull(FlagValues.goDurationNanos("10"));
    assertNull(FlagValues.goDurationNanos("2 s"));
    assertNull(FlagValues.goDurationNanos("s"));
    assertNull(FlagValues.goDurationNanos(""));
  }
}
