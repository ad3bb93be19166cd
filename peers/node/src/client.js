// The Hello WebSocket client: sends Echo requests, answers Kiss requests (and Pings, which ws
// does by itself), and closes with 1000 at the end of its run.

import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { isUtf8 } from "node:buffer";
import WebSocket from "ws";
import {
  REPO_ROOT,
  UsageError,
  logValue,
  parseDuration,
  parseFlags,
  parseInteger,
  parsePositiveDuration,
  runMain,
} from "./cli.js";
import {
  InvalidMessage,
  decodeServerMessage,
  echoRequest,
} from "./messages.js";
import { kissResponse } from "./system.js";

const USAGE = `Usage: client [flags]

  --url U               the server (default ws://WS_SERVER:WS_PORT/WS_PATH, i.e. ws://127.0.0.1:9898/ws)
  --ca FILE             the CA to trust for wss:// (default certs/ca.crt at the repo root)
  --count N             how many Echo requests to send, all in flight together (default 3)
  --duration D          how long to stay connected before closing with 1000
                        (default: until SIGINT/SIGTERM)
  --timeout D           how long to wait for the connection and for each answer (default 10s)
  --name NAME           sent as WhoAmI (default node-client-XXXX)
  -H, --header 'N: V'   an extra handshake header; repeatable
  --ping-interval D     the server's ping interval; no Ping for three of them gets a warning
                        (default 10s, env WS_PING_INTERVAL)
  --close-timeout D     how long to wait for the server's Close (default 2s)
  -h, --help            show this text

Durations are written 10s, 500ms, 1m.
`;

const GREETINGS = [
  "Hello",
  "Bonjour",
  "Hola",
  "こんにちは",
  "Ciao",
  "안녕하세요",
  "你好",
];

// An Echo response repeats the request's data, maybe escaped: accept four times a server's
// default limit (PROTOCOL.md section 1).
const MAX_MESSAGE_SIZE = 4 * 1024 * 1024;
const SILENT_SERVER_INTERVALS = 3;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const OPTIONS = {
  url: { type: "string" },
  ca: { type: "string" },
  count: { type: "string" },
  duration: { type: "string" },
  timeout: { type: "string" },
  name: { type: "string" },
  header: { type: "string", short: "H", multiple: true, default: [] },
  "ping-interval": { type: "string" },
  "close-timeout": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
};

function parseConfig(args) {
  const flags = parseFlags(args, OPTIONS, {
    "ping-interval": "WS_PING_INTERVAL",
  });
  if (flags.help) return null;
  const env = process.env;
  const url =
    flags.url ??
    `ws://${env.WS_SERVER || "127.0.0.1"}:${env.WS_PORT || "9898"}${env.WS_PATH || "/ws"}`;
  if (!URL.canParse(url) || !["ws:", "wss:"].includes(new URL(url).protocol)) {
    throw new UsageError(`--url: expected a ws:// or wss:// URL, got "${url}"`);
  }
  return {
    url,
    ca: flags.ca ?? path.join(REPO_ROOT, "certs", "ca.crt"),
    count: parseInteger(flags.count ?? "3", "count"),
    duration:
      flags.duration === undefined
        ? null
        : parseDuration(flags.duration, "duration"),
    timeout: parsePositiveDuration(flags.timeout ?? "10s", "timeout"),
    name: flags.name ?? `node-client-${randomBytes(2).toString("hex")}`,
    headers: flags.header.map(parseHeader),
    pingInterval: parsePositiveDuration(
      flags["ping-interval"] ?? "10s",
      "ping-interval",
    ),
    closeTimeout: parsePositiveDuration(
      flags["close-timeout"] ?? "2s",
      "close-timeout",
    ),
  };
}

function parseHeader(text) {
  const colon = text.indexOf(":");
  const name = text.slice(0, colon).trim();
  if (colon < 0 || !HEADER_NAME.test(name)) {
    throw new UsageError(`-H: expected 'Name: value', got "${text}"`);
  }
  return [name, text.slice(colon + 1).trim()];
}

