"""The binary dialect v1 (PROTOCOL.md, section 11): its frames, encoded and decoded.

No I/O here: bytes in, a message or a `FrameError` out, and back. Each message is a frozen
dataclass whose fields, in order, are the payload's fields; each field's metadata names its wire
type, so one reader and one writer serve every message.

The decoder is strict: every length and count is checked against the bytes that remain before
anything is taken for it, bytes after a payload's last field are refused, and the checks run in
the order of section 11.4 (size, magic, version, length, type, payload).
"""

import calendar
import hashlib
import struct
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import IntEnum
from typing import ClassVar

MAGIC = 0x48
VERSION = 0x01
HEADER_SIZE = 8

_HEADER = struct.Struct(">BBBBI")
_U32 = struct.Struct(">I")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")

# The smallest encoding of one element, for checking a count before taking anything for it.
_KV_ENTRY_MIN_SIZE = 2 * _U32.size  # two empty strings
_RESULT_MIN_SIZE = _I64.size + 1 + _U32.size  # idx, type, an empty kv


class ErrorCode(IntEnum):
    """The codes of section 11.4."""

    DECODE = 1
    UNKNOWN_TYPE = 2
    LENGTH_OVERRUN = 3
    BAD_MAGIC = 4
    BAD_VERSION = 5
    SESSION_NOT_FOUND = 6
    INTERNAL = 7

    @property
    def closes_session(self) -> bool:
        """Codes 1, 3, 4 and 5 end the session (ERROR, then Close 1002); code 2 does not."""
        return self in (
            ErrorCode.DECODE,
            ErrorCode.LENGTH_OVERRUN,
            ErrorCode.BAD_MAGIC,
            ErrorCode.BAD_VERSION,
        )


class FrameError(ValueError):
    """A frame the decoder refuses, with the code an ERROR answer carries."""

    def __init__(self, code: ErrorCode, what: str) -> None:
        super().__init__(what)
        self.code = code
        self.what = what


class ResultType(IntEnum):
    OK = 0
    ERROR = 1


def _wire(kind: str):
    """A dataclass field whose wire type is `kind`: a method name of `_Reader` and `_Writer`."""
    return field(metadata={"wire": kind})


@dataclass(frozen=True)
class EchoResult:
    idx: int = _wire("i64")
    type: ResultType = _wire("result_type")
    kv: tuple[tuple[str, str], ...] = _wire("kv")


@dataclass(frozen=True)
class Message:
    """A v1 message; `TYPE` is its type byte, `CLIENT_SENDS` whether a client sends it."""

    TYPE: ClassVar[int]
    CLIENT_SENDS: ClassVar[bool]
    SERVER_SENDS: ClassVar[bool]


@dataclass(frozen=True)
class Hello(Message):
    TYPE = 0x01
    CLIENT_SENDS, SERVER_SENDS = True, False
    client_language: str = _wire("string")


@dataclass(frozen=True)
class Bonjour(Message):
    TYPE = 0x02
    CLIENT_SENDS, SERVER_SENDS = False, True
    server_language: str = _wire("string")


@dataclass(frozen=True)
class EchoRequest(Message):
    TYPE = 0x03
    CLIENT_SENDS, SERVER_SENDS = True, False
    id: int = _wire("i64")
    meta: str = _wire("string")
    data: str = _wire("string")


@dataclass(frozen=True)
class EchoResponse(Message):
    TYPE = 0x04
    CLIENT_SENDS, SERVER_SENDS = False, True
    status: int = _wire("i32")
    results: tuple[EchoResult, ...] = _wire("results")


@dataclass(frozen=True)
class KissRequest(Message):
    TYPE = 0x05
    CLIENT_SENDS, SERVER_SENDS = False, True
    os_name: str = _wire("string")
    os_version: str = _wire("string")
    os_release: str = _wire("string")
    os_architecture: str = _wire("string")


@dataclass(frozen=True)
class KissResponse(Message):
    TYPE = 0x06
    CLIENT_SENDS, SERVER_SENDS = True, False
    language: str = _wire("string")
    encoding: str = _wire("string")
    time_zone: str = _wire("string")


@dataclass(frozen=True)
class Ping(Message):
    TYPE = 0x07
    CLIENT_SENDS, SERVER_SENDS = False, True
    timestamp_ms: int = _wire("i64")


