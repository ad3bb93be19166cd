"""The server's connection: the library's `ServerConnection` with what the peer contract adds
around it (peers/README.md): a place under `--max-connections`, the lingering close, and the
abort by reset.

- A connection takes a place when the transport hands it over (for wss, after the TLS handshake)
  and gives it back when the connection is lost; one that found no place is answered HTTP 503.
- Once the server has sent a Close (its own, or the answer to the client's), the connection
  lingers: the library goes on reading (and the session drains and discards what it reads) until
  the client's Close and TCP close, for at most the close timeout and at most the linger limit of
  bytes. Past either bound it is aborted with `SO_LINGER` 0, so the kernel sends a reset and
  frees whatever the client never read.
"""

import asyncio
import socket
import struct

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

# How many bytes a closing connection may still receive before it is reset (PROTOCOL.md, 7).
LINGER_LIMIT = 16 * 1024 * 1024

_LINGER_ZERO = struct.pack("ii", 1, 0)


class ConnectionPlaces:
    """The places `--max-connections` allows, taken and given back by connections."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0

    def take(self) -> bool:
        if self.taken >= self.limit:
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        self.taken -= 1


class HelloConnection(ServerConnection):
    def __init__(
        self,
        *args,
        places: ConnectionPlaces,
        linger_timeout: float,
        linger_limit: int = LINGER_LIMIT,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.places = places
        self.has_place = False
        self.linger_timeout = linger_timeout
        self.linger_limit = linger_limit
        self.linger_deadline: asyncio.TimerHandle | None = None
        self.bytes_after_close = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.has_place = self.places.take()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.has_place:
            self.places.give_back()
            self.has_place = False
        if self.linger_deadline is not None:
            self.linger_deadline.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.protocol.close_sent is not None:
            self.bytes_after_close += len(data)
            if self.bytes_after_close > self.linger_limit:
                self.reset()
                return
        super().data_received(data)

    def send_data(self) -> None:
        """Writes what the library has to send, as `ServerConnection.send_data` does, except
        that over TLS a failing connection (a Close sent, none received) is not closed at once.

        The library half-closes the TCP connection after its Close where it can; TLS cannot, so
        the library closes it instead, and OpenSSL then treats whatever the client still sends
        as fatal and the kernel answers it with a reset. Keeping the TLS connection open, its
        input is read and discarded until the client closes or the linger deadline resets it.

        Every frame the library writes passes here: the first time a Close has gone out (whoever
        started the closing handshake), the linger deadline starts.
        """
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                try:
                    self.transport.write_eof()
                except OSError:
                    pass  # the connection is lost; connection_lost() follows
            elif not self.failing():
                self.transport.close()
        if self.protocol.close_sent is not None and self.linger_deadline is None:
            self.linger_deadline = self.loop.call_later(self.linger_timeout, self.reset)

    def failing(self) -> bool:
        """Whether the server sent a Close and the client's has not come."""
        return self.protocol.state is State.CLOSING and self.protocol.close_rcvd is None

    def reset(self) -> None:
        """Aborts the connection with a TCP reset: `SO_LINGER` 0, then close, so the kernel
        drops at once what it still holds for a client that does not read."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            except OSError:
                pass  # the socket is already gone
        self.transport.abort()
