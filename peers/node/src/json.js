// A strict JSON (RFC 8259) parser for the protocol's needs, which JSON.parse does not meet:
// numbers keep their source text, so a 64-bit id survives exactly, and an object that repeats
// a key is refused.

/** A JSON number as it was written, e.g. "18446744073709551615" or "1.0". */
export class JsonNumber {
  constructor(text) {
    this.text = text;
  }

  toString() {
    return this.text;
  }
}

export class JsonSyntaxError extends Error {}

export class DuplicateKeyError extends Error {}

// Deep enough for any real message, shallow enough that nesting can't exhaust the stack.
const MAX_DEPTH = 128;

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const PLAIN_CHARACTERS = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};
const LITERALS = { true: true, false: false, null: null };

/**
 * Parses one JSON text. Objects come back with a null prototype, numbers as JsonNumber.
 * Throws JsonSyntaxError for text that is not JSON and DuplicateKeyError for a repeated key.
 */
export function parseJson(text) {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (parser.position < text.length)
    parser.fail("unexpected text after the value");
  return value;
}

class Parser {
  constructor(text) {
    this.text = text;
    this.position = 0;
  }

  fail(problem) {
    throw new JsonSyntaxError(`${problem} at character ${this.position}`);
  }

  skipWhitespace() {
    this.position = this.match(WHITESPACE);
  }

  /** Runs a sticky pattern at the current position and returns where its match ends. */
  match(pattern) {
    pattern.lastIndex = this.position;
    return pattern.test(this.text) ? pattern.lastIndex : this.position;
  }

  value(depth) {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const char = this.text[this.position];
    if (char === "{") return this.object(depth);
    if (char === "[") return this.array(depth);
    if (char === '"') return this.string();
    if (char === "-" || (char >= "0" && char <= "9")) return this.number();
    for (const [word, value] of Object.entries(LITERALS)) {
      if (this.text.startsWith(word, this.position)) {
        this.position += word.length;
        return value;
      }
    }
    this.fail(
      char === undefined ? "unexpected end of input" : "expected a value",
    );
  }

  object(depth) {
    const object = Object.create(null);
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === "}") {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text[this.position] !== '"') this.fail("expected a string key");
      const key = this.string();
      if (Object.hasOwn(object, key)) {
        throw new DuplicateKeyError(
          `the key ${JSON.stringify(key)} appears twice in one object`,
        );
      }
      this.skipWhitespace();
      if (this.text[this.position] !== ":")
        this.fail("expected ':' after a key");
      this.position++;
      this.skipWhitespace();
      object[key] = this.value(depth + 1);
      this.skipWhitespace();
      const separator = this.text[this.position];
      if (separator === "}") {
        this.position++;
        return object;
      }
      if (separator !== ",") this.fail("expected ',' or '}' in an object");
      this.position++;
      this.skipWhitespace();
    }
  }

  array(depth) {
    const array = [];
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === "]") {
      this.position++;
      return array;
    }
    for (;;) {
      array.push(this.value(depth + 1));
      this.skipWhitespace();
      const separator = this.text[this.position];
      if (separator === "]") {
        this.position++;
        return array;
      }
      if (separator !== ",") this.fail("expected ',' or ']' in an array");
      this.position++;
      this.skipWhitespace();
    }
  }

  string() {
    this.position++;
    let result = "";
    for (;;) {
      const end = this.match(PLAIN_CHARACTERS);
      result += this.text.slice(this.position, end);
      this.position = end;
      const char = this.text[this.position];
      if (char === '"') {
        this.position++;
        return result;
      }
      if (char === undefined) this.fail("unterminated string");
      if (char !== "\\") this.fail("unescaped control character in a string");
      result += this.escape();
    }
  }

  escape() {
    const kind = this.text[this.position + 1];
    if (kind === "u") {
      const hex = this.text.slice(this.position + 2, this.position + 6);
      if (!HEX4.test(hex)) this.fail("invalid \\u escape");
      this.position += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    if (!Object.hasOwn(ESCAPES, kind)) this.fail("invalid escape");
    this.position += 2;
    return ESCAPES[kind];
  }

  number() {
    const end = this.match(NUMBER);
    if (end === this.position) this.fail("invalid number");
    const text = this.text.slice(this.position, end);
    this.position = end;
    return new JsonNumber(text);
  }
}

/** Names a parsed value's JSON type for error texts: "a string", "an array", ... */
export function describeType(value) {
  if (value === null) return "null";
  if (value instanceof JsonNumber) return "a number";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "boolean") return "a boolean";
  return "a string";
}
