// The protocol's messages (PROTOCOL.md section 3): telling them apart, checking them strictly,
// and writing them. Ids are BigInts here, so the whole unsigned 64-bit range is exact.

import {
  DuplicateKeyError,
  JsonNumber,
  JsonSyntaxError,
  describeType,
  parseJson,
} from "./json.js";

export const LANGUAGE_TAG = "NODEJS";

const MAX_ID = 2n ** 64n - 1n;
const UNSIGNED_INTEGER = /^(?:0|[1-9][0-9]{0,19})$/;
const UUID_V4 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const ECHO_REQUEST_KEYS = ["id", "data", "meta"];
const KISS_RESPONSE_KEYS = ["language", "encoding", "time_zone"];
const KISS_REQUEST_KEYS = [
  "os_name",
  "os_version",
  "os_release",
  "os_architecture",
];

/** Why a message could not be used; its text is what a server sends back in an Error response. */
export class InvalidMessage extends Error {}

/**
 * Decodes what a client sent to a server (section 3.7).
 * Returns {kind: "echo", id, data, meta} or {kind: "kiss", language, encoding, time_zone}.
 */
export function decodeClientMessage(text) {
  const object = parseObject(text);
  if (hasAny(object, ECHO_REQUEST_KEYS)) {
    const where = "invalid Echo request";
    return {
      kind: "echo",
      id: requireId(object, "id", where),
      data: requireString(object, "data", where),
      meta: requireString(object, "meta", where),
    };
  }
  if (hasAny(object, KISS_RESPONSE_KEYS)) {
    const where = "invalid Kiss response";
    return {
      kind: "kiss",
      language: requireNonEmptyString(object, "language", where),
      encoding: requireNonEmptyString(object, "encoding", where),
      time_zone: requireNonEmptyString(object, "time_zone", where),
    };
  }
  throw new InvalidMessage(
    "no known message: expected an Echo request (keys id, data, meta) " +
      "or a Kiss response (keys language, encoding, time_zone)",
  );
}

/**
 * Decodes what a server sent to a client (section 3.7).
 * Returns {kind: "echo", id, kv}, {kind: "error", status, error} or {kind: "kiss", ...os facts}.
 */
export function decodeServerMessage(text) {
  const object = parseObject(text);
  if (Object.hasOwn(object, "status")) {
    const status = object.status;
    if (status instanceof JsonNumber && status.text === "200")
      return decodeEchoResponse(object);
    return decodeErrorResponse(object);
  }
  if (hasAny(object, KISS_REQUEST_KEYS)) {
    const where = "invalid Kiss request";
    const facts = {};
    for (const key of KISS_REQUEST_KEYS)
      facts[key] = requireNonEmptyString(object, key, where);
    return { kind: "kiss", ...facts };
  }
  throw new InvalidMessage(
    "no known message: expected an Echo or Error response (key status) or a Kiss request " +
      "(keys os_name, os_version, os_release, os_architecture)",
  );
}

function decodeEchoResponse(object) {
  const where = "invalid Echo response";
  const results = object.results;
  if (!Array.isArray(results) || results.length !== 1) {
    throw new InvalidMessage(
      `${where}: \`results\` must be an array of exactly one element`,
    );
  }
  const [result] = results;
  if (!isObject(result)) {
    throw new InvalidMessage(
      `${where}: \`results[0]\` must be an object, got ${describeType(result)}`,
    );
  }
  const id = requireId(result, "id", where);
  if (result.type !== "OK") {
    throw new InvalidMessage(`${where}: \`results[0].type\` must be "OK"`);
  }
  const kv = result.kv;
  if (!isObject(kv))
    throw new InvalidMessage(`${where}: \`results[0].kv\` must be an object`);
  const kvId = requireString(kv, "id", where);
  const idx = requireString(kv, "idx", where);
  const data = requireString(kv, "data", where);
  const meta = requireString(kv, "meta", where);
  if (!UUID_V4.test(kvId)) {
    throw new InvalidMessage(
      `${where}: \`kv.id\` must be a lowercase UUID v4, got ${JSON.stringify(kvId)}`,
    );
  }
  if (idx !== id.toString()) {
    throw new InvalidMessage(
      `${where}: \`kv.idx\` must be the id ${id} as a decimal string, got ${JSON.stringify(idx)}`,
    );
  }
  return { kind: "echo", id, kv: { id: kvId, idx, data, meta } };
}

function decodeErrorResponse(object) {
  const where = "invalid Error response";
  if (!(object.status instanceof JsonNumber)) {
    throw new InvalidMessage(
      `${where}: \`status\` must be a number, got ${describeType(object.status)}`,
    );
  }
  return {
    kind: "error",
    status: object.status.text,
    error: requireNonEmptyString(object, "error", where),
  };
}

export function echoRequest(id, data) {
  return `{"id":${id},"data":${JSON.stringify(data)},"meta":"${LANGUAGE_TAG}"}`;
}

export function echoResponse(id, kvId, data) {
  const kv = { id: kvId, idx: id.toString(), data, meta: LANGUAGE_TAG };
  return `{"status":200,"results":[{"id":${id},"type":"OK","kv":${JSON.stringify(kv)}}]}`;
}

export function errorResponse(error) {
  return JSON.stringify({ status: 400, results: [], error });
}

function parseObject(text) {
  let value;
  try {
    value = parseJson(text);
  } catch (error) {
    if (error instanceof DuplicateKeyError)
      throw new InvalidMessage(error.message);
    if (error instanceof JsonSyntaxError)
      throw new InvalidMessage(`not JSON: ${error.message}`);
    throw error;
  }
  if (!isObject(value))
    throw new InvalidMessage(`not a JSON object but ${describeType(value)}`);
  return value;
}

function isObject(value) {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof JsonNumber)
  );
}

function hasAny(object, keys) {
  return keys.some((key) => Object.hasOwn(object, key));
}

function requireKey(object, key, where) {
  if (!Object.hasOwn(object, key))
    throw new InvalidMessage(`${where}: missing key \`${key}\``);
  return object[key];
}

function requireString(object, key, where) {
  const value = requireKey(object, key, where);
  if (typeof value !== "string") {
    throw new InvalidMessage(
      `${where}: \`${key}\` must be a string, got ${describeType(value)}`,
    );
  }
  return value;
}

function requireNonEmptyString(object, key, where) {
  const value = requireString(object, key, where);
  if (value === "")
    throw new InvalidMessage(`${where}: \`${key}\` must not be empty`);
  return value;
}

/** An id: a JSON integer literal from 0 to 2^64 - 1, returned as a BigInt. */
function requireId(object, key, where) {
  const value = requireKey(object, key, where);
  const problem = `${where}: \`${key}\` must be an unsigned 64-bit integer, got`;
  if (!(value instanceof JsonNumber))
    throw new InvalidMessage(`${problem} ${describeType(value)}`);
  const shown =
    value.text.length > 40 ? `${value.text.slice(0, 40)}...` : value.text;
  if (value.text.startsWith("-"))
    throw new InvalidMessage(`${problem} a negative number (${shown})`);
  if (/[.eE]/.test(value.text)) {
    throw new InvalidMessage(
      `${problem} a number that is not an integer literal (${shown})`,
    );
  }
  if (!UNSIGNED_INTEGER.test(value.text) || BigInt(value.text) > MAX_ID) {
    throw new InvalidMessage(
      `${problem} a number that is too large (${shown})`,
    );
  }
  return BigInt(value.text);
}
