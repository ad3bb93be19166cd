// The Hello WebSocket server: ws:// and, with --tls, wss:// on the same sessions registry.

import http from "node:http";
import https from "node:https";
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
import { LANGUAGE_TAG } from "./messages.js";
import { Session, log } from "./session.js";
import { kissRequest } from "./system.js";

const USAGE = `Usage: server [flags]

  --host H                  address to bind (default 127.0.0.1, env WS_HOST)
  --port P                  ws port, 0 picks a free one (default 9898, env WS_PORT)
  --path P                  WebSocket path, others get 404 (default /ws, env WS_PATH)
  --tls                     also serve wss on --tls-port
  --tls-port P              wss port, 0 picks a free one (default 9886, env WS_TLS_PORT)
  --certs-dir D             holds server.crt and server.key (default certs/ at the repo root)
  --ping-interval D         how often to Ping each session (default 10s, env WS_PING_INTERVAL)
  --pong-timeout D          how long a Ping may go unanswered, at most the ping interval
                            (default 10s, env WS_PONG_TIMEOUT)
  --kiss-interval D         how often to send a Kiss request (default 5s, env WS_KISS_INTERVAL)
  --max-message-size N      largest message accepted, in bytes (default 1048576,
                            env WS_MAX_MESSAGE_SIZE)
  --handshake-timeout D     drop connections whose handshake takes longer (default 10s,
                            env WS_HANDSHAKE_TIMEOUT)
  --close-timeout D         how long to wait for a client's Close (default 2s)
  --max-sessions N          sessions at once; more get 503 (default 10000)
  -h, --help                show this text

Durations are written 10s, 500ms, 1m.
`;

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  path: { type: "string" },
  tls: { type: "boolean", default: false },
  "tls-port": { type: "string" },
  "certs-dir": { type: "string" },
  "ping-interval": { type: "string" },
  "pong-timeout": { type: "string" },
  "kiss-interval": { type: "string" },
  "max-message-size": { type: "string" },
  "handshake-timeout": { type: "string" },
  "close-timeout": { type: "string" },
  "max-sessions": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
};

const ENVIRONMENT = {
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
};

function parseConfig(args) {
  const flags = parseFlags(args, OPTIONS, ENVIRONMENT);
  if (flags.help) return null;
  const config = {
    host: flags.host ?? "127.0.0.1",
    port: parsePort(flags.port ?? "9898", "port"),
    path: flags.path ?? "/ws",
    tls: flags.tls,
    tlsPort: parsePort(flags["tls-port"] ?? "9886", "tls-port"),
    certsDir: flags["certs-dir"] ?? path.join(REPO_ROOT, "certs"),
    pingInterval: parsePositiveDuration(
      flags["ping-interval"] ?? "10s",
      "ping-interval",
    ),
    pongTimeout: parsePositiveDuration(
      flags["pong-timeout"] ?? "10s",
      "pong-timeout",
    ),
    kissInterval: parsePositiveDuration(
      flags["kiss-interval"] ?? "5s",
      "kiss-interval",
    ),
    maxMessageSize: parseInteger(
      flags["max-message-size"] ?? "1048576",
      "max-message-size",
      {
        min: 1,
      },
    ),
    handshakeTimeout: parsePositiveDuration(
      flags["handshake-timeout"] ?? "10s",
      "handshake-timeout",
    ),
    closeTimeout: parsePositiveDuration(
      flags["close-timeout"] ?? "2s",
      "close-timeout",
    ),
    maxSessions: parseInteger(
      flags["max-sessions"] ?? "10000",
      "max-sessions",
      { min: 1 },
    ),
  };
  if (!config.path.startsWith("/"))
    throw new UsageError("--path must start with /");
  if (config.pongTimeout > config.pingInterval) {
    throw new UsageError("--pong-timeout must not exceed --ping-interval");
  }
  return config;
}

async function run(config) {
  const sessions = new Set();
  const sessionIds = new WeakMap();
  const handshakeTimers = new WeakMap();
  const kissRequestText = JSON.stringify(kissRequest());

  const webSockets = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageSize,
    perMessageDeflate: false,
    clientTracking: false,
  });
  webSockets.on("headers", (headers, request) => {
    headers.push(
      `SVR: ${LANGUAGE_TAG}`,
      `X-Session-Id: ${sessionIds.get(request)}`,
    );
  });

  // Every connection gets until the handshake timeout to become a WebSocket session.
  function startHandshakeTimer(socket) {
    const timer = setTimeout(() => socket.destroy(), config.handshakeTimeout);
    handshakeTimers.set(socket, timer);
    socket.once("close", () => clearTimeout(timer));
  }

  function onUpgrade(request, socket, head) {
    socket.on("error", () => socket.destroy());
    if (requestPath(request) !== config.path)
      return refuse(socket, "404 Not Found");
    if (sessions.size >= config.maxSessions)
      return refuse(socket, "503 Service Unavailable");
    const id = randomUUID();
    sessionIds.set(request, id);
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      clearTimeout(handshakeTimers.get(socket));
      const session = new Session({
        socket: webSocket,
        id,
        name: request.headers.whoami || id,
        peer: formatAddress(socket.remoteAddress, socket.remotePort),
        config,
        kissRequest: kissRequestText,
        onEnd: (ended) => sessions.delete(ended),
      });
      sessions.add(session);
    });
  }

  function onRequest(request, response) {
    const status = requestPath(request) === config.path ? 426 : 404;
    response.writeHead(status, {
      Connection: "close",
      "Content-Type": "text/plain",
    });
    response.end(
      status === 426 ? "WebSocket upgrade required\n" : "Not Found\n",
    );
  }

  const servers = [];
  function addServer(server, connectionEvent, scheme, port) {
    server.on(connectionEvent, startHandshakeTimer);
    server.on("upgrade", onUpgrade);
    server.on("request", onRequest);
    servers.push({ server, scheme, port });
  }
  addServer(http.createServer(), "connection", "ws", config.port);
  if (config.tls) {
    let tlsOptions;
    try {
      tlsOptions = {
        cert: fs.readFileSync(path.join(config.certsDir, "server.crt")),
        key: fs.readFileSync(path.join(config.certsDir, "server.key")),
        handshakeTimeout: config.handshakeTimeout,
      };
    } catch (error) {
      fail(`cannot read the TLS certificate: ${error.message}`);
    }
    const server = https.createServer(tlsOptions);
    server.on("tlsClientError", () => {});
    addServer(server, "secureConnection", "wss", config.tlsPort);
  }

  for (const { server, scheme, port } of servers) {
    try {
      await listen(server, port, config.host);
    } catch (error) {
      fail(`cannot listen on ${config.host}:${port}: ${error.message}`);
    }
    const address = server.address();
    log(
      `listening on ${scheme}://${formatAddress(address.address, address.port)}${config.path}`,
    );
  }

  let shuttingDown = false;
  async function shutdown() {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const { server } of servers) server.close();
    const closing = [...sessions].map((session) => session.closed);
    for (const session of [...sessions]) session.shutdown();
    await Promise.race([Promise.all(closing), delay(config.closeTimeout)]);
    process.exit(0);
  }
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

function requestPath(request) {
  try {
    return new URL(request.url, "http://localhost").pathname;
  } catch {
    return null;
  }
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
