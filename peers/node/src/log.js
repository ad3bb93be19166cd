// The server's log lines (peers/README.md): written to standard output as they happen, with
// every value that came from the network written as a JSON string (PROTOCOL.md section 2.1).

/** The longest name a session is logged under, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 128;

export function log(line) {
  process.stdout.write(`${line}\n`);
}

/** A value from the network as a JSON string, so that it cannot forge a field or a line. */
export function quoted(value) {
  return JSON.stringify(value);
}

/**
 * The name of a session (PROTOCOL.md sections 2, 2.1 and 12.2): its WhoAmI header, else its
 * userId header, else the `whoami` parameter of the handshake URL's query (for clients that
 * cannot set headers, such as browsers), else its id; trimmed, decoded as UTF-8 with replacement
 * characters, and cut to at most 128 bytes at a character boundary.
 *
 * @param {object} headers the request's headers, as Node's HTTP parser gives them
 * @param {string} id the session id
 * @param {string} query the request target's query, without the `?`
 */
export function sessionName(headers, id, query = "") {
  for (const header of ["whoami", "userid"]) {
    const name = decodeHeaderValue(headers[header]).trim();
    if (name !== "") return cutToBytes(name, MAX_NAME_BYTES);
  }
  // Decoded as a form value: percent escapes as UTF-8 (bytes that are not UTF-8 become U+FFFD),
  // `+` a space; the first of repeated parameters counts.
  const name = (new URLSearchParams(query).get("whoami") ?? "").trim();
  if (name !== "") return cutToBytes(name, MAX_NAME_BYTES);
  return id;
}

// Node's HTTP parser hands header values over as Latin-1 strings, one character per byte; a
// repeated header comes as an array, of which the first counts.
export function decodeHeaderValue(value) {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined
    ? ""
    : Buffer.from(first, "latin1").toString("utf8");
}

/** `text` cut to at most `limit` UTF-8 bytes, at the last character boundary. */
export function cutToBytes(text, limit) {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  let end = limit;
  // A byte 10xxxxxx continues a character: back up to the start of the one that was cut.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}
