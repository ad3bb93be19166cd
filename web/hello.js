// The page: a Hello WebSocket client in a browser (PROTOCOL.md sections 2 to 7, and with
// dialect=v1 sections 11 and 12). Query parameters drive it (see web/README.md); it shows what
// happens as it happens, and keeps window.helloResult up to date for tests.
//
// What a browser cannot do, and what the page does instead:
// - it cannot set handshake headers, so there is no WhoAmI: the name travels as the `whoami`
//   query parameter of the WebSocket URL (section 2);
// - it cannot read the response's headers, so it never sees SVR or X-Session-Id;
// - it answers WebSocket Pings itself and never tells the page, so in JSON the page cannot show
//   them (v1's PINGs are messages: the page sees each one and answers it with a PONG);
// - it does not tell the page why a connection failed (a refused connection, a 403 from the
//   server's Origin policy and an untrusted certificate look the same), so the page names the
//   likely causes; the browser's console has the exact one.

import {
  ErrorCode,
  FrameError,
  ResultType,
  decode,
  encode,
  hashHex,
  isSentByServer,
  randomI64,
} from "./v1.js";

/** The page's language tag (PROTOCOL.md section 3.1), in `meta` and in v1's HELLO. */
const LANGUAGE_TAG = "BROWSER";
/** The data of the Echo requests, in turn, as the reference client's GREETINGS. */
const GREETINGS = [
  "Hello",
  "Bonjour",
  "Hola",
  "こんにちは",
  "Ciao",
  "안녕하세요",
  "你好",
];
const DEFAULT_COUNT = 3;
const MAX_COUNT = 10000;
const DEFAULT_RANDOM_INTERVAL_MS = 5000;
/** How long the page waits for the server's Close after DISCONNECT before closing with 1000 itself. */
const CLOSE_TIMEOUT_MS = 5000;

// ---- what happened: for tests (window.helloResult) and for the page --------------------------------

const result = {
  state: "connecting", // "connecting" | "open" | "closed" | "error"
  opened: false, // the WebSocket handshake succeeded
  dialect: null,
  name: null,
  url: null,
  sent: 0,
  answered: 0,
  answers: [], // {id, data, meta, ms}, in the order they came
  allAnswered: false,
  kisses: 0,
  kissAnswered: false, // at least one Kiss request came, and every one was answered
  pings: null, // JSON: null, the page cannot know; v1: how many PINGs came
  lastPing: null, // v1: {timestamp_ms, at}
  randomNumbers: 0, // v1: RANDOM_NUMBERs sent
  hashesChecked: 0, // v1: HASH_RESPONSEs found right
  closeSent: null, // the code the page closed with, or null when it did not close first
  disconnectSent: false, // v1
  closeCode: null,
  closeReason: null,
  wasClean: null,
  errors: [],
  warnings: [],
};
window.helloResult = result;

const element = (id) => document.getElementById(id);

function setState(state) {
  result.state = state;
  document.body.dataset.state = state;
  element("state").textContent = state;
}

/** Records a problem in plain words; the session ends as "error" when it has any. */
function fail(problem) {
  result.errors.push(problem);
  showProblem(problem);
}

function warn(warning) {
  result.warnings.push(warning);
  showProblem(`Warning: ${warning}`);
}

function showProblem(text) {
  const item = document.createElement("li");
  item.textContent = text;
  element("errors").append(item);
  element("problems").hidden = false;
}

// ---- settings, from the query ------------------------------------------------------------------

class SettingsError extends Error {}

function readSettings(query, page) {
  const dialect = query.get("dialect") || "json";
  if (dialect !== "json" && dialect !== "v1") {
    throw new SettingsError(`dialect must be json or v1, not "${dialect}".`);
  }
  const count = query.has("count") ? Number(query.get("count")) : DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw new SettingsError(
      `count must be a whole number from 0 to ${MAX_COUNT}, not "${query.get("count")}".`,
    );
  }
  const durationMs = query.has("duration")
    ? parseDuration("duration", query.get("duration"))
    : null;
  const randomIntervalMs = query.has("random-interval")
    ? parseDuration("random-interval", query.get("random-interval"))
    : DEFAULT_RANDOM_INTERVAL_MS;
  if (randomIntervalMs === 0)
    throw new SettingsError("random-interval must be more than 0.");
  const name = query.get("whoami")?.trim() || generatedName();
  const url = socketUrl(query.get("url"), page, name);
  return { dialect, count, durationMs, randomIntervalMs, name, url };
}

