"""What every session has, whichever its dialect: its name, its dialect and how it ended."""

import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

# A name is cut to at most this many bytes of UTF-8 (PROTOCOL.md, section 2.1).
MAX_NAME_BYTES = 128

# The white space a name is trimmed of: the characters Rust's `str::trim` strips in the reference
# server (`char::is_whitespace`, Unicode's White_Space property). `str.strip()` without an
# argument would strip four more, U+001C to U+001F (`str.isspace` counts them).
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


class Dialect(StrEnum):
    JSON = "json"
    V1 = "v1"


@dataclass(frozen=True)
class Ending:
    """Why a session ended (the `reason=` of its `session-` line) and the Close the server sends
    for it, if any (none when the client closed or vanished, or the library already sent one).
    `client_code` is the code of the client's Close when that Close ended the session (1005 for
    a Close without one; PROTOCOL.md, section 7), logged as `code=`."""

    reason: str
    close_code: int | None = None
    close_reason: str = ""
    client_code: int | None = None

    def log_fields(self) -> str:
        """`reason=…`, and `code=…` when the client's Close ended the session."""
        if self.client_code is None:
            return f"reason={self.reason}"
        return f"reason={self.reason} code={self.client_code}"


CLIENT_VANISHED = Ending("client vanished")
PONG_TIMEOUT = Ending("pong timeout", CloseCode.POLICY_VIOLATION, "pong timeout")
SHUTDOWN = Ending("shutdown", CloseCode.GOING_AWAY, "server shutting down")
# A v1 DISCONNECT: a clean close, but no Close of the client's ended it, so no `code=` (12.6).
DISCONNECTED = Ending("client closed", CloseCode.NORMAL_CLOSURE, "disconnect")

# What the library's own Closes mean; its reason texts are not logged, so that no byte a client
# sent can reach the log through them.
_LIBRARY_CLOSES = {
    CloseCode.PROTOCOL_ERROR: "error: protocol violation",
    CloseCode.INVALID_DATA: "error: text message was not valid UTF-8",
    CloseCode.MESSAGE_TOO_BIG: "error: message over the size limit",
}


def ending_of(closed: ConnectionClosed) -> Ending:
    """How a connection the library reports closed ended. The client's Close carries its code;
    the library reads a Close without one as 1005 (RFC 6455, section 7.1.5)."""
    if closed.rcvd is not None and (closed.sent is None or closed.rcvd_then_sent):
        return Ending("client closed", client_code=closed.rcvd.code)
    if closed.sent is not None:
        code = closed.sent.code
        return Ending(_LIBRARY_CLOSES.get(code, f"error: sent close {code}"))
    return CLIENT_VANISHED


def session_name(headers: Headers, target: str, session_id: str) -> str:
    """`WhoAmI`, else `userId`, else the first `whoami` query parameter of the request target
    (`/ws?whoami=alice`, for clients that cannot set headers, read as the reference server
    reads it), else the session id; each as `untrusted_text` has it (PROTOCOL.md, sections 2
    and 2.1)."""
    for header in ("WhoAmI", "userId"):
        for value in headers.get_all(header):
            name = untrusted_text(header_text(value))
            if name:
                return name
    for value in query_values(target, "whoami")[:1]:
        name = untrusted_text(value)
        if name:
            return name
    return session_id


def query_values(target: str, key: str) -> list[str]:
    """The values of `key` in the query of a request target, decoded as form values: percent
    escapes as UTF-8 (replacement characters where they are not), `+` as a space."""
    query = urlsplit(target).query
    pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace")
    return [value for name, value in pairs if name == key]


def untrusted_text(text: str) -> str:
    """A value from the network as it may be logged: trimmed of white space, cut to 128 bytes of
    UTF-8 at a character boundary, then trimmed again at its end, where the cut may have left
    white space (127 bytes, a space, more)."""
    return cut_to_bytes(text.strip(WHITE_SPACE), MAX_NAME_BYTES).rstrip(WHITE_SPACE)


def header_text(value: str) -> str:
    """A header value as the client meant it: the library decodes header bytes as ISO-8859-1,
    so this takes the bytes back and decodes them as UTF-8, with replacement characters."""
    return value.encode("iso-8859-1").decode("utf-8", errors="replace")


def cut_to_bytes(text: str, limit: int) -> str:
    """`text` cut at the last UTF-8 character boundary at or before `limit` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def quoted(text: str) -> str:
    """A value from the network as a JSON string (RFC 8259 escaping, other characters as is)."""
    return json.dumps(text, ensure_ascii=False)
