// The binary dialect v1 (PROTOCOL.md section 11) for the page: frames encoded and decoded
// strictly, with ArrayBuffer, DataView and Uint8Array only, so the same module loads in a browser
// and in node (web/test/v1.test.mjs) without a bundler. No I/O here.
//
// A message is a plain object: `type` is its name ("HELLO", "ECHO_REQUEST", ...) and its fields
// carry the names of section 11.3. i64 values are BigInts, i32 and u8 values numbers, strings
// strings; a kv is an array of [key, value] pairs, in order.

export const MAGIC = 0x48;
export const VERSION = 0x01;
export const HEADER_LENGTH = 8;

/** Error codes of section 11.4. */
export const ErrorCode = Object.freeze({
  DECODE: 1,
  UNKNOWN_TYPE: 2,
  LENGTH_OVERRUN: 3,
  BAD_MAGIC: 4,
  BAD_VERSION: 5,
});

export const ResultType = Object.freeze({ OK: 0, ERROR: 1 });

// Each message type: its name, its byte, who sends it, and its payload's fields in order.
const MESSAGE_TYPES = [
  ["HELLO", 0x01, "client", [["client_language", "string"]]],
  ["BONJOUR", 0x02, "server", [["server_language", "string"]]],
  [
    "ECHO_REQUEST",
    0x03,
    "client",
    [
      ["id", "i64"],
      ["meta", "string"],
      ["data", "string"],
    ],
  ],
  [
    "ECHO_RESPONSE",
    0x04,
    "server",
    [
      ["status", "i32"],
      ["results", "results"],
    ],
  ],
  [
    "KISS_REQUEST",
    0x05,
    "server",
    [
      ["os_name", "string"],
      ["os_version", "string"],
      ["os_release", "string"],
      ["os_architecture", "string"],
    ],
  ],
  [
    "KISS_RESPONSE",
    0x06,
    "client",
    [
      ["language", "string"],
      ["encoding", "string"],
      ["time_zone", "string"],
    ],
  ],
  ["PING", 0x07, "server", [["timestamp_ms", "i64"]]],
  ["PONG", 0x08, "client", [["timestamp_ms", "i64"]]],
  [
    "TIME_NOTIFICATION",
    0x09,
    "server",
    [
      ["timestamp_ms", "i64"],
      ["iso8601", "string"],
    ],
  ],
  [
    "RANDOM_NUMBER",
    0x0a,
    "client",
    [
      ["id", "i64"],
      ["number", "i64"],
    ],
  ],
  [
    "HASH_RESPONSE",
    0x0b,
    "server",
    [
      ["id", "i64"],
      ["hash_hex", "string"],
    ],
  ],
  ["DISCONNECT", 0x0c, "client", [["reason", "string"]]],
  [
    "ERROR",
    0x7f,
    "both",
    [
      ["code", "i32"],
      ["message", "string"],
    ],
  ],
].map(([name, byte, sender, fields]) => ({ name, byte, sender, fields }));

const TYPE_BY_NAME = new Map(MESSAGE_TYPES.map((type) => [type.name, type]));
const TYPE_BY_BYTE = new Map(MESSAGE_TYPES.map((type) => [type.byte, type]));

/** Why a frame was refused, with the code of section 11.4. */
export class FrameError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "FrameError";
    this.code = code;
  }
}

/** Whether a client may receive `message`: a type a server sends (section 11.3). */
export function isSentByServer(message) {
  const sender = TYPE_BY_NAME.get(message.type).sender;
  return sender === "server" || sender === "both";
}

/** Encodes one message as a frame (flags 0): a Uint8Array, to pass to WebSocket.send. */
export function encode(message) {
  const type = TYPE_BY_NAME.get(message.type);
  if (type === undefined)
    throw new TypeError(`no v1 message type ${message.type}`);
  const out = new Writer();
  out.bytes(Uint8Array.of(MAGIC, VERSION, type.byte, 0, 0, 0, 0, 0));
  for (const [field, kind] of type.fields) out[kind](message[field]);
  const frame = out.toBytes();
  new DataView(frame.buffer).setUint32(4, frame.length - HEADER_LENGTH);
  return frame;
}

/**
 * Decodes one frame (an ArrayBuffer or a Uint8Array), strictly. The checks run in the order of
 * section 11.4: size, magic, version, length, type, payload; the first that fails throws a
 * FrameError with its code.
 */
export function decode(frame) {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.length < HEADER_LENGTH) {
    throw new FrameError(
      ErrorCode.DECODE,
      `a frame of ${bytes.length} bytes, under the 8-byte header`,
    );
  }
  if (bytes[0] !== MAGIC)
    throw new FrameError(ErrorCode.BAD_MAGIC, `bad magic ${hexByte(bytes[0])}`);
  if (bytes[1] !== VERSION)
    throw new FrameError(
      ErrorCode.BAD_VERSION,
      `bad version ${hexByte(bytes[1])}`,
    );
  const length = new DataView(
    bytes.buffer,
    bytes.byteOffset,
    bytes.length,
  ).getUint32(4);
  const following = bytes.length - HEADER_LENGTH;
  if (length > following) {
    throw new FrameError(
      ErrorCode.LENGTH_OVERRUN,
      `a payload length of ${length} bytes, with ${following} bytes after the header`,
    );
  }
  if (length < following) {
    throw new FrameError(
      ErrorCode.DECODE,
      `${following - length} bytes after a payload of ${length} bytes`,
    );
  }
  const type = TYPE_BY_BYTE.get(bytes[2]);
  if (type === undefined) {
    throw new FrameError(
      ErrorCode.UNKNOWN_TYPE,
      `unknown message type ${hexByte(bytes[2])}`,
    );
  }
  const input = new Reader(bytes.subarray(HEADER_LENGTH), type.name);
  const message = { type: type.name };
  for (const [field, kind] of type.fields) message[field] = input[kind](field);
  if (input.remaining > 0) {
    throw new FrameError(
      ErrorCode.DECODE,
      `${input.remaining} bytes after the last field of ${type.name}`,
    );
  }
  return message;
}

