// The v1 codec against the shared vectors (PROTOCOL.md section 11.5), read from the repository.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import {
  ErrorCode,
  FrameError,
  decode,
  encode,
  hashHex,
  timestamp,
} from "../src/v1.js";

const VECTORS_FILE = fileURLToPath(
  new URL("../../../vectors/v1.json", import.meta.url),
);
const vectors = JSON.parse(fs.readFileSync(VECTORS_FILE, "utf8"));

// Integers are decimal strings in the vectors: i64 fields become BigInts, i32 and u8 numbers.
const I64_FIELDS = new Set(["id", "number", "timestamp_ms", "idx"]);
const NUMBER_FIELDS = new Set(["status", "code", "type"]);

/** A message as the vectors write it, made into the codec's form. */
function fromVector(typeName, fields) {
  return { type: typeName, ...convertFields(fields) };
}

function convertFields(fields) {
  const converted = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name === "results") converted.results = value.map(convertFields);
    else if (I64_FIELDS.has(name)) converted[name] = BigInt(value);
    else if (NUMBER_FIELDS.has(name)) converted[name] = Number(value);
    else converted[name] = value;
  }
  return converted;
}

function withFlagsZeroed(bytes) {
  const copy = Buffer.from(bytes);
  if (copy.length > 3) copy[3] = 0;
  return copy;
}

test("the vectors file holds good and bad frames", () => {
  assert.ok(vectors.some((vector) => "type" in vector.expect));
  assert.ok(vectors.some((vector) => "error" in vector.expect));
});

for (const { name, hex, expect } of vectors) {
  const frame = Buffer.from(hex, "hex");
  if ("error" in expect) {
    test(`${name}: refused with code ${expect.error}`, () => {
      assert.throws(
        () => decode(frame),
        (error) => error instanceof FrameError && error.code === expect.error,
      );
    });
  } else {
    const message = fromVector(expect.type, expect.fields);
    test(`${name}: decodes to its fields`, () => {
      assert.deepEqual(decode(frame), message);
    });
    test(`${name}: encodes back to the same bytes, flags aside`, () => {
      assert.deepEqual(encode(message), withFlagsZeroed(frame));
    });
  }
}

test("a huge count is refused before anything is allocated", () => {
  const frame = Buffer.from("4801040000000008000000c8ffffffff", "hex");
  assert.throws(
    () => decode(frame),
    (error) => error.code === ErrorCode.DECODE,
  );
});

test("a frame of bad magic and short size is refused for its size first", () => {
  assert.throws(
    () => decode(Buffer.from("49", "hex")),
    (error) => error.code === ErrorCode.DECODE,
  );
});

test("hashes are the first ten hex characters of SHA-256 of the decimal", () => {
  assert.equal(hashHex(-1n), "1bad6b8cf9");
  assert.match(hashHex(2n ** 63n - 1n), /^[0-9a-f]{10}$/);
});

test("times are ms since the epoch and RFC 3339 UTC with ms", () => {
  const { timestamp_ms, iso8601 } = timestamp(new Date(1764547200123));
  assert.equal(timestamp_ms, 1764547200123n);
  assert.equal(iso8601, "2025-12-01T00:00:00.123Z");
});

test("an i64 out of range is not encoded", () => {
  assert.throws(() => encode({ type: "PING", timestamp_ms: 2n ** 63n }));
});
