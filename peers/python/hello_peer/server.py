"""The Hello WebSocket server: both dialects (JSON and v1), Echo answers, Kiss requests, Pings
with eviction, TLS, the connection limit and the lingering close."""

import argparse
import asyncio
import functools
import signal
import ssl
import sys
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from . import LANGUAGE_TAG, options, protocol, system, v1
from .connection import ConnectionPlaces, HelloConnection
from .origin import OriginPolicy, allowed_origin
from .session import (
    PONG_TIMEOUT,
    SHUTDOWN,
    Dialect,
    Ending,
    ending_of,
    header_text,
    quoted,
    session_name,
    untrusted_text,
)
from .v1_session import Timings, V1Session


@dataclass(eq=False)
class Session:
    id: str
    name: str
    connection: HelloConnection
    dialect: Dialect | None = None
    v1_session: V1Session | None = None
    latest_kiss: protocol.KissResponse | v1.KissResponse | None = None
    # The session's background work: the reader, and its dialect's timers.
    tasks: set[asyncio.Task] = field(default_factory=set)
    json_timers: set[asyncio.Task] = field(default_factory=set)
    ending: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def end(self, ending: Ending) -> None:
        """Ends the session for this reason, unless something ended it already."""
        if not self.ending.done():
            self.ending.set_result(ending)

    def start(self, work, *, json_timer: bool = False) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        if json_timer:
            self.json_timers.add(task)


