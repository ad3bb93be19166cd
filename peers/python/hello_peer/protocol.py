"""The messages of PROTOCOL.md: building them, and telling apart and checking what arrives.

Messages carry no type tag, so a receiver classifies each JSON object by its keys (section 3.7)
and then checks it strictly. A message that fails raises `MalformedMessage`, whose text is what a
server sends back in an Error response.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

U64_MAX = 2**64 - 1

ECHO_REQUEST_KEYS = ("id", "data", "meta")
KISS_RESPONSE_KEYS = ("language", "encoding", "time_zone")
KISS_REQUEST_KEYS = ("os_name", "os_version", "os_release", "os_architecture")


class MalformedMessage(ValueError):
    """A message that is not JSON, not an object, or not valid as the message it looks like."""


@dataclass(frozen=True)
class EchoRequest:
    id: int
    data: str
    meta: str


@dataclass(frozen=True)
class EchoResponse:
    id: int
    kv_id: str
    idx: str
    data: str
    meta: str


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    error: str


@dataclass(frozen=True)
class KissRequest:
    os_name: str
    os_version: str
    os_release: str
    os_architecture: str


@dataclass(frozen=True)
class KissResponse:
    language: str
    encoding: str
    time_zone: str


def encode(message: dict[str, Any]) -> str:
    """One message as compact JSON text, with non-ASCII characters written as UTF-8."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def echo_request(request_id: int, data: str, meta: str) -> dict[str, Any]:
    return {"id": request_id, "data": data, "meta": meta}


def echo_response(request: EchoRequest, meta: str) -> dict[str, Any]:
    kv = {
        "id": str(uuid.uuid4()),
        "idx": str(request.id),
        "data": request.data,
        "meta": meta,
    }
    return {"status": 200, "results": [{"id": request.id, "type": "OK", "kv": kv}]}


def error_response(error: str) -> dict[str, Any]:
    return {"status": 400, "results": [], "error": error}


def kiss_response(language: str, encoding: str, time_zone: str) -> dict[str, Any]:
    return {"language": language, "encoding": encoding, "time_zone": time_zone}


def decode_client_message(payload: str | bytes) -> EchoRequest | KissResponse:
    """What a server receives: an Echo request or a Kiss response."""
    message = _parse_object(payload)
    if any(key in message for key in ECHO_REQUEST_KEYS):
        kind = "Echo request"
        return EchoRequest(
            id=_u64(message, "id", kind),
            data=_string(message, "data", kind),
            meta=_string(message, "meta", kind),
        )
    if any(key in message for key in KISS_RESPONSE_KEYS):
        kind = "Kiss response"
        return KissResponse(
            *(_string(message, key, kind, non_empty=True) for key in KISS_RESPONSE_KEYS)
        )
    raise MalformedMessage(
        "no known message: expected an Echo request (keys id, data, meta)"
        " or a Kiss response (keys language, encoding, time_zone)"
    )


def decode_server_message(
    payload: str | bytes,
) -> EchoResponse | ErrorResponse | KissRequest:
    """What a client receives: an Echo response, an Error response or a Kiss request."""
    message = _parse_object(payload)
    if "status" in message:
        status = message["status"]
        if not _is_integer(status):
            raise MalformedMessage(
                f"response: `status` must be an integer, got {_describe(status)}"
            )
        if status == 200:
            return _echo_response(message)
        return _error_response(message, status)
    if any(key in message for key in KISS_REQUEST_KEYS):
        kind = "Kiss request"
        return KissRequest(
            *(_string(message, key, kind, non_empty=True) for key in KISS_REQUEST_KEYS)
        )
    raise MalformedMessage(
        "no known message: expected a response (key status) or a Kiss request (keys os_name, ...)"
    )


def _echo_response(message: dict[str, Any]) -> EchoResponse:
    kind = "Echo response"
    results = _field(message, "results", kind)
    if not isinstance(results, list) or len(results) != 1:
        raise MalformedMessage(
            f"{kind}: `results` must be an array of exactly one element"
        )
    result = results[0]
    if not isinstance(result, dict):
        raise MalformedMessage(
            f"{kind}: `results[0]` must be an object, got {_describe(result)}"
        )
    response_id = _u64(result, "id", kind, path="results[0].")
    if _field(result, "type", kind, path="results[0].") != "OK":
        raise MalformedMessage(f'{kind}: `results[0].type` must be "OK"')
    kv = _field(result, "kv", kind, path="results[0].")
    if not isinstance(kv, dict):
        raise MalformedMessage(
            f"{kind}: `results[0].kv` must be an object, got {_describe(kv)}"
        )
    path = "results[0].kv."
    kv_id = _string(kv, "id", kind, path=path)
    if not _is_uuid_v4(kv_id):
        raise MalformedMessage(
            f"{kind}: `{path}id` must be a lowercase UUID v4, got {kv_id!r}"
        )
    idx = _string(kv, "idx", kind, path=path)
    if idx != str(response_id):
        raise MalformedMessage(
            f"{kind}: `{path}idx` {idx!r} does not match `results[0].id` {response_id}"
        )
    return EchoResponse(
        id=response_id,
        kv_id=kv_id,
        idx=idx,
        data=_string(kv, "data", kind, path=path),
        meta=_string(kv, "meta", kind, path=path),
    )


def _error_response(message: dict[str, Any], status: int) -> ErrorResponse:
    kind = "Error response"
    if _field(message, "results", kind) != []:
        raise MalformedMessage(f"{kind}: `results` must be an empty array")
    return ErrorResponse(
        status=status, error=_string(message, "error", kind, non_empty=True)
    )


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    message = dict(pairs)
    if len(message) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {json.dumps(key)}")
            seen.add(key)
    return message


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_object(payload: str | bytes) -> dict[str, Any]:
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage(
                f"not JSON: binary message is not UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
    try:
        value = json.loads(
            payload,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
        )
    except _DuplicateKey as exc:
        raise MalformedMessage(f"malformed object: {exc}") from None
    except RecursionError:
        raise MalformedMessage("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedMessage(f"not a JSON object but {_describe(value)}")
    return value


def _field(message: dict[str, Any], key: str, kind: str, path: str = "") -> Any:
    try:
        return message[key]
    except KeyError:
        raise MalformedMessage(f"{kind}: missing key `{path}{key}`") from None


def _string(
    message: dict[str, Any],
    key: str,
    kind: str,
    *,
    path: str = "",
    non_empty: bool = False,
) -> str:
    value = _field(message, key, kind, path)
    if not isinstance(value, str):
        raise MalformedMessage(
            f"{kind}: `{path}{key}` must be a string, got {_describe(value)}"
        )
    if non_empty and not value:
        raise MalformedMessage(f"{kind}: `{path}{key}` must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedMessage(
            f"{kind}: `{path}{key}` contains a lone surrogate (\\uD800-\\uDFFF escape)"
        ) from None
    return value


def _u64(message: dict[str, Any], key: str, kind: str, path: str = "") -> int:
    value = _field(message, key, kind, path)
    if not _is_integer(value) or not 0 <= value <= U64_MAX:
        raise MalformedMessage(
            f"{kind}: `{path}{key}` must be an unsigned 64-bit integer, got {_describe(value)}"
        )
    return value


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_uuid_v4(text: str) -> bool:
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == text


def _describe(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() if value < 0:
            return "a negative integer"
        case int() if value > U64_MAX:
            return f"an integer above {U64_MAX}"
        case int():
            return "an integer"
        case float():
            return "a number with a fraction or an exponent"
        case str():
            return "a string"
        case list():
            return "an array"
        case _:
            return "an object"