/** `10s`, `500ms`, `1m` as in PROTOCOL.md section 9; a bare number is seconds. */
function parseDuration(parameter, text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null)
    throw new SettingsError(
      `${parameter} must be a duration like 10s, 500ms or 1m, not "${text}".`,
    );
  const scale = { ms: 1, s: 1000, m: 60000 }[match[2] ?? "s"];
  return Math.round(Number(match[1]) * scale);
}

function generatedName() {
  const [number] = crypto.getRandomValues(new Uint16Array(1));
  return `browser-${number.toString(16).padStart(4, "0")}`;
}

/** The URL to open: `url`, or the `/ws` of the page's own server; with `whoami=NAME` in its query. */
function socketUrl(given, page, name) {
  let url;
  if (given) {
    try {
      url = new URL(given);
    } catch {
      throw new SettingsError(`url is not a URL: "${given}".`);
    }
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new SettingsError(
        `url must be a ws:// or wss:// URL, not "${given}".`,
      );
    }
  } else {
    if (page.protocol !== "http:" && page.protocol !== "https:") {
      throw new SettingsError(
        `This page was opened from ${page.protocol} and not from a server, so it has no server to talk ` +
          "to: give url=ws://HOST:PORT/ws. (A page from a file sends the Origin null, which servers " +
          "refuse unless they were started with --allow-origin '*'.)",
      );
    }
    url = new URL("/ws", page);
    url.protocol = page.protocol === "https:" ? "wss:" : "ws:";
  }
  // A browser cannot send WhoAmI; servers read the name from the query instead (section 2).
  url.searchParams.set("whoami", name);
  return url.href;
}

// ---- the browser's own facts, for Kiss responses (sections 3.6 and 4) ----------------------------

function kissFacts() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return {
    language: localeName(navigator.language),
    encoding: document.characterSet || "UTF-8",
    time_zone: zone && zone !== "Etc/Unknown" ? zone : "UTC",
  };
}

/** A BCP 47 tag as `language[_TERRITORY]`: `en-US` → `en_US`, `zh-Hans-CN` → `zh_CN`, `fr` → `fr`. */
function localeName(tag) {
  const [language = "", ...rest] = (tag || "").split("-");
  if (!/^[a-z]{2,3}$/i.test(language)) return "en_US";
  const territory = rest.find((part) => /^[a-z]{2}$/i.test(part));
  return territory
    ? `${language.toLowerCase()}_${territory.toUpperCase()}`
    : language.toLowerCase();
}

// ---- the session, whichever the dialect ----------------------------------------------------------

class Session {
  constructor(settings) {
    this.settings = settings;
    this.pending = new Map(); // id → {data, sentAt, row}: Echo requests awaiting their answer
    this.opened = false;
    this.ending = false; // the page has begun to end the session
    this.closed = false;
    this.durationTimer = null;
    this.socket = new WebSocket(settings.url);
    this.socket.binaryType = "arraybuffer";
    this.dialect =
      settings.dialect === "v1" ? new V1Dialect(this) : new JsonDialect(this);
    this.socket.addEventListener("open", () => this.onOpen());
    this.socket.addEventListener("message", (event) =>
      this.dialect.receive(event.data),
    );
    // The error event carries no detail; the close event that always follows says what it can.
    this.socket.addEventListener("close", (event) => this.onClose(event));
  }

  send(message) {
    this.socket.send(message);
  }

  onOpen() {
    this.opened = true;
    result.opened = true;
    setState("open");
    element("end").disabled = false;
    this.dialect.opened();
    const { count, durationMs } = this.settings;
    for (let id = 1; id <= count; id++) {
      const data = GREETINGS[(id - 1) % GREETINGS.length];
      this.pending.set(id, {
        data,
        sentAt: performance.now(),
        row: addEchoRow(id, data),
      });
      this.dialect.sendEcho(id, data);
      result.sent++;
    }
    result.allAnswered = count === 0;
    showEchoSummary();
    if (durationMs !== null)
      this.durationTimer = setTimeout(() => this.end(), durationMs);
  }

