package io.jnsq.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Builds the SSLContext of go-nsq's TLS options: a root CA file, a client certificate, or no verification. */
final class Tls {
  private Tls() {}

  static SSLContext context(ClientConfig c) throws IOException {
    if (c.sslContext != null) return c.sslContext;
    try {
      TrustManager[] trust = null;
      if (c.tlsInsecureSkipVerify) {
        trust = new TrustManager[] {new X509TrustManager() {
          @Override public void checkClientTrusted(X509Certificate[] chain, String auth) {}
          @Override public void checkServerTrusted(X509Certificate[] chain, String auth) {}
          @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }};
      } else if (c.tlsRootCaFile != null && !c.tlsRootCaFile.isEmpty()) {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        int i = 0;
        for (Certificate cert : certificates(Path.of(c.tlsRootCaFile))) ks.setCertificateEntry("ca" + i++, cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        trust = tmf.getTrustManagers();
      }
      javax.net.ssl.KeyManager[] keys = null;
      if (c.tlsCert != null && c.tlsKey != null && !c.tlsCert.isEmpty()) {
        List<Certificate> chain = new ArrayList<>(certificates(Path.of(c.tlsCert)));
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        ks.setKeyEntry("client", privateKey(Path.of(c.tlsKey)), new char[0], chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        keys = kmf.getKeyManagers();
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys, trust, null);
      return ctx;
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  static String[] protocols(String minVersion) {
    List<String> all = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    String min = switch (minVersion.toLowerCase(java.util.Locale.ROOT).replace("v", "")) {
      case "ssl3.0", "tls1.0" -> "TLSv1";
      case "tls1.1" -> "TLSv1.1";
      case "tls1.3" -> "TLSv1.3";
      default -> "TLSv1.2";
    };
    return all.subList(all.indexOf(min), all.size()).toArray(new String[0]);
  }

  private static Collection<? extends Certificate> certificates(Path pem) throws Exception {
    try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(pem))) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in);
    }
  }

  private static PrivateKey privateKey(Path pem) throws Exception {
    String text = Files.readString(pem, StandardCharsets.US_ASCII);
    int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = text.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < 0) throw new IOException(pem + ": expected a PKCS#8 PEM key (BEGIN PRIVATE KEY)");
    byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
    for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (Exception ignored) {
        // try the next algorithm
      }
    }
    throw new IOException(pem + ": unsupported key algorithm");
  }
}
