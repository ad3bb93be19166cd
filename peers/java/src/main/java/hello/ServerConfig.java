package hello;

import java.nio.file.Path;
import java.time.Duration;

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
    Duration handshakeTimeout) {

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
            Durations.parsePositive("handshake timeout", handshakeTimeout));
    if (!path.startsWith("/")) {
      throw new UsageException("the path must start with /: " + path);
    }
    if (config.pongTimeout.compareTo(config.pingInterval) > 0) {
      throw new UsageException("the pong timeout must not exceed the ping interval");
    }
    if (config.maxMessageSize < 1) {
      throw new UsageException("the max message size must be at least 1 byte");
    }
    return config;
  }
}
