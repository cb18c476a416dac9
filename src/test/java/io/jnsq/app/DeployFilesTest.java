package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.e2e.NsqjsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The container and Kubernetes files (no container runtime runs here, so what can be checked without
 * one): the manifests pass Kubernetes' OpenAPI schemas (npm's kubernetes-models, in
 * test-clients/kubernetes), the pods' memory limit holds the JVM's heap and direct memory, and the
 * Dockerfile is multi-stage, non-root, with a data volume and a health check.
 */
class DeployFilesTest {
  private static final Path MANIFEST = Path.of("deploy", "kubernetes", "jnsq.yaml");

  @Test
  void theManifestsPassKubernetesSchemas() throws Exception {
    NsqjsClient.ensureInstalled("kubernetes", "kubernetes-models");
    NsqjsClient.Run run = NsqjsClient.startIn("kubernetes", "check.mjs", Path.of("..", "..").resolve(MANIFEST).toString());
    int code = run.await(Duration.ofSeconds(60));
    List<JsonNode> invalid = run.events("invalid");
    assertTrue(invalid.isEmpty(), invalid.toString());
    assertEquals(0, code, run.stderr());
    List<String> kinds = run.events("valid").stream().map(n -> n.path("kind").asText()).toList();
    assertTrue(kinds.containsAll(List.of("StatefulSet", "Service", "PodDisruptionBudget", "ConfigMap")), kinds.toString());
  }

  @Test
  void thePodsMemoryLimitHoldsTheJvmsHeapAndDirectMemory() throws Exception {
    String yaml = Files.readString(MANIFEST);
    long heap = mib(find(yaml, "-Xmx(\\d+)m"));
    long direct = mib(find(yaml, "-XX:MaxDirectMemorySize=(\\d+)m"));
    Matcher limits = Pattern.compile("limits: \\{cpu: \"?\\w+\"?, memory: (\\d+)Gi\\}").matcher(yaml);
    assertTrue(limits.find(), "a memory limit in Gi");
    long limit = Long.parseLong(limits.group(1)) * 1024;
    // metaspace, code cache, thread stacks and the GC's own memory need room beside heap and direct memory
    assertTrue(heap + direct + 150 <= limit, "heap " + heap + " + direct " + direct + " MiB + 150 MiB overhead within " + limit);
    assertTrue(yaml.contains("requests: {cpu: 500m, memory: 1Gi}"), "memory requested as limited: the pod is never squeezed");
    assertTrue(yaml.contains("readinessProbe:") && yaml.contains("livenessProbe:"));
  }

  @Test
  void theImageIsMultiStageNonRootWithADataVolumeAndAHealthCheck() throws Exception {
    String docker = Files.readString(Path.of("Dockerfile"));
    assertEquals(2, Pattern.compile("(?m)^FROM ").matcher(docker).results().count(), "a build stage and a runtime stage");
    assertTrue(docker.contains("FROM eclipse-temurin:17-jre"), "a JRE base image");
    assertTrue(docker.contains("USER 10001:10001"), "non-root, with the uid the manifest's runAsUser names");
    assertTrue(docker.contains("VOLUME [\"/var/lib/jnsq\"]"));
    assertTrue(docker.contains("HEALTHCHECK "));
    assertTrue(Files.readString(MANIFEST).contains("runAsUser: 10001"));
  }