function run(config) {
  const headers = {
    WhoAmI: config.name,
    ...Object.fromEntries(config.headers),
  };
  let ca;
  if (config.url.startsWith("wss:")) {
    try {
      ca = fs.readFileSync(config.ca);
    } catch (error) {
      fail(`cannot read the CA certificate: ${error.message}`);
      return;
    }
  }

  // Echo requests in flight, by id as a decimal string.
  const inFlight = new Map();
  const problems = [];
  let kissesAnswered = 0;
  let connected = false;
  let finished = false;
  let lastPingAt = Date.now();
  let answerTimer = null;
  let durationTimer = null;
  let silenceTimer = null;
  const ourKissResponse = JSON.stringify(kissResponse());

  let socket;
  try {
    socket = new WebSocket(config.url, {
      headers,
      ca,
      handshakeTimeout: config.timeout,
      maxPayload: MAX_MESSAGE_SIZE,
      perMessageDeflate: false,
    });
  } catch (error) {
    fail(`cannot connect to ${config.url}: ${error.message}`);
    return;
  }

  function problem(text) {
    problems.push(text);
    process.stderr.write(`fault: ${text}\n`);
  }

  function armAnswerTimer() {
    clearTimeout(answerTimer);
    answerTimer = setTimeout(() => {
      problem(
        `no answer within ${config.timeout} ms; ${inFlight.size} Echo request(s) unanswered`,
      );
      finish();
    }, config.timeout);
  }

  socket.on("upgrade", (response) => {
    for (const name of ["SVR", "X-Session-Id"]) {
      const value = response.headers[name.toLowerCase()];
      if (value === undefined)
        process.stderr.write(`warning: the server sent no ${name} header\n`);
      else print(`${name}: ${value}`);
    }
  });

  socket.on("open", () => {
    connected = true;
    print(`connected to ${config.url} as ${config.name}`);
    for (let id = 1; id <= config.count; id++) {
      const data = GREETINGS[(id - 1) % GREETINGS.length];
      inFlight.set(String(id), data);
      socket.send(echoRequest(id, data));
    }
    if (inFlight.size > 0) armAnswerTimer();
    if (config.duration !== null)
      durationTimer = setTimeout(finish, config.duration);
    lastPingAt = Date.now();
    silenceTimer = setInterval(() => {
      const silentFor = Date.now() - lastPingAt;
      if (silentFor > SILENT_SERVER_INTERVALS * config.pingInterval) {
        process.stderr.write(
          `warning: no Ping from the server for ${silentFor} ms\n`,
        );
      }
    }, config.pingInterval);
  });

  socket.on("ping", () => {
    lastPingAt = Date.now();
  });

  socket.on("message", (data, isBinary) => {
    if (isBinary && !isUtf8(data)) {
      problem("the server sent a binary message that is not UTF-8");
      return;
    }
    let message;
    try {
      message = decodeServerMessage(data.toString("utf8"));
    } catch (error) {
      if (!(error instanceof InvalidMessage)) throw error;
      problem(`unusable message from the server: ${error.message}`);
      return;
    }
    if (message.kind === "echo") {
      receiveEcho(message);
    } else if (message.kind === "error") {
      problem(
        `the server answered with an Error response (${message.status}): ${message.error}`,
      );
    } else {
      socket.send(ourKissResponse);
      kissesAnswered++;
      const { os_name, os_version, os_release, os_architecture } = message;
      print(
        `kiss os_name=${logValue(os_name)} os_version=${logValue(os_version)} ` +
          `os_release=${logValue(os_release)} os_architecture=${logValue(os_architecture)} ` +
          `answered ${ourKissResponse}`,
      );
    }
  });

  function receiveEcho({ id, kv }) {
    const key = id.toString();
    if (!inFlight.has(key)) {
      problem(`an Echo response for id ${key}, which is not in flight`);
      return;
    }
    const expected = inFlight.get(key);
    inFlight.delete(key);
    if (kv.data === expected) {
      print(
        `echo id=${key} idx=${kv.idx} data=${logValue(kv.data)} meta=${logValue(kv.meta)} kv.id=${kv.id}`,
      );
    } else {
      problem(
        `the Echo response for id ${key} carries ${JSON.stringify(kv.data)}, not ${JSON.stringify(expected)}`,
      );
    }
    if (inFlight.size > 0) {
      armAnswerTimer();
    } else {
      clearTimeout(answerTimer);
      print(`all ${config.count} Echo requests got an answer`);
    }
  }

  socket.on("error", (error) => problem(`connection: ${error.message}`));

  socket.on("close", (code, reason) => {
    if (!finished && connected) {
      print(
        `the server closed the connection: ${code} ${reason.toString() || ""}`.trimEnd(),
      );
    }
    finish();
  });

  function finish() {
    if (finished) {
      if (socket.readyState === WebSocket.CLOSED) exit();
      return;
    }
    finished = true;
    clearTimeout(answerTimer);
    clearTimeout(durationTimer);
    clearInterval(silenceTimer);
    if (socket.readyState === WebSocket.CLOSED) {
      exit();
      return;
    }
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, "done");
    else socket.terminate();
    setTimeout(exit, config.closeTimeout);
  }

  function exit() {
    if (inFlight.size > 0) {
      problem(
        `${inFlight.size} of ${config.count} Echo request(s) got no answer`,
      );
    }
    if (config.duration !== null && kissesAnswered === 0)
      problem("no Kiss request was answered");
    process.exit(problems.length === 0 ? 0 : 1);
  }

  process.on("SIGINT", finish);
  process.on("SIGTERM", finish);
}

function print(line) {
  process.stdout.write(`${line}\n`);
}

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

runMain({ usage: USAGE, parse: parseConfig, run });
