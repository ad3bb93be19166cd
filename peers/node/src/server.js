// The Hello WebSocket server: ws:// and, with --tls, wss:// on the same sessions registry.

import http from "node:http";
import tls from "node:tls";
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";
import {
  REPO_ROOT,
  UsageError,
  parseFlags,
  parseInteger,
  parsePort,
  parsePositiveDuration,
  runMain,
} from "./cli.js";
import { Connections } from "./connections.js";
import {
  ANY_ORIGIN,
  OriginPolicy,
  parseAllowedOrigin,
  requestTarget,
} from "./handshake.js";
import {
  MAX_NAME_BYTES,
  cutToBytes,
  decodeHeaderValue,
  log,
  quoted,
  sessionName,
} from "./log.js";
import { LANGUAGE_TAG } from "./messages.js";
import { Session } from "./session.js";
import { kissRequest } from "./system.js";
import * as v1 from "./v1.js";

const USAGE = `Usage: server [flags]

  --host H                  address to bind (default 127.0.0.1, env WS_HOST)
  --port P                  ws port, 0 picks a free one (default 9898, env WS_PORT)
  --path P                  WebSocket path, others get 404 (default /ws, env WS_PATH)
  --tls                     also serve wss on --tls-port
  --tls-port P              wss port, 0 picks a free one (default 9886, env WS_TLS_PORT)
  --certs-dir D             holds server.crt and server.key (default certs/ at the repo root,
                            env WS_CERTS_DIR)
  --ping-interval D         how often to Ping each session (default 10s, env WS_PING_INTERVAL)
  --pong-timeout D          how long a Ping may go unanswered, at most the ping interval
                            (default 10s, env WS_PONG_TIMEOUT)
  --kiss-interval D         how often to send a Kiss request (default 5s, env WS_KISS_INTERVAL)
  --max-message-size N      largest message accepted, in bytes (default 1048576,
                            env WS_MAX_MESSAGE_SIZE)
  --handshake-timeout D     drop connections whose handshake is not done by then (default 10s,
                            env WS_HANDSHAKE_TIMEOUT)
  --max-connections N       connections at once, counted from accept; more get 503
                            (default 10000, env WS_MAX_CONNECTIONS)
  --close-timeout D         how long a closing session waits for the client's Close
                            (default 2s, env WS_CLOSE_TIMEOUT)
  --linger-bytes N          most bytes read and thrown away after the server's Close
                            (default 16777216, env WS_LINGER_BYTES)
  --dialect D               auto, json or v1 (default auto, env WS_DIALECT)
  --v1-ping-interval D      how often a v1 session gets a PING (default 1s, env WS_V1_PING_INTERVAL)
  --v1-session-timeout D    how long a v1 session lives without a matching PONG
                            (default 60s, env WS_V1_SESSION_TIMEOUT)
  --v1-time-interval D      how often a v1 session gets a TIME_NOTIFICATION
                            (default 5s, env WS_V1_TIME_INTERVAL)
  --v1-kiss-interval D      how often a v1 session gets a KISS_REQUEST
                            (default 5s, env WS_V1_KISS_INTERVAL)
  --allow-origin O          repeatable: a browser origin allowed besides the server's own, or *
                            for any (env WS_ALLOW_ORIGIN, comma-separated); others get 403
  --san NAME                repeatable: another name of the server, a host of its own origins
  -h, --help                show this text

Durations are written 10s, 500ms, 1m.
`;

// Each flag that takes a value, with its environment variable (PROTOCOL.md section 9).
const VALUE_FLAGS = {
  host: "WS_HOST",
  port: "WS_PORT",
  path: "WS_PATH",
  "tls-port": "WS_TLS_PORT",
  "certs-dir": "WS_CERTS_DIR",
  "ping-interval": "WS_PING_INTERVAL",
  "pong-timeout": "WS_PONG_TIMEOUT",
  "kiss-interval": "WS_KISS_INTERVAL",
  "max-message-size": "WS_MAX_MESSAGE_SIZE",
  "handshake-timeout": "WS_HANDSHAKE_TIMEOUT",
  "max-connections": "WS_MAX_CONNECTIONS",
  "close-timeout": "WS_CLOSE_TIMEOUT",
  "linger-bytes": "WS_LINGER_BYTES",
  dialect: "WS_DIALECT",
  "v1-ping-interval": "WS_V1_PING_INTERVAL",
  "v1-session-timeout": "WS_V1_SESSION_TIMEOUT",
  "v1-time-interval": "WS_V1_TIME_INTERVAL",
  "v1-kiss-interval": "WS_V1_KISS_INTERVAL",
};

