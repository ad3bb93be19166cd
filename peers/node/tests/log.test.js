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

test("without headers, the whoami query parameter names a session, as a form value", () => {
  assert.equal(sessionName({}, ID, "whoami=q+name"), "q name");
  assert.equal(sessionName({}, ID, "a=1&whoami=%E4%BD%A0%20%2B"), "你 +");
  assert.equal(sessionName({}, ID, "whoami=first&whoami=second"), "first");
  assert.equal(sessionName({}, ID, "whoami=a%FFb"), "a\ufffdb");
  assert.equal(sessionName({}, ID, "whoami=+%20x%09+"), "x");
  assert.equal(
    sessionName({}, ID, "whoami=" + "%C3%A9".repeat(100)),
    "é".repeat(64),
  );
});

test("a header wins over the query; an empty or absent parameter leaves the id", () => {
  assert.equal(sessionName({ whoami: "h" }, ID, "whoami=q"), "h");
  assert.equal(sessionName({ userid: "u" }, ID, "whoami=q"), "u");
  assert.equal(sessionName({ whoami: " " }, ID, "whoami=q"), "q");
  assert.equal(sessionName({}, ID, "whoami=++%20"), ID);
  assert.equal(sessionName({}, ID, "whoami"), ID);
  assert.equal(sessionName({}, ID, "WhoAmI=x&userId=y"), ID);
  assert.equal(sessionName({}, ID, ""), ID);
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
