"""The Hello WebSocket client: sends Echo requests, answers Kiss requests (and Pings), then closes."""

import argparse
import asyncio
import re
import secrets
import signal
import ssl
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from . import LANGUAGE_TAG, options, protocol, system

GREETINGS = ("Hello", "Bonjour", "Hola", "こんにちは", "Ciao", "안녕하세요", "你好")

# An Echo response repeats the request's data in an envelope: accept 4 times the server's limit.
MAX_MESSAGE_SIZE = 4 * 1_048_576
# How long the final close waits for the server's Close.
CLOSE_GRACE = 2.0

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class HelloClient:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pending: dict[int, str] = {}  # Echo requests in flight: id -> data
        self.all_answered = asyncio.Event()
        self.kisses_answered = 0
        self.faults: list[str] = []

    async def run(self) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        try:
            connection = await connect(
                self.args.url,
                ssl=self._tls_context(),
                additional_headers=self._handshake_headers(),
                open_timeout=self.args.timeout,
                ping_interval=None,  # the server pings; the library answers by itself
                close_timeout=CLOSE_GRACE,
                max_size=MAX_MESSAGE_SIZE,
            )
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            print(
                f"client: cannot connect to {self.args.url}: {exc or type(exc).__name__}",
                file=sys.stderr,
            )
            return 1

        started = time.monotonic()
        async with connection:
            print(f"connected to {self.args.url} as {self.args.name}", flush=True)
            for header in ("SVR", "X-Session-Id"):
                print(
                    f"{header}: {connection.response.headers.get(header, '(missing)')}",
                    flush=True,
                )

            reader = asyncio.create_task(self.read_messages(connection))
            stopped = asyncio.create_task(stop.wait())
            await self.send_echo_requests(connection)
            await self.wait_for_the_end(started, reader, stopped)
            if not reader.done():
                # Close 1000, then wait briefly for the server's Close.
                await connection.close()
            await reader
            stopped.cancel()

        return self.verdict()

    def _tls_context(self) -> ssl.SSLContext | None:
        if urlsplit(self.args.url).scheme != "wss":
            return None
        try:
            context = ssl.create_default_context(cafile=self.args.ca)
        except OSError as exc:
            raise OSError(f"cannot load the CA {self.args.ca}: {exc}") from exc
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _handshake_headers(self) -> list[tuple[str, str]]:
        headers = list(self.args.headers)
        if not any(name.lower() == "whoami" for name, _ in headers):
            headers.insert(0, ("WhoAmI", self.args.name))
        return headers

    async def send_echo_requests(self, connection: ClientConnection) -> None:
        for request_id in range(1, self.args.count + 1):
            self.pending[request_id] = GREETINGS[(request_id - 1) % len(GREETINGS)]
        if not self.pending:
            self.all_answered.set()
        try:
            for request_id, data in list(self.pending.items()):
                request = protocol.echo_request(request_id, data, LANGUAGE_TAG)
                await connection.send(protocol.encode(request))
        except ConnectionClosed:
            pass  # the reader reports it

    async def wait_for_the_end(
        self, started: float, reader: asyncio.Task, stopped: asyncio.Task
    ) -> None:
        """Waits for every answer (up to --timeout), then for --duration, a signal or the server."""
        answered = asyncio.create_task(self.all_answered.wait())
        try:
            done, _ = await asyncio.wait(
                {answered, reader, stopped},
                timeout=self.args.timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:
                self.fault(
                    f"no answer within {self.args.timeout:g}s for ids {sorted(self.pending)}"
                )
                return
            if answered not in done:
                return
            if self.args.duration is None:
                await asyncio.wait(
                    {reader, stopped}, return_when=asyncio.FIRST_COMPLETED
                )
            else:
                remaining = self.args.duration - (time.monotonic() - started)
                if remaining > 0:
                    await asyncio.wait(
                        {reader, stopped},
                        timeout=remaining,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
        finally:
            answered.cancel()

    async def read_messages(self, connection: ClientConnection) -> None:
        try:
            while True:
                await self.handle(connection, await connection.recv())
        except ConnectionClosed as closed:
            if closed.rcvd is not None and (
                closed.sent is None or closed.rcvd_then_sent
            ):
                print(f"server closed the connection: {closed.rcvd}", flush=True)
            elif closed.rcvd is None:
                print(f"connection lost: {closed}", flush=True)

    async def handle(self, connection: ClientConnection, payload: str | bytes) -> None:
        try:
            message = protocol.decode_server_message(payload)
        except protocol.MalformedMessage as exc:
            self.fault(f"unusable message from the server: {exc}")
            return
        match message:
            case protocol.EchoResponse():
                self.check_echo_response(message)
            case protocol.ErrorResponse(status=status, error=error):
                self.fault(f"Error response {status} from the server: {error}")
            case protocol.KissRequest():
                language, encoding = system.locale_parts()
                reply = protocol.kiss_response(language, encoding, system.time_zone())
                try:
                    await connection.send(protocol.encode(reply))
                except ConnectionClosed:
                    return
                self.kisses_answered += 1
                print(
                    f"kiss os_name={message.os_name} os_version={message.os_version}"
                    f" os_release={message.os_release} os_architecture={message.os_architecture}"
                    f" -> language={language} encoding={encoding} time_zone={reply['time_zone']}",
                    flush=True,
                )

    def check_echo_response(self, response: protocol.EchoResponse) -> None:
        expected = self.pending.pop(response.id, None)
        if expected is None:
            self.fault(f"Echo response for id {response.id}, which is not in flight")
        elif response.data != expected:
            self.fault(
                f"Echo response for id {response.id} carries data {response.data!r}, not {expected!r}"
            )
        else:
            print(
                f"echo id={response.id} idx={response.idx} data={response.data}"
                f" meta={response.meta} kv.id={response.kv_id}",
                flush=True,
            )
        if not self.pending:
            self.all_answered.set()

    def fault(self, text: str) -> None:
        self.faults.append(text)
        print(f"fault: {text}", file=sys.stderr, flush=True)

    def verdict(self) -> int:
        problems = list(self.faults)
        if self.pending:
            problems.append(f"unanswered Echo requests: ids {sorted(self.pending)}")
        if self.args.duration is not None and self.kisses_answered == 0:
            problems.append("no Kiss request was answered")
        if problems:
            print(f"result: FAILED ({len(problems)} problem(s))", flush=True)
            return 1
        print(
            f"result: ok ({self.args.count} echoes, {self.kisses_answered} kisses)",
            flush=True,
        )
        return 0


def header(text: str) -> tuple[str, str]:
    """`Name: value` from -H, for argparse's `type=`."""
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not _HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
        raise argparse.ArgumentTypeError(
            f"invalid header {text!r}: write 'Name: value'"
        )
    return name, value


def default_url() -> str:
    host = options.env("WS_SERVER", "127.0.0.1")
    host = f"[{host}]" if ":" in host else host
    return (
        f"ws://{host}:{options.env('WS_PORT', '9898')}{options.env('WS_PATH', '/ws')}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="client", description="Hello WebSocket client (Python peer)"
    )
    parser.add_argument(
        "--url", default=default_url(), help="the server, ws:// or wss://"
    )
    parser.add_argument(
        "--ca",
        type=Path,
        default=options.DEFAULT_CERTS_DIR / "ca.crt",
        help="CA for wss://",
    )
    parser.add_argument(
        "--count", type=options.count, default=3, help="Echo requests to send"
    )
    parser.add_argument(
        "--duration", type=options.positive_duration, help="how long to stay connected"
    )
    parser.add_argument(
        "--timeout", type=options.positive_duration, default="10s", help="wait per step"
    )
    parser.add_argument(
        "--name", default=f"python-client-{secrets.token_hex(2)}", help="sent as WhoAmI"
    )
    parser.add_argument(
        "-H",
        dest="headers",
        type=header,
        action="append",
        default=[],
        help="extra handshake header",
    )
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme not in ("ws", "wss") or not url.hostname:
        parser.error(
            f"invalid --url {args.url!r}: expected ws://HOST:PORT/PATH or wss://..."
        )
    if not args.name or "\r" in args.name or "\n" in args.name:
        parser.error("invalid --name")
    return args


def main() -> int:
    sys.stdout.reconfigure(errors="backslashreplace")
    args = parse_args()
    try:
        return asyncio.run(HelloClient(args).run())
    except (OSError, ssl.SSLError) as exc:
        print(f"client: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
