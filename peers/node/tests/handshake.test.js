// The handshake: the path compared without the query, the query for the name, and the Origin
// policy (PROTOCOL.md section 2.2).

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OriginPolicy,
  parseAllowedOrigin,
  requestTarget,
} from "../src/handshake.js";
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

/** The policy of a server on --host, listening on 9898 (ws) and 9886 (wss). */
function policy({ host = "127.0.0.1", sans = [], allowed = [] } = {}) {
  const origins = new OriginPolicy({ host, sans, allowed });
  origins.addPort(9898);
  origins.addPort(9886);
  return (origin) =>
    origins.accepts(origin === undefined ? undefined : [origin]);
}

test("a handshake without Origin is accepted: clients that are not browsers send none", () => {
  assert.equal(policy()(undefined), true);
});

test("the server's own origin is accepted, with its port or the scheme's default", () => {
  const accepts = policy();
  for (const origin of [
    "http://127.0.0.1:9898",
    "https://127.0.0.1:9886",
    "http://127.0.0.1:9886",
    "http://localhost:9898",
    "HTTP://LocalHost:9898",
    "http://[::1]:9898",
    "http://[0:0::1]:9898",
    "http://localhost:9898/",
  ]) {
    assert.equal(accepts(origin), true, origin);
  }
  const onDefaultPorts = new OriginPolicy({ host: "127.0.0.1" });
  onDefaultPorts.addPort(80);
  onDefaultPorts.addPort(443);
  assert.equal(onDefaultPorts.accepts(["http://localhost"]), true);
  assert.equal(onDefaultPorts.accepts(["https://127.0.0.1"]), true);
  assert.equal(onDefaultPorts.accepts(["https://127.0.0.1:443"]), true);
  assert.equal(onDefaultPorts.accepts(["http://localhost:8080"]), false);
});

test("a port the server does not listen on is refused, the default one too", () => {
  const accepts = policy();
  assert.equal(accepts("http://127.0.0.1:9899"), false);
  assert.equal(accepts("http://127.0.0.1"), false);
  assert.equal(accepts("https://localhost"), false);
  assert.equal(accepts("http://[::1]:1"), false);
});

test("ports are those given once bound, so --port 0 counts with its real port", () => {
  const origins = new OriginPolicy({ host: "127.0.0.1" });
  assert.equal(origins.accepts(["http://127.0.0.1:41234"]), false);
  origins.addPort(41234);
  assert.equal(origins.accepts(["http://127.0.0.1:41234"]), true);
});

test("a scheme other than http or https is refused", () => {
  const accepts = policy();
  for (const origin of [
    "ws://127.0.0.1:9898",
    "wss://127.0.0.1:9886",
    "ftp://127.0.0.1:9898",
    "file://127.0.0.1:9898",
    "chrome-extension://localhost:9898",
  ]) {
    assert.equal(accepts(origin), false, origin);
  }
});

test("null, garbage, and what is more than an origin are refused", () => {
  const accepts = policy();
  for (const origin of [
    "null",
    "",
    "garbage",
    "127.0.0.1:9898",
    "//127.0.0.1:9898",
    "http://",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:9898/page",
    "http://127.0.0.1:9898?q",
    "http://user@127.0.0.1:9898",
    "http://127.0.0.1:9898.evil.example",
    "http://127.0.0.1:9898?",
    "http://127.0.0.1:9898#",
    "http://local\thost:9898",
    "http://localhost:9898\n",
    "http://ｌｏｃａｌｈｏｓｔ:9898",
    "http://127.0.0.1.evil.example:9898",
    "http://evil.example:9898",
  ]) {
    assert.equal(accepts(origin), false, origin);
  }
});

test("two Origin headers are not an origin, even under *", () => {
  for (const allowed of [[], ["*"]]) {
    const origins = new OriginPolicy({ host: "127.0.0.1", allowed });
    origins.addPort(9898);
    const own = "http://127.0.0.1:9898";
    assert.equal(origins.accepts([own]), true);
    assert.equal(origins.accepts([own, own]), false);
    assert.equal(origins.accepts([own, "https://evil.example"]), false);
  }
});

test("--host and each --san are hosts of the server's own origin, without case", () => {
  const accepts = policy({
    host: "192.0.2.7",
    sans: ["Hello.Example", "::2"],
  });
  assert.equal(accepts("http://192.0.2.7:9898"), true);
  assert.equal(accepts("https://hello.example:9886"), true);
  assert.equal(accepts("https://HELLO.example:9886"), true);
  assert.equal(accepts("http://[::2]:9898"), true);
  assert.equal(accepts("http://127.0.0.1:9898"), true);
  assert.equal(accepts("http://other.example:9898"), false);
  assert.equal(policy({ host: "::" })("http://[::]:9898"), true);
  assert.equal(policy()("http://hello.example:9898"), false);
});

test("--allow-origin allows its origins, without case, trailing slash or written default port", () => {
  const accepts = policy({
    allowed: [
      "https://App.Example:8443",
      " http://page.example/ ",
      "https://secure.example:443",
    ],
  });
  assert.equal(accepts("https://app.example:8443"), true);
  assert.equal(accepts("https://app.example:8443/"), true);
  assert.equal(accepts("http://page.example"), true);
  assert.equal(accepts("HTTP://PAGE.EXAMPLE"), true);
  assert.equal(accepts("http://page.example:80"), true);
  assert.equal(accepts("https://secure.example"), true);
  assert.equal(accepts("https://app.example"), false);
  assert.equal(accepts("http://app.example:8443"), false);
  assert.equal(accepts("https://evil.example"), false);
  assert.equal(accepts("https://app.example:8443/page"), false);
  assert.equal(accepts("null"), false);
  assert.equal(accepts("http://127.0.0.1:9898"), true);
});

test("an --allow-origin that is not * nor an http or https origin is refused", () => {
  for (const value of [
    "null",
    "",
    "app.example",
    "app.example:8443",
    "https://app.example/page",
    "https://app.example?x",
    "https://user@app.example",
    "ftp://app.example",
    "*.example",
  ]) {
    assert.equal(parseAllowedOrigin(value), null, value);
    assert.throws(() => new OriginPolicy({ host: "h", allowed: [value] }));
  }
  assert.equal(
    parseAllowedOrigin(" HTTPS://App.Example/ ").key,
    "https://app.example:443",
  );
});

test("--allow-origin * allows every single origin, null and garbage too", () => {
  const accepts = policy({ allowed: ["https://app.example", " * "] });
  for (const origin of ["https://evil.example", "null", "garbage", ""]) {
    assert.equal(accepts(origin), true, origin);
  }
});
