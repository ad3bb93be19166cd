// The page's v1 codec (web/v1.js) against the shared vectors (PROTOCOL.md section 11.5), read
// from the repository: every good frame decodes to its fields and encodes back to the same
// bytes, flags aside; every bad one is refused with its code.
//
//   node --test web/test/v1.test.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import {
  ErrorCode,
  FrameError,
  decode,
  encode,
  hashHex,
  randomI64,
} from "../v1.js";

const vectors = JSON.parse(
  fs.readFileSync(new URL("../../vectors/v1.json", import.meta.url), "utf8"),
);

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

function fromHex(hex) {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(
    "",
  );
}

function withFlagsZeroed(hex) {
  return hex.length >= 8 ? `${hex.slice(0, 6)}00${hex.slice(8)}` : hex;
}

test("the vectors file holds good and bad frames", () => {
  assert.ok(vectors.some((vector) => "type" in vector.expect));
  assert.ok(vectors.some((vector) => "error" in vector.expect));
});

for (const { name, hex, expect } of vectors) {
  if ("error" in expect) {
    test(`${name}: refused with code ${expect.error}`, () => {
      assert.throws(
        () => decode(fromHex(hex)),
        (error) => error instanceof FrameError && error.code === expect.error,
      );
    });
  } else {
    const message = fromVector(expect.type, expect.fields);
    test(`${name}: decodes to its fields`, () => {
      assert.deepEqual(decode(fromHex(hex)), message);
    });
    test(`${name}: encodes back to the same bytes, flags aside`, () => {
      assert.equal(toHex(encode(message)), withFlagsZeroed(hex));
    });
  }
}

test("a frame is read where it lies in a larger buffer, as a WebSocket's ArrayBuffer or a view", () => {
  const frame = fromHex("480101000000000600000002476f");
  const larger = new Uint8Array(frame.length + 5);
  larger.set(frame, 3);
  assert.deepEqual(decode(larger.subarray(3, 3 + frame.length)), {
    type: "HELLO",
    client_language: "Go",
  });
  assert.deepEqual(decode(frame.buffer), {
    type: "HELLO",
    client_language: "Go",
  });
});

test("a huge count is refused before anything is allocated", () => {
  assert.throws(
    () => decode(fromHex("4801040000000008000000c8ffffffff")),
    (error) => error.code === ErrorCode.DECODE,
  );
});

test("a frame of bad magic and short size is refused for its size first", () => {
  assert.throws(
    () => decode(fromHex("49")),
    (error) => error.code === ErrorCode.DECODE,
  );
});

test("hashes are the first ten hex characters of SHA-256 of the decimal", async () => {
  assert.equal(await hashHex(-1n), "1bad6b8cf9");
  assert.match(await hashHex(2n ** 63n - 1n), /^[0-9a-f]{10}$/);
});

test("random numbers are i64 BigInts that encode", () => {
  const number = randomI64();
  assert.equal(typeof number, "bigint");
  assert.equal(
    encode({ type: "RANDOM_NUMBER", id: 1n, number }).length,
    8 + 16,
  );
});

test("an i64 or i32 out of range is not encoded", () => {
  assert.throws(
    () => encode({ type: "PING", timestamp_ms: 2n ** 63n }),
    RangeError,
  );
  assert.throws(() => encode({ type: "PING", timestamp_ms: 5 }), RangeError);
  assert.throws(
    () => encode({ type: "ERROR", code: 2 ** 31, message: "" }),
    RangeError,
  );
});