class HelloServer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sessions: dict[str, Session] = {}
        self.places = ConnectionPlaces(args.max_connections)
        # The ports known before binding; listening adds the ones bound (`--port 0`).
        ports = [args.port, args.tls_port] if args.tls else [args.port]
        self.origins = OriginPolicy([args.host, *args.san], args.allow_origin, ports)
        facts = system.os_facts()
        self.kiss_request = protocol.encode(facts)
        self.v1_kiss_request = v1.encode(v1.KissRequest(**facts))
        self.v1_timings = Timings(
            ping_interval=args.v1_ping_interval,
            session_timeout=args.v1_session_timeout,
            time_interval=args.v1_time_interval,
            kiss_interval=args.v1_kiss_interval,
        )

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
        tls_options = {}
        if tls is not None:
            tls_options = {
                "ssl": tls,
                "ssl_handshake_timeout": self.args.handshake_timeout,
                "ssl_shutdown_timeout": self.args.close_timeout,
            }
        server = await serve(
            self.handle_session,
            self.args.host,
            port,
            process_request=self._check_request,
            process_response=self._add_headers,
            server_header=None,
            open_timeout=self.args.handshake_timeout,
            ping_interval=None,  # the heartbeat below sends Pings and evicts with 1008
            # The connection's own linger deadline bounds every close (connection.py).
            close_timeout=None,
            max_size=self.args.max_message_size,
            create_connection=functools.partial(
                HelloConnection,
                places=self.places,
                linger_timeout=self.args.close_timeout,
            ),
            **tls_options,
        )
        for sock in server.sockets:
            self.origins.listening_on(sock.getsockname()[1])
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

    def _check_request(
        self, connection: HelloConnection, request: Request
    ) -> Response | None:
        if urlsplit(request.path).path != self.args.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        origins = request.headers.get_all("Origin")
        if not self.origins.accepts(origins):
            origin = untrusted_text(header_text(", ".join(origins)))
            log(
                f"origin refused peer={format_peer(connection.remote_address)}"
                f" origin={quoted(origin)}"
            )
            return connection.respond(
                HTTPStatus.FORBIDDEN, "this page's origin is not allowed\n"
            )
        if not connection.has_place:
            return connection.respond(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "the server is at its connection limit\n",
            )
        return None

    def _add_headers(
        self, connection: HelloConnection, request: Request, response: Response
    ) -> None:
        if response.status_code == HTTPStatus.SWITCHING_PROTOCOLS:
            response.headers["SVR"] = LANGUAGE_TAG
            response.headers["X-Session-Id"] = str(uuid.uuid4())

    # A session, whichever its dialect

    async def handle_session(self, connection: HelloConnection) -> None:
        session_id = connection.response.headers["X-Session-Id"]
        request = connection.request
        name = session_name(request.headers, request.path, session_id)
        session = Session(session_id, name, connection)
        self.sessions[session_id] = session
        log(
            f"session+ id={session_id} name={quoted(name)}"
            f" peer={format_peer(connection.remote_address)}"
        )
        match self.args.dialect:
            case "json":
                self.fix_dialect(session, Dialect.JSON)
            case "v1":
                self.fix_dialect(session, Dialect.V1)
        if session.dialect is not Dialect.V1:
            session.start(self.heartbeat(session), json_timer=True)
            session.start(self.send_kiss_requests(session), json_timer=True)
        session.start(self.read_messages(session))
        try:
            ending = await session.ending
        finally:
            for task in session.tasks:
                task.cancel()
            await asyncio.gather(*session.tasks, return_exceptions=True)
            self.sessions.pop(session_id, None)
        log(
            f"session- id={session_id} name={quoted(name)} {ending.log_fields()}"
            f" dialect={session.dialect or 'none'}"
        )
        await close_and_linger(connection, ending)

    def fix_dialect(self, session: Session, dialect: Dialect) -> None:
        """Fixes the session's dialect; a v1 session's timers start now and the JSON ones stop."""
        session.dialect = dialect
        if dialect is Dialect.V1:
            for task in session.json_timers:
                task.cancel()
            now = asyncio.get_running_loop().time()
            session.v1_session = V1Session(self.v1_timings, LANGUAGE_TAG, now)
            session.start(self.v1_timers(session))
            session.start(self.v1_expiry(session))

    async def read_messages(self, session: Session) -> None:
        """Answers the session's messages in the order they arrive, until it ends.

        A reply is sent before the next message is read, so a client that stops reading stops
        being read: the library's bounded receive queue and write buffer hold what is in flight.
        """
        connection = session.connection
        while True:
            try:
                message = await connection.recv()
            except ConnectionClosed as closed:
                session.end(ending_of(closed))
                return
            if session.dialect is None:
                first_is_v1 = isinstance(message, bytes) and v1.is_v1(message)
                self.fix_dialect(session, Dialect.V1 if first_is_v1 else Dialect.JSON)
            try:
                if session.dialect is Dialect.V1:
                    ending = await self.answer_v1(session, message)
                    if ending is not None:
                        session.end(ending)
                        return
                else:
                    await self.answer_json(session, message)
            except ConnectionClosed:
                continue  # the next recv() says how

    # The JSON dialect (PROTOCOL.md, sections 3 to 6)

    async def answer_json(self, session: Session, message: str | bytes) -> None:
        try:
            decoded = protocol.decode_client_message(message)
        except protocol.MalformedMessage as exc:
            reply = protocol.error_response(str(exc))
        else:
            if isinstance(decoded, protocol.KissResponse):
                self.record_kiss(session, decoded)
                return
            reply = protocol.echo_response(decoded, LANGUAGE_TAG)
        await session.connection.send(protocol.encode(reply))

    async def send_kiss_requests(self, session: Session) -> None:
        try:
            while True:
                await asyncio.sleep(self.args.kiss_interval)
                # A session that has said nothing by its first Kiss is a JSON session.
                if session.dialect is None:
                    self.fix_dialect(session, Dialect.JSON)
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
                session.end(PONG_TIMEOUT)
                return
            except ConnectionClosed:
                return
            next_ping = max(next_ping + self.args.ping_interval, loop.time())

    # The binary dialect v1 (PROTOCOL.md, sections 11 and 12)

    async def answer_v1(self, session: Session, message: str | bytes) -> Ending | None:
        """Answers one message of a v1 session; returns how the session ends, if it does.
        The answer (an ERROR included) is sent before the session ends, so the answers to
        every earlier frame go out before the Close."""
        now = asyncio.get_running_loop().time()
        answer = session.v1_session.answer(message, now)
        if answer.frame is not None:
            await session.connection.send(answer.frame)
        if answer.kiss is not None:
            self.record_kiss(session, answer.kiss)
        return answer.ending

    async def v1_timers(self, session: Session) -> None:
        """Sends PING, TIME_NOTIFICATION and KISS_REQUEST as they fall due."""
        loop = asyncio.get_running_loop()
        state = session.v1_session
        try:
            while True:
                await asyncio.sleep(max(0.0, state.next_due() - loop.time()))
                for frame in state.frames_due(loop.time(), self.v1_kiss_request):
                    await session.connection.send(frame)
        except ConnectionClosed:
            pass

    async def v1_expiry(self, session: Session) -> None:
        """Evicts the session once no matching PONG has come for the session timeout; apart
        from the timers, so that a send stuck on a client that does not read cannot delay it."""
        loop = asyncio.get_running_loop()
        state = session.v1_session
        while not state.expired(loop.time()):
            await asyncio.sleep(state.expires - loop.time())
        session.end(PONG_TIMEOUT)

    # Both dialects

    def record_kiss(
        self, session: Session, kiss: protocol.KissResponse | v1.KissResponse
    ) -> None:
        session.latest_kiss = kiss
        log(
            f"kiss id={session.id} name={quoted(session.name)}"
            f" language={quoted(kiss.language)} encoding={quoted(kiss.encoding)}"
            f" time_zone={quoted(kiss.time_zone)}"
        )

    async def shutdown(self, servers: list[Server]) -> None:
        for server in servers:
            server.close(close_connections=False)
        for session in list(self.sessions.values()):
            session.end(SHUTDOWN)
        for server in servers:
            try:
                # Each session closes within the close timeout, or is reset.
                await asyncio.wait_for(
                    server.wait_closed(), self.args.close_timeout + 1.0
                )
            except TimeoutError:
                pass