@dataclass(frozen=True)
class Pong(Message):
    TYPE = 0x08
    CLIENT_SENDS, SERVER_SENDS = True, False
    timestamp_ms: int = _wire("i64")


@dataclass(frozen=True)
class TimeNotification(Message):
    TYPE = 0x09
    CLIENT_SENDS, SERVER_SENDS = False, True
    timestamp_ms: int = _wire("i64")
    iso8601: str = _wire("string")


@dataclass(frozen=True)
class RandomNumber(Message):
    TYPE = 0x0A
    CLIENT_SENDS, SERVER_SENDS = True, False
    id: int = _wire("i64")
    number: int = _wire("i64")


@dataclass(frozen=True)
class HashResponse(Message):
    TYPE = 0x0B
    CLIENT_SENDS, SERVER_SENDS = False, True
    id: int = _wire("i64")
    hash_hex: str = _wire("string")


@dataclass(frozen=True)
class Disconnect(Message):
    TYPE = 0x0C
    CLIENT_SENDS, SERVER_SENDS = True, False
    reason: str = _wire("string")


@dataclass(frozen=True)
class Error(Message):
    TYPE = 0x7F
    CLIENT_SENDS, SERVER_SENDS = True, True
    code: int = _wire("i32")
    message: str = _wire("string")


MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Hello,
        Bonjour,
        EchoRequest,
        EchoResponse,
        KissRequest,
        KissResponse,
        Ping,
        Pong,
        TimeNotification,
        RandomNumber,
        HashResponse,
        Disconnect,
        Error,
    )
}


def is_v1(message: bytes) -> bool:
    """Whether a binary message is a v1 frame by its first byte (section 12.1)."""
    return message[:1] == bytes([MAGIC])


# Encoding


def encode(message: Message) -> bytes:
    """One frame: the header (flags 0) and the payload. Raises ValueError for a value that does
    not fit its wire type (an i64 out of range, a string that cannot be UTF-8)."""
    writer = _Writer()
    writer.fields(message)
    payload = b"".join(writer.parts)
    header = _HEADER.pack(MAGIC, VERSION, message.TYPE, 0, len(payload))
    return header + payload


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def fields(self, value: Message | EchoResult) -> None:
        for wire_field in fields(value):
            getattr(self, wire_field.metadata["wire"])(getattr(value, wire_field.name))

    def _pack(self, packer: struct.Struct, value: int) -> None:
        try:
            self.parts.append(packer.pack(value))
        except struct.error as exc:
            raise ValueError(f"{value} does not fit: {exc}") from None

    def i32(self, value: int) -> None:
        self._pack(_I32, value)

    def i64(self, value: int) -> None:
        self._pack(_I64, value)

    def u32(self, value: int) -> None:
        self._pack(_U32, value)

    def result_type(self, value: ResultType) -> None:
        self.parts.append(bytes([ResultType(value)]))

    def string(self, value: str) -> None:
        encoded = value.encode("utf-8")
        self.u32(len(encoded))
        self.parts.append(encoded)

    def kv(self, entries: tuple[tuple[str, str], ...]) -> None:
        self.u32(len(entries))
        for key, value in entries:
            self.string(key)
            self.string(value)

    def results(self, results: tuple[EchoResult, ...]) -> None:
        self.u32(len(results))
        for result in results:
            self.fields(result)


# Decoding


def decode(frame: bytes) -> Message:
    """The message in one frame, or FrameError with the code of section 11.4."""
    if len(frame) < HEADER_SIZE:
        raise FrameError(
            ErrorCode.DECODE,
            f"a frame of {len(frame)} bytes is shorter than the {HEADER_SIZE}-byte header",
        )
    magic, version, type_byte, _flags, length = _HEADER.unpack_from(frame)
    if magic != MAGIC:
        raise FrameError(ErrorCode.BAD_MAGIC, "bad magic")
    if version != VERSION:
        raise FrameError(ErrorCode.BAD_VERSION, f"bad version {version}")
    following = len(frame) - HEADER_SIZE
    if length > following:
        raise FrameError(
            ErrorCode.LENGTH_OVERRUN,
            f"payload length {length} is larger than the {following} bytes that follow",
        )
    if length < following:
        raise FrameError(
            ErrorCode.DECODE,
            f"payload length {length} is smaller than the {following} bytes that follow",
        )
    message_type = MESSAGE_TYPES.get(type_byte)
    if message_type is None:
        raise FrameError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type 0x{type_byte:02X}"
        )
    reader = _Reader(memoryview(frame)[HEADER_SIZE:], message_type.__name__)
    message = reader.fields(message_type)
    if reader.remaining:
        raise FrameError(
            ErrorCode.DECODE,
            f"{message_type.__name__}: {reader.remaining} bytes after the last field",
        )
    return message


