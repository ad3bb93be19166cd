"""The Hello WebSocket server: Echo answers, Kiss requests, Pings with eviction, TLS."""

import argparse
import asyncio
import json
import signal
import ssl
import sys
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import LANGUAGE_TAG, options, protocol, system

# How long a close waits for the peer's Close before the TCP connection is dropped.
CLOSE_GRACE = 2.0


@dataclass
class Session:
    id: str
    name: str
    connection: ServerConnection
    end_reason: str | None = None
    latest_kiss: protocol.KissResponse | None = None


class HelloServer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sessions: dict[str, Session] = {}
        self.kiss_request = protocol.encode(system.os_facts())

    async def run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        tls = self._tls_context() if self.args.tls else None
        servers = [await self._listen("ws", self.args.port, None)]
        if tls is not None:
            servers.append(await self._listen("wss", self.args.tls_port, tls))

        await stop.wait()
        await self.shutdown(servers)

    async def _listen(
        self, scheme: str, port: int, tls: ssl.SSLContext | None
    ) -> Server:
        server = await serve(
            self.handle_session,
            self.args.host,
            port,
            ssl=tls,
            process_request=self._check_path,
            process_response=self._add_headers,
            server_header=None,
            open_timeout=self.args.handshake_timeout,
            ping_interval=None,  # the heartbeat below sends Pings and evicts with 1008
            close_timeout=CLOSE_GRACE,
            max_size=self.args.max_message_size,
        )
        host, bound_port = server.sockets[0].getsockname()[:2]
        log(f"listening on {scheme}://{format_host(host)}:{bound_port}{self.args.path}")
        return server

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        certificate = self.args.certs_dir / "server.crt"
        key = self.args.certs_dir / "server.key"
        try:
            context.load_cert_chain(certificate, key)
        except OSError as exc:
            raise OSError(f"cannot load {certificate} and {key}: {exc}") from exc
        return context

    def _check_path(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if urlsplit(request.path).path != self.args.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def _add_headers(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        if response.status_code == HTTPStatus.SWITCHING_PROTOCOLS:
            response.headers["SVR"] = LANGUAGE_TAG
            response.headers["X-Session-Id"] = str(uuid.uuid4())

    async def handle_session(self, connection: ServerConnection) -> None:
        session_id = connection.response.headers["X-Session-Id"]
        names = [
            value.strip() for value in connection.request.headers.get_all("WhoAmI")
        ]
        name = next((value for value in names if value), session_id)
        session = Session(session_id, name, connection)
        self.sessions[session_id] = session
        log(
            f"session+ id={session_id} name={printable(name)} peer={format_peer(connection.remote_address)}"
        )
        background = [
            asyncio.create_task(self.heartbeat(session)),
            asyncio.create_task(self.send_kiss_requests(session)),
        ]
        try:
            reason = await self.serve_messages(session)
        finally:
            for task in background:
                task.cancel()
            self.sessions.pop(session_id, None)
        log(
            f"session- id={session_id} name={printable(name)} reason={session.end_reason or reason}"
        )

    async def serve_messages(self, session: Session) -> str:
        """Answers the session's messages in the order they arrive; returns why it ended.

        A reply is sent before the next message is read, so a client that stops reading stops
        being read: the library's bounded receive queue and write buffer hold what is in flight.
        """
        connection = session.connection
        while True:
            try:
                message = await connection.recv()
                reply = self.reply_to(session, message)
                if reply is not None:
                    await connection.send(protocol.encode(reply))
            except ConnectionClosed as closed:
                return close_reason(closed)

    def reply_to(self, session: Session, message: str | bytes) -> dict | None:
        try:
            decoded = protocol.decode_client_message(message)
        except protocol.MalformedMessage as exc:
            return protocol.error_response(str(exc))
        if isinstance(decoded, protocol.EchoRequest):
            return protocol.echo_response(decoded, LANGUAGE_TAG)
        session.latest_kiss = decoded
        log(
            f"kiss id={session.id} name={printable(session.name)}"
            f" language={printable(decoded.language)} encoding={printable(decoded.encoding)}"
            f" time_zone={printable(decoded.time_zone)}"
        )
        return None

    async def send_kiss_requests(self, session: Session) -> None:
        try:
            while True:
                await asyncio.sleep(self.args.kiss_interval)
                await session.connection.send(self.kiss_request)
        except ConnectionClosed:
            pass

    async def heartbeat(self, session: Session) -> None:
        """Pings every ping interval; evicts the session when a Pong is not back in time.

        The deadline runs from the moment the Ping is due, so a Ping stuck behind a full send
        buffer counts as unanswered too.
        """
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self.args.ping_interval
        while True:
            await asyncio.sleep(max(0.0, next_ping - loop.time()))
            try:
                async with asyncio.timeout_at(next_ping + self.args.pong_timeout):
                    pong = await session.connection.ping()
                    await pong
            except TimeoutError:
                await self.evict(session)
                return
            except ConnectionClosed:
                return
            next_ping = max(next_ping + self.args.ping_interval, loop.time())

    async def evict(self, session: Session) -> None:
        session.end_reason = "pong timeout"
        self.sessions.pop(session.id, None)
        log(f"evicting id={session.id} name={printable(session.name)}: pong timeout")
        await close_soon(session.connection, 1008, "pong timeout")

    async def shutdown(self, servers: list[Server]) -> None:
        for server in servers:
            server.close(close_connections=False)
        sessions = list(self.sessions.values())
        for session in sessions:
            session.end_reason = session.end_reason or "shutdown"
        await asyncio.gather(
            *(close_soon(s.connection, 1001, "server shutdown") for s in sessions)
        )
        for server in servers:
            try:
                await asyncio.wait_for(server.wait_closed(), CLOSE_GRACE)
            except TimeoutError:
                pass


async def close_soon(connection: ServerConnection, code: int, reason: str) -> None:
    """Sends Close and waits briefly for the peer's; drops the TCP connection after that."""
    try:
        await asyncio.wait_for(connection.close(code, reason), CLOSE_GRACE)
    except TimeoutError:
        connection.transport.abort()


def close_reason(closed: ConnectionClosed) -> str:
    if closed.rcvd is not None and (closed.sent is None or closed.rcvd_then_sent):
        return "client closed"
    if closed.sent is not None:
        return f"error: sent close {closed.sent.code} {printable(closed.sent.reason)}".rstrip()
    return "error: connection lost without a close frame"


def printable(text: str) -> str:
    """Text for a log line: as is when plain, quoted with escapes when it has spaces or controls."""
    if text and all(char.isprintable() and not char.isspace() for char in text):
        return text
    return json.dumps(text)


def format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def format_peer(address: tuple | None) -> str:
    if not address:
        return "unknown"
    return f"{format_host(address[0])}:{address[1]}"


def log(line: str) -> None:
    print(line, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = options.env
    parser = argparse.ArgumentParser(
        prog="server", description="Hello WebSocket server (Python peer)"
    )
    parser.add_argument(
        "--host", default=env("WS_HOST", "127.0.0.1"), help="address to bind"
    )
    parser.add_argument(
        "--port",
        type=options.port,
        default=env("WS_PORT", "9898"),
        help="plain ws port",
    )
    parser.add_argument(
        "--path", default=env("WS_PATH", "/ws"), help="the WebSocket path"
    )
    parser.add_argument(
        "--tls", action="store_true", help="also serve wss on --tls-port"
    )
    parser.add_argument(
        "--tls-port", type=options.port, default=env("WS_TLS_PORT", "9886")
    )
    parser.add_argument(
        "--certs-dir",
        type=Path,
        default=env("WS_CERTS_DIR", str(options.DEFAULT_CERTS_DIR)),
    )
    parser.add_argument(
        "--ping-interval",
        type=options.positive_duration,
        default=env("WS_PING_INTERVAL", "10s"),
    )
    parser.add_argument(
        "--pong-timeout",
        type=options.positive_duration,
        default=env("WS_PONG_TIMEOUT", "10s"),
    )
    parser.add_argument(
        "--kiss-interval",
        type=options.positive_duration,
        default=env("WS_KISS_INTERVAL", "5s"),
    )
    parser.add_argument(
        "--handshake-timeout",
        type=options.positive_duration,
        default=env("WS_HANDSHAKE_TIMEOUT", "10s"),
    )
    parser.add_argument(
        "--max-message-size",
        type=options.positive_int,
        default=env("WS_MAX_MESSAGE_SIZE", "1048576"),
    )
    args = parser.parse_args(argv)
    if args.pong_timeout > args.ping_interval:
        parser.error("--pong-timeout must not be more than --ping-interval")
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    return args


def main() -> int:
    sys.stdout.reconfigure(errors="backslashreplace")
    args = parse_args()
    server = HelloServer(args)
    try:
        asyncio.run(server.run())
    except (OSError, ssl.SSLError) as exc:
        print(f"server: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
