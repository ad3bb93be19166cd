// The server's own answers to WebSocket Pings (session.js): one Pong in flight, the most recent
// Ping's payload next, none after a Close.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../src/session.js";

/** Records the Pongs a session hands over, and lets a test say when each was written. */
class FakeWebSocket {
  constructor() {
    this.OPEN = 1;
    this.readyState = 1;
    this.pongs = [];
    this.callbacks = [];
  }

  pong(data, mask, callback) {
    this.pongs.push(Buffer.from(data).toString());
    this.callbacks.push(callback);
  }

  /** The oldest Pong not yet written is written now. */
  written() {
    this.callbacks.shift()();
  }
}

/** A Session with no more than Pongs need: no log line, no timers. */
function sessionOn(webSocket) {
  const session = Object.create(Session.prototype);
  session.webSocket = webSocket;
  session.pongInFlight = false;
  session.nextPong = null;
  return session;
}

test("a Ping is answered with its payload", () => {
  const webSocket = new FakeWebSocket();
  const session = sessionOn(webSocket);
  session.pingReceived(Buffer.from("1"));
  webSocket.written();
  session.pingReceived(Buffer.from("2"));
  assert.deepEqual(webSocket.pongs, ["1", "2"]);
});

test("Pings while a Pong is unwritten get one Pong, the most recent one's", () => {
  const webSocket = new FakeWebSocket();
  const session = sessionOn(webSocket);
  for (let i = 0; i < 1000; i++) session.pingReceived(Buffer.from(`p${i}`));
  assert.deepEqual(webSocket.pongs, ["p0"]);
  webSocket.written();
  assert.deepEqual(webSocket.pongs, ["p0", "p999"]);
  webSocket.written();
  assert.deepEqual(webSocket.pongs, ["p0", "p999"]);
  assert.equal(session.pongInFlight, false);
});

test("no Pong once the connection is closing", () => {
  const webSocket = new FakeWebSocket();
  const session = sessionOn(webSocket);
  session.pingReceived(Buffer.from("a"));
  session.pingReceived(Buffer.from("b"));
  webSocket.readyState = 2;
  webSocket.written();
  session.pingReceived(Buffer.from("c"));
  assert.deepEqual(webSocket.pongs, ["a"]);
});
