"""The Origin policy (PROTOCOL.md, section 2.2): which web pages may open a session.

A browser names the page that opens a WebSocket in the `Origin` header and the page cannot change
it, so the server decides by it, against cross-site WebSocket hijacking:

- no `Origin` (not a browser): accepted;
- the server's own origin: `http` or `https`, a host among `localhost`, `127.0.0.1`, `[::1]`,
  `--host` and each `--san` (without case; an IP address in any spelling of the same address),
  and a port the server listens on, plain or TLS (80 or 443 when the origin has none);
- an origin `--allow-origin` names (without case and without a trailing `/`), or any with `*`;
- anything else (`null`, garbage, two `Origin` headers even under `*`): refused, HTTP 403.

Origins are parsed with `urllib.parse`; the request's `Host` header is never looked at, since the
page's side controls it through DNS rebinding.
"""

import ipaddress
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

ANY = "*"
OWN_HOSTS = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginPolicy:
    def __init__(
        self,
        hosts: Iterable[str] = (),
        allowed: Iterable[str] = (),
        ports: Iterable[int] = (),
    ) -> None:
        """`hosts`: the server's names besides `OWN_HOSTS` (its `--host`, each `--san`);
        `allowed`: the `--allow-origin` values; `ports`: the ports it listens on, to which
        `listening_on` adds the ones bound later (`--port 0`)."""
        self.own_hosts = {host_key(host) for host in (*OWN_HOSTS, *hosts)}
        allowed = list(allowed)
        self.allow_all = ANY in allowed
        self.allowed = {comparable(origin) for origin in allowed if origin != ANY}
        self.own_ports = {port for port in ports if port != 0}

    def listening_on(self, port: int) -> None:
        self.own_ports.add(port)

    def accepts(self, origins: list[str]) -> bool:
        """Whether a handshake with these `Origin` header values (none, usually one) may go on.
        Two are no origin, whatever they say, even under `*` (a browser sends one)."""
        if not origins:
            return True
        if len(origins) > 1:
            return False
        if self.allow_all:
            return True
        (origin,) = origins
        return comparable(origin) in self.allowed or self.is_own(origin)

    def is_own(self, origin: str) -> bool:
        parts = parse_origin(origin)
        if parts is None or parts.scheme not in DEFAULT_PORTS:
            return False
        port = parts.port if parts.port is not None else DEFAULT_PORTS[parts.scheme]
        return host_key(parts.hostname) in self.own_hosts and port in self.own_ports


def parse_origin(origin: str) -> SplitResult | None:
    """`origin` split by `urlsplit` when it is an origin as a browser writes it,
    `scheme://host[:port]` (a trailing `/` tolerated); else None (`null` and garbage)."""
    if not origin.isascii() or any(char <= " " or char == "\x7f" for char in origin):
        return None  # urlsplit would quietly drop tabs and line breaks
    try:
        parts = urlsplit(origin)
        _ = parts.port  # raises ValueError when the port is not a number in range
    except ValueError:
        return None
    if (
        not parts.scheme
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or "?" in origin
        or "#" in origin
        or parts.netloc.endswith(":")
    ):
        return None
    return parts


def host_key(host: str) -> str:
    """A host as compared: lowercase, without IPv6 brackets, an IP address in its canonical
    form (`[0:0::1]` is `::1`)."""
    host = host.lower().removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


def comparable(origin: str) -> str:
    """An origin as `--allow-origin` values and `Origin` headers are compared."""
    return origin.lower().removesuffix("/")


def allowed_origin(value: str) -> str:
    """Checks an `--allow-origin` value: `*`, or an origin (`https://app.example:8443`).
    Raises ValueError otherwise, so that a typo is not an entry that can never match."""
    value = value.strip()
    if value == ANY:
        return value
    if value.lower() == "null":
        raise ValueError(
            "null is not allowed: every sandboxed frame and file page sends it; use * to allow all"
        )
    if parse_origin(value) is None:
        raise ValueError(
            f"not an origin: {value!r}; write scheme://host[:port], e.g. https://app.example:8443"
        )
    return value