  /** An Echo answer for `id` carrying `data`, from a server whose tag is `meta`. */
  echoAnswered(id, data, meta) {
    const request = this.pending.get(id);
    if (request === undefined) {
      fail(
        `The server answered Echo request ${id}, which was not waiting for an answer.`,
      );
      return;
    }
    this.pending.delete(id);
    const ms = Math.round(performance.now() - request.sentAt);
    if (data !== request.data) {
      fail(
        `The answer to Echo request ${id} carries ${JSON.stringify(data)}, not ${JSON.stringify(request.data)}.`,
      );
      fillEchoRow(request.row, data, meta, ms, "wrong");
      return;
    }
    result.answered++;
    result.answers.push({ id, data, meta, ms });
    result.allAnswered = result.answered === this.settings.count;
    fillEchoRow(request.row, data, meta, ms, "ok");
    showEchoSummary();
  }

  kissAnswered(request, response) {
    result.kisses++;
    result.kissAnswered = true;
    element("kiss").hidden = false;
    element("kiss-summary").textContent =
      `${result.kisses} Kiss request(s) came, each answered at once.`;
    element("kiss-request").textContent =
      `${request.os_name} ${request.os_version}, release ${request.os_release}, ${request.os_architecture}`;
    element("kiss-response").textContent =
      `language ${response.language}, encoding ${response.encoding}, time zone ${response.time_zone}`;
  }

  /** Ends the session as a client does: JSON closes with 1000; v1 says DISCONNECT, then waits for the server's Close. */
  end() {
    if (this.ending || this.closed) return;
    this.ending = true;
    element("end").disabled = true;
    if (this.pending.size > 0) {
      fail(
        `${this.pending.size} of ${this.settings.count} Echo requests were never answered ` +
          `(ids ${[...this.pending.keys()].join(", ")}).`,
      );
    }
    this.dialect.end();
  }

  /** The user leaves the page: a Close 1000 now (a browser left alone would send 1001). */
  leave() {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    this.dialect.leave();
  }

  closeWith1000(reason) {
    result.closeSent = 1000;
    this.socket.close(1000, reason);
  }

  onClose(event) {
    this.closed = true;
    clearTimeout(this.durationTimer);
    this.dialect.stop();
    element("end").disabled = true;
    result.closeCode = event.code;
    result.closeReason = event.reason;
    result.wasClean = event.wasClean;
    const problem = this.opened
      ? this.dialect.judgeClose(event)
      : couldNotConnect(this.settings.url);
    if (problem !== null) fail(problem);
    element("close").textContent = describeClose(event);
    setState(result.errors.length === 0 ? "closed" : "error");
  }
}

function couldNotConnect(url) {
  const origin = location.origin;
  const certificate = url.startsWith("wss:")
    ? "; or this browser does not trust the server's certificate (trust the CA that signed it: certs/ca.crt)"
    : "";
  return (
    `Could not connect to ${url}. A browser does not tell the page why (its developer console does). ` +
    "Likely: nothing listens there; or the server refused this page's origin with HTTP 403 (its Origin " +
    `policy, PROTOCOL.md 2.2): start it with --allow-origin ${origin}${certificate}.`
  );
}

/** A Close the server started, in plain words. */
function serverClosed({ code, reason }) {
  const because = reason ? ` "${reason}"` : "";
  switch (code) {
    case 1000:
      return `The server ended the session (1000${because}) before the page did.`;
    case 1001:
      return `The server is shutting down or restarting (1001${because}).`;
    case 1002:
      return `The server closed the session for a protocol error (1002${because}): it could not use something the page sent.`;
    case 1006:
      return "The connection dropped without a Close (1006): the server stopped, or the network between failed.";
    case 1007:
      return `The server closed the session because a message was not valid UTF-8 (1007${because}).`;
    case 1008:
      return (
        `The server closed the session with 1008${because}: a pong timeout means it stopped getting ` +
        "answers to its Pings from this browser (a tab in the background, a sleeping machine, a slow link)."
      );
    case 1009:
      return `The server closed the session because a message was too large (1009${because}).`;
    case 1011:
      return `The server closed the session after an error of its own (1011${because}).`;
    default:
      return `The server closed the session with ${code}${because}.`;
  }
}

