// One client's session on the server: answers its messages, sends it Kiss requests and Pings,
// evicts it when its Pongs stop, and keeps what it may hold in memory bounded.

import { randomUUID } from "node:crypto";
import { isUtf8 } from "node:buffer";
import {
  InvalidMessage,
  decodeClientMessage,
  echoResponse,
  errorResponse,
} from "./messages.js";
import { logValue } from "./cli.js";

// Past this many bytes waiting to be sent, the session stops reading until they drain, so a
// client that sends requests but does not read answers can't grow the server's memory.
const SEND_QUEUE_HIGH_WATER = 4 * 1024 * 1024;
const SEND_QUEUE_LOW_WATER = 1024 * 1024;

const CLOSE_GOING_AWAY = 1001;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_INTERNAL_ERROR = 1011;

export class Session {
  /**
   * @param {object} params
   * @param {import("ws").WebSocket} params.socket the upgraded connection
   * @param {string} params.id the session id sent in X-Session-Id
   * @param {string} params.name the client's WhoAmI, or the id
   * @param {string} params.peer the client's address and port
   * @param {object} params.config the server's timings and limits
   * @param {string} params.kissRequest the Kiss request to send, as JSON text
   * @param {(session: Session) => void} params.onEnd called once when the session ends
   */
  constructor({ socket, id, name, peer, config, kissRequest, onEnd }) {
    this.socket = socket;
    this.id = id;
    this.name = name;
    this.config = config;
    this.onEnd = onEnd;
    this.ended = false;
    this.queuedBytes = 0;
    this.pongTimer = null;
    this.pingCount = 0;
    this.latestKiss = null;
    this.closed = new Promise((resolve) => socket.once("close", resolve));

    log(`session+ id=${id} name=${logValue(name)} peer=${peer}`);

    socket.on("message", (data, isBinary) => this.receive(data, isBinary));
    socket.on("pong", () => this.pongReceived());
    socket.on("error", (error) => {
      // ws has sent the Close (1007, 1009, 1002); don't wait long for the client's.
      this.end(`error: ${error.message}`);
      this.terminateAfterCloseTimeout();
    });
    socket.on("close", (code) =>
      this.end(code === 1006 ? "error: connection lost" : "client closed"),
    );

    this.pingTimer = setInterval(() => this.ping(), config.pingInterval);
    this.kissTimer = setInterval(
      () => this.send(kissRequest),
      config.kissInterval,
    );
  }

  receive(data, isBinary) {
    // ws has already closed with 1007 a text message that is not UTF-8; a binary one is ours.
    if (isBinary && !isUtf8(data)) {
      this.send(
        errorResponse("not JSON: a binary message whose payload is not UTF-8"),
      );
      return;
    }
    let message;
    try {
      message = decodeClientMessage(data.toString("utf8"));
    } catch (error) {
      if (error instanceof InvalidMessage) {
        this.send(errorResponse(error.message));
      } else {
        process.stderr.write(`session ${this.id}: ${error.stack}\n`);
        this.close(
          CLOSE_INTERNAL_ERROR,
          "internal error",
          `error: ${error.message}`,
        );
      }
      return;
    }
    if (message.kind === "echo") {
      this.send(echoResponse(message.id, randomUUID(), message.data));
    } else {
      this.latestKiss = message;
      const { language, encoding, time_zone } = message;
      log(
        `kiss id=${this.id} name=${logValue(this.name)} language=${logValue(language)} ` +
          `encoding=${logValue(encoding)} time_zone=${logValue(time_zone)}`,
      );
    }
  }

  /** Sends one message, pausing reads while too much is waiting to go out. */
  send(text) {
    if (this.ended) return;
    const bytes = Buffer.byteLength(text);
    this.queuedBytes += bytes;
    this.socket.send(text, () => {
      this.queuedBytes -= bytes;
      if (this.socket.isPaused && this.queuedBytes <= SEND_QUEUE_LOW_WATER)
        this.socket.resume();
    });
    if (this.queuedBytes > SEND_QUEUE_HIGH_WATER) this.socket.pause();
  }

  ping() {
    // The pong timeout is at most the ping interval, so a Ping still unanswered now is overdue.
    if (this.pongTimer !== null) {
      this.evict();
      return;
    }
    this.pongTimer = setTimeout(() => this.evict(), this.config.pongTimeout);
    this.socket.ping(String(++this.pingCount));
  }

  pongReceived() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  evict() {
    this.close(CLOSE_POLICY_VIOLATION, "pong timeout", "pong timeout");
  }

  /** Server shutdown: Close 1001. */
  shutdown() {
    this.close(CLOSE_GOING_AWAY, "server shutting down", "shutdown");
  }

  /** Ends the session, sends Close, and drops the connection if the client does not close it soon. */
  close(code, closeReason, logReason) {
    if (this.ended) return;
    this.end(logReason);
    this.socket.close(code, closeReason);
    this.terminateAfterCloseTimeout();
  }

  terminateAfterCloseTimeout() {
    const timer = setTimeout(
      () => this.socket.terminate(),
      this.config.closeTimeout,
    );
    this.closed.then(() => clearTimeout(timer));
  }

  /** Logs the end of the session and stops its timers; only the first call counts. */
  end(reason) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.pingTimer);
    clearInterval(this.kissTimer);
    clearTimeout(this.pongTimer);
    log(`session- id=${this.id} name=${logValue(this.name)} reason=${reason}`);
    this.onEnd(this);
  }
}

export function log(line) {
  process.stdout.write(`${line}\n`);
}
