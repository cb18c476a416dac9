package io.jnsq.tcp;

import java.nio.file.Path;

/** Certificates for tests, made at test time (never committed). */
public final class TestCerts {
  private TestCerts() {}

  /** A self-signed certificate and PKCS#8 key for localhost in {@code dir}, made with openssl: {cert, key}. */
  public static Path[] make(Path dir) throws Exception {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
        "-out", cert.toString(), "-subj", "/CN=localhost", "-days", "1").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IllegalStateException("openssl failed: " + out);
    return new Path[] {cert, key};
  }
}