const OPTIONS = {
  ...Object.fromEntries(
    Object.keys(VALUE_FLAGS).map((flag) => [flag, { type: "string" }]),
  ),
  "allow-origin": { type: "string", multiple: true },
  san: { type: "string", multiple: true },
  tls: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};

const DIALECTS = ["auto", "json", "v1"];

function parseConfig(args) {
  const flags = parseFlags(args, OPTIONS, VALUE_FLAGS);
  if (flags.help) return null;
  const duration = (flag, fallback) =>
    parsePositiveDuration(flags[flag] ?? fallback, flag);
  const integer = (flag, fallback) =>
    parseInteger(flags[flag] ?? fallback, flag, { min: 1 });
  const config = {
    host: flags.host ?? "127.0.0.1",
    port: parsePort(flags.port ?? "9898", "port"),
    path: flags.path ?? "/ws",
    tls: flags.tls,
    tlsPort: parsePort(flags["tls-port"] ?? "9886", "tls-port"),
    certsDir: flags["certs-dir"] ?? path.join(REPO_ROOT, "certs"),
    pingInterval: duration("ping-interval", "10s"),
    pongTimeout: duration("pong-timeout", "10s"),
    kissInterval: duration("kiss-interval", "5s"),
    maxMessageSize: integer("max-message-size", "1048576"),
    handshakeTimeout: duration("handshake-timeout", "10s"),
    maxConnections: integer("max-connections", "10000"),
    closeTimeout: duration("close-timeout", "2s"),
    lingerBytes: integer("linger-bytes", String(16 * 1024 * 1024)),
    dialect: flags.dialect ?? "auto",
    v1: {
      pingInterval: duration("v1-ping-interval", "1s"),
      sessionTimeout: duration("v1-session-timeout", "60s"),
      timeInterval: duration("v1-time-interval", "5s"),
      kissInterval: duration("v1-kiss-interval", "5s"),
    },
    // Repeated flags, else the variable's comma-separated list; flags replace the variable.
    allowOrigins:
      flags["allow-origin"] ?? splitList(process.env.WS_ALLOW_ORIGIN),
    sans: flags.san ?? [],
  };
  if (config.sans.some((name) => name.trim() === ""))
    throw new UsageError("--san must not be empty");
  for (const value of config.allowOrigins) {
    if (value.trim() !== ANY_ORIGIN && parseAllowedOrigin(value) === null) {
      throw new UsageError(
        `--allow-origin: ${JSON.stringify(value)} is not an origin; write it as a browser ` +
          "does, scheme://host[:port] (https://app.example:8443), or * for every origin",
      );
    }
  }
  if (!config.path.startsWith("/"))
    throw new UsageError("--path must start with /");
  if (config.pongTimeout > config.pingInterval) {
    throw new UsageError("--pong-timeout must not exceed --ping-interval");
  }
  if (!DIALECTS.includes(config.dialect)) {
    throw new UsageError(
      `--dialect: expected auto, json or v1, got "${config.dialect}"`,
    );
  }
  if (config.v1.sessionTimeout < config.v1.pingInterval) {
    throw new UsageError(
      "--v1-session-timeout must be at least --v1-ping-interval",
    );
  }
  return config;
}

