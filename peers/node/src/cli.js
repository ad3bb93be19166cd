// Command-line helpers shared by the server and the client: flags with environment defaults
// (PROTOCOL.md section 9), durations written 10s / 500ms / 1m, and exit status 2 for misuse.

import { parseArgs } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's place in peers/node/src. */
export const REPO_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../..",
);

export const EXIT_USAGE = 2;

// setTimeout can't wait longer than this.
const MAX_TIMER_MS = 2 ** 31 - 1;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gy;

export class UsageError extends Error {}

/**
 * Parses argv against parseArgs options, then fills what was not given from the environment
 * (`env` maps option name to variable name). Unknown flags and positionals are usage errors.
 */
export function parseFlags(args, options, env = {}) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  for (const [name, variable] of Object.entries(env)) {
    if (values[name] === undefined && process.env[variable])
      values[name] = process.env[variable];
  }
  return values;
}

/** "1m30s", "10s", "500ms" to milliseconds. */
export function parseDuration(text, flag) {
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (const [part, amount, unit] of text.matchAll(DURATION_PART)) {
    total += Number(amount) * UNIT_MS[unit];
    end += part.length;
  }
  if (text === "" || end !== text.length) {
    throw new UsageError(
      `--${flag}: expected a duration such as 10s, 500ms or 1m, got "${text}"`,
    );
  }
  if (total > MAX_TIMER_MS)
    throw new UsageError(`--${flag}: ${text} is too long`);
  return Math.round(total);
}

/** A duration that must be more than zero. */
export function parsePositiveDuration(text, flag) {
  const ms = parseDuration(text, flag);
  if (ms <= 0) throw new UsageError(`--${flag} must be more than zero`);
  return ms;
}

export function parseInteger(
  text,
  flag,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
) {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(
      `--${flag}: expected an integer from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

export function parsePort(text, flag) {
  return parseInteger(text, flag, { max: 65535 });
}

/**
 * Parses the command line with `parse`, which returns a config or null for --help, then runs
 * it. A UsageError is reported with the usage text and exit status 2.
 */
export function runMain({ usage, parse, run }) {
  let config;
  try {
    config = parse(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n(--help lists the flags)\n`);
    process.exit(EXIT_USAGE);
  }
  if (config === null) {
    process.stdout.write(usage);
    return;
  }
  run(config);
}
