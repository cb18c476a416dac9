package io.jnsq.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jnsq.e2e.NsqjsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), regex);
    return m.group(1);
  }

  private static long mib(String n) { return Long.parseLong(n); }
}
