package io.jnsq.tcp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;

/**
 * The node's TLS identity from nsqd's flags: a PEM certificate chain and a PEM (PKCS#8) private key,
 * optionally a PEM root CA for client certificates, the client-auth policy and the lowest version.
 */
public final class TlsContexts {
  private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

  private final SSLContext context;
  private final String clientAuth;   // "", "require" or "require-verify"
  private final String[] protocols;

  private TlsContexts(SSLContext context, String clientAuth, String[] protocols) {
    this.context = context;
    this.clientAuth = clientAuth;
    this.protocols = protocols;
  }

  /** Loads the files; throws with a message naming the flag that is wrong. */
  public static TlsContexts load(String certFile, String keyFile, String rootCaFile, String clientAuthPolicy,
      String minVersion) throws IOException {
    try {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      List<Certificate> chain = new ArrayList<>(x509.generateCertificates(
          new ByteArrayInputStream(Files.readAllBytes(Path.of(certFile)))));
      if (chain.isEmpty()) throw new IOException("--tls-cert " + certFile + " holds no certificate");
      PrivateKey key = privateKey(Files.readString(Path.of(keyFile), StandardCharsets.US_ASCII), keyFile);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] none = new char[0];
      ks.setKeyEntry("node", key, none, chain.toArray(new Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, none);
      TrustManagerFactory tmf = null;
      String policy = clientAuthPolicy == null ? "" : clientAuthPolicy;
      if (!policy.isEmpty() && !policy.equals("require") && !policy.equals("require-verify")) {
        throw new IOException("--tls-client-auth-policy must be require or require-verify");
      }
      if (policy.equals("require-verify") && (rootCaFile == null || rootCaFile.isEmpty())) {
        throw new IOException("--tls-client-auth-policy=require-verify needs --tls-root-ca-file");
      }
      if (rootCaFile != null && !rootCaFile.isEmpty()) {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (Certificate c : x509.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(Path.of(rootCaFile))))) {
          trust.setCertificateEntry("ca" + i++, c);
        }
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      // "require": any client certificate will do, as with nsqd; "require-verify": it must chain to the CA.
      javax.net.ssl.TrustManager[] trust = policy.equals("require") ? new javax.net.ssl.TrustManager[] {ANY_CLIENT}
          : tmf == null ? null : tmf.getTrustManagers();
      ctx.init(kmf.getKeyManagers(), trust, null);
      return new TlsContexts(ctx, clientAuthPolicy == null ? "" : clientAuthPolicy, protocolsFrom(minVersion));
    } catch (GeneralSecurityException e) {
      throw new IOException("TLS setup failed: " + e.getMessage(), e);
    }
  }

  private static final javax.net.ssl.X509TrustManager ANY_CLIENT = new javax.net.ssl.X509TrustManager() {
    @Override public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}
    @Override public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("this node does not connect to TLS servers");
    }
    @Override public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; }
  };

  private static PrivateKey privateKey(String pem, String file) throws IOException, GeneralSecurityException {
    Matcher m = PEM.matcher(pem);
    while (m.find()) {
      if (!m.group(1).equals("PRIVATE KEY")) {
        if (m.group(1).endsWith("PRIVATE KEY")) {
          throw new IOException("--tls-key " + file + " is " + m.group(1)
              + "; convert it to PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in " + file);
        }
        continue;
      }
      byte[] der = Base64.getMimeDecoder().decode(m.group(2));
      for (String alg : List.of("RSA", "EC", "Ed25519")) {
        try {
          return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException tryNext) {
          // not this algorithm
        }
      }
      throw new IOException("--tls-key " + file + ": unsupported key algorithm");
    }
    throw new IOException("--tls-key " + file + " holds no PEM private key");
  }

  private static String[] protocolsFrom(String minVersion) {
    List<String> all = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    String v = minVersion == null || minVersion.isEmpty() ? "tls1.2" : minVersion.toLowerCase();
    int from = switch (v) {
      case "tls1.0" -> 0;
      case "tls1.1" -> 1;
      case "tls1.2" -> 2;
      case "tls1.3" -> 3;
      default -> throw new IllegalArgumentException("--tls-min-version must be tls1.0, tls1.1, tls1.2 or tls1.3");
    };
    return all.subList(from, all.size()).toArray(new String[0]);
  }

  /** A server-side engine for one connection. */
  public SSLEngine serverEngine() {
    SSLEngine e = context.createSSLEngine();
    e.setUseClientMode(false);
    java.util.Set<String> supported = java.util.Set.of(e.getSupportedProtocols());
    e.setEnabledProtocols(java.util.Arrays.stream(protocols).filter(supported::contains).toArray(String[]::new));
    if (clientAuth.equals("require") || clientAuth.equals("require-verify")) e.setNeedClientAuth(true);
    return e;
  }

  public SSLContext context() { return context; }
}
