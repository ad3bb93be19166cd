"""Session names (PROTOCOL.md, section 2.1) and the v1 session's answers and PONG matching (12)."""

import unittest
from urllib.parse import quote

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from hello_peer import v1
from hello_peer.session import (
    WHITE_SPACE,
    ending_of,
    quoted,
    session_name,
    untrusted_text,
)
from hello_peer.v1_session import Timings, V1Session


def latin1(text: str) -> str:
    """A header value as the library hands it over: its bytes decoded as ISO-8859-1."""
    return text.encode("utf-8").decode("iso-8859-1")


class Names(unittest.TestCase):
    def test_who_am_i_then_user_id_then_the_session_id(self):
        both = Headers([("WhoAmI", " who "), ("userId", "user")])
        self.assertEqual(session_name(both, "/ws?whoami=query", "id"), "who")
        self.assertEqual(
            session_name(
                Headers([("WhoAmI", "  "), ("userId", "user")]), "/ws?whoami=q", "id"
            ),
            "user",
        )
        self.assertEqual(session_name(Headers(), "/ws", "id"), "id")

    def test_the_whoami_query_parameter_names_a_session_without_headers(self):
        def name(target: str) -> str:
            return session_name(Headers([("WhoAmI", " ")]), target, "id")

        self.assertEqual(name("/ws?whoami=alice"), "alice")
        self.assertEqual(name("/ws?whoami=q+name"), "q name")
        self.assertEqual(name("/ws?x=1&whoami=%E3%81%93%20%2B+x"), "こ + x")
        self.assertEqual(name("/ws?whoami=%ff"), "\ufffd")
        self.assertEqual(name("/ws?whoami=first&whoami=second"), "first")
        self.assertEqual(name("/ws?whoami=+%20&whoami=second"), "id")
        self.assertEqual(name("/ws?whoami=" + "%C3%A9" * 100), "é" * 64)
        self.assertEqual(name("/ws?whoami=a%0Ab"), "a\nb")  # logged quoted, as "a\\nb"
        self.assertEqual(name("/ws?WhoAmI=upper&who=x&whoami="), "id")
        self.assertEqual(name("/ws?whoami"), "id")
        self.assertEqual(name("/ws"), "id")
        self.assertEqual(name("/ws#whoami=fragment"), "id")

    def test_a_long_name_is_cut_at_a_character_boundary(self):
        name = session_name(Headers([("WhoAmI", latin1("é" * 100))]), "/ws", "id")
        self.assertEqual(name, "é" * 64)
        name = session_name(Headers([("WhoAmI", latin1("a" + "é" * 100))]), "/ws", "id")
        self.assertEqual(len(name.encode()), 127)

    def test_a_cut_that_ends_in_white_space_is_trimmed_again(self):
        # Found by the reference's fuzz target untrusted_name: 127 bytes, a space, then more.
        cases = {
            "a" * 127 + " b": "a" * 127,
            "a" * 122 + "\u3000\u3000b": "a" * 122,
        }
        for raw, want in cases.items():
            with self.subTest(raw=raw):
                self.assertEqual(untrusted_text(raw), want)
                header = Headers([("WhoAmI", latin1(raw))])
                self.assertEqual(session_name(header, "/ws", "id"), want)
                query = "/ws?whoami=" + quote(raw)
                self.assertEqual(session_name(Headers(), query, "id"), want)

    def test_white_space_is_the_set_rust_trims(self):
        # Rust's char::is_whitespace (Unicode's White_Space property), as rustc lists it.
        rust = {0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}
        rust |= set(range(0x09, 0x0E)) | set(range(0x2000, 0x200B))
        self.assertEqual({ord(c) for c in WHITE_SPACE}, rust)
        isspace = {c for c in range(0x110000) if chr(c).isspace()}
        self.assertEqual(isspace - rust, set(range(0x1C, 0x20)))
        self.assertEqual(rust - isspace, set())
        for c in isspace:
            with self.subTest(c=hex(c)):
                trimmed = untrusted_text(f"{chr(c)}x{chr(c)}")
                self.assertEqual(trimmed, "x" if c in rust else f"{chr(c)}x{chr(c)}")

    def test_bytes_that_are_not_utf8_are_replaced(self):
        self.assertEqual(
            session_name(Headers([("WhoAmI", "a\xffb")]), "/ws", "id"), "a\ufffdb"
        )

    def test_names_are_logged_as_json_strings(self):
        self.assertEqual(
            quoted('evil" reason=pong timeout\n\x1bé'),
            '"evil\\" reason=pong timeout\\n\\u001bé"',
        )