async def close_and_linger(connection: HelloConnection, ending: Ending) -> None:
    """Sends the ending's Close, if any, then reads and throws away what the client still
    sends until the connection is closed: the client's Close completes the handshake, and the
    connection's linger deadline resets it otherwise (connection.py)."""
    if ending.close_code is not None and connection.state is State.OPEN:
        closing = asyncio.create_task(
            connection.close(ending.close_code, ending.close_reason)
        )
    else:
        closing = asyncio.create_task(connection.wait_closed())
    try:
        while True:
            await connection.recv()
    except ConnectionClosed:
        pass
    await closing


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
        "--max-message-size",
        type=options.positive_int,
        default=env("WS_MAX_MESSAGE_SIZE", "1048576"),
    )
    parser.add_argument(
        "--handshake-timeout",
        type=options.positive_duration,
        default=env("WS_HANDSHAKE_TIMEOUT", "10s"),
        help="drop a connection whose handshake is not done by then",
    )
    parser.add_argument(
        "--max-connections",
        type=options.positive_int,
        default=env("WS_MAX_CONNECTIONS", "10000"),
        help="connections served at once; beyond it the handshake gets HTTP 503",
    )
    parser.add_argument(
        "--close-timeout",
        type=options.positive_duration,
        default=env("WS_CLOSE_TIMEOUT", "2s"),
        help="how long a closing session waits for the client's Close before a reset",
    )
    parser.add_argument(
        "--dialect",
        choices=("auto", "json", "v1"),
        default=env("WS_DIALECT", "auto"),
        help="auto tells JSON and v1 apart per session; json or v1 pins every session",
    )
    for flag, variable, default, what in (
        (
            "--v1-ping-interval",
            "WS_V1_PING_INTERVAL",
            "1s",
            "how often a v1 session gets a PING",
        ),
        (
            "--v1-session-timeout",
            "WS_V1_SESSION_TIMEOUT",
            "60s",
            "how long a v1 session lives without a matching PONG",
        ),
        (
            "--v1-time-interval",
            "WS_V1_TIME_INTERVAL",
            "5s",
            "how often a v1 session gets a TIME_NOTIFICATION",
        ),
        (
            "--v1-kiss-interval",
            "WS_V1_KISS_INTERVAL",
            "5s",
            "how often a v1 session gets a KISS_REQUEST",
        ),
    ):
        parser.add_argument(
            flag,
            type=options.positive_duration,
            default=env(variable, default),
            help=what,
        )
    parser.add_argument(
        "--allow-origin",
        action="append",
        type=allowed_origin_arg,
        metavar="ORIGIN",
        help="a browser origin allowed besides the server's own, or * for any; repeatable"
        " (default: WS_ALLOW_ORIGIN, comma-separated)",
    )
    parser.add_argument(
        "--san",
        action="append",
        default=[],
        metavar="NAME",
        help="another name of the server, a host of its own origins; repeatable",
    )
    args = parser.parse_args(argv)
    if args.allow_origin is None:
        try:
            args.allow_origin = [
                allowed_origin(value)
                for value in env("WS_ALLOW_ORIGIN", "").split(",")
                if value.strip()
            ]
        except ValueError as exc:
            parser.error(f"WS_ALLOW_ORIGIN: {exc}")
    if args.pong_timeout > args.ping_interval:
        parser.error("--pong-timeout must not be more than --ping-interval")
    if args.v1_session_timeout < args.v1_ping_interval:
        parser.error("--v1-session-timeout must be at least --v1-ping-interval")
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    return args


def allowed_origin_arg(text: str) -> str:
    try:
        return allowed_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
