"""The Hello WebSocket client, in either dialect: sends Echo requests, answers Kiss requests (and
Pings), then closes."""

import argparse
import asyncio
import itertools
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

from . import LANGUAGE_TAG, options, protocol, system, v1

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
            await self.begin(connection)
            await self.wait_for_the_end(started, reader, stopped)
            if not reader.done():
                await self.finish(connection, reader)
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

    async def begin(self, connection: ClientConnection) -> None:
        """Sends the Echo requests, all at once."""
        self.expect_echo_answers()
        try:
            for request_id, data in list(self.pending.items()):
                request = protocol.echo_request(request_id, data, LANGUAGE_TAG)
                await connection.send(protocol.encode(request))
        except ConnectionClosed:
            pass  # the reader reports it

    def expect_echo_answers(self) -> None:
        """Ids 1..count, with data taken in turn from GREETINGS, are in flight from now on."""
        for request_id in range(1, self.args.count + 1):
            self.pending[request_id] = GREETINGS[(request_id - 1) % len(GREETINGS)]
        if not self.pending:
            self.all_answered.set()

    async def finish(self, connection: ClientConnection, reader: asyncio.Task) -> None:
        """Close 1000, then wait briefly for the server's Close."""
        await connection.close()

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
                self.kiss_answered(message, reply["time_zone"])

    def kiss_answered(
        self, request: protocol.KissRequest | v1.KissRequest, time_zone: str
    ) -> None:
        self.kisses_answered += 1
        language, encoding = system.locale_parts()
        print(
            f"kiss os_name={request.os_name} os_version={request.os_version}"
            f" os_release={request.os_release} os_architecture={request.os_architecture}"
            f" -> language={language} encoding={encoding} time_zone={time_zone}",
            flush=True,
        )

    def check_echo_response(self, response: protocol.EchoResponse) -> None:
        if self.check_echo_answer(response.id, response.data):
            print(
                f"echo id={response.id} idx={response.idx} data={response.data}"
                f" meta={response.meta} kv.id={response.kv_id}",
                flush=True,
            )

    def check_echo_answer(self, request_id: int, data: str) -> bool:
        """Takes the answer to request `request_id` off the requests in flight; False (and a
        fault) when no such request is in flight or the data differs."""
        expected = self.pending.pop(request_id, None)
        if not self.pending:
            self.all_answered.set()
        if expected is None:
            self.fault(f"Echo response for id {request_id}, which is not in flight")
            return False
        if data != expected:
            self.fault(
                f"Echo response for id {request_id} carries data {data!r}, not {expected!r}"
            )
            return False
        return True

    def fault(self, text: str) -> None:
        self.faults.append(text)
        print(f"fault: {text}", file=sys.stderr, flush=True)

    def verdict(self) -> int:
        problems = self.problems()
        if problems:
            print(f"result: FAILED ({len(problems)} problem(s))", flush=True)
            return 1
        print(
            f"result: ok ({self.args.count} echoes, {self.kisses_answered} kisses)",
            flush=True,
        )
        return 0

    def problems(self) -> list[str]:
        problems = list(self.faults)
        if self.pending:
            problems.append(f"unanswered Echo requests: ids {sorted(self.pending)}")
        if self.args.duration is not None and self.kisses_answered == 0:
            problems.append("no Kiss request was answered")
        return problems


