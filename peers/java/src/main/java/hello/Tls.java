package hello;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** TLS contexts built from the PEM files of the certificates folder (PROTOCOL.md section 8). */
final class Tls {
  private static final String BEGIN_KEY = "-----BEGIN PRIVATE KEY-----";
  private static final String END_KEY = "-----END PRIVATE KEY-----";
  private static final char[] IN_MEMORY_PASSWORD = "hello".toCharArray();

  private Tls() {}

  /** A server context presenting the certificate chain and its PKCS#8 private key. */
  static SSLContext serverContext(Path certificateFile, Path keyFile)
      throws IOException, GeneralSecurityException {
    List<Certificate> chain = readCertificates(certificateFile);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "server", readPrivateKey(keyFile), IN_MEMORY_PASSWORD, chain.toArray(new Certificate[0]));
    KeyManagerFactory keyManagers =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, IN_MEMORY_PASSWORD);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), null, null);
    return context;
  }

  /** A client context that trusts only the certificates in the given CA file. */
  static SSLContext clientContext(Path caFile) throws IOException, GeneralSecurityException {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    int index = 0;
    for (Certificate certificate : readCertificates(caFile)) {
      trusted.setCertificateEntry("ca-" + index++, certificate);
    }
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trustManagers.getTrustManagers(), null);
    return context;
  }

  private static List<Certificate> readCertificates(Path file)
      throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      List<Certificate> certificates =
          List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
      if (certificates.isEmpty()) {
        throw new GeneralSecurityException("no certificate in " + file);
      }
      return certificates;
    }
  }

  private static PrivateKey readPrivateKey(Path file) throws IOException, GeneralSecurityException {
    String pem = Files.readString(file);
    int begin = pem.indexOf(BEGIN_KEY);
    int end = pem.indexOf(END_KEY);
    if (begin < 0 || end < begin) {
      throw new GeneralSecurityException(file + " holds no PKCS#8 \"" + BEGIN_KEY + "\" key");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + BEGIN_KEY.length(), end));
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException e) {
        // Not this algorithm: try the next one.
      }
    }
    throw new GeneralSecurityException(file + ": unsupported private key algorithm");
  }
}
