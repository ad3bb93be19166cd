// The session- line (peers/README.md): the client's close code after `reason=client closed`,
// none for any other end, nor for a v1 DISCONNECT (PROTOCOL.md sections 7 and 12.6).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { Session } from "../src/session.js";
import { encode } from "../src/v1.js";

/** What a Session uses of a ws WebSocket: events, sends, Close, Pings. */
class FakeWebSocket extends EventEmitter {
  constructor() {
    super();
    this.OPEN = 1;
    this.readyState = 1;
    this.closedWith = null;
  }

  close(code) {
    this.closedWith = code;
  }

  ping() {}

  send(data, callback) {
    callback();
  }
}

/** What a Session uses of the socket under ws while it lingers. */
class FakeSocket extends EventEmitter {
  destroy() {}
}

const CONFIG = {
  dialect: "auto",
  pingInterval: 60_000,
  pongTimeout: 60_000,
  kissInterval: 60_000,
  closeTimeout: 60_000,
  lingerBytes: 1024,
  v1: {
    pingInterval: 60_000,
    sessionTimeout: 180_000,
    timeInterval: 60_000,
    kissInterval: 60_000,
  },
};

/** A session on fakes; `body` gets it and its WebSocket, and returns the session- line. */
function sessionLine(body, config = CONFIG) {
  const lines = [];
  const write = process.stdout.write;
  process.stdout.write = (line) => lines.push(line) > 0;
  const webSocket = new FakeWebSocket();
  try {
    const session = new Session({
      webSocket,
      socket: new FakeSocket(),
      tcpSocket: new FakeSocket(),
      id: "id",
      name: "n",
      peer: "127.0.0.1:1",
      config,
      kissRequests: { json: "{}", v1: Buffer.alloc(0) },
      onEnd: () => {},
    });
    body(session, webSocket);
    session.end("test over");
  } finally {
    process.stdout.write = write;
  }
  const ends = lines.filter((line) => line.startsWith("session- "));
  assert.equal(ends.length, 1);
  return ends[0];
}

test("the client's Close is logged with its code", () => {
  for (const code of [1000, 1001, 4000]) {
    const line = sessionLine((session, webSocket) => {
      session.receive(Buffer.from('{"id":1,"data":"x"}'), false);
      webSocket.emit("close", code, Buffer.alloc(0));
    });
    assert.match(
      line,
      new RegExp(` reason=client closed code=${code} dialect=json\n$`),
    );
  }
});

test("a Close without a code is logged as code=1005", () => {
  const line = sessionLine((session, webSocket) =>
    webSocket.emit("close", 1005, Buffer.alloc(0)),
  );
  assert.match(line, / reason=client closed code=1005 dialect=none\n$/);
});

test("no code for a client that vanished, an eviction, or a shutdown", () => {
  const vanished = sessionLine((session, webSocket) =>
    webSocket.emit("close", 1006, Buffer.alloc(0)),
  );
  assert.match(vanished, / reason=client vanished dialect=none\n$/);
  const evicted = sessionLine((session, webSocket) => {
    session.evict();
    webSocket.emit("close", 1000, Buffer.alloc(0));
  });
  assert.match(evicted, / reason=pong timeout dialect=none\n$/);
  const shutdown = sessionLine((session, webSocket) => {
    session.shutdown();
    webSocket.emit("close", 1001, Buffer.alloc(0));
  });
  assert.match(shutdown, / reason=shutdown dialect=none\n$/);
});

test("a v1 DISCONNECT is a clean close without a code", () => {
  const line = sessionLine((session, webSocket) => {
    session.receive(encode({ type: "DISCONNECT", reason: "" }), true);
    assert.equal(webSocket.closedWith, 1000);
    webSocket.emit("close", 1000, Buffer.alloc(0));
  });
  assert.match(line, / reason=client closed dialect=v1\n$/);
});
