// The Hello WebSocket client: connects, sends its Echo requests, answers what the server asks
// for the length of its run, then ends the session; in JSON (json-client.js) or in the binary
// dialect v1 (v1-client.js), as --dialect says. This file holds what both share: flags, the
// connection, Echo answers matched by id, and the exit status.

import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import {
  REPO_ROOT,
  UsageError,
  parseDuration,
  parseFlags,
  parseInteger,
  parsePositiveDuration,
  runMain,
} from "./cli.js";
import { log as print } from "./log.js";
import { JsonConversation } from "./json-client.js";
import { V1Conversation } from "./v1-client.js";

const USAGE = `Usage: client [flags]

  --url U               the server (default ws://WS_SERVER:WS_PORT/WS_PATH, i.e. ws://127.0.0.1:9898/ws)
  --ca FILE             the CA to trust for wss:// (default certs/ca.crt at the repo root)
  --count N             how many Echo requests to send, all in flight together (default 3)
  --duration D          how long to stay connected before ending the session
                        (default: until SIGINT/SIGTERM)
  --timeout D           how long to wait for the connection and for each answer (default 10s)
  --name NAME           sent as WhoAmI, and in v1 as userId too (default node-client-XXXX)
  -H, --header 'N: V'   an extra handshake header; repeatable
  --dialect D           json, or v1 for the binary dialect (default json)
  --random-interval D   v1: how often to send a RANDOM_NUMBER (default 5s, env WS_RANDOM_INTERVAL)
  --ping-interval D     the server's ping interval; no Ping for three of them gets a warning
                        (default 10s, env WS_PING_INTERVAL)
  --v1-ping-interval D  v1: the server's PING interval, for the same warning
                        (default 1s, env WS_V1_PING_INTERVAL)
  --close-timeout D     how long to wait for the end of the closing handshake (default 2s)
  -h, --help            show this text

Durations are written 10s, 500ms, 1m.
`;

// An Echo response repeats the request's data, maybe escaped: accept four times a server's
// default limit (PROTOCOL.md section 1).
const MAX_MESSAGE_SIZE = 4 * 1024 * 1024;
const SILENT_SERVER_INTERVALS = 3;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const GREETINGS = [
  "Hello",
  "Bonjour",
  "Hola",
  "こんにちは",
  "Ciao",
  "안녕하세요",
  "你好",
];

const OPTIONS = {
  url: { type: "string" },
  ca: { type: "string" },
  count: { type: "string" },
  duration: { type: "string" },
  timeout: { type: "string" },
  name: { type: "string" },
  header: { type: "string", short: "H", multiple: true, default: [] },
  dialect: { type: "string" },
  "random-interval": { type: "string" },
  "ping-interval": { type: "string" },
  "v1-ping-interval": { type: "string" },
  "close-timeout": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
};