function describeClose({ code, reason, wasClean }) {
  if (!result.opened) return `Never connected (code ${code}).`;
  const who =
    result.closeSent !== null
      ? `The page closed with ${result.closeSent}`
      : "The server closed";
  const how = wasClean
    ? "the closing handshake finished"
    : "the connection ended without a clean closing handshake";
  return `${who}; code ${code}${reason ? ` "${reason}"` : ""}, ${how}.`;
}

// ---- the JSON dialect (sections 3 to 5) -------------------------------------------------------------

const KISS_REQUEST_KEYS = [
  "os_name",
  "os_version",
  "os_release",
  "os_architecture",
];
const UTF8 = new TextDecoder("utf-8", { fatal: true });

class JsonDialect {
  constructor(session) {
    this.session = session;
    this.kissResponse = kissFacts();
    result.pings = null;
  }

  opened() {}

  sendEcho(id, data) {
    this.session.send(JSON.stringify({ id, data, meta: LANGUAGE_TAG }));
  }

  /** A server message, classified by its keys (section 3.7); nothing unusable is answered. */
  receive(data) {
    let text = data;
    if (typeof data !== "string") {
      try {
        text = UTF8.decode(data);
      } catch {
        fail("The server sent a binary message that is not UTF-8 text.");
        return;
      }
    }
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      fail(`The server sent something that is not JSON (${error.message}).`);
      return;
    }
    if (
      typeof message !== "object" ||
      message === null ||
      Array.isArray(message)
    ) {
      fail("The server sent JSON that is not an object.");
    } else if (Object.hasOwn(message, "status")) {
      this.response(message);
    } else if (KISS_REQUEST_KEYS.some((key) => Object.hasOwn(message, key))) {
      this.kissRequest(message);
    } else {
      fail("The server sent an object that is no known message.");
    }
  }

  response({ status, results, error }) {
    if (status !== 200) {
      fail(`The server answered with an Error response (${status}): ${error}`);
      return;
    }
    const answer =
      Array.isArray(results) && results.length === 1 ? results[0] : null;
    if (
      typeof answer !== "object" ||
      answer === null ||
      typeof answer.kv !== "object" ||
      answer.kv === null
    ) {
      fail("The server sent an Echo response without exactly one result.");
      return;
    }
    const { id, type, kv } = answer;
    if (
      !Number.isSafeInteger(id) ||
      type !== "OK" ||
      kv.idx !== String(id) ||
      typeof kv.data !== "string"
    ) {
      fail(
        `The server sent an Echo response that is not well formed: ${JSON.stringify(answer)}.`,
      );
      return;
    }
    this.session.echoAnswered(id, kv.data, String(kv.meta ?? ""));
  }

  kissRequest(request) {
    if (
      !KISS_REQUEST_KEYS.every(
        (key) => typeof request[key] === "string" && request[key] !== "",
      )
    ) {
      fail("The server sent a Kiss request without its four facts.");
      return;
    }
    this.session.send(JSON.stringify(this.kissResponse));
    this.session.kissAnswered(request, this.kissResponse);
  }

  end() {
    this.session.closeWith1000("done");
  }

  leave() {
    this.session.closeWith1000("page left");
  }

  stop() {}

  /** The page's own Close 1000, answered: clean. Anything else is a problem, in plain words. */
  judgeClose(event) {
    if (result.closeSent === null) return serverClosed(event);
    if (!event.wasClean)
      return `The page closed with 1000, but the server did not finish the closing handshake (${event.code}).`;
    return null;
  }
}

// ---- the binary dialect v1 (sections 11 and 12) ------------------------------------------------------

class V1Dialect {
  constructor(session) {
    this.session = session;
    this.kissResponse = kissFacts();
    this.lastRandomId = 0n;
    this.hashesDue = new Map(); // id as a decimal string → Promise of the hash due, or of null
    this.randomTimer = null;
    this.closeTimer = null;
    result.pings = 0;
    element("v1-only").hidden = false;
  }

  send(message) {
    this.session.send(encode(message));
  }

  opened() {
    this.send({ type: "HELLO", client_language: LANGUAGE_TAG });
    this.randomTimer = setInterval(
      () => this.sendRandomNumber(),
      this.session.settings.randomIntervalMs,
    );
  }

