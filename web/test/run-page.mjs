// Runs the page once in Debian's headless Chromium, driven by playwright-core, and judges it.
//
//   node web/test/run-page.mjs --page 'http://localhost:8000/?url=ws://127.0.0.1:9898/ws&duration=6s'
//                              [--timeout 30s] [--screenshot FILE] [--ca certs/ca.crt]
//
// Prints window.helloResult as one JSON line on standard output (with the console's errors and
// the page's uncaught exceptions added), then the verdict in words on standard error. Exit status
// 0 only when every Echo request was answered, every Kiss request was answered (at least one
// came), and the page ended the session cleanly itself: JSON, a Close 1000 the page sent and the
// server answered; v1, DISCONNECT sent and the server's Close 1000 received. 1 otherwise, 2 for
// usage errors.
//
// TLS is verified, never ignored: the browser gets a fresh HOME whose NSS database
// ($HOME/.pki/nssdb, which Chromium on Linux reads) trusts --ca and nothing else of ours. Without
// --ca a wss:// page fails, as a browser that does not know the CA must.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const USAGE =
  "usage: node web/test/run-page.mjs --page URL [--timeout 30s] [--screenshot FILE] [--ca FILE] " +
  "[--chromium /usr/bin/chromium]";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

class UsageError extends Error {}

/** Flags, checked and made ready to use: the rest of the program never sees raw ones. */
function readOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        page: { type: "string" },
        timeout: { type: "string", default: "30s" },
        screenshot: { type: "string" },
        ca: { type: "string" },
        chromium: { type: "string", default: "/usr/bin/chromium" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (values.help) return null;
  if (!values.page) throw new UsageError("--page URL is required");
  try {
    new URL(values.page);
  } catch {
    throw new UsageError(`--page is not a URL: ${values.page}`);
  }
  if (values.ca !== undefined && !fs.existsSync(values.ca))
    throw new UsageError(`--ca: no file ${values.ca}`);
  return { ...values, timeoutMs: parseDuration(values.timeout) };
}

function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (match === null)
    throw new UsageError(
      `--timeout must be a duration like 30s or 500ms, not ${text}`,
    );
  return Math.round(Number(match[1]) * { ms: 1, s: 1000, m: 60000 }[match[2]]);
}

/** A fresh HOME whose NSS database trusts `ca` (when given) as a CA for TLS servers. */
function homeWithNssDb(ca) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "hello-page-home-"));
  const nssdb = path.join(home, ".pki", "nssdb");
  fs.mkdirSync(nssdb, { recursive: true });
  execFileSync("certutil", ["-N", "-d", `sql:${nssdb}`, "--empty-password"], {
    stdio: "pipe",
  });
  if (ca !== undefined) {
    execFileSync(
      "certutil",
      [
        "-A",
        "-d",
        `sql:${nssdb}`,
        "-n",
        "hello-websocket-ca",
        "-t",
        "C,,",
        "-i",
        ca,
      ],
      {
        stdio: "pipe",
      },
    );
  }
  return home;
}

