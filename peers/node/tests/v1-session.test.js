// A v1 session's answers and its PONG matching (PROTOCOL.md section 12), on a fake session.

import { test } from "node:test";
import assert from "node:assert/strict";
import { V1Session } from "../src/v1-session.js";
import { decode, encode } from "../src/v1.js";

/** Records what a V1Session asks of its session. */
class FakeSession {
  constructor() {
    this.config = {
      v1: {
        pingInterval: 60_000,
        sessionTimeout: 180_000,
        timeInterval: 60_000,
        kissInterval: 60_000,
      },
    };
    this.kissRequests = { v1: encode({ type: "DISCONNECT", reason: "" }) };
    this.sent = [];
    this.closedWith = null;
    this.kisses = [];
  }

  send(frame) {
    this.sent.push(decode(frame));
  }

  close(code, closeReason, logReason) {
    this.closedWith = { code, logReason };
  }

  evict() {}

  kissAnswered(kiss) {
    this.kisses.push(kiss);
  }
}

function withSession(body) {
  return () => {
    const session = new FakeSession();
    const v1 = new V1Session(session);
    try {
      body(session, v1);
    } finally {
      v1.stop();
    }
  };
}

function receive(v1, message) {
  v1.receive(encode(message), true);
}

test(
  "HELLO, a second one too, is answered with BONJOUR",
  withSession((session, v1) => {
    receive(v1, { type: "HELLO", client_language: "GO" });
    receive(v1, { type: "HELLO", client_language: "GO" });
    assert.deepEqual(session.sent, [
      { type: "BONJOUR", server_language: "NODEJS" },
      { type: "BONJOUR", server_language: "NODEJS" },
    ]);
  }),
);

test(
  "ECHO_REQUEST is answered as section 12.4 decides, i64 ids exact",
  withSession((session, v1) => {
    const id = -(2n ** 63n);
    receive(v1, { type: "ECHO_REQUEST", id, meta: "GO", data: "你好" });
    assert.deepEqual(session.sent, [
      {
        type: "ECHO_RESPONSE",
        status: 200,
        results: [
          {
            idx: id,
            type: 0,
            kv: [
              ["id", id.toString()],
              ["data", "你好"],
              ["meta", "NODEJS"],
              ["idx", id.toString()],
            ],
          },
        ],
      },
    ]);
  }),
);

test(
  "RANDOM_NUMBER is answered with its hash; KISS_RESPONSE is kept",
  withSession((session, v1) => {
    receive(v1, { type: "RANDOM_NUMBER", id: 9n, number: -1n });
    const kiss = { language: "fr_FR", encoding: "UTF-8", time_zone: "UTC" };
    receive(v1, { type: "KISS_RESPONSE", ...kiss });
    assert.deepEqual(session.sent, [
      { type: "HASH_RESPONSE", id: 9n, hash_hex: "1bad6b8cf9" },
    ]);
    assert.deepEqual(session.kisses, [{ type: "KISS_RESPONSE", ...kiss }]);
  }),
);

test(
  "a type in the wrong direction or unknown gets ERROR 2, and the session goes on",
  withSession((session, v1) => {
    receive(v1, { type: "PING", timestamp_ms: 1n });
    v1.receive(Buffer.from("4801420000000000", "hex"), true);
    assert.deepEqual(
      session.sent.map((message) => [message.type, message.code]),
      [
        ["ERROR", 2],
        ["ERROR", 2],
      ],
    );
    assert.equal(session.closedWith, null);
  }),
);

test(
  "a bad frame gets ERROR with its code, then Close 1002",
  withSession((session, v1) => {
    v1.receive(Buffer.from("490101000000000600000002476f", "hex"), true);
    assert.equal(session.sent[0].code, 4);
    assert.equal(session.closedWith.code, 1002);
  }),
);

test(
  "a text message gets ERROR 1, then Close 1002",
  withSession((session, v1) => {
    v1.receive(Buffer.from("{}"), false);
    assert.equal(session.sent[0].code, 1);
    assert.equal(session.closedWith.code, 1002);
  }),
);

test(
  "DISCONNECT is answered with Close 1000 and logged as a clean close",
  withSession((session, v1) => {
    receive(v1, { type: "DISCONNECT", reason: "bye" });
    assert.deepEqual(session.closedWith, {
      code: 1000,
      logReason: "client closed",
    });
  }),
);

test(
  "only a PONG echoing an outstanding PING extends the session, once",
  withSession((session, v1) => {
    let refreshed = 0;
    v1.expiry.refresh = () => refreshed++;
    const realNow = Date.now;
    try {
      for (const ms of [1000, 2000, 3000, 4000]) {
        Date.now = () => ms;
        v1.ping();
      }
    } finally {
      Date.now = realNow;
    }
    // 180 s / 60 s: three outstanding, the oldest (1000) dropped.
    assert.deepEqual(
      v1.outstanding.map((ping) => ping.timestampMs),
      [2000n, 3000n, 4000n],
    );
    receive(v1, { type: "PONG", timestamp_ms: 1000n });
    receive(v1, { type: "PONG", timestamp_ms: 5000n });
    assert.equal(refreshed, 0);
    receive(v1, { type: "PONG", timestamp_ms: 3000n });
    receive(v1, { type: "PONG", timestamp_ms: 3000n });
    assert.equal(refreshed, 1);
    assert.equal(session.sent.filter((m) => m.type === "PING").length, 4);
  }),
);