class _Reader:
    """Takes fields off a payload, each checked against the bytes that remain."""

    def __init__(self, payload: memoryview, kind: str) -> None:
        self.payload = payload
        self.offset = 0
        self.kind = kind

    @property
    def remaining(self) -> int:
        return len(self.payload) - self.offset

    def fields(self, cls: type):
        return cls(
            *(
                getattr(self, wire_field.metadata["wire"])(wire_field.name)
                for wire_field in fields(cls)
            )
        )

    def _fail(self, what: str) -> FrameError:
        return FrameError(ErrorCode.DECODE, f"{self.kind}: {what}")

    def _take(self, size: int, name: str) -> memoryview:
        if size > self.remaining:
            raise self._fail(
                f"`{name}` needs {size} bytes, {self.remaining} remain in the payload"
            )
        taken = self.payload[self.offset : self.offset + size]
        self.offset += size
        return taken

    def _unpack(self, packer: struct.Struct, name: str) -> int:
        return packer.unpack(self._take(packer.size, name))[0]

    def i32(self, name: str) -> int:
        return self._unpack(_I32, name)

    def i64(self, name: str) -> int:
        return self._unpack(_I64, name)

    def result_type(self, name: str) -> ResultType:
        value = self._take(1, name)[0]
        try:
            return ResultType(value)
        except ValueError:
            raise self._fail(
                f"`{name}` {value} is neither 0 (OK) nor 1 (ERROR)"
            ) from None

    def _count(self, name: str, element_min_size: int) -> int:
        count = self._unpack(_U32, name)
        if count * element_min_size > self.remaining:
            raise self._fail(
                f"`{name}` counts {count} elements, more than the {self.remaining} bytes left can hold"
            )
        return count

    def string(self, name: str) -> str:
        size = self._unpack(_U32, name)
        try:
            return str(self._take(size, name), "utf-8")
        except UnicodeDecodeError:
            raise self._fail(f"`{name}` is not valid UTF-8") from None

    def kv(self, name: str) -> tuple[tuple[str, str], ...]:
        count = self._count(name, _KV_ENTRY_MIN_SIZE)
        return tuple(
            (self.string(f"{name} key"), self.string(f"{name} value"))
            for _ in range(count)
        )

    def results(self, name: str) -> tuple[EchoResult, ...]:
        count = self._count(name, _RESULT_MIN_SIZE)
        return tuple(self.fields(EchoResult) for _ in range(count))


# The answers a server makes


def echo_answer(request: EchoRequest, server_tag: str) -> EchoResponse:
    """Section 12.4: status 200, one OK result whose idx is the id, and a kv of the request's id
    in decimal, its data, the server's tag and the id again."""
    decimal = str(request.id)
    kv = (
        ("id", decimal),
        ("data", request.data),
        ("meta", server_tag),
        ("idx", decimal),
    )
    return EchoResponse(200, (EchoResult(request.id, ResultType.OK, kv),))


def hash_hex(number: int) -> str:
    """The first 10 hex characters of SHA-256 of the number in ASCII decimal."""
    return hashlib.sha256(str(number).encode("ascii")).hexdigest()[:10]


def hash_response(request: RandomNumber) -> HashResponse:
    return HashResponse(request.id, hash_hex(request.number))


def unix_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, exactly (no float rounding)."""
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


def time_notification(now: datetime | None = None) -> TimeNotification:
    """The time as ms since the Unix epoch and as RFC 3339 in UTC with milliseconds and `Z`,
    both naming the same millisecond."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    iso8601 = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return TimeNotification(unix_ms(now), iso8601)