/**
 * The first 10 lowercase hex characters of SHA-256 of `number` in ASCII decimal (section 12.4),
 * or null where the platform has no SHA-256 to offer: a browser gives `crypto.subtle` only to
 * secure contexts (https pages, and http pages from localhost or 127.0.0.1).
 */
export async function hashHex(number) {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return null;
  const digest = await subtle.digest(
    "SHA-256",
    new TextEncoder().encode(number.toString()),
  );
  return Array.from(new Uint8Array(digest).subarray(0, 5), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

/** A random i64, for a RANDOM_NUMBER. */
export function randomI64() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return new DataView(bytes.buffer).getBigInt64(0);
}

function hexByte(byte) {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder("utf-8", { fatal: true });

/** Collects a frame's bytes; each method is named after the field kind it writes. */
class Writer {
  constructor() {
    this.chunks = [];
  }

  bytes(chunk) {
    this.chunks.push(chunk);
  }

  /** A fixed-size number written through a DataView. */
  number(size, write) {
    const chunk = new Uint8Array(size);
    write(new DataView(chunk.buffer));
    this.bytes(chunk);
  }

  u8(value) {
    this.number(1, (view) => view.setUint8(0, value));
  }

  u32(value) {
    this.number(4, (view) => view.setUint32(0, value));
  }

  i32(value) {
    if (!Number.isInteger(value) || value < I32_MIN || value > I32_MAX) {
      throw new RangeError(`${value} is not an i32`);
    }
    this.number(4, (view) => view.setInt32(0, value));
  }

  i64(value) {
    if (typeof value !== "bigint" || value < I64_MIN || value > I64_MAX) {
      throw new RangeError(`${value} is not an i64 BigInt`);
    }
    this.number(8, (view) => view.setBigInt64(0, value));
  }

  string(text) {
    const bytes = UTF8_ENCODER.encode(text);
    this.u32(bytes.length);
    this.bytes(bytes);
  }

  kv(pairs) {
    this.u32(pairs.length);
    for (const [key, value] of pairs) {
      this.string(key);
      this.string(value);
    }
  }

  results(results) {
    this.u32(results.length);
    for (const result of results) {
      this.i64(result.idx);
      this.u8(result.type);
      this.kv(result.kv);
    }
  }

  toBytes() {
    const total = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const frame = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.chunks) {
      frame.set(chunk, offset);
      offset += chunk.length;
    }
    return frame;
  }
}

// The smallest encoded size of an element, to check a count against the bytes left before
// allocating anything for it: a result is idx (8), type (1) and an empty kv (4); a kv entry is
// two empty strings.
const MIN_RESULT_BYTES = 8 + 1 + 4;
const MIN_KV_ENTRY_BYTES = 4 + 4;

/** Reads a payload's fields, refusing anything that runs past its end with code 1. */
class Reader {
  constructor(payload, messageName) {
    this.payload = payload;
    this.view = new DataView(
      payload.buffer,
      payload.byteOffset,
      payload.length,
    );
    this.offset = 0;
    this.messageName = messageName;
  }

  get remaining() {
    return this.payload.length - this.offset;
  }

  /** Claims the next `length` bytes of `field` and returns where they start, or refuses. */
  take(length, field) {
    if (length > this.remaining) {
      throw new FrameError(
        ErrorCode.DECODE,
        `${this.messageName}: ${field} needs ${length} bytes, ${this.remaining} are left`,
      );
    }
    const start = this.offset;
    this.offset += length;
    return start;
  }

  u8(field) {
    return this.view.getUint8(this.take(1, field));
  }

  u32(field) {
    return this.view.getUint32(this.take(4, field));
  }

  i32(field) {
    return this.view.getInt32(this.take(4, field));
  }

  i64(field) {
    return this.view.getBigInt64(this.take(8, field));
  }

  string(field) {
    const length = this.u32(`${field}'s length`);
    const start = this.take(length, field);
    try {
      return UTF8_DECODER.decode(this.payload.subarray(start, start + length));
    } catch {
      throw new FrameError(
        ErrorCode.DECODE,
        `${this.messageName}: ${field} is not valid UTF-8`,
      );
    }
  }

  /** A u32 count of elements of at least `minBytes` each, checked against what is left. */
  count(field, minBytes) {
    const count = this.u32(`${field}'s count`);
    if (count * minBytes > this.remaining) {
      throw new FrameError(
        ErrorCode.DECODE,
        `${this.messageName}: ${count} ${field} cannot fit in the ${this.remaining} bytes left`,
      );
    }
    return count;
  }

  kv() {
    const count = this.count("kv entries", MIN_KV_ENTRY_BYTES);
    const pairs = [];
    for (let i = 0; i < count; i++)
      pairs.push([this.string("a kv key"), this.string("a kv value")]);
    return pairs;
  }

  results() {
    const count = this.count("results", MIN_RESULT_BYTES);
    const results = [];
    for (let i = 0; i < count; i++) {
      const idx = this.i64("a result's idx");
      const type = this.u8("a result's type");
      if (type !== ResultType.OK && type !== ResultType.ERROR) {
        throw new FrameError(
          ErrorCode.DECODE,
          `${this.messageName}: result type ${type}, not 0 (OK) or 1 (ERROR)`,
        );
      }
      results.push({ idx, type, kv: this.kv() });
    }
    return results;
  }
}
