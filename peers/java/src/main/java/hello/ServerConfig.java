package hello;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The server's settings: flags first, then the environment (PROTOCOL.md section 9). */
record ServerConfig(
    String host,
    int port,
    String path,
    boolean tls,
    int tlsPort,
    Path certsDir,
    Duration pingInterval,
    Duration pongTimeout,
    Duration kissInterval,
    int maxMessageSize,
    Duration handshakeTimeout,
    int maxConnections,
    Duration closeTimeout,
    Dialects dialects,
    V1Timings v1,
    List<String> allowOrigins,
    List<String> sans) {

  /** Which dialects the server serves: told apart per session, or pinned to one. */
  enum Dialects {
    AUTO,
    JSON,
    V1
  }

  /** The timers of a v1 session (PROTOCOL.md section 12.3). */
  record V1Timings(
      Duration pingInterval,
      Duration sessionTimeout,
      Duration timeInterval,
      Duration kissInterval) {

    /** How many PING timestamps a session keeps for matching: session timeout ÷ ping interval. */
    int outstandingPings() {
      return (int)
          Math.max(1, Math.min(1 << 16, sessionTimeout.toMillis() / pingInterval.toMillis()));
    }
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: server [flags]",
          "  --host H                 address to bind (WS_HOST, default 127.0.0.1)",
          "  --port P                 plain ws port, 0 picks one (WS_PORT, default 9898)",
          "  --path P                 WebSocket path (WS_PATH, default /ws)",
          "  --tls                    also serve wss on --tls-port",
          "  --tls-port P             wss port, 0 picks one (WS_TLS_PORT, default 9886)",
          "  --certs-dir D            folder of server.crt and server.key (default certs/ at the"
              + " repo root)",
          "  --ping-interval D        how often to Ping each session (WS_PING_INTERVAL, 10s)",
          "  --pong-timeout D         eviction after an unanswered Ping (WS_PONG_TIMEOUT, 10s)",
          "  --kiss-interval D        how often to send a Kiss request (WS_KISS_INTERVAL, 5s)",
          "  --max-message-size N     largest message accepted in bytes (WS_MAX_MESSAGE_SIZE,"
              + " 1048576)",
          "  --handshake-timeout D    drop connections not upgraded by then"
              + " (WS_HANDSHAKE_TIMEOUT, 10s)",
          "  --max-connections N      connections served at once, counted from accept"
              + " (WS_MAX_CONNECTIONS, 10000)",
          "  --close-timeout D        how long a closing session waits for the client's Close"
              + " (WS_CLOSE_TIMEOUT, 2s)",
          "  --dialect D              auto, json or v1 (WS_DIALECT, auto)",
          "  --v1-ping-interval D     how often a v1 session gets a PING (WS_V1_PING_INTERVAL, 1s)",
          "  --v1-session-timeout D   how long a v1 session lives without a matching PONG"
              + " (WS_V1_SESSION_TIMEOUT, 60s)",
          "  --v1-time-interval D     how often a v1 session gets a TIME_NOTIFICATION"
              + " (WS_V1_TIME_INTERVAL, 5s)",
          "  --v1-kiss-interval D     how often a v1 session gets a KISS_REQUEST"
              + " (WS_V1_KISS_INTERVAL, 5s)",
          "  --allow-origin O         a browser origin allowed besides the server's own, or * for"
              + " any; repeatable (WS_ALLOW_ORIGIN, comma-separated)",
          "  --san NAME               another name of the server, a host of its own origin;"
              + " repeatable",
          "Durations are written 10s, 500ms, 1m.");

  static ServerConfig parse(String[] args, Path repoRoot) {
    String host = Flags.env("WS_HOST", "127.0.0.1");
    String port = Flags.env("WS_PORT", "9898");
    String path = Flags.env("WS_PATH", "/ws");
    boolean tls = false;
    String tlsPort = Flags.env("WS_TLS_PORT", "9886");
    Path certsDir = Path.of(Flags.env("WS_CERTS_DIR", repoRoot.resolve("certs").toString()));
    String pingInterval = Flags.env("WS_PING_INTERVAL", "10s");
    String pongTimeout = Flags.env("WS_PONG_TIMEOUT", "10s");
    String kissInterval = Flags.env("WS_KISS_INTERVAL", "5s");
    String maxMessageSize = Flags.env("WS_MAX_MESSAGE_SIZE", "1048576");
    String handshakeTimeout = Flags.env("WS_HANDSHAKE_TIMEOUT", "10s");
    String maxConnections = Flags.env("WS_MAX_CONNECTIONS", "10000");
    String closeTimeout = Flags.env("WS_CLOSE_TIMEOUT", "2s");
    String dialect = Flags.env("WS_DIALECT", "auto");
    String v1PingInterval = Flags.env("WS_V1_PING_INTERVAL", "1s");
    String v1SessionTimeout = Flags.env("WS_V1_SESSION_TIMEOUT", "60s");
    String v1TimeInterval = Flags.env("WS_V1_TIME_INTERVAL", "5s");
    String v1KissInterval = Flags.env("WS_V1_KISS_INTERVAL", "5s");
    List<String> envAllowOrigins = Flags.envList("WS_ALLOW_ORIGIN");
    List<String> allowOrigins = new ArrayList<>();
    List<String> sans = new ArrayList<>();

    Flags flags = new Flags(args);
    while (flags.advance()) {
      switch (flags.name()) {
        case "--host" -> host = flags.value();
        case "--port" -> port = flags.value();
        case "--path" -> path = flags.value();
        case "--tls" -> {
          flags.noValue();
          tls = true;
        }
        case "--tls-port" -> tlsPort = flags.value();
        case "--certs-dir" -> certsDir = Path.of(flags.value());
        case "--ping-interval" -> pingInterval = flags.value();
        case "--pong-timeout" -> pongTimeout = flags.value();
        case "--kiss-interval" -> kissInterval = flags.value();
        case "--max-message-size" -> maxMessageSize = flags.value();
        case "--handshake-timeout" -> handshakeTimeout = flags.value();
        case "--max-connections" -> maxConnections = flags.value();
        case "--close-timeout" -> closeTimeout = flags.value();
        case "--dialect" -> dialect = flags.value();
        case "--v1-ping-interval" -> v1PingInterval = flags.value();
        case "--v1-session-timeout" -> v1SessionTimeout = flags.value();
        case "--v1-time-interval" -> v1TimeInterval = flags.value();
        case "--v1-kiss-interval" -> v1KissInterval = flags.value();
        case "--allow-origin" -> allowOrigins.add(flags.value());
        case "--san" -> sans.add(flags.value());
        default -> throw flags.unknown();
      }
    }

    ServerConfig config =
        new ServerConfig(
            host,
            Flags.port("port", port),
            path,
            tls,
            Flags.port("TLS port", tlsPort),
            certsDir,
            Durations.parsePositive("ping interval", pingInterval),
            Durations.parsePositive("pong timeout", pongTimeout),
            Durations.parsePositive("kiss interval", kissInterval),
            Flags.integer("max message size", maxMessageSize),
            Durations.parsePositive("handshake timeout", handshakeTimeout),
            Flags.integer("max connections", maxConnections),
            Durations.parsePositive("close timeout", closeTimeout),
            dialects(dialect),
            new V1Timings(
                Durations.parsePositive("v1 ping interval", v1PingInterval),
                Durations.parsePositive("v1 session timeout", v1SessionTimeout),
                Durations.parsePositive("v1 time interval", v1TimeInterval),
                Durations.parsePositive("v1 kiss interval", v1KissInterval)),
            // The flags, when given, replace the environment's list, as every flag does.
            List.copyOf(allowOrigins.isEmpty() ? envAllowOrigins : allowOrigins),
            List.copyOf(sans));
    if (!path.startsWith("/")) {
      throw new UsageException("the path must start with /: " + path);
    }
    if (config.pongTimeout.compareTo(config.pingInterval) > 0) {
      throw new UsageException("the pong timeout must not exceed the ping interval");
    }
    if (config.maxMessageSize < 1) {
      throw new UsageException("the max message size must be at least 1 byte");
    }
    if (config.maxConnections < 1) {
      throw new UsageException("the max connections must be at least 1");
    }
    OriginPolicy.checkAllowed(config.allowOrigins);
    if (sans.stream().anyMatch(String::isBlank)) {
      throw new UsageException("--san needs a host name");
    }
    return config;
  }

  private static Dialects dialects(String text) {
    return switch (text.trim()) {
      case "auto" -> Dialects.AUTO;
      case "json" -> Dialects.JSON;
      case "v1" -> Dialects.V1;
      default -> throw new UsageException("dialect: auto, json or v1, not " + text);
    };
  }
}