  /** Runs {@code sh -c script args...} with a fake java (prints its arguments, one a line) and getent on the PATH. */
  private static List<String> javaArgs(String script, Map<String, String> env, String... args) throws Exception {
    Path bin = Files.createTempDirectory("jnsq-fake-bin");
    Path fakeJava = bin.resolve("java");
    Files.writeString(fakeJava, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Path getent = bin.resolve("getent");
    Files.writeString(getent, "#!/bin/sh\necho \"127.0.0.1 $2\"\n");
    for (Path p : List.of(fakeJava, getent)) p.toFile().setExecutable(true);
    List<String> cmd = new java.util.ArrayList<>(List.of("sh", "-c", script));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().put("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the start command returned");
    assertEquals(0, p.exitValue(), out);
    return List.of(out.split("\n"));
  }

  /** The node flags after {@code -jar <jar> node}: every one a flag of the table, and their values valid settings. */
  private static void assertNodeFlagsParse(List<String> args) {
    int node = args.indexOf("node");
    assertTrue(node > 0 && args.get(node - 2).equals("-jar"), "java ... -jar <jar> node ...: " + args);
    Map<String, Object> overrides = new java.util.HashMap<>();
    java.util.Set<String> flags = new java.util.HashSet<>();
    for (NodeFlags.Flag f : NodeFlags.ALL) flags.add(f.name());
    for (int i = node + 1; i < args.size(); i += 2) {
      String flag = args.get(i);
      assertTrue(flag.startsWith("--"), "a flag at " + i + ": " + args);
      String name = flag.substring(2);
      assertTrue(name.equals("config") || flags.contains(name), "unknown flag " + flag);
      if (name.equals("config")) continue;
      if (name.equals("seed-node")) {
        @SuppressWarnings("unchecked")
        List<String> seeds = (List<String>) overrides.computeIfAbsent("jnsq.seed-node", k -> new java.util.ArrayList<String>());
        seeds.add(args.get(i + 1));
      } else {
        overrides.put("jnsq." + name, args.get(i + 1));
      }
    }
    io.jnsq.config.NodeSettings.fromConfig(Node.loadConfig(null, overrides));
  }

  @Test
  void thePodsStartCommandRunsTheNodeWithValidFlagsOnceItsNameResolves() throws Exception {
    NsqjsClient.ensureInstalled("kubernetes", "kubernetes-models");
    NsqjsClient.Run run = NsqjsClient.startIn("kubernetes", "check.mjs", "--commands", Path.of("..", "..").resolve(MANIFEST).toString());
    assertEquals(0, run.await(Duration.ofSeconds(60)), run.stderr());
    JsonNode c = run.events("command").get(0);
    assertEquals(List.of("sh", "-c"), List.of(c.path("command").get(0).asText(), c.path("command").get(1).asText()));
    String javaOpts = find(Files.readString(MANIFEST), "value: \"(-Xms[^\"]+)\"");
    List<String> args = javaArgs(c.path("args").get(0).asText(),
        Map.of("POD_NAME", "jnsq-1", "POD_NAMESPACE", "prod", "JAVA_OPTS", javaOpts));
    assertEquals(List.of(javaOpts.split(" ")), args.subList(0, javaOpts.split(" ").length), "each JVM option its own word");
    assertTrue(args.containsAll(List.of("--broadcast-address", "jnsq-1.jnsq.prod.svc.cluster.local",
        "--cluster-address", "jnsq-1.jnsq.prod.svc.cluster.local:7350", "--seed-node", "jnsq-0.jnsq.prod.svc.cluster.local:7350",
        "jnsq-2.jnsq.prod.svc.cluster.local:7350")), args.toString());
    assertNodeFlagsParse(args);
  }

  @Test
  void theImagesEntryPointPassesItsCommandToTheNode() throws Exception {
    String docker = Files.readString(Path.of("Dockerfile"));
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<String> entry = json.readValue(find(docker, "(?m)^ENTRYPOINT (\\[.*\\])$"), new com.fasterxml.jackson.core.type.TypeReference<List<String>>() {});
    List<String> cmd = json.readValue(find(docker, "(?m)^CMD (\\[.*\\])$"), new com.fasterxml.jackson.core.type.TypeReference<List<String>>() {});
    String javaOpts = find(docker, "(?m)^ENV JAVA_OPTS=\"([^\"]+)\"");
    assertEquals(List.of("sh", "-c"), entry.subList(0, 2));
    List<String> rest = new java.util.ArrayList<>(entry.subList(3, entry.size()));
    rest.addAll(cmd);
    List<String> args = javaArgs(entry.get(2), Map.of("JAVA_OPTS", javaOpts), rest.toArray(String[]::new));
    assertEquals(List.of(javaOpts.split(" ")), args.subList(0, javaOpts.split(" ").length));
    assertEquals(List.of("-jar", "/opt/jnsq/jnsq.jar", "node", "--config", "/etc/jnsq/jnsq.conf", "--data-path", "/var/lib/jnsq"),
        args.subList(javaOpts.split(" ").length, args.size()));
    assertNodeFlagsParse(args);
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), regex);
    return m.group(1);
  }

  private static long mib(String n) { return Long.parseLong(n); }
}