  sendEcho(id, data) {
    this.send({
      type: "ECHO_REQUEST",
      id: BigInt(id),
      meta: LANGUAGE_TAG,
      data,
    });
  }

  sendRandomNumber() {
    const id = ++this.lastRandomId;
    const number = randomI64();
    this.hashesDue.set(id.toString(), hashHex(number));
    this.send({ type: "RANDOM_NUMBER", id, number });
    result.randomNumbers++;
    showHashes();
  }

  receive(data) {
    if (typeof data === "string") {
      fail("The server sent a text message on a v1 session.");
      return;
    }
    let message;
    try {
      message = decode(data);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      fail(
        `The server sent a frame the page cannot use (code ${error.code}): ${error.message}.`,
      );
      return;
    }
    if (!isSentByServer(message)) {
      fail(`The server sent ${message.type}, which only a client sends.`);
      return;
    }
    switch (message.type) {
      case "BONJOUR":
        element("dialect").textContent =
          `v1 (binary); the server says BONJOUR in ${message.server_language}`;
        break;
      case "ECHO_RESPONSE":
        this.echoResponse(message);
        break;
      case "KISS_REQUEST":
        this.send({ type: "KISS_RESPONSE", ...this.kissResponse });
        this.session.kissAnswered(message, this.kissResponse);
        break;
      case "PING":
        this.send({ type: "PONG", timestamp_ms: message.timestamp_ms });
        result.pings++;
        result.lastPing = {
          timestamp_ms: message.timestamp_ms.toString(),
          at: new Date().toISOString(),
        };
        showHeartbeat();
        break;
      case "TIME_NOTIFICATION":
        element("time").textContent =
          `The server's time: ${message.iso8601} (${message.timestamp_ms} ms since 1970).`;
        break;
      case "HASH_RESPONSE":
        this.hashResponse(message);
        break;
      case "ERROR":
        if (message.code === ErrorCode.UNKNOWN_TYPE)
          warn(`the server sent ERROR 2: ${message.message}`);
        else fail(`The server sent ERROR ${message.code}: ${message.message}`);
        break;
    }
  }

  /** Matched by kv.id (section 12.4), checked by kv.data. */
  echoResponse({ status, results }) {
    if (
      status !== 200 ||
      results.length !== 1 ||
      results[0].type !== ResultType.OK
    ) {
      fail(
        `The server sent an ECHO_RESPONSE of status ${status} with ${results.length} result(s), not one OK result.`,
      );
      return;
    }
    const value = (key) => results[0].kv.find(([name]) => name === key)?.[1];
    const [id, data, meta] = ["id", "data", "meta"].map(value);
    if (id === undefined || !/^[0-9]{1,15}$/.test(id) || data === undefined) {
      fail(
        "The server sent an ECHO_RESPONSE without a kv.id the page sent, or without kv.data.",
      );
      return;
    }
    this.session.echoAnswered(Number(id), data, meta ?? "");
  }

  async hashResponse({ id, hash_hex }) {
    const key = id.toString();
    const due = this.hashesDue.get(key);
    if (due === undefined) {
      fail(
        `The server sent a HASH_RESPONSE for id ${key}, which the page did not send.`,
      );
      return;
    }
    this.hashesDue.delete(key);
    const hash = await due;
    if (hash === null) {
      element("hashes").textContent =
        `${result.randomNumbers} RANDOM_NUMBER(s) sent and answered; this page cannot check the hashes ` +
        "(a browser offers SHA-256 only to https pages and pages from localhost).";
    } else if (hash !== hash_hex) {
      fail(
        `The HASH_RESPONSE for RANDOM_NUMBER ${key} carries "${hash_hex}", not "${hash}".`,
      );
    } else {
      result.hashesChecked++;
      showHashes();
    }
  }

  end() {
    clearInterval(this.randomTimer);
    this.send({ type: "DISCONNECT", reason: "" });
    result.disconnectSent = true;
    this.closeTimer = setTimeout(() => {
      fail(
        `The server did not close the session within ${CLOSE_TIMEOUT_MS / 1000} s of DISCONNECT; the page closed with 1000 itself.`,
      );
      this.session.closeWith1000("no Close after DISCONNECT");
    }, CLOSE_TIMEOUT_MS);
  }