/** Opens the page, waits (bounded) until it has ended, and returns what it saw. */
async function runPage(options) {
  const home = homeWithNssDb(options.ca);
  const userDataDir = fs.mkdtempSync(
    path.join(os.tmpdir(), "hello-page-profile-"),
  );
  const consoleErrors = [];
  const pageErrors = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: options.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      env: { ...process.env, HOME: home },
      timeout: options.timeoutMs,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const deadline = Date.now() + options.timeoutMs;
    let problem = null;
    try {
      await page.goto(options.page, { timeout: options.timeoutMs });
      await page.waitForFunction(
        () => ["closed", "error"].includes(window.helloResult?.state),
        null,
        {
          timeout: Math.max(1, deadline - Date.now()),
          polling: 100,
        },
      );
    } catch (error) {
      problem =
        error.name === "TimeoutError"
          ? `the page did not end within ${options.timeout}`
          : error.message;
    }
    const result = await page
      .evaluate(() => window.helloResult ?? null)
      .catch(() => null);
    if (options.screenshot !== undefined)
      await page.screenshot({ path: options.screenshot, fullPage: true });
    return { result, consoleErrors, pageErrors, problem };
  } finally {
    await context?.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Why the run fails, in plain words; empty when it passes. */
function judge({ result, consoleErrors, pageErrors, problem }, pageOrigin) {
  const reasons = [];
  if (problem !== null) reasons.push(problem);
  if (result === null) {
    reasons.push("the page has no window.helloResult (did hello.js load?)");
    return reasons;
  }
  if (!result.opened) {
    // The console has the browser's exact reason, which the page is never told: say it first.
    reasons.push(
      ...consoleErrors.map((error) => explain(error, pageOrigin)),
      ...result.errors,
      ...pageErrors.map((error) => `uncaught in the page: ${error}`),
    );
    return [...new Set(reasons)];
  }
  if (result.state !== "closed")
    reasons.push(`the page's state is ${result.state}, not closed`);
  reasons.push(...result.errors);
  if (!result.allAnswered)
    reasons.push(`${result.answered} of ${result.sent} Echo requests answered`);
  if (!result.kissAnswered) {
    reasons.push(
      "no Kiss request was answered: none came (give a duration longer than the server's Kiss interval)",
    );
  }
  if (result.dialect === "v1") {
    if (!result.disconnectSent)
      reasons.push("the page did not send DISCONNECT");
    else if (result.closeSent !== null || result.closeCode !== 1000) {
      reasons.push(
        `after DISCONNECT the session did not end with the server's Close 1000 ` +
          `(close code ${result.closeCode}, page closed with ${result.closeSent}, clean ${result.wasClean})`,
      );
    }
  } else if (result.closeSent !== 1000 || !result.wasClean) {
    reasons.push(
      `the page did not close cleanly with 1000 itself ` +
        `(page closed with ${result.closeSent}, close code ${result.closeCode}, clean ${result.wasClean})`,
    );
  }
  for (const error of pageErrors)
    reasons.push(`uncaught in the page: ${error}`);
  for (const error of consoleErrors) reasons.push(explain(error, pageOrigin));
  return [...new Set(reasons)];
}

/** A console error of Chromium's, with what it most likely means here. */
function explain(consoleError, pageOrigin) {
  const status = /Unexpected response code: (\d+)/.exec(consoleError)?.[1];
  const netError = /net::(ERR_[A-Z_]+)/.exec(consoleError)?.[1];
  let meaning = null;
  if (status === "403") {
    meaning = `the server refused the page's origin, PROTOCOL.md 2.2: start it with --allow-origin ${pageOrigin}`;
  } else if (status === "404") {
    meaning = "the server has no WebSocket at that path";
  } else if (status === "503") {
    meaning = "the server is at its connection limit";
  } else if (netError?.startsWith("ERR_CERT_")) {
    meaning =
      "the browser does not trust the server's certificate: give --ca with the CA that signed it";
  } else if (netError === "ERR_CONNECTION_REFUSED") {
    meaning = "nothing listens there";
  }
  return meaning === null
    ? `console: ${consoleError}`
    : `console: ${consoleError} (${meaning})`;
}

async function main() {
  let options;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`run-page: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  const run = await runPage(options);
  console.log(
    JSON.stringify({
      ...run.result,
      consoleErrors: run.consoleErrors,
      pageErrors: run.pageErrors,
    }),
  );
  const reasons = judge(run, new URL(options.page).origin);
  if (reasons.length === 0) {
    const { dialect, name, answered, kisses } = run.result;
    console.error(
      `run-page: PASS ${dialect} ${name}: ${answered} answers, ${kisses} Kiss answered, closed cleanly`,
    );
    for (const warning of run.result.warnings ?? [])
      console.error(`  warning: ${warning}`);
    return 0;
  }
  console.error(
    `run-page: FAIL\n${reasons.map((reason) => `  - ${reason}`).join("\n")}`,
  );
  return 1;
}

process.exitCode = await main().catch((error) => {
  console.error(`run-page: ${error.stack ?? error}`);
  return 1;
});
