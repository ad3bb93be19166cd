// One client's session on the server, from the handshake to the closed socket: its log lines,
// its dialect (fixed by the first data message, PROTOCOL.md section 12.1), a bounded send queue,
// and closing (sections 5 and 7): the Close, the lingering read after it, and the reset of an
// evicted client that does not read. What each dialect answers is in json-session.js and
// v1-session.js.

import { JsonSession } from "./json-session.js";
import { V1Session } from "./v1-session.js";
import { looksLikeV1 } from "./v1.js";
import { log, quoted } from "./log.js";

// Past this many bytes waiting to be sent, the session stops reading until they drain, so a
// client that sends requests but does not read answers can't grow the server's memory: what it
// holds is this much, the answers to one read of input at most beyond it, and the kernel's
// buffers (which keep a client that reads busy on their own).
const SEND_QUEUE_HIGH_WATER = 256 * 1024;
const SEND_QUEUE_LOW_WATER = 64 * 1024;

export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  POLICY_VIOLATION: 1008,
  INTERNAL_ERROR: 1011,
});

// ws reports a connection that ended without a Close frame with this code.
const CLOSE_ABNORMAL = 1006;

export const PONG_TIMEOUT = "pong timeout";

export class Session {
  /**
   * @param {object} params
   * @param {import("ws").WebSocket} params.webSocket the upgraded connection
   * @param {import("node:net").Socket} params.socket the socket ws reads and writes (TLS for wss)
   * @param {import("node:net").Socket} params.tcpSocket the TCP socket under it
   * @param {string} params.id the session id sent in X-Session-Id
   * @param {string} params.name the session's name (log.js sessionName)
   * @param {string} params.peer the client's address and port
   * @param {object} params.config the server's timings and limits
   * @param {{json: string, v1: Buffer}} params.kissRequests the Kiss request of each dialect
   * @param {(session: Session) => void} params.onEnd called once when the session ends
   */
  constructor({
    webSocket,
    socket,
    tcpSocket,
    id,
    name,
    peer,
    config,
    kissRequests,
    onEnd,
  }) {
    this.webSocket = webSocket;
    this.socket = socket;
    this.tcpSocket = tcpSocket;
    this.id = id;
    this.name = name;
    this.config = config;
    this.kissRequests = kissRequests;
    this.onEnd = onEnd;
    this.ended = false;
    this.queuedBytes = 0;
    this.latestKiss = null;
    /** "json" or "v1" once fixed; null until then. */
    this.dialect = null;
    /** What answers the client: a JsonSession until a session becomes v1, then a V1Session. */
    this.handler = null;
    this.closed = new Promise((resolve) => webSocket.once("close", resolve));
    /** A Pong handed to ws and not yet written, and the payload of the Ping that came since. */
    this.pongInFlight = false;
    this.nextPong = null;

    log(`session+ id=${id} name=${quoted(name)} peer=${peer}`);

    webSocket.on("message", (data, isBinary) => this.receive(data, isBinary));
    webSocket.on("ping", (data) => this.pingReceived(data));
    webSocket.on("error", (error) => this.closedByLibrary(error));
    // Unless the session has ended already (a Close of the server's own, ws's refusal), the
    // client's Close ended it: its code is logged, 1005 when it had none (ws reports that
    // already), so a page that closed itself (1000) is told from one that was left (1001).
    webSocket.on("close", (code) =>
      this.end(
        code === CLOSE_ABNORMAL
          ? "client vanished"
          : `client closed code=${code}`,
      ),
    );

    if (config.dialect === "v1") {
      this.fixDialect("v1");
    } else {
      // JSON's Pings and Kiss requests run until a first message makes the session v1.
      this.handler = new JsonSession(this);
      if (config.dialect === "json") this.fixDialect("json");
    }
  }

  receive(data, isBinary) {
    if (this.ended) return;
    if (this.dialect === null)
      this.fixDialect(isBinary && looksLikeV1(data) ? "v1" : "json");
    try {
      this.handler.receive(data, isBinary);
    } catch (error) {
      // A bug of ours: this session ends, the server goes on.
      process.stderr.write(`session ${this.id}: ${error.stack}\n`);
      this.close(
        CloseCode.INTERNAL_ERROR,
        "internal error",
        "error: internal error",
      );
    }
  }

  /** Fixes the session's dialect; a v1 session's timers start now, and JSON's stop. */
  fixDialect(dialect) {
    this.dialect = dialect;
    if (dialect === "v1") {
      this.handler?.stop();
      this.handler = new V1Session(this);
    }
  }

