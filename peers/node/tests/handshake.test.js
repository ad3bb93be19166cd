// The handshake's target: the path compared without the query, the query for the name.

import { test } from "node:test";
import assert from "node:assert/strict";
import { requestTarget } from "../src/handshake.js";
import { sessionName } from "../src/log.js";

test("the path is compared without the query", () => {
  assert.deepEqual(requestTarget("/ws"), { path: "/ws", query: "" });
  assert.deepEqual(requestTarget("/ws?whoami=x"), {
    path: "/ws",
    query: "whoami=x",
  });
  assert.deepEqual(requestTarget("/ws?"), { path: "/ws", query: "" });
  assert.deepEqual(requestTarget("/ws?a=1?b"), { path: "/ws", query: "a=1?b" });
});

test("the path is the one sent: neither resolved nor taken from a double slash", () => {
  assert.equal(requestTarget("/x/../ws").path, "/x/../ws");
  assert.equal(requestTarget("//evil.example/ws").path, "//evil.example/ws");
  assert.equal(requestTarget("/ws/").path, "/ws/");
});

test("an absolute-form target has its path and query; anything else has no path", () => {
  assert.deepEqual(requestTarget("http://127.0.0.1:9898/ws?whoami=a+b"), {
    path: "/ws",
    query: "whoami=a+b",
  });
  assert.equal(requestTarget("*").path, null);
  assert.equal(requestTarget("ws").path, null);
});

test("a session named by the query of its target", () => {
  const { path, query } = requestTarget("/ws?whoami=q+name");
  assert.equal(path, "/ws");
  assert.equal(sessionName({}, "id", query), "q name");
});
