package io.jnsq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package rules of STYLE.md, read from the sources: no cycles between packages, and {@code storage}
 * a leaf that knows records, not broker types (it may use {@code config} only).
 */
class PackageCyclesTest {
  private static final Path ROOT = Path.of("src/main/java/io/jnsq");
  private static final Pattern USE = Pattern.compile("\\bio\\.jnsq\\.([a-z]+)\\.");

  /** Package to the packages its sources name. */
  private static Map<String, Set<String>> dependencies() throws IOException {
    Map<String, Set<String>> deps = new TreeMap<>();
    try (Stream<Path> files = Files.walk(ROOT)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String pkg = ROOT.relativize(f.getParent()).toString().replace('/', '.');
        if (pkg.isEmpty()) continue;
        String top = pkg.split("\\.")[0];
        Set<String> mine = deps.computeIfAbsent(top, k -> new TreeSet<>());
        Matcher m = USE.matcher(Files.readString(f));
        while (m.find()) if (!m.group(1).equals(top)) mine.add(m.group(1));
      }
    }
    return deps;
  }

  @Test
  void noPackageDependsOnItselfThroughOthers() throws IOException {
    Map<String, Set<String>> deps = dependencies();
    List<String> cycles = new ArrayList<>();
    for (String start : deps.keySet()) {
      // Depth-first search for a path back to start.
      List<List<String>> stack = new ArrayList<>(List.of(List.of(start)));
      Set<String> seen = new TreeSet<>();
      while (!stack.isEmpty()) {
        List<String> path = stack.remove(stack.size() - 1);
        String last = path.get(path.size() - 1);
        for (String next : deps.getOrDefault(last, Set.of())) {
          if (next.equals(start)) {
            cycles.add(String.join(" -> ", path) + " -> " + start);
          } else if (seen.add(next)) {
            List<String> longer = new ArrayList<>(path);
            longer.add(next);
            stack.add(longer);
          }
        }
      }
    }
    assertEquals(List.of(), cycles, "package cycles; dependencies: " + deps);
  }

  @Test
  void storageIsALeaf() throws IOException {
    Set<String> storage = dependencies().getOrDefault("storage", Set.of());
    assertTrue(Set.of("config").containsAll(storage), "storage may use config only, uses " + storage);
  }
}
