"""The v1 codec against the shared vectors (PROTOCOL.md, section 11.5) and a few rules of its own."""

import json
import unittest
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from hello_peer import v1

VECTORS = Path(__file__).resolve().parents[1] / "../../vectors/v1.json"
MESSAGES_BY_NAME = {
    "HELLO": v1.Hello,
    "BONJOUR": v1.Bonjour,
    "ECHO_REQUEST": v1.EchoRequest,
    "ECHO_RESPONSE": v1.EchoResponse,
    "KISS_REQUEST": v1.KissRequest,
    "KISS_RESPONSE": v1.KissResponse,
    "PING": v1.Ping,
    "PONG": v1.Pong,
    "TIME_NOTIFICATION": v1.TimeNotification,
    "RANDOM_NUMBER": v1.RandomNumber,
    "HASH_RESPONSE": v1.HashResponse,
    "DISCONNECT": v1.Disconnect,
    "ERROR": v1.Error,
}


def load_vectors() -> list[dict]:
    with VECTORS.open(encoding="utf-8") as file:
        return json.load(file)


def message_from_fields(type_name: str, values: dict) -> v1.Message:
    """The message a vector's `fields` describe; integers are decimal strings there."""
    cls = MESSAGES_BY_NAME[type_name]
    return cls(*(_value(f.metadata["wire"], values[f.name]) for f in fields(cls)))


def _value(wire: str, value):
    match wire:
        case "i32" | "i64":
            return int(value)
        case "result_type":
            return v1.ResultType(int(value))
        case "kv":
            return tuple((key, text) for key, text in value)
        case "results":
            return tuple(
                v1.EchoResult(
                    int(r["idx"]), v1.ResultType(int(r["type"])), _value("kv", r["kv"])
                )
                for r in value
            )
        case _:
            return value


def without_flags(frame: bytes) -> bytes:
    return frame[:3] + b"\x00" + frame[4:] if len(frame) >= 4 else frame


class SharedVectors(unittest.TestCase):
    def test_the_file_has_good_and_bad_frames(self):
        vectors = load_vectors()
        self.assertTrue(any("type" in v["expect"] for v in vectors))
        self.assertTrue(any("error" in v["expect"] for v in vectors))

    def test_good_frames_decode_to_their_fields_and_encode_back(self):
        for vector in load_vectors():
            if "type" not in vector["expect"]:
                continue
            with self.subTest(vector["name"]):
                frame = bytes.fromhex(vector["hex"])
                expected = message_from_fields(
                    vector["expect"]["type"], vector["expect"]["fields"]
                )
                self.assertEqual(v1.decode(frame), expected)
                self.assertEqual(v1.encode(expected), without_flags(frame))

    def test_bad_frames_are_refused_with_their_code(self):
        for vector in load_vectors():
            if "error" not in vector["expect"]:
                continue
            with self.subTest(vector["name"]):
                with self.assertRaises(v1.FrameError) as refused:
                    v1.decode(bytes.fromhex(vector["hex"]))
                self.assertEqual(refused.exception.code, vector["expect"]["error"])


class Codec(unittest.TestCase):
    def test_a_huge_count_is_refused_before_anything_is_taken(self):
        frame = bytes.fromhex("4801040000000008000000c8ffffffff")
        with self.assertRaises(v1.FrameError) as refused:
            v1.decode(frame)
        self.assertEqual(refused.exception.code, v1.ErrorCode.DECODE)

    def test_the_header_counts_the_payload(self):
        frame = v1.encode(v1.EchoRequest(7, "RUST", "Hi"))
        self.assertEqual(
            frame.hex(),
            "48010300000000160000000000000007000000045255535400000002" + "4869",
        )

    def test_i64_out_of_range_is_not_encoded(self):
        with self.assertRaises(ValueError):
            v1.encode(v1.Ping(2**63))

    def test_echo_answers_follow_section_12_4(self):
        answer = v1.echo_answer(v1.EchoRequest(-1, "GO", "x"), "PYTHON")
        self.assertEqual(answer.status, 200)
        (result,) = answer.results
        self.assertEqual((result.idx, result.type), (-1, v1.ResultType.OK))
        self.assertEqual(
            result.kv, (("id", "-1"), ("data", "x"), ("meta", "PYTHON"), ("idx", "-1"))
        )

    def test_hashes_are_the_first_ten_hex_characters_of_sha256_of_the_decimal(self):
        self.assertEqual(v1.hash_hex(-1), "1bad6b8cf9")
        self.assertEqual(
            v1.hash_response(v1.RandomNumber(3, -1)), v1.HashResponse(3, "1bad6b8cf9")
        )

    def test_times_are_rfc3339_utc_with_milliseconds(self):
        moment = datetime(2025, 12, 1, 0, 0, 0, 123456, tzinfo=UTC)
        self.assertEqual(
            v1.time_notification(moment),
            v1.TimeNotification(1764547200123, "2025-12-01T00:00:00.123Z"),
        )

    def test_every_type_has_a_sender(self):
        for cls in v1.MESSAGE_TYPES.values():
            self.assertTrue(cls.CLIENT_SENDS or cls.SERVER_SENDS, cls.__name__)


if __name__ == "__main__":
    unittest.main()
