// What a JSON session does (PROTOCOL.md sections 3 to 6): answers Echo requests, keeps Kiss
// responses, sends Kiss requests and WebSocket Pings, and evicts the client when its Pongs stop.

import { randomUUID } from "node:crypto";
import { isUtf8 } from "node:buffer";
import {
  InvalidMessage,
  decodeClientMessage,
  echoResponse,
  errorResponse,
} from "./messages.js";

export class JsonSession {
  /** @param {import("./session.js").Session} session */
  constructor(session) {
    this.session = session;
    const { pingInterval, kissInterval } = session.config;
    this.pongTimer = null;
    this.pingCount = 0;
    this.stopped = false;
    this.onPong = () => this.pongReceived();
    session.webSocket.on("pong", this.onPong);
    this.pingTimer = setInterval(() => this.ping(), pingInterval);
    this.kissTimer = setInterval(() => this.kiss(), kissInterval);
  }

  receive(data, isBinary) {
    const { session } = this;
    // ws has already closed with 1007 a text message that is not UTF-8; a binary one is ours.
    if (isBinary && !isUtf8(data)) {
      session.send(
        errorResponse("not JSON: a binary message whose payload is not UTF-8"),
      );
      return;
    }
    let message;
    try {
      message = decodeClientMessage(data.toString("utf8"));
    } catch (error) {
      if (!(error instanceof InvalidMessage)) throw error;
      session.send(errorResponse(error.message));
      return;
    }
    if (message.kind === "echo") {
      session.send(echoResponse(message.id, randomUUID(), message.data));
    } else {
      session.kissAnswered(message);
    }
  }

  kiss() {
    if (this.session.dialect === null) {
      // The first data message decides first when it has come by now, read or not: timers run
      // before the event loop reads its sockets, so a busy server would otherwise fix as JSON a
      // session whose HELLO came in time. setImmediate runs after this turn's reads.
      setImmediate(() => this.firstKiss());
      return;
    }
    this.session.send(this.session.kissRequests.json, { skipWhenBusy: true });
  }

  firstKiss() {
    // Stopped meanwhile: the session became v1, or ended.
    if (this.stopped) return;
    // A session that has said nothing by its first Kiss request is a JSON session (12.1).
    if (this.session.dialect === null) this.session.fixDialect("json");
    this.session.send(this.session.kissRequests.json, { skipWhenBusy: true });
  }

  ping() {
    // The pong timeout is at most the ping interval, so a Ping still unanswered now is overdue.
    if (this.pongTimer !== null) {
      this.session.evict();
      return;
    }
    this.pongTimer = setTimeout(
      () => this.session.evict(),
      this.session.config.pongTimeout,
    );
    this.session.webSocket.ping(String(++this.pingCount));
  }

  pongReceived() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pingTimer);
    clearInterval(this.kissTimer);
    clearTimeout(this.pongTimer);
    this.session.webSocket.off("pong", this.onPong);
  }
}