class Endings(unittest.TestCase):
    def fields(self, rcvd: Close | None, sent: Close | None, rcvd_first=True) -> str:
        both = rcvd is not None and sent is not None
        closed = ConnectionClosed(rcvd, sent, rcvd_first if both else None)
        return ending_of(closed).log_fields()

    def test_the_clients_close_code_follows_client_closed(self):
        self.assertEqual(
            self.fields(Close(1000, ""), None), "reason=client closed code=1000"
        )
        self.assertEqual(
            self.fields(Close(1001, "gone"), Close(1001, "gone")),
            "reason=client closed code=1001",
        )

    def test_a_close_without_a_code_is_logged_as_1005(self):
        self.assertEqual(
            self.fields(Close.parse(b""), None), "reason=client closed code=1005"
        )

    def test_no_code_when_the_clients_close_did_not_end_the_session(self):
        self.assertEqual(
            self.fields(Close(1000, ""), Close(1009, ""), rcvd_first=False),
            "reason=error: message over the size limit",
        )
        self.assertEqual(self.fields(None, None), "reason=client vanished")
        v1_session = V1Session(TIMINGS, "PYTHON", now=0.0)
        disconnect = v1_session.answer(v1.encode(v1.Disconnect("")), 0.0).ending
        self.assertEqual(disconnect.log_fields(), "reason=client closed")


TIMINGS = Timings(
    ping_interval=1.0, session_timeout=3.0, time_interval=5.0, kiss_interval=5.0
)


class V1Sessions(unittest.TestCase):
    def setUp(self):
        self.session = V1Session(TIMINGS, "PYTHON", now=0.0)

    def ping_at(self, now: float) -> int:
        ping, *_others = self.session.frames_due(now, b"kiss")
        return v1.decode(ping).timestamp_ms

    def test_hello_is_answered_with_bonjour_and_echo_as_section_12_4(self):
        answer = self.session.answer(v1.encode(v1.Hello("GO")), 0.0)
        self.assertEqual(v1.decode(answer.frame), v1.Bonjour("PYTHON"))
        answer = self.session.answer(v1.encode(v1.EchoRequest(5, "GO", "hi")), 0.0)
        self.assertEqual(
            v1.decode(answer.frame),
            v1.echo_answer(v1.EchoRequest(5, "GO", "hi"), "PYTHON"),
        )

    def test_only_a_matching_pong_extends_the_session(self):
        timestamp = self.ping_at(1.0)
        self.session.answer(v1.encode(v1.Pong(timestamp + 1)), 1.5)
        self.assertEqual(self.session.expires, 3.0)
        self.session.answer(v1.encode(v1.Pong(timestamp)), 1.5)
        self.assertEqual(self.session.expires, 4.5)
        self.assertFalse(self.session.match_pong(timestamp, 1.6))  # matched once only

    def test_a_timeouts_worth_of_pings_is_kept(self):
        for second in range(1, 6):
            self.ping_at(float(second))
        self.assertEqual(len(self.session.outstanding), 3)

    def test_bad_frames_end_the_session_and_wrong_directions_do_not(self):
        bad_magic = self.session.answer(
            bytes.fromhex("490101000000000600000002476f"), 0.0
        )
        self.assertEqual(v1.decode(bad_magic.frame).code, v1.ErrorCode.BAD_MAGIC)
        self.assertEqual(bad_magic.ending.close_code, 1002)
        wrong_way = self.session.answer(v1.encode(v1.Ping(1)), 0.0)
        self.assertEqual(v1.decode(wrong_way.frame).code, v1.ErrorCode.UNKNOWN_TYPE)
        self.assertIsNone(wrong_way.ending)
        text = self.session.answer("{}", 0.0)
        self.assertEqual(v1.decode(text.frame).code, v1.ErrorCode.DECODE)
        self.assertEqual(text.ending.close_code, 1002)

    def test_disconnect_ends_the_session_with_1000(self):
        answer = self.session.answer(v1.encode(v1.Disconnect("")), 0.0)
        self.assertEqual(
            (answer.ending.reason, answer.ending.close_code), ("client closed", 1000)
        )


if __name__ == "__main__":
    unittest.main()
