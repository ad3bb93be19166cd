"""The Origin policy (PROTOCOL.md, section 2.2) and the checks of `--allow-origin`."""

import contextlib
import io
import unittest
import unittest.mock

from hello_peer.origin import OriginPolicy, allowed_origin
from hello_peer.server import parse_args


def own(*, allowed=(), hosts=("127.0.0.1",)) -> OriginPolicy:
    """A server on --host 127.0.0.1, ws on 9898 and wss on 9886."""
    return OriginPolicy(hosts, allowed, [9898, 9886])


class OwnOrigin(unittest.TestCase):
    def assert_accepted(self, policy: OriginPolicy, *origins: str) -> None:
        for origin in origins:
            with self.subTest(origin=origin):
                self.assertTrue(policy.accepts([origin]))

    def assert_refused(self, policy: OriginPolicy, *origins: str) -> None:
        for origin in origins:
            with self.subTest(origin=origin):
                self.assertFalse(policy.accepts([origin]))

    def test_no_origin_is_accepted(self):
        self.assertTrue(own().accepts([]))

    def test_the_servers_own_names_and_ports(self):
        self.assert_accepted(
            own(),
            "http://127.0.0.1:9898",
            "https://127.0.0.1:9886",
            "http://localhost:9886",
            "HTTP://LocalHost:9898",
            "http://127.0.0.1:9898/",
        )

    def test_ipv6_loopback(self):
        self.assert_accepted(own(), "http://[::1]:9898", "http://[0:0::1]:9898")
        self.assert_refused(own(), "http://::1:9898", "http://[::1:9898")

    def test_without_a_port_the_schemes_default_port(self):
        policy = OriginPolicy([], [], [80, 443])
        self.assert_accepted(policy, "http://localhost", "https://127.0.0.1")
        self.assert_refused(own(), "http://localhost", "https://127.0.0.1")
        self.assert_refused(OriginPolicy([], [], [80]), "https://localhost")

    def test_a_wrong_port_is_refused(self):
        self.assert_refused(
            own(), "http://127.0.0.1:9899", "http://127.0.0.1:0", "http://[::1]:1"
        )

    def test_a_wrong_scheme_is_refused(self):
        self.assert_refused(
            own(), "ws://127.0.0.1:9898", "wss://localhost:9886", "file://localhost"
        )

    def test_a_wrong_host_is_refused(self):
        self.assert_refused(
            own(),
            "https://evil.example",
            "http://evil.example:9898",
            "http://127.0.0.2:9898",
            "http://localhost.evil.example:9898",
        )

    def test_host_and_san_are_own_names(self):
        policy = own(hosts=("0.0.0.0", "Hello.Example", "[2001:db8::1]"))
        self.assert_accepted(
            policy,
            "http://0.0.0.0:9898",
            "https://hello.example:9886",
            "http://[2001:db8:0::1]:9898",
        )
        self.assert_refused(own(), "https://hello.example:9886")

    def test_ports_bound_later_count(self):
        policy = OriginPolicy([], [], [0])
        self.assert_refused(policy, "http://127.0.0.1:41234")
        policy.listening_on(41234)
        self.assert_accepted(policy, "http://127.0.0.1:41234")

    def test_null_and_garbage_are_refused(self):
        self.assert_refused(
            own(),
            "null",
            "",
            "garbage",
            "127.0.0.1:9898",
            "http://",
            "http:127.0.0.1:9898",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:x",
            "http://127.0.0.1:",
            "http://user@127.0.0.1:9898",
            "http://127.0.0.1:9898/page",
            "http://127.0.0.1:9898?q",
            "http://127.0.0.1:9898#f",
            "http://127.0.0.1:98\t98",
            "http://127.0.0.1:9898\n",
            "http://127.0.0.1:9898 x",
            "http://127.0.0.1:٩٨٩٨",
            "http://\u0131ocalhost:9898",
        )

    def test_two_origins_are_refused_whatever_they_say(self):
        policy = own(allowed=["https://app.example"])
        for first in ("http://127.0.0.1:9898", "https://app.example"):
            with self.subTest(first=first):
                self.assertFalse(policy.accepts([first, first]))


class AllowedOrigins(unittest.TestCase):
    def test_an_allowed_origin_without_case_and_trailing_slash(self):
        policy = own(allowed=["https://App.Example:8443/", "http://other.example"])
        for origin in (
            "https://app.example:8443",
            "HTTPS://APP.EXAMPLE:8443/",
            "http://other.example",
            "http://other.example/",
        ):
            with self.subTest(origin=origin):
                self.assertTrue(policy.accepts([origin]))
        for origin in (
            "https://app.example",
            "http://app.example:8443",
            "https://app.example:8443/x",
            "https://evil.example",
            "null",
        ):
            with self.subTest(origin=origin):
                self.assertFalse(policy.accepts([origin]))

    def test_a_star_allows_every_origin(self):
        policy = own(allowed=["*"])
        for origins in (["https://evil.example"], ["null"], ["garbage"], [""]):
            with self.subTest(origins=origins):
                self.assertTrue(policy.accepts(origins))
        self.assertFalse(policy.accepts(["https://a.example", "https://b.example"]))

    def test_allow_origin_values_are_checked(self):
        self.assertEqual(allowed_origin(" https://app.example "), "https://app.example")
        self.assertEqual(allowed_origin("*"), "*")
        for value in ("null", "app.example", "https://app.example/page", "http://"):
            with self.subTest(value=value), self.assertRaises(ValueError):
                allowed_origin(value)

    def test_flags_then_the_environment(self):
        args = parse_args(
            ["--allow-origin", "https://a.example", "--allow-origin", "*"]
        )
        self.assertEqual(args.allow_origin, ["https://a.example", "*"])
        self.assertEqual(parse_args(["--san", "x", "--san", "y"]).san, ["x", "y"])
        with unittest.mock.patch.dict(
            "os.environ", {"WS_ALLOW_ORIGIN": "https://a.example, http://b.example:8,"}
        ):
            self.assertEqual(
                parse_args([]).allow_origin, ["https://a.example", "http://b.example:8"]
            )
            self.assertEqual(parse_args(["--allow-origin", "*"]).allow_origin, ["*"])
        with unittest.mock.patch.dict("os.environ", {"WS_ALLOW_ORIGIN": ""}):
            self.assertEqual(parse_args([]).allow_origin, [])

    def test_a_bad_allowed_origin_is_a_usage_error(self):
        for argv, env in (
            (["--allow-origin", "app.example"], {}),
            ([], {"WS_ALLOW_ORIGIN": "https://a.example,null"}),
        ):
            with (
                self.subTest(argv=argv, env=env),
                unittest.mock.patch.dict("os.environ", env),
                contextlib.redirect_stderr(io.StringIO()),
                self.assertRaises(SystemExit) as exited,
            ):
                parse_args(argv)
            self.assertEqual(exited.exception.code, 2)


if __name__ == "__main__":
    unittest.main()
