// Session names and log values (PROTOCOL.md section 2.1).

import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_NAME_BYTES, cutToBytes, quoted, sessionName } from "../src/log.js";

const ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

// What Node's HTTP parser makes of a header sent as UTF-8 bytes.
function asReceived(text) {
  return Buffer.from(text, "utf8").toString("latin1");
}

test("WhoAmI names a session, else userId, else the id", () => {
  assert.equal(sessionName({ whoami: "a", userid: "b" }, ID), "a");
  assert.equal(sessionName({ whoami: "  ", userid: " b " }, ID), "b");
  assert.equal(sessionName({}, ID), ID);
});

test("a UTF-8 name is decoded, and bytes that are not UTF-8 become U+FFFD", () => {
  assert.equal(sessionName({ whoami: asReceived("你好") }, ID), "你好");
  assert.equal(sessionName({ whoami: "a\xffb" }, ID), "a\ufffdb");
});

test("a long name is cut at a character boundary at or before 128 bytes", () => {
  const name = sessionName({ whoami: asReceived("é".repeat(100)) }, ID);
  assert.equal(name, "é".repeat(64));
  const odd = sessionName({ whoami: asReceived(`x${"é".repeat(100)}`) }, ID);
  assert.equal(Buffer.byteLength(odd), 127);
  assert.equal(cutToBytes("x".repeat(300), MAX_NAME_BYTES).length, 128);
});

test("names are logged as JSON strings that cannot forge a field or a line", () => {
  assert.equal(
    quoted('evil" reason=pong timeout\n\u001b'),
    '"evil\\" reason=pong timeout\\n\\u001b"',
  );
});