async function run(config) {
  const sessions = new Set();
  const sessionIds = new WeakMap();
  const kissFacts = kissRequest();
  const kissRequests = {
    json: JSON.stringify(kissFacts),
    v1: v1.encode({ type: "KISS_REQUEST", ...kissFacts }),
  };
  let secureContext = null;
  if (config.tls) {
    try {
      secureContext = tls.createSecureContext({
        cert: fs.readFileSync(path.join(config.certsDir, "server.crt")),
        key: fs.readFileSync(path.join(config.certsDir, "server.key")),
      });
    } catch (error) {
      fail(`cannot read the TLS certificate: ${error.message}`);
    }
  }

  const webSockets = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageSize,
    perMessageDeflate: false,
    clientTracking: false,
    // Sessions answer Pings themselves (session.js): ws's own Pongs end a connection with more
    // than 60 of them unwritten, which one read of many Pings reaches.
    autoPong: false,
  });
  webSockets.on("headers", (headers, request) => {
    headers.push(
      `SVR: ${LANGUAGE_TAG}`,
      `X-Session-Id: ${sessionIds.get(request)}`,
    );
  });

  const originPolicy = new OriginPolicy({
    host: config.host,
    sans: config.sans,
    allowed: config.allowOrigins,
  });

  // The HTTP server only parses handshakes; the listeners below accept its connections.
  const httpServer = http.createServer();
  const connections = new Connections({
    httpServer,
    maxConnections: config.maxConnections,
    handshakeTimeout: config.handshakeTimeout,
  });

  httpServer.on("upgrade", (request, socket, head) => {
    const connection = connections.of(socket);
    const { path: requestPath, query } = requestTarget(request.url);
    if (requestPath !== config.path) return refuse(socket, "404 Not Found");
    // Node hands header values over as Latin-1, one character per byte.
    const origins = request.headersDistinct.origin?.map(decodeHeaderValue);
    if (!originPolicy.accepts(origins)) {
      // The first, as the reference server logs it (two are refused whatever they say).
      const origin = cutToBytes(origins[0], MAX_NAME_BYTES);
      const peer = formatAddress(socket.remoteAddress, socket.remotePort);
      log(`origin refused peer=${peer} origin=${quoted(origin)}`);
      return refuse(socket, "403 Forbidden");
    }
    if (connection.overLimit) return refuse(socket, "503 Service Unavailable");
    const id = randomUUID();
    sessionIds.set(request, id);
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      connection.handshakeDone();
      const session = new Session({
        webSocket,
        socket,
        tcpSocket: connection.tcpSocket,
        id,
        name: sessionName(request.headers, id, query),
        peer: formatAddress(socket.remoteAddress, socket.remotePort),
        config,
        kissRequests,
        onEnd: (ended) => sessions.delete(ended),
      });
      sessions.add(session);
    });
  });

  httpServer.on("request", (request, response) => {
    const status = requestTarget(request.url).path === config.path ? 426 : 404;
    response.writeHead(status, {
      Connection: "close",
      "Content-Type": "text/plain",
    });
    response.end(
      status === 426 ? "WebSocket upgrade required\n" : "Not Found\n",
    );
  });

  const listeners = [
    { listener: connections.createListener(), scheme: "ws", port: config.port },
  ];
  if (secureContext !== null) {
    listeners.push({
      listener: connections.createListener(secureContext),
      scheme: "wss",
      port: config.tlsPort,
    });
  }

  for (const { listener, scheme, port } of listeners) {
    try {
      await listen(listener, port, config.host);
    } catch (error) {
      fail(`cannot listen on ${config.host}:${port}: ${error.message}`);
    }
    const address = listener.address();
    originPolicy.addPort(address.port);
    log(
      `listening on ${scheme}://${formatAddress(address.address, address.port)}${config.path}`,
    );
  }

  let shuttingDown = false;
  async function shutdown() {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const { listener } of listeners) listener.close();
    const closing = [...sessions].map((session) => session.closed);
    for (const session of [...sessions]) session.shutdown();
    await Promise.race([Promise.all(closing), delay(config.closeTimeout)]);
    process.exit(0);
  }
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

/** "a, b ,,c" to ["a", "b", "c"]; nothing for an unset variable. */
function splitList(text = "") {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function refuse(socket, status) {
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
  );
}

function formatAddress(host, port) {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

runMain({ usage: USAGE, parse: parseConfig, run });
