package hello;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** The client's settings: flags first, then the environment (PROTOCOL.md section 9). */
record ClientConfig(
    URI url,
    Path ca,
    int count,
    Duration duration,
    Duration timeout,
    Duration pingInterval,
    Map<String, String> headers,
    Dialect dialect,
    Duration randomInterval) {

  /** The dialect the client speaks. */
  enum Dialect {
    JSON,
    V1
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: client [flags]",
          "  --url U            the server (default ws://WS_SERVER:WS_PORT/WS_PATH,"
              + " ws://127.0.0.1:9898/ws)",
          "  --ca FILE          the CA to trust for wss:// (default certs/ca.crt at the repo root)",
          "  --count N          Echo requests to send, all in flight together (default 3)",
          "  --duration D       stay connected this long, then close with 1000"
              + " (default: until SIGINT/SIGTERM)",
          "  --timeout D        wait this long for the connection and for each answer (10s)",
          "  --name NAME        sent as WhoAmI, and as userId in v1 (default java-client-XXXX)",
          "  -H 'Name: value'   an extra handshake header; repeatable",
          "  --ping-interval D  the server's ping interval: warn after three without a Ping"
              + " (WS_PING_INTERVAL, 10s)",
          "  --dialect D        json, or v1 for the binary dialect (default json)",
          "  --random-interval D  v1: how often to send a RANDOM_NUMBER (WS_RANDOM_INTERVAL, 5s)",
          "Durations are written 10s, 500ms, 1m.");

  /** True when the client runs for a set time rather than until a signal. */
  boolean hasDuration() {
    return duration != null;
  }

  static ClientConfig parse(String[] args, Path repoRoot) {
    String url = null;
    Path ca = repoRoot.resolve("certs").resolve("ca.crt");
    String count = "3";
    String duration = null;
    String timeout = "10s";
    String pingInterval = Flags.env("WS_PING_INTERVAL", "10s");
    String name = String.format("java-client-%04x", ThreadLocalRandom.current().nextInt(1 << 16));
    Map<String, String> extraHeaders = new LinkedHashMap<>();
    String dialect = "json";
    String randomInterval = Flags.env("WS_RANDOM_INTERVAL", "5s");

    Flags flags = new Flags(args);
    while (flags.advance()) {
      switch (flags.name()) {
        case "--url" -> url = flags.value();
        case "--ca" -> ca = Path.of(flags.value());
        case "--count" -> count = flags.value();
        case "--duration" -> duration = flags.value();
        case "--timeout" -> timeout = flags.value();
        case "--ping-interval" -> pingInterval = flags.value();
        case "--name" -> name = flags.value();
        case "--dialect" -> dialect = flags.value();
        case "--random-interval" -> randomInterval = flags.value();
        case "-H", "--header" -> {
          String header = flags.value();
          int colon = header.indexOf(':');
          if (colon <= 0 || header.substring(0, colon).isBlank()) {
            throw new UsageException("-H wants 'Name: value', got: " + header);
          }
          extraHeaders.put(header.substring(0, colon).trim(), header.substring(colon + 1).trim());
        }
        default -> throw flags.unknown();
      }
    }

    if (url == null) {
      String server = Flags.env("WS_SERVER", "127.0.0.1");
      url =
          "ws://"
              + (server.contains(":") ? "[" + server + "]" : server)
              + ":"
              + Flags.env("WS_PORT", "9898")
              + Flags.env("WS_PATH", "/ws");
    }
    int requests = Flags.integer("count", count);
    if (requests < 0) {
      throw new UsageException("count must not be negative");
    }
    Dialect spoken =
        switch (dialect.trim()) {
          case "json" -> Dialect.JSON;
          case "v1" -> Dialect.V1;
          default -> throw new UsageException("dialect: json or v1, not " + dialect);
        };
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("WhoAmI", name);
    if (spoken == Dialect.V1) {
      headers.put("userId", name);
    }
    headers.putAll(extraHeaders);
    return new ClientConfig(
        uri(url),
        ca,
        requests,
        duration == null ? null : Durations.parse("duration", duration),
        Durations.parsePositive("timeout", timeout),
        Durations.parsePositive("ping interval", pingInterval),
        headers,
        spoken,
        Durations.parsePositive("random interval", randomInterval));
  }

  private static URI uri(String text) {
    try {
      URI uri = new URI(text);
      if (!"ws".equals(uri.getScheme()) && !"wss".equals(uri.getScheme())) {
        throw new UsageException("the URL must start with ws:// or wss://: " + text);
      }
      if (uri.getHost() == null) {
        throw new UsageException("the URL names no host: " + text);
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new UsageException("not a URL: " + text);
    }
  }
}