  leave() {
    if (!result.disconnectSent)
      this.send({ type: "DISCONNECT", reason: "page left" });
    result.disconnectSent = true;
    this.session.closeWith1000("page left");
  }

  stop() {
    clearInterval(this.randomTimer);
    clearTimeout(this.closeTimer);
  }

  /**
   * DISCONNECT, then the server's Close 1000: the session ended as section 12.6 says. Anything
   * else is a problem. A Close 1000 after which the connection did not end cleanly (the server
   * reset it, say) is said as a warning: the exchange itself ended as it should, and other
   * clients are judged by the Close too, not by how TCP ended.
   */
  judgeClose(event) {
    if (!result.disconnectSent) return serverClosed(event);
    if (result.closeSent !== null) return null; // the page closed by itself; it said why when it did
    if (event.code !== 1000) {
      return `After DISCONNECT the server closed with ${event.code}, not with Close 1000.`;
    }
    if (!event.wasClean) {
      warn(
        "The server's Close 1000 came after DISCONNECT, but the connection did not end cleanly after it.",
      );
    }
    return null;
  }
}

// ---- showing it --------------------------------------------------------------------------------------

function addEchoRow(id, data) {
  const row = element("echoes").insertRow();
  for (const text of [String(id), data, "waiting…", "", ""])
    row.insertCell().textContent = text;
  row.cells[2].className = "waiting";
  return row;
}

function fillEchoRow(row, data, meta, ms, verdict) {
  row.cells[2].textContent = data;
  row.cells[2].className = verdict;
  row.cells[3].textContent = meta;
  row.cells[4].textContent = `${ms} ms`;
}

function showEchoSummary() {
  element("echo-summary").textContent =
    `${result.sent} Echo request(s) sent at once, ${result.answered} answered` +
    (result.allAnswered ? ": every one, matched by id." : ".");
}

function showHeartbeat() {
  if (result.pings === null) {
    element("heartbeat").textContent =
      "The server sends this browser a WebSocket Ping every ping interval (10 s by default), and the " +
      "browser answers each with a Pong by itself, without telling the page: a page cannot know when " +
      "the last Ping came. Were the Pongs to stop, the server would close the session with 1008 " +
      "(pong timeout), and the page would say so.";
  } else if (result.lastPing === null) {
    element("heartbeat").textContent =
      "No PING yet. In v1 the server's PINGs are messages (every second by default), which the page " +
      "sees and answers with a PONG; the server sends no WebSocket Pings on a v1 session.";
  } else {
    const at = new Date(result.lastPing.at).toLocaleTimeString();
    element("heartbeat").textContent =
      `Last PING at ${at} (server time ${result.lastPing.timestamp_ms} ms), answered with a PONG; ` +
      `${result.pings} PING(s) in all.`;
  }
}

function showHashes() {
  element("hashes").textContent =
    `${result.randomNumbers} RANDOM_NUMBER(s) sent, ${result.hashesChecked} HASH_RESPONSE(s) checked right.`;
}

// ---- the run -------------------------------------------------------------------------------------

function start() {
  let settings;
  try {
    settings = readSettings(
      new URLSearchParams(location.search),
      new URL(location.href),
    );
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    fail(error.message);
    setState("error");
    return;
  }
  Object.assign(result, {
    dialect: settings.dialect,
    name: settings.name,
    url: settings.url,
  });
  element("url").textContent = settings.url;
  element("name").textContent =
    `${settings.name} (sent as the whoami query parameter: a browser cannot set WhoAmI)`;
  element("dialect").textContent =
    settings.dialect === "v1" ? "v1 (binary)" : "JSON";
  element("ending").textContent =
    settings.durationMs === null
      ? "when you leave the page, or press the button (Close 1000)"
      : `after ${settings.durationMs / 1000} s, by itself` +
        (settings.dialect === "v1"
          ? " (DISCONNECT, then the server's Close)"
          : " (Close 1000)");
  let session;
  try {
    session = new Session(settings);
  } catch (error) {
    fail(`The browser refused to open ${settings.url}: ${error.message}`);
    setState("error");
    return;
  }
  showHeartbeat();
  element("end").addEventListener("click", () => session.end());
  window.addEventListener("pagehide", () => session.leave());
}

start();