  /**
   * Sends one message, pausing reads while too much is waiting to go out. What a timer sends
   * (`skipWhenBusy`) is skipped instead while the client is not reading.
   */
  send(data, { skipWhenBusy = false } = {}) {
    if (this.ended) return;
    if (skipWhenBusy && this.queuedBytes > SEND_QUEUE_LOW_WATER) return;
    const bytes =
      typeof data === "string" ? Buffer.byteLength(data) : data.length;
    this.queuedBytes += bytes;
    this.webSocket.send(data, () => {
      this.queuedBytes -= bytes;
      if (this.webSocket.isPaused && this.queuedBytes <= SEND_QUEUE_LOW_WATER)
        this.webSocket.resume();
    });
    if (this.queuedBytes > SEND_QUEUE_HIGH_WATER) this.webSocket.pause();
  }

  /**
   * Answers a WebSocket Ping (ws's automatic Pongs are off, server.js). One Pong is in flight at
   * a time; a Ping that comes before it is written only replaces the payload of the next one
   * (RFC 6455 section 5.5.3 lets an endpoint answer only the most recent Ping). So many Pings in
   * one read (a message in one-byte fragments with Pings between them) are all read and
   * answered, and a client that sends Pings without reading costs one Pong.
   */
  pingReceived(data) {
    if (this.pongInFlight) {
      this.nextPong = Buffer.from(data);
      return;
    }
    this.sendPong(data);
  }

  sendPong(data) {
    // After a Close, sent or received, Pings go unanswered.
    if (this.webSocket.readyState !== this.webSocket.OPEN) return;
    this.pongInFlight = true;
    this.webSocket.pong(data, false, () => {
      this.pongInFlight = false;
      const next = this.nextPong;
      this.nextPong = null;
      if (next !== null) this.sendPong(next);
    });
  }

  /** Keeps and logs a Kiss response, JSON's or v1's. */
  kissAnswered({ language, encoding, time_zone }) {
    this.latestKiss = { language, encoding, time_zone };
    log(
      `kiss id=${this.id} name=${quoted(this.name)} language=${quoted(language)} ` +
        `encoding=${quoted(encoding)} time_zone=${quoted(time_zone)}`,
    );
  }

  /** No Pong (JSON) or matching PONG (v1) in time: Close 1008, then a reset if unanswered. */
  evict() {
    this.close(CloseCode.POLICY_VIOLATION, PONG_TIMEOUT, PONG_TIMEOUT, {
      resetWhenLate: true,
    });
  }

  /** Server shutdown: Close 1001. */
  shutdown() {
    this.close(CloseCode.GOING_AWAY, "server shutting down", "shutdown");
  }

  /** Ends the session with a Close of the server's own, after what was already sent. */
  close(code, closeReason, logReason, { resetWhenLate = false } = {}) {
    if (this.ended) return;
    this.end(logReason);
    this.webSocket.close(code, closeReason);
    this.linger({ resetWhenLate });
  }

  /** ws refused the client's input (1002, 1007, 1009) and has sent the Close itself. */
  closedByLibrary(error) {
    this.end(`error: ${error.message}`);
    this.linger({ resetWhenLate: false });
  }

  /**
   * The lingering close (section 7): after the server's Close, what the client still sends is
   * read and thrown away (ws discards it, or parses it for the client's Close) until the socket
   * closes, for at most the close timeout and the linger limit; past the limit the connection is
   * reset, and past the timeout the socket is closed, with a reset for an evicted client
   * (section 5), whose unsent answers the kernel then frees. Backpressure still holds: a session
   * paused because the client does not read what it is sent (its Close among it) stays paused,
   * and is read again only once that drains.
   */
  linger({ resetWhenLate }) {
    if (this.lingering) return;
    this.lingering = true;
    let lingered = 0;
    const countDiscarded = (chunk) => {
      lingered += chunk.length;
      if (lingered > this.config.lingerBytes) this.abort();
    };
    this.socket.on("data", countDiscarded);
    const timer = setTimeout(() => {
      if (resetWhenLate) this.abort();
      else this.socket.destroy();
    }, this.config.closeTimeout);
    this.closed.then(() => {
      clearTimeout(timer);
      this.socket.off("data", countDiscarded);
    });
  }

  /** Closes the connection with SO_LINGER 0: the kernel sends a reset and drops unsent data. */
  abort() {
    if (!this.tcpSocket.destroyed) this.tcpSocket.resetAndDestroy();
    this.socket.destroy();
  }

  /** Logs the end of the session and stops its timers; only the first call counts. */
  end(reason) {
    if (this.ended) return;
    this.ended = true;
    this.handler?.stop();
    log(
      `session- id=${this.id} name=${quoted(this.name)} reason=${reason} dialect=${this.dialect ?? "none"}`,
    );
    this.onEnd(this);
  }
}
