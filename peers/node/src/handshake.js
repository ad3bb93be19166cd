// What the server decides from a handshake request before it upgrades it: the path and query of
// its target (PROTOCOL.md section 2).

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
