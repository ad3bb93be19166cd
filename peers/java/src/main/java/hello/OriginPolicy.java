package hello;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which browser pages may open a session (PROTOCOL.md section 2.2): none named (no {@code Origin}),
 * the server's own origin, or one allowed by {@code --allow-origin}. The server's own origin is
 * built from its settings and the ports it really listens on, never from the request's {@code Host}
 * header, which the page's side controls through DNS rebinding.
 */
final class OriginPolicy {
  /** The host names every server answers to besides {@code --host} and {@code --san}. */
  private static final List<String> LOOPBACK_HOSTS = List.of("localhost", "127.0.0.1", "[::1]");

  /** The {@code --allow-origin} value that allows every origin. */
  static final String ANY = "*";

  private final Set<String> ownHosts = new LinkedHashSet<>();
  private final Set<Integer> ownPorts = ConcurrentHashMap.newKeySet();
  private final Set<String> allowed = new LinkedHashSet<>();
  private final boolean allowsAll;

  /**
   * A policy for a server bound to {@code host}, also known as each of {@code sans}, allowing
   * {@code allowOrigins} besides its own ({@code *} allows all). The ports come with {@link
   * #addPort} once bound.
   *
   * @throws UsageException when an allowed origin is not an origin
   */
  OriginPolicy(String host, List<String> sans, List<String> allowOrigins) {
    LOOPBACK_HOSTS.forEach(name -> ownHosts.add(hostKey(name)));
    ownHosts.add(hostKey(host));
    sans.forEach(name -> ownHosts.add(hostKey(name)));
    checkAllowed(allowOrigins);
    boolean all = false;
    for (String origin : allowOrigins) {
      String trimmed = origin.strip();
      if (trimmed.equals(ANY)) {
        all = true;
      } else {
        allowed.add(comparable(trimmed));
      }
    }
    this.allowsAll = all;
  }

  /**
   * Refuses an {@code --allow-origin} value that is neither an origin nor {@code *}: it could never
   * match a browser's {@code Origin}, so it is a mistake ({@code null} among them: it is what
   * sandboxed frames and local files send, and not something to allow).
   *
   * @throws UsageException naming the first such value
   */
  static void checkAllowed(List<String> allowOrigins) {
    for (String origin : allowOrigins) {
      String trimmed = origin.strip();
      if (!trimmed.equals(ANY) && parse(trimmed) == null) {
        throw new UsageException(
            "--allow-origin: not an origin (scheme://host[:port]) nor *: " + origin);
      }
    }
  }

  /** Adds a port the server really listens on (plain or TLS); a page served from it is own. */
  void addPort(int port) {
    ownPorts.add(port);
  }

  /**
   * True when a handshake whose {@code Origin} header is {@code origin} ({@code null} when it has
   * none) may open a session.
   */
  boolean allows(String origin) {
    if (origin == null || allowsAll) {
      return true;
    }
    String trimmed = origin.strip();
    return isOwn(trimmed) || allowed.contains(comparable(trimmed));
  }

  /** An origin served by this server: http or https, one of its host names, one of its ports. */
  private boolean isOwn(String origin) {
    URI uri = parse(origin);
    if (uri == null) {
      return false;
    }
    int defaultPort =
        switch (uri.getScheme().toLowerCase(Locale.ROOT)) {
          case "http" -> 80;
          case "https" -> 443;
          default -> -1;
        };
    if (defaultPort < 0) {
      return false;
    }
    int port = uri.getPort() < 0 ? defaultPort : uri.getPort();
    return ownHosts.contains(hostKey(uri.getHost())) && ownPorts.contains(port);
  }

  /**
   * The origin parsed by {@link URI}, or null when it is not one: an origin is a scheme and a host,
   * maybe a port, and nothing else (a single trailing {@code /} is tolerated).
   */
  static URI parse(String origin) {
    URI uri;
    try {
      uri = new URI(origin);
    } catch (URISyntaxException e) {
      return null;
    }
    String path = uri.getRawPath();
    boolean originOnly =
        uri.getScheme() != null
            && uri.getHost() != null
            && uri.getRawUserInfo() == null
            && (path == null || path.isEmpty() || path.equals("/"))
            && uri.getRawQuery() == null
            && uri.getRawFragment() == null
            // URI takes "http://host:" for the default port; no browser writes that.
            && !uri.getRawAuthority().endsWith(":");
    return originOnly ? uri : null;
  }

  /** How an origin is compared with an allowed one: without case, without a trailing slash. */
  private static String comparable(String origin) {
    String lower = origin.toLowerCase(Locale.ROOT);
    return lower.endsWith("/") ? lower.substring(0, lower.length() - 1) : lower;
  }

  /** How host names are compared: without case, IPv6 addresses in brackets as URIs write them. */
  private static String hostKey(String host) {
    String lower = host.strip().toLowerCase(Locale.ROOT);
    return lower.contains(":") && !lower.startsWith("[") ? "[" + lower + "]" : lower;
  }
}