class V1Client(HelloClient):
    """The client in the binary dialect v1 (PROTOCOL.md, sections 11 and 12): HELLO, ECHO_REQUESTs
    matched by `kv.id`, a RANDOM_NUMBER every --random-interval with its HASH_RESPONSE checked,
    PONGs and KISS_RESPONSEs, and DISCONNECT at the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.hashes_pending: dict[
            int, str
        ] = {}  # RANDOM_NUMBER id -> the hash it is due
        self.random_numbers: asyncio.Task | None = None

    def _handshake_headers(self) -> list[tuple[str, str]]:
        headers = super()._handshake_headers()
        if not any(name.lower() == "userid" for name, _ in headers):
            headers.insert(0, ("userId", self.args.name))
        return headers

    async def begin(self, connection: ClientConnection) -> None:
        """HELLO, then the ECHO_REQUESTs all at once; RANDOM_NUMBERs from now on."""
        self.expect_echo_answers()
        try:
            await connection.send(v1.encode(v1.Hello(LANGUAGE_TAG)))
            for request_id, data in list(self.pending.items()):
                await connection.send(
                    v1.encode(v1.EchoRequest(request_id, LANGUAGE_TAG, data))
                )
        except ConnectionClosed:
            return  # the reader reports it
        self.random_numbers = asyncio.create_task(self.send_random_numbers(connection))

    async def send_random_numbers(self, connection: ClientConnection) -> None:
        for number_id in itertools.count(1):
            await asyncio.sleep(self.args.random_interval)
            number = secrets.randbits(64) - 2**63  # any i64
            self.hashes_pending[number_id] = v1.hash_hex(number)
            try:
                await connection.send(v1.encode(v1.RandomNumber(number_id, number)))
            except ConnectionClosed:
                return

    async def finish(self, connection: ClientConnection, reader: asyncio.Task) -> None:
        """DISCONNECT, then up to --timeout for the server's Close 1000 (which the library
        answers); without one, Close 1000 from here."""
        if self.random_numbers is not None:
            self.random_numbers.cancel()
        try:
            await connection.send(v1.encode(v1.Disconnect("bye")))
            await asyncio.wait_for(asyncio.shield(reader), self.args.timeout)
        except ConnectionClosed:
            pass
        except TimeoutError:
            print("no Close from the server after DISCONNECT; closing", flush=True)
            await connection.close()

    async def handle(self, connection: ClientConnection, payload: str | bytes) -> None:
        if isinstance(payload, str):
            self.fault("a text message from the server on a v1 session")
            return
        try:
            message = v1.decode(payload)
        except v1.FrameError as error:
            self.fault(f"unusable frame from the server (code {error.code}): {error}")
            return
        answer: v1.Message | None = None
        match message:
            case v1.Bonjour(server_language=language):
                print(f"bonjour server_language={language}", flush=True)
            case v1.EchoResponse():
                self.check_v1_echo_response(message)
            case v1.HashResponse():
                self.check_hash_response(message)
            case v1.Ping(timestamp_ms=timestamp_ms):
                answer = v1.Pong(timestamp_ms)
            case v1.KissRequest():
                language, encoding = system.locale_parts()
                answer = v1.KissResponse(language, encoding, system.time_zone())
            case v1.TimeNotification(timestamp_ms=timestamp_ms, iso8601=iso8601):
                print(f"time timestamp_ms={timestamp_ms} iso8601={iso8601}", flush=True)
            case v1.Error(code=v1.ErrorCode.UNKNOWN_TYPE, message=text):
                print(f"warning: the server sent ERROR 2: {text}", flush=True)
            case v1.Error(code=code, message=text):
                self.fault(f"ERROR {code} from the server: {text}")
            case _:
                self.fault(f"{type(message).__name__} is not sent to a client")
        if answer is None:
            return
        try:
            await connection.send(v1.encode(answer))
        except ConnectionClosed:
            return
        if isinstance(answer, v1.KissResponse):
            self.kiss_answered(message, answer.time_zone)

    def check_v1_echo_response(self, response: v1.EchoResponse) -> None:
        """Matched by `kv.id`, checked by `kv.data` (section 12.4)."""
        if response.status != 200 or len(response.results) != 1:
            self.fault(
                f"ECHO_RESPONSE with status {response.status} and"
                f" {len(response.results)} results, not 200 and one"
            )
            return
        kv = dict(response.results[0].kv)
        try:
            request_id = int(kv["id"])
        except (KeyError, ValueError):
            self.fault("ECHO_RESPONSE without a decimal `kv.id`")
            return
        if self.check_echo_answer(request_id, kv.get("data")):
            print(
                f"echo kv.id={request_id} data={kv.get('data')} meta={kv.get('meta')}"
                f" idx={response.results[0].idx}",
                flush=True,
            )

    def check_hash_response(self, response: v1.HashResponse) -> None:
        expected = self.hashes_pending.pop(response.id, None)
        if expected is None:
            self.fault(f"HASH_RESPONSE for id {response.id}, which was not asked")
        elif response.hash_hex != expected:
            self.fault(
                f"HASH_RESPONSE for id {response.id} is {response.hash_hex!r}, not {expected!r}"
            )
        else:
            print(f"hash id={response.id} hash_hex={response.hash_hex}", flush=True)


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
        "--dialect",
        choices=("json", "v1"),
        default="json",
        help="json, or v1 for the binary dialect",
    )
    parser.add_argument(
        "--random-interval",
        type=options.positive_duration,
        default=options.env("WS_RANDOM_INTERVAL", "5s"),
        help="v1: how often to send a RANDOM_NUMBER",
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
        client = V1Client(args) if args.dialect == "v1" else HelloClient(args)
        return asyncio.run(client.run())
    except (OSError, ssl.SSLError) as exc:
        print(f"client: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
