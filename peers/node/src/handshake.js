// What the server decides from a handshake request before it upgrades it: the path and query of
// its target (PROTOCOL.md section 2), and whether its Origin is accepted (section 2.2).

/**
 * The path and the query (without `?`) of a request target. The path is compared as it was
 * sent, without the query, as the reference server does: `/ws?whoami=alice` is the path `/ws`,
 * but `/x/../ws` and `//host/ws` are not. An absolute-form target (`http://host/ws`, which
 * HTTP/1.1 servers must accept) is parsed with the URL parser; a target that is not a URL has
 * no path (null) and gets 404.
 *
 * @param {string} target the request target, `request.url` (Node's parser lets only ASCII in)
 * @returns {{path: string | null, query: string}}
 */
export function requestTarget(target) {
  if (target.startsWith("/")) {
    const question = target.indexOf("?");
    return question < 0
      ? { path: target, query: "" }
      : { path: target.slice(0, question), query: target.slice(question + 1) };
  }
  try {
    const url = new URL(target);
    return { path: url.pathname, query: url.search.slice(1) };
  } catch {
    return { path: null, query: "" };
  }
}

/** `--allow-origin *`: every origin is allowed. */
export const ANY_ORIGIN = "*";

// The hosts every server is its own origin's host under, besides --host and each --san.
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"];
// The port of an origin that names none.
const DEFAULT_PORTS = { "http:": 80, "https:": 443 };

/**
 * The Origin policy (PROTOCOL.md section 2.2), against cross-site WebSocket hijacking: a
 * handshake is accepted with no Origin, with the server's own origin, or with an origin that
 * --allow-origin allows; any other, `null`, two Origin headers and what is not an origin at all
 * among them, is refused. The server's own origin is never taken from the request's Host header
 * (DNS rebinding controls it): its hosts are the loopback names, --host and each --san, its ports
 * those the server's listeners are bound to, given with `addPort` once they are.
 */
export class OriginPolicy {
  /**
   * @param {object} params
   * @param {string} params.host the address the server binds (--host)
   * @param {string[]} params.sans the server's other names (--san)
   * @param {string[]} params.allowed the allowed origins (--allow-origin), `*` for all; each
   *   must be `*` or an origin (`parseAllowedOrigin`)
   */
  constructor({ host, sans = [], allowed = [] }) {
    this.hosts = new Set([...LOOPBACK_HOSTS, host, ...sans].map(canonicalHost));
    this.anyOrigin = allowed.some((value) => value.trim() === ANY_ORIGIN);
    this.allowed = new Set();
    for (const value of allowed) {
      if (value.trim() === ANY_ORIGIN) continue;
      const origin = parseAllowedOrigin(value);
      if (origin === null) throw new Error(`not an origin: ${value}`);
      this.allowed.add(origin.key);
    }
    this.ports = new Set();
  }

  /** A port the server listens on, plain or TLS, as bound (so `--port 0` is known). */
  addPort(port) {
    this.ports.add(port);
  }

  /**
   * Whether a handshake with these Origin headers is accepted.
   *
   * @param {string[] | undefined} origins the values of its Origin headers, decoded as UTF-8
   *   (`request.headersDistinct.origin`); undefined when it has none
   */
  accepts(origins) {
    if (origins === undefined) return true;
    // A browser sends one Origin; two are no origin, whatever they say, even under `*`.
    if (origins.length !== 1) return false;
    if (this.anyOrigin) return true;
    const origin = parseOrigin(origins[0]);
    if (origin === null) return false;
    const own = this.hosts.has(origin.host) && this.ports.has(origin.port);
    return own || this.allowed.has(origin.key);
  }
}

/**
 * An `--allow-origin` value as the policy compares it, or null when it is neither `*` (which the
 * policy takes apart) nor an http or https origin: a value that could never match is a mistake
 * to report, not an entry to keep, and `null` would let in every sandboxed frame and file page.
 */
export function parseAllowedOrigin(value) {
  return parseOrigin(value.trim());
}

/**
 * An http or https origin as a browser writes it, `scheme://host[:port]` (a trailing `/`
 * tolerated), parsed by the URL parser: `{host, port, key}`, the host lowercase (IPv6 in
 * brackets and compressed), the port made explicit (80 or 443 when absent), and `key` the whole
 * as compared with --allow-origin, so that case, a trailing `/` and a written default port do
 * not matter. Null for anything else: `null`, another scheme, a user, a path, a query, a
 * fragment, and characters a browser never sends in an origin (the URL parser would drop tabs
 * and line breaks and map other scripts' letters to ASCII ones).
 */
export function parseOrigin(text) {
  if (!/^[\x21-\x7e]+$/.test(text)) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined) return null;
  // An origin is a scheme, a host and a port: nothing else.
  if (
    url.username !== "" ||
    url.password !== "" ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    text.includes("?") ||
    text.includes("#")
  )
    return null;
  // The URL parser leaves out a port that is the scheme's default.
  const port = url.port === "" ? defaultPort : Number(url.port);
  return {
    host: url.hostname,
    port,
    key: `${url.protocol}//${url.hostname}:${port}`,
  };
}

/**
 * A host name as the URL parser writes it in an origin: lowercase, IPv6 in brackets and
 * compressed (`[::1]`), IPv4 dotted; so `--host ::1` or `--san App.Example` match the origins a
 * browser sends. A name the parser refuses is kept lowercase.
 */
function canonicalHost(untrimmed) {
  const name = untrimmed.trim();
  const literal =
    name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
  try {
    return new URL(`http://${literal}`).hostname;
  } catch {
    return name.toLowerCase();
  }
}
