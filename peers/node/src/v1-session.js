// What a v1 session does (PROTOCOL.md section 12): answers each frame (BONJOUR, ECHO_RESPONSE,
// HASH_RESPONSE, ERROR), keeps KISS_RESPONSEs, sends PING, TIME_NOTIFICATION and KISS_REQUEST on
// its own timers, and ends the session when no matching PONG came for the session timeout.

import {
  ErrorCode,
  FrameError,
  ResultType,
  decode,
  encode,
  hashHex,
  isSentByClient,
  timestamp,
} from "./v1.js";
import { LANGUAGE_TAG } from "./messages.js";

const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 1002;

export class V1Session {
  /** @param {import("./session.js").Session} session */
  constructor(session) {
    this.session = session;
    const timings = session.config.v1;
    this.sessionTimeout = timings.sessionTimeout;
    // PINGs whose PONG has not come, oldest first: {timestampMs, sentAt}. At most as many as
    // the session timeout holds ping intervals.
    this.outstanding = [];
    this.maxOutstanding = Math.max(
      1,
      Math.floor(timings.sessionTimeout / timings.pingInterval),
    );
    this.timers = [
      setInterval(() => this.ping(), timings.pingInterval),
      setInterval(() => this.notifyTime(), timings.timeInterval),
      setInterval(() => this.kiss(), timings.kissInterval),
    ];
    this.expiry = setTimeout(() => session.evict(), this.sessionTimeout);
  }

  receive(data, isBinary) {
    if (!isBinary) {
      this.refuse(
        new FrameError(
          ErrorCode.DECODE,
          "a text message on a v1 session; v1 frames are binary messages",
        ),
      );
      return;
    }
    let message;
    try {
      message = decode(data);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.refuse(error);
      return;
    }
    if (!isSentByClient(message)) {
      this.refuse(
        new FrameError(
          ErrorCode.UNKNOWN_TYPE,
          `${message.type} is sent by a server, not to one`,
        ),
      );
      return;
    }
    this.answer(message);
  }

  answer(message) {
    const { session } = this;
    switch (message.type) {
      case "HELLO":
        session.send(
          encode({ type: "BONJOUR", server_language: LANGUAGE_TAG }),
        );
        break;
      case "ECHO_REQUEST":
        session.send(encode(echoResponse(message)));
        break;
      case "KISS_RESPONSE":
        session.kissAnswered(message);
        break;
      case "PONG":
        this.pongReceived(message.timestamp_ms);
        break;
      case "RANDOM_NUMBER":
        session.send(
          encode({
            type: "HASH_RESPONSE",
            id: message.id,
            hash_hex: hashHex(message.number),
          }),
        );
        break;
      case "DISCONNECT":
        session.close(CLOSE_NORMAL, "disconnect", "client closed");
        break;
      case "ERROR":
        // The client's ERROR gets no answer (12.4).
        break;
      default:
        throw new Error(`no answer for the client's ${message.type}`);
    }
  }

  /** Sends ERROR with the frame's code; codes 1, 3, 4 and 5 then end the session with 1002. */
  refuse(error) {
    this.session.send(
      encode({ type: "ERROR", code: error.code, message: error.message }),
    );
    if (error.closesSession) {
      this.session.close(
        CLOSE_PROTOCOL_ERROR,
        "malformed v1 frame",
        `error: malformed v1 frame (code ${error.code}): ${error.message}`,
      );
    }
  }

  ping() {
    const timestampMs = BigInt(Date.now());
    const now = performance.now();
    this.outstanding = this.outstanding.filter(
      ({ sentAt }) => now - sentAt < this.sessionTimeout,
    );
    if (this.outstanding.length >= this.maxOutstanding)
      this.outstanding.shift();
    this.outstanding.push({ timestampMs, sentAt: now });
    this.session.send(encode({ type: "PING", timestamp_ms: timestampMs }), {
      skipWhenBusy: true,
    });
  }

  /** A PONG extends the session only when it echoes a PING sent within the timeout (12.3). */
  pongReceived(timestampMs) {
    const now = performance.now();
    const matched = this.outstanding.findIndex(
      (ping) =>
        ping.timestampMs === timestampMs &&
        now - ping.sentAt < this.sessionTimeout,
    );
    if (matched < 0) return;
    this.outstanding.splice(matched, 1);
    this.expiry.refresh();
  }

  notifyTime() {
    this.session.send(encode({ type: "TIME_NOTIFICATION", ...timestamp() }), {
      skipWhenBusy: true,
    });
  }

  kiss() {
    this.session.send(this.session.kissRequests.v1, { skipWhenBusy: true });
  }

  stop() {
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.expiry);
  }
}

/** The answer to an ECHO_REQUEST, as section 12.4 decides it. */
function echoResponse({ id, data }) {
  const decimal = id.toString();
  return {
    type: "ECHO_RESPONSE",
    status: 200,
    results: [
      {
        idx: id,
        type: ResultType.OK,
        kv: [
          ["id", decimal],
          ["data", data],
          ["meta", LANGUAGE_TAG],
          ["idx", decimal],
        ],
      },
    ],
  };
}
