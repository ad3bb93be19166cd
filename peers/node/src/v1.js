// The binary dialect v1 (PROTOCOL.md section 11): frames encoded and decoded, strictly.
// No I/O here: a Buffer in, a message or a FrameError out, and back.
//
// A message is a plain object: `type` is its name ("HELLO", "ECHO_REQUEST", ...) and its fields
// carry the names of section 11.3. i64 values are BigInts, i32 and u8 values numbers, strings
// strings; a kv is an array of [key, value] pairs, in order.

import { createHash } from "node:crypto";

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

/** Codes after which the receiver closes the session with 1002 (section 11.4). */
const CODES_THAT_CLOSE = new Set([
  ErrorCode.DECODE,
  ErrorCode.LENGTH_OVERRUN,
  ErrorCode.BAD_MAGIC,
  ErrorCode.BAD_VERSION,
]);

export const ResultType = Object.freeze({ OK: 0, ERROR: 1 });

// Each message type: its byte, who sends it, and its payload's fields in order.
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

// Each field kind: how to write it and how to read it.
const FIELD_KINDS = {
  i32: {
    write: (out, value) => out.i32(value),
    read: (input, field) => input.i32(field),
  },
  i64: {
    write: (out, value) => out.i64(value),
    read: (input, field) => input.i64(field),
  },
  string: {
    write: (out, value) => out.string(value),
    read: (input, field) => input.string(field),
  },
  results: {
    write: (out, results) => out.results(results),
    read: (input) => input.results(),
  },
};

/** Why a frame was refused, with the code of section 11.4 to send back in an ERROR. */
export class FrameError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }

  /** Whether the session ends (ERROR, then Close 1002) or goes on after the ERROR. */
  get closesSession() {
    return CODES_THAT_CLOSE.has(this.code);
  }
}

/** Whether a first data message makes the session v1 (section 12.1). */
export function looksLikeV1(bytes) {
  return bytes.length > 0 && bytes[0] === MAGIC;
}

/** Whether `message` is of a type a client sends (and so a server may receive). */
export function isSentByClient(message) {
  const sender = TYPE_BY_NAME.get(message.type).sender;
  return sender === "client" || sender === "both";
}

/** Whether `message` is of a type a server sends (and so a client may receive). */
export function isSentByServer(message) {
  const sender = TYPE_BY_NAME.get(message.type).sender;
  return sender === "server" || sender === "both";
}

/** Encodes one message as a frame, flags 0. */
export function encode(message) {
  const type = TYPE_BY_NAME.get(message.type);
  if (type === undefined)
    throw new TypeError(`no v1 message type ${message.type}`);
  const out = new Writer();
  out.bytes(Buffer.from([MAGIC, VERSION, type.byte, 0, 0, 0, 0, 0]));
  for (const [field, kind] of type.fields)
    FIELD_KINDS[kind].write(out, message[field]);
  const frame = out.toBuffer();
  frame.writeUInt32BE(frame.length - HEADER_LENGTH, 4);
  return frame;
}

/**
 * Decodes one frame, strictly. The checks run in the order of section 11.4: size, magic,
 * version, length, type, payload; the first that fails throws a FrameError with its code.
 */
export function decode(frame) {
  if (frame.length < HEADER_LENGTH) {
    throw new FrameError(
      ErrorCode.DECODE,
      `a frame of ${frame.length} bytes, under the 8-byte header`,
    );
  }
  const magic = frame[0];
  if (magic !== MAGIC)
    throw new FrameError(ErrorCode.BAD_MAGIC, `bad magic ${hexByte(magic)}`);
  const version = frame[1];
  if (version !== VERSION) {
    throw new FrameError(
      ErrorCode.BAD_VERSION,
      `bad version ${hexByte(version)}`,
    );
  }
  const length = frame.readUInt32BE(4);
  const following = frame.length - HEADER_LENGTH;
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
  const type = TYPE_BY_BYTE.get(frame[2]);
  if (type === undefined) {
    throw new FrameError(
      ErrorCode.UNKNOWN_TYPE,
      `unknown message type ${hexByte(frame[2])}`,
    );
  }
  const input = new Reader(frame.subarray(HEADER_LENGTH), type.name);
  const message = { type: type.name };
  for (const [field, kind] of type.fields)
    message[field] = FIELD_KINDS[kind].read(input, field);
  if (input.remaining > 0) {
    throw new FrameError(
      ErrorCode.DECODE,
      `${input.remaining} bytes after the last field of ${type.name}`,
    );
  }
  return message;
}

/** The first 10 lowercase hex characters of SHA-256 of `number` in ASCII decimal (12.4). */
export function hashHex(number) {
  return createHash("sha256")
    .update(number.toString(), "ascii")
    .digest("hex")
    .slice(0, 10);
}

/** A time as v1 carries it: ms since the Unix epoch, and RFC 3339 UTC with ms and `Z`. */
export function timestamp(date = new Date()) {
  return { timestamp_ms: BigInt(date.getTime()), iso8601: date.toISOString() };
}

function hexByte(byte) {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/** Collects a frame's bytes. */
class Writer {
  constructor() {
    this.chunks = [];
  }

  bytes(buffer) {
    this.chunks.push(buffer);
  }

  u8(value) {
    this.bytes(Buffer.from([value]));
  }

  u32(value) {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(value);
    this.bytes(buffer);
  }

  i32(value) {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    this.bytes(buffer);
  }

  i64(value) {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64BE(value);
    this.bytes(buffer);
  }

  string(text) {
    const bytes = Buffer.from(text, "utf8");
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

  toBuffer() {
    return Buffer.concat(this.chunks);
  }
}

// The smallest encoded size of an element, to check a count against the bytes left before
// allocating anything for it: a result is idx (8), type (1) and an empty kv (4); a kv entry is
// two empty strings.
const MIN_RESULT_BYTES = 8 + 1 + 4;
const MIN_KV_ENTRY_BYTES = 4 + 4;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Reads a payload's fields, refusing anything that runs past its end with code 1. */
class Reader {
  constructor(payload, messageName) {
    this.payload = payload;
    this.offset = 0;
    this.messageName = messageName;
  }

  get remaining() {
    return this.payload.length - this.offset;
  }

  /** Claims the next `length` bytes of `field`, or refuses the frame. */
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
    return this.payload.readUInt8(this.take(1, field));
  }

  u32(field) {
    return this.payload.readUInt32BE(this.take(4, field));
  }

  i32(field) {
    return this.payload.readInt32BE(this.take(4, field));
  }

  i64(field) {
    return this.payload.readBigInt64BE(this.take(8, field));
  }

  string(field) {
    const length = this.u32(`${field}'s length`);
    const start = this.take(length, field);
    try {
      return UTF8.decode(this.payload.subarray(start, start + length));
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
