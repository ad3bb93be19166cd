package hello;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The origin decision of PROTOCOL.md section 2.2. */
class OriginPolicyTest {
  /** A server on 127.0.0.1, ws on 9898 and wss on 9886, also named hello.example. */
  private static OriginPolicy policy(String... allowOrigins) {
    OriginPolicy policy =
        new OriginPolicy("127.0.0.1", List.of("Hello.Example"), List.of(allowOrigins));
    policy.addPort(9898);
    policy.addPort(9886);
    return policy;
  }

  @Test
  void noOriginIsAccepted() {
    assertTrue(policy().allows(null));
  }

  @Test
  void ownOriginWithPort() {
    OriginPolicy policy = policy();
    assertTrue(policy.allows("http://127.0.0.1:9898"));
    assertTrue(policy.allows("http://localhost:9898"));
    assertTrue(policy.allows("https://localhost:9886"));
    assertTrue(policy.allows("http://hello.example:9886"), "a --san, and the TLS port over http");
    assertTrue(policy.allows("HTTP://LOCALHOST:9898"), "without case");
    assertTrue(policy.allows("https://HELLO.example:9898"));
  }

  @Test
  void ownOriginIpv6() {
    OriginPolicy policy = policy();
    assertTrue(policy.allows("http://[::1]:9898"));
    assertTrue(policy.allows("https://[::1]:9886"));
    assertFalse(policy.allows("http://[::1]:1"));
    assertFalse(policy.allows("http://[::2]:9898"));
    assertFalse(policy.allows("http://::1:9898"), "an IPv6 address without brackets is no host");
  }

  @Test
  void ipv6HostAndSan() {
    OriginPolicy policy = new OriginPolicy("::", List.of("fd00::7"), List.of());
    policy.addPort(8080);
    assertTrue(policy.allows("http://[::]:8080"));
    assertTrue(policy.allows("http://[FD00::7]:8080"));
    assertFalse(policy.allows("http://127.0.0.2:8080"));
  }

  @Test
  void ownOriginWithoutPortMeansTheSchemesDefault() {
    OriginPolicy policy = policy();
    assertFalse(policy.allows("http://127.0.0.1"), "port 80 is not served");
    assertFalse(policy.allows("https://localhost"), "port 443 is not served");
    policy.addPort(80);
    assertTrue(policy.allows("http://127.0.0.1"));
    assertFalse(policy.allows("https://127.0.0.1"));
    policy.addPort(443);
    assertTrue(policy.allows("https://127.0.0.1"));
    assertTrue(policy.allows("https://127.0.0.1:443"));
  }

  @Test
  void portZeroIsNotAPortServed() {
    OriginPolicy policy = new OriginPolicy("127.0.0.1", List.of(), List.of());
    assertFalse(policy.allows("http://127.0.0.1:9898"), "no port bound yet");
    policy.addPort(41234);
    assertTrue(policy.allows("http://127.0.0.1:41234"));
    assertFalse(policy.allows("http://127.0.0.1:0"));
  }

  @Test
  void wrongPort() {
    OriginPolicy policy = policy();
    assertFalse(policy.allows("http://127.0.0.1:9897"));
    assertFalse(policy.allows("http://localhost:99999"));
  }

  @Test
  void wrongScheme() {
    OriginPolicy policy = policy();
    assertFalse(policy.allows("ws://127.0.0.1:9898"));
    assertFalse(policy.allows("wss://localhost:9886"));
    assertFalse(policy.allows("file://localhost:9898"));
    assertFalse(policy.allows("chrome-extension://abcdef"));
  }

  @Test
  void foreignHostAndTheHostHeaderPlayNoPart() {
    OriginPolicy policy = policy();
    assertFalse(policy.allows("https://evil.example"));
    assertFalse(policy.allows("http://evil.example:9898"));
    assertFalse(policy.allows("http://127.0.0.1.evil.example:9898"));
    assertFalse(policy.allows("http://localhost.:9898"));
  }

  @Test
  void nullIsRefused() {
    assertFalse(policy().allows("null"));
    assertFalse(policy().allows("NULL"));
  }

  @Test
  void garbageIsRefused() {
    OriginPolicy policy = policy();
    for (String garbage :
        List.of(
            "",
            " ",
            "127.0.0.1:9898",
            "localhost:9898",
            "http://",
            "http://127.0.0.1:",
            "http://127.0.0.1:9898/ws",
            "http://127.0.0.1:9898?x=1",
            "http://127.0.0.1:9898#x",
            "http://user@127.0.0.1:9898",
            "http://127.0.0.1:9898, http://localhost:9898",
            "http://127.0.0.1:98 98",
            "http://127.0.0.1:9898\u0000",
            "\u00e9\u00e9\u00e9",
            "%")) {
      assertFalse(policy.allows(garbage), garbage);
    }
  }

  @Test
  void allowedList() {
    OriginPolicy policy = policy("https://app.example:8443", "http://Other.Example/");
    assertTrue(policy.allows("https://app.example:8443"));
    assertTrue(policy.allows("HTTPS://APP.EXAMPLE:8443"), "without case");
    assertTrue(policy.allows("https://app.example:8443/"), "without a trailing slash");
    assertTrue(policy.allows("http://other.example"));
    assertFalse(policy.allows("https://app.example"), "another port");
    assertFalse(policy.allows("http://app.example:8443"), "another scheme");
    assertFalse(policy.allows("https://sub.app.example:8443"));
    assertFalse(policy.allows("null"));
    assertTrue(policy.allows("http://127.0.0.1:9898"), "its own still");
  }

  @Test
  void starAllowsAll() {
    OriginPolicy policy = policy("*");
    assertTrue(policy.allows("https://evil.example"));
    assertTrue(policy.allows("null"));
    assertTrue(policy.allows("garbage"));
    assertTrue(policy.allows(null));
  }

  @Test
  void allowedValuesMustBeOrigins() {
    assertDoesNotThrow(() -> OriginPolicy.checkAllowed(List.of("*", "https://a.example:1/")));
    for (String bad : List.of("null", "app.example", "https://a.example/path", "", "http://")) {
      assertThrows(
          UsageException.class, () -> OriginPolicy.checkAllowed(List.of(bad)), "value " + bad);
    }
  }
}
