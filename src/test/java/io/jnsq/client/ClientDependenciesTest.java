package io.jnsq.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The client ships as its own jar: its compiled classes may name no other io.jnsq package, and the
 * plain-Java part (everything but io.jnsq.client.pekko) no Pekko type either.
 */
class ClientDependenciesTest {
  private static final Pattern JNSQ_REF = Pattern.compile("io/jnsq/([A-Za-z0-9_]+)/");

  private static List<Path> classes(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.toString().endsWith(".class")).toList();
    }
  }

  @Test
  void clientClassesReferenceNothingOfTheServer() throws Exception {
    Path root = Path.of(Producer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).resolve("io/jnsq/client");
    List<Path> all = classes(root);
    assertTrue(all.size() > 5, "found the client's classes in " + root);
    Set<String> offenders = new TreeSet<>();
    for (Path c : all) {
      // class files name every type they use in their constant pool, as UTF-8 internal names
      String pool = new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1);
      Matcher m = JNSQ_REF.matcher(pool);
      while (m.find()) if (!m.group(1).equals("client")) offenders.add(root.relativize(c) + " -> io.jnsq." + m.group(1));
      boolean streams = root.relativize(c).startsWith("pekko");
      if (!streams && pool.contains("org/apache/pekko/")) offenders.add(root.relativize(c) + " -> org.apache.pekko");
    }
    assertFalse(!offenders.isEmpty(), "the client jar must stand alone: " + offenders);
  }
}