function parseConfig(args) {
  const flags = parseFlags(args, OPTIONS, {
    "random-interval": "WS_RANDOM_INTERVAL",
    "ping-interval": "WS_PING_INTERVAL",
    "v1-ping-interval": "WS_V1_PING_INTERVAL",
  });
  if (flags.help) return null;
  const env = process.env;
  const url =
    flags.url ??
    `ws://${env.WS_SERVER || "127.0.0.1"}:${env.WS_PORT || "9898"}${env.WS_PATH || "/ws"}`;
  if (!URL.canParse(url) || !["ws:", "wss:"].includes(new URL(url).protocol)) {
    throw new UsageError(`--url: expected a ws:// or wss:// URL, got "${url}"`);
  }
  const dialect = flags.dialect ?? "json";
  if (!["json", "v1"].includes(dialect))
    throw new UsageError(`--dialect: expected json or v1, got "${dialect}"`);
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
    dialect,
    randomInterval: parsePositiveDuration(
      flags["random-interval"] ?? "5s",
      "random-interval",
    ),
    pingInterval: parsePositiveDuration(
      flags["ping-interval"] ?? "10s",
      "ping-interval",
    ),
    v1PingInterval: parsePositiveDuration(
      flags["v1-ping-interval"] ?? "1s",
      "v1-ping-interval",
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

/**
 * One run of the client: the connection and what both dialects share. A conversation (JSON or
 * v1) says what is sent and answered; it calls back `problem`, `echoAnswered`, `kissAnswered`,
 * `heardFromServer` and `finish`.
 */
class Run {
  constructor(config) {
    this.config = config;
    this.problems = [];
    // Echo requests in flight: their data, by id as a decimal string.
    this.inFlight = new Map();
    this.kissesAnswered = 0;
    this.connected = false;
    this.finished = false;
    this.lastHeardAt = Date.now();
    this.answerTimer = null;
    this.durationTimer = null;
    this.silenceTimer = null;
    this.conversation =
      config.dialect === "v1"
        ? new V1Conversation(this)
        : new JsonConversation(this);
  }

  start() {
    const { config } = this;
    const headers = {
      ...this.conversation.handshakeHeaders(config.name),
      ...Object.fromEntries(config.headers),
    };
    let ca;
    if (config.url.startsWith("wss:")) {
      try {
        ca = fs.readFileSync(config.ca);
      } catch (error) {
        fail(`cannot read the CA certificate: ${error.message}`);
      }
    }
    try {
      this.socket = new WebSocket(config.url, {
        headers,
        ca,
        handshakeTimeout: config.timeout,
        maxPayload: MAX_MESSAGE_SIZE,
        perMessageDeflate: false,
      });
    } catch (error) {
      fail(`cannot connect to ${config.url}: ${error.message}`);
    }
    const { socket } = this;
    socket.on("upgrade", (response) => {
      for (const name of ["SVR", "X-Session-Id"]) {
        const value = response.headers[name.toLowerCase()];
        if (value === undefined)
          process.stderr.write(`warning: the server sent no ${name} header\n`);
        else print(`${name}: ${value}`);
      }
    });
    socket.on("open", () => this.opened());
    socket.on("message", (data, isBinary) =>
      this.conversation.receive(data, isBinary),
    );
    socket.on("error", (error) => this.problem(`connection: ${error.message}`));
    socket.on("close", (code, reason) => {
      if (!this.finished && this.connected) {
        print(
          `the server closed the connection: ${code} ${reason.toString()}`.trimEnd(),
        );
      }
      this.finish();
    });
    process.on("SIGINT", () => this.finish());
    process.on("SIGTERM", () => this.finish());
  }

  opened() {
    const { config } = this;
    this.connected = true;
    print(`connected to ${config.url} as ${config.name}`);
    this.conversation.opened();
    for (let id = 1; id <= config.count; id++) {
      const data = GREETINGS[(id - 1) % GREETINGS.length];
      this.inFlight.set(String(id), data);
      this.conversation.sendEcho(id, data);
    }
    if (this.inFlight.size > 0) this.armAnswerTimer();
    if (config.duration !== null)
      this.durationTimer = setTimeout(() => this.finish(), config.duration);
    const silentAfter = this.conversation.heartbeatInterval;
    this.lastHeardAt = Date.now();
    this.silenceTimer = setInterval(() => {
      const silentFor = Date.now() - this.lastHeardAt;
      if (silentFor > SILENT_SERVER_INTERVALS * silentAfter) {
        process.stderr.write(
          `warning: no ${this.conversation.heartbeatName} from the server for ${silentFor} ms\n`,
        );
      }
    }, silentAfter);
  }

  /** The server's heartbeat (a Ping, or a v1 PING) came. */
  heardFromServer() {
    this.lastHeardAt = Date.now();
  }

  problem(text) {
    this.problems.push(text);
    process.stderr.write(`fault: ${text}\n`);
  }

  armAnswerTimer() {
    clearTimeout(this.answerTimer);
    this.answerTimer = setTimeout(() => {
      this.problem(
        `no answer within ${this.config.timeout} ms; ${this.inFlight.size} Echo request(s) unanswered`,
      );
      this.finish();
    }, this.config.timeout);
  }

  /** An Echo answer for `id` (a decimal string) carrying `data`; `detail` is printed. */
  echoAnswered(id, data, detail) {
    if (!this.inFlight.has(id)) {
      this.problem(`an Echo response for id ${id}, which is not in flight`);
      return;
    }
    const expected = this.inFlight.get(id);
    this.inFlight.delete(id);
    if (data === expected) {
      print(`echo id=${id} ${detail}`);
    } else {
      this.problem(
        `the Echo response for id ${id} carries ${JSON.stringify(data)}, not ${JSON.stringify(expected)}`,
      );
    }
    if (this.inFlight.size > 0) {
      this.armAnswerTimer();
    } else {
      clearTimeout(this.answerTimer);
      print(`all ${this.config.count} Echo requests got an answer`);
    }
  }

  kissAnswered() {
    this.kissesAnswered++;
  }

  /** Ends the run: the conversation says goodbye, then the exit status is given. */
  finish() {
    if (this.finished) {
      if (this.socket.readyState === WebSocket.CLOSED) this.exit();
      return;
    }
    this.finished = true;
    clearTimeout(this.answerTimer);
    clearTimeout(this.durationTimer);
    clearInterval(this.silenceTimer);
    this.conversation.stop();
    const { socket } = this;
    if (socket.readyState === WebSocket.CLOSED) {
      this.exit();
      return;
    }
    let waitFor = this.config.closeTimeout;
    if (socket.readyState === WebSocket.OPEN) {
      waitFor += this.conversation.sayGoodbye();
    } else {
      socket.terminate();
    }
    setTimeout(() => this.exit(), waitFor);
  }

  exit() {
    const { config } = this;
    if (this.inFlight.size > 0) {
      this.problem(
        `${this.inFlight.size} of ${config.count} Echo request(s) got no answer`,
      );
    }
    if (config.duration !== null && this.kissesAnswered === 0)
      this.problem("no Kiss request was answered");
    process.exit(this.problems.length === 0 ? 0 : 1);
  }
}

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

runMain({
  usage: USAGE,
  parse: parseConfig,
  run: (config) => new Run(config).start(),
});
