//! The server suite (`hello-client check`): judges any server, in any language, against
//! PROTOCOL.md.
//!
//! Each case opens its own sessions, so one case's damage cannot spill into the next, and checks
//! behaviour only: what goes over the wire, never how the server is written. A FAIL's detail
//! says what was seen and what to fix. Cases that wait for the server's timers (Kiss, Ping,
//! eviction) run side by side, so the suite takes about one ping interval plus one pong timeout
//! beyond the quick cases, whatever the intervals are.
//!
//! One file per group of cases: [`handshake`], [`echo`], [`malformed`], [`sessions`],
//! [`timers`]; [`probe`] is one session of the checker with the server.

mod echo;
mod handshake;
mod malformed;
mod probe;
mod sessions;
mod timers;
mod v1;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use hello_net::{ConnectOptions, Handshake, TlsSettings, connect, tls_for_url};
use hello_protocol::defaults;

use crate::case::{Case, Dialect};
use crate::report::{CaseResult, Finding, Report};
use probe::Probe;
use v1::malformed::BadFrame;
use v1::timers::Pongs;

/// What the server suite is told about the server under test.
#[derive(Debug, Clone)]
pub struct ServerSuiteConfig {
    /// `ws://` or `wss://` URL of the server under test.
    pub url: String,
    /// The dialect the run speaks.
    pub dialect: Dialect,
    /// The server's ping interval, pong timeout and Kiss interval, as it was started with.
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub kiss_interval: Duration,
    /// The server's timers for v1 sessions, as it was started with.
    pub v1: hello_protocol::v1::Timings,
    /// How late a timed event may be and still pass.
    pub slack: Duration,
    /// How long to wait for a connection, an answer, or a Close.
    pub timeout: Duration,
    /// The server's message limit.
    pub max_message_size: usize,
    pub tls: TlsSettings,
}

/// Every case of the server suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerCase {
    Handshake,
    EchoRoundTrip,
    EchoU64Ids,
    EchoInFlight,
    EchoUtf8,
    EchoNearLimit,
    UnknownKeysIgnored,
    BinaryFrame,
    MalformedNotJson,
    MalformedNotObject,
    MalformedIdNegative,
    MalformedIdFraction,
    MalformedIdString,
    MalformedIdTooLarge,
    MalformedMissingField,
    MalformedWrongType,
    MalformedUnknownMessage,
    MalformedKissResponse,
    InvalidUtf8,
    OverLimit,
    PathNotFound,
    Origin,
    CleanClose,
    ManySessions,
    KissArrives,
    PingsArrive,
    Eviction,
    LiveNotEvicted,
    V1Handshake,
    V1HelloBonjour,
    V1EchoRoundTrip,
    V1EchoI64Ids,
    V1EchoInFlight,
    V1EchoUtf8,
    V1EchoNearLimit,
    V1Hash,
    V1UnknownType,
    V1WrongDirection,
    V1BadMagic,
    V1BadVersion,
    V1LongLength,
    V1ShortLength,
    V1TrailingPayload,
    V1TruncatedString,
    V1InvalidUtf8,
    V1AnswersBeforeError,
    V1OverLimit,
    V1Disconnect,
    V1ManySessions,
    V1PingsArrive,
    V1TimeArrives,
    V1KissArrives,
    V1Eviction,
    V1UnmatchedPongs,
    V1LiveNotEvicted,
}

impl Case for ServerCase {
    const ALL: &'static [Self] = &[
        ServerCase::Handshake,
        ServerCase::EchoRoundTrip,
        ServerCase::EchoU64Ids,
        ServerCase::EchoInFlight,
        ServerCase::EchoUtf8,
        ServerCase::EchoNearLimit,
        ServerCase::UnknownKeysIgnored,
        ServerCase::BinaryFrame,
        ServerCase::MalformedNotJson,
        ServerCase::MalformedNotObject,
        ServerCase::MalformedIdNegative,
        ServerCase::MalformedIdFraction,
        ServerCase::MalformedIdString,
        ServerCase::MalformedIdTooLarge,
        ServerCase::MalformedMissingField,
        ServerCase::MalformedWrongType,
        ServerCase::MalformedUnknownMessage,
        ServerCase::MalformedKissResponse,
        ServerCase::InvalidUtf8,
        ServerCase::OverLimit,
        ServerCase::PathNotFound,
        ServerCase::Origin,
        ServerCase::CleanClose,
        ServerCase::ManySessions,
        ServerCase::KissArrives,
        ServerCase::PingsArrive,
        ServerCase::Eviction,
        ServerCase::LiveNotEvicted,
        ServerCase::V1Handshake,
        ServerCase::V1HelloBonjour,
        ServerCase::V1EchoRoundTrip,
        ServerCase::V1EchoI64Ids,
        ServerCase::V1EchoInFlight,
        ServerCase::V1EchoUtf8,
        ServerCase::V1EchoNearLimit,
        ServerCase::V1Hash,
        ServerCase::V1UnknownType,
        ServerCase::V1WrongDirection,
        ServerCase::V1BadMagic,
        ServerCase::V1BadVersion,
        ServerCase::V1LongLength,
        ServerCase::V1ShortLength,
        ServerCase::V1TrailingPayload,
        ServerCase::V1TruncatedString,
        ServerCase::V1InvalidUtf8,
        ServerCase::V1AnswersBeforeError,
        ServerCase::V1OverLimit,
        ServerCase::V1Disconnect,
        ServerCase::V1ManySessions,
        ServerCase::V1PingsArrive,
        ServerCase::V1TimeArrives,
        ServerCase::V1KissArrives,
        ServerCase::V1Eviction,
        ServerCase::V1UnmatchedPongs,
        ServerCase::V1LiveNotEvicted,
    ];

    fn name(self) -> &'static str {
        match self {
            ServerCase::Handshake => "handshake",
            ServerCase::EchoRoundTrip => "echo-round-trip",
            ServerCase::EchoU64Ids => "echo-u64-ids",
            ServerCase::EchoInFlight => "echo-in-flight",
            ServerCase::EchoUtf8 => "echo-utf8",
            ServerCase::EchoNearLimit => "echo-near-limit",
            ServerCase::UnknownKeysIgnored => "unknown-keys-ignored",
            ServerCase::BinaryFrame => "binary-frame",
            ServerCase::MalformedNotJson => "malformed-not-json",
            ServerCase::MalformedNotObject => "malformed-not-object",
            ServerCase::MalformedIdNegative => "malformed-id-negative",
            ServerCase::MalformedIdFraction => "malformed-id-fraction",
            ServerCase::MalformedIdString => "malformed-id-string",
            ServerCase::MalformedIdTooLarge => "malformed-id-too-large",
            ServerCase::MalformedMissingField => "malformed-missing-field",
            ServerCase::MalformedWrongType => "malformed-wrong-type",
            ServerCase::MalformedUnknownMessage => "malformed-unknown-message",
            ServerCase::MalformedKissResponse => "malformed-kiss-response",
            ServerCase::InvalidUtf8 => "invalid-utf8-1007",
            ServerCase::OverLimit => "over-limit-1009",
            ServerCase::PathNotFound => "path-404",
            ServerCase::Origin => "origin",
            ServerCase::CleanClose => "clean-close",
            ServerCase::ManySessions => "many-sessions",
            ServerCase::KissArrives => "kiss-arrives",
            ServerCase::PingsArrive => "pings-arrive",
            ServerCase::Eviction => "eviction",
            ServerCase::LiveNotEvicted => "live-not-evicted",
            ServerCase::V1Handshake => "handshake",
            ServerCase::V1HelloBonjour => "hello-bonjour",
            ServerCase::V1EchoRoundTrip => "echo-round-trip",
            ServerCase::V1EchoI64Ids => "echo-i64-ids",
            ServerCase::V1EchoInFlight => "echo-in-flight",
            ServerCase::V1EchoUtf8 => "echo-utf8",
            ServerCase::V1EchoNearLimit => "echo-near-limit",
            ServerCase::V1Hash => "hash",
            ServerCase::V1UnknownType => "unknown-type",
            ServerCase::V1WrongDirection => "wrong-direction",
            ServerCase::V1BadMagic => "bad-magic",
            ServerCase::V1BadVersion => "bad-version",
            ServerCase::V1LongLength => "long-length",
            ServerCase::V1ShortLength => "short-length",
            ServerCase::V1TrailingPayload => "trailing-payload",
            ServerCase::V1TruncatedString => "truncated-string",
            ServerCase::V1InvalidUtf8 => "invalid-utf8-string",
            ServerCase::V1AnswersBeforeError => "answers-before-error",
            ServerCase::V1OverLimit => "over-limit-1009",
            ServerCase::V1Disconnect => "disconnect",
            ServerCase::V1ManySessions => "many-sessions",
            ServerCase::V1PingsArrive => "pings-arrive",
            ServerCase::V1TimeArrives => "time-arrives",
            ServerCase::V1KissArrives => "kiss-arrives",
            ServerCase::V1Eviction => "eviction",
            ServerCase::V1UnmatchedPongs => "eviction-unmatched-pongs",
            ServerCase::V1LiveNotEvicted => "live-not-evicted",
        }
    }

    fn checks(self) -> &'static str {
        match self {
            ServerCase::Handshake => {
                "the upgrade is answered 101 with a non-empty `SVR` header and an `X-Session-Id` that is a UUID v4, with `WhoAmI` sent"
            }
            ServerCase::EchoRoundTrip => {
                "an Echo request is answered with status 200, one result carrying the request's id, type OK, `kv.idx` the id as a string, `kv.data` unchanged, a non-empty `kv.meta` and a UUID v4 `kv.id` that differs between two answers"
            }
            ServerCase::EchoU64Ids => {
                "ids 0, 2^53+1 and 2^64-1 come back exactly, in `results[0].id` and in `kv.idx`"
            }
            ServerCase::EchoInFlight => {
                "500 requests sent at once are each answered exactly once, with their own data, matched by id"
            }
            ServerCase::EchoUtf8 => {
                "multilingual text, emoji, an empty string, quotes, backslashes and control characters, and `\\u` escapes come back as the same code points"
            }
            ServerCase::EchoNearLimit => {
                "a request just under the message limit is answered with its data intact"
            }
            ServerCase::UnknownKeysIgnored => {
                "a request with extra keys is answered as if they were absent"
            }
            ServerCase::BinaryFrame => "a request in a binary frame is answered",
            ServerCase::MalformedNotJson => {
                "a text frame that is not JSON is answered 400 with a non-empty `error` and an empty `results`, and the session still answers requests"
            }
            ServerCase::MalformedNotObject => {
                "a JSON array is answered 400, and the session goes on"
            }
            ServerCase::MalformedIdNegative => "`id` -1 is answered 400, and the session goes on",
            ServerCase::MalformedIdFraction => "`id` 1.5 is answered 400, and the session goes on",
            ServerCase::MalformedIdString => "`id` \"1\" is answered 400, and the session goes on",
            ServerCase::MalformedIdTooLarge => "`id` 2^64 is answered 400, and the session goes on",
            ServerCase::MalformedMissingField => {
                "an Echo request without `data` is answered 400, and the session goes on"
            }
            ServerCase::MalformedWrongType => {
                "an Echo request whose `data` is a number is answered 400, and the session goes on"
            }
            ServerCase::MalformedUnknownMessage => {
                "an object with none of the known keys is answered 400, and the session goes on"
            }
            ServerCase::MalformedKissResponse => {
                "a Kiss response missing keys is answered 400, and the session goes on"
            }
            ServerCase::InvalidUtf8 => {
                "a text frame that is not valid UTF-8 is answered with Close 1007, and a new session works"
            }
            ServerCase::OverLimit => {
                "a message one byte over the limit is answered with Close 1009, and a new session works"
            }
            ServerCase::PathNotFound => "a handshake for another path is answered HTTP 404",
            ServerCase::Origin => {
                "a handshake with a foreign `Origin` (`https://hello-check.invalid`), and one with `Origin: null`, are each answered HTTP 403; one with the origin of the URL being judged (`http://HOST:PORT` for ws, `https://` for wss) is answered 101 (section 2.2)"
            }
            ServerCase::CleanClose => "a Close 1000 from the client is answered with a Close",
            ServerCase::ManySessions => {
                "20 sessions at once get 20 distinct session ids and are all answered"
            }
            ServerCase::KissArrives => {
                "a Kiss request with four non-empty facts arrives within the Kiss interval (+ slack), a second one an interval later, and the Kiss response sent back is accepted (no 400)"
            }
            ServerCase::PingsArrive => {
                "a Ping arrives within the ping interval (+ slack) of the handshake, and another within an interval of it"
            }
            ServerCase::Eviction => {
                "a client that stops reading, and so answers no Ping, is closed with 1008, or reset (which is reported), within ping interval + pong timeout (+ slack)"
            }
            ServerCase::LiveNotEvicted => {
                "a client that answers every Ping is still served after ping interval + pong timeout (+ slack)"
            }
            ServerCase::V1Handshake => {
                "the upgrade, with `userId` and `WhoAmI` sent, is answered 101 (`SVR` and `X-Session-Id` are reported, not required)"
            }
            ServerCase::V1HelloBonjour => {
                "HELLO is answered with BONJOUR carrying a non-empty server_language, and a second HELLO is answered again"
            }
            ServerCase::V1EchoRoundTrip => {
                "ECHO_REQUEST is answered with ECHO_RESPONSE status 200 and one result of type OK whose `kv.id` is the id in decimal and `kv.data` the data unchanged; `results[0].idx`, `kv.idx` and `kv.meta` are reported where they differ from section 12.4"
            }
            ServerCase::V1EchoI64Ids => {
                "ids -2^63, -1, 0, 2^53+1 and 2^63-1 come back exactly in `kv.id`"
            }
            ServerCase::V1EchoInFlight => {
                "500 ECHO_REQUESTs sent at once are each answered exactly once, with their own data, matched by `kv.id`"
            }
            ServerCase::V1EchoUtf8 => {
                "multilingual text, emoji, an empty string, quotes, backslashes and control characters come back as the same bytes"
            }
            ServerCase::V1EchoNearLimit => {
                "an ECHO_REQUEST frame just under the message limit is answered with its data intact"
            }
            ServerCase::V1Hash => {
                "RANDOM_NUMBER -1, 0, 42, -2^63 and 2^63-1 are each answered with HASH_RESPONSE of the same id and the first 10 hex characters of SHA-256 of the number in decimal"
            }
            ServerCase::V1UnknownType => {
                "a frame of type 0x42 is answered with ERROR code 2, and the session still answers requests"
            }
            ServerCase::V1WrongDirection => {
                "a PING sent to the server (a type in the wrong direction) is answered with ERROR code 2, and the session goes on"
            }
            ServerCase::V1BadMagic => {
                "a frame with magic 0x4A gets ERROR code 4, then Close 1002, and a new session works"
            }
            ServerCase::V1BadVersion => {
                "a frame with version 0x02 gets ERROR code 5, then Close 1002, and a new session works"
            }
            ServerCase::V1LongLength => {
                "a payload length larger than the bytes that follow gets ERROR code 3, then Close 1002, and a new session works"
            }
            ServerCase::V1ShortLength => {
                "a payload length smaller than the bytes that follow gets ERROR code 1 or 3 (which is reported), then Close 1002, and a new session works"
            }
            ServerCase::V1TrailingPayload => {
                "a byte after a payload's last field gets ERROR code 1 or 3 (which is reported), then Close 1002, and a new session works"
            }
            ServerCase::V1TruncatedString => {
                "a string length past the payload's end gets ERROR code 1, then Close 1002, and a new session works"
            }
            ServerCase::V1InvalidUtf8 => {
                "a string that is not valid UTF-8 gets ERROR code 1, then Close 1002, and a new session works"
            }
            ServerCase::V1AnswersBeforeError => {
                "two ECHO_REQUESTs, a bad frame and one more, in one write: both requests are answered before the ERROR and the Close 1002"
            }
            ServerCase::V1OverLimit => {
                "a frame one byte over the message limit is answered with Close 1009, and a new session works"
            }
            ServerCase::V1Disconnect => "DISCONNECT is answered with Close 1000",
            ServerCase::V1ManySessions => "20 v1 sessions at once are all answered",
            ServerCase::V1PingsArrive => {
                "a PING arrives within the v1 ping interval (+ slack) of HELLO and another an interval later, with timestamps in ms since the Unix epoch near the checker's clock, the second after the first"
            }
            ServerCase::V1TimeArrives => {
                "a TIME_NOTIFICATION arrives within the v1 time interval (+ slack) of HELLO and another an interval later, its iso8601 RFC 3339 in UTC with milliseconds and `Z`, naming the millisecond of its timestamp_ms (±1)"
            }
            ServerCase::V1KissArrives => {
                "a KISS_REQUEST with four non-empty facts arrives within the v1 kiss interval (+ slack) of HELLO and another an interval later, and the KISS_RESPONSEs sent back draw no ERROR"
            }
            ServerCase::V1Eviction => {
                "a client that reads but answers no PING is closed with 1008, not before the v1 session timeout (- slack) and by the timeout + a ping interval (+ slack)"
            }
            ServerCase::V1UnmatchedPongs => {
                "a client answering every PING with a timestamp it never got is closed with 1008 in the same bounds: only matching PONGs extend a session"
            }
            ServerCase::V1LiveNotEvicted => {
                "a client answering every PING with its timestamp is still served after the v1 session timeout + a ping interval (+ slack)"
            }
        }
    }

    fn timed(self) -> bool {
        matches!(
            self,
            ServerCase::KissArrives
                | ServerCase::PingsArrive
                | ServerCase::Eviction
                | ServerCase::LiveNotEvicted
                | ServerCase::V1PingsArrive
                | ServerCase::V1TimeArrives
                | ServerCase::V1KissArrives
                | ServerCase::V1Eviction
                | ServerCase::V1UnmatchedPongs
                | ServerCase::V1LiveNotEvicted
        )
    }

    fn dialects(self) -> &'static [Dialect] {
        if self.is_v1() {
            &[Dialect::V1]
        } else {
            &[Dialect::Json]
        }
    }
}

impl ServerCase {
    /// Runs the case against the server.
    async fn run(self, checker: &Checker) -> Checked {
        match self {
            ServerCase::Handshake => checker.handshake().await,
            ServerCase::EchoRoundTrip => checker.echo_round_trip().await,
            ServerCase::EchoU64Ids => checker.echo_u64_ids().await,
            ServerCase::EchoInFlight => checker.echo_in_flight(500).await,
            ServerCase::EchoUtf8 => checker.echo_utf8().await,
            ServerCase::EchoNearLimit => checker.echo_near_limit().await,
            ServerCase::UnknownKeysIgnored => checker.unknown_keys_ignored().await,
            ServerCase::BinaryFrame => checker.binary_frame().await,
            ServerCase::MalformedNotJson => checker.malformed(r#"{"id": 1, "data": "x""#).await,
            ServerCase::MalformedNotObject => checker.malformed("[1, 2, 3]").await,
            ServerCase::MalformedIdNegative => {
                checker
                    .malformed(r#"{"id": -1, "data": "x", "meta": "RUST"}"#)
                    .await
            }
            ServerCase::MalformedIdFraction => {
                checker
                    .malformed(r#"{"id": 1.5, "data": "x", "meta": "RUST"}"#)
                    .await
            }
            ServerCase::MalformedIdString => {
                checker
                    .malformed(r#"{"id": "1", "data": "x", "meta": "RUST"}"#)
                    .await
            }
            ServerCase::MalformedIdTooLarge => {
                checker
                    .malformed(r#"{"id": 18446744073709551616, "data": "x", "meta": "RUST"}"#)
                    .await
            }
            ServerCase::MalformedMissingField => {
                checker.malformed(r#"{"id": 1, "meta": "RUST"}"#).await
            }
            ServerCase::MalformedWrongType => {
                checker
                    .malformed(r#"{"id": 1, "data": 42, "meta": "RUST"}"#)
                    .await
            }
            ServerCase::MalformedUnknownMessage => checker.malformed(r#"{"hello": "world"}"#).await,
            ServerCase::MalformedKissResponse => {
                checker.malformed(r#"{"language": "en_US"}"#).await
            }
            ServerCase::InvalidUtf8 => checker.invalid_utf8().await,
            ServerCase::OverLimit => checker.over_limit().await,
            ServerCase::PathNotFound => checker.path_404().await,
            ServerCase::Origin => checker.origin().await,
            ServerCase::CleanClose => checker.clean_close().await,
            ServerCase::ManySessions => checker.many_sessions(20).await,
            ServerCase::KissArrives => checker.kiss_arrives().await,
            ServerCase::PingsArrive => checker.pings_arrive().await,
            ServerCase::Eviction => checker.eviction().await,
            ServerCase::LiveNotEvicted => checker.live_not_evicted().await,
            ServerCase::V1Handshake => checker.v1_handshake().await,
            ServerCase::V1HelloBonjour => checker.v1_hello_bonjour().await,
            ServerCase::V1EchoRoundTrip => checker.v1_echo_round_trip().await,
            ServerCase::V1EchoI64Ids => checker.v1_echo_i64_ids().await,
            ServerCase::V1EchoInFlight => checker.v1_echo_in_flight(500).await,
            ServerCase::V1EchoUtf8 => checker.v1_echo_utf8().await,
            ServerCase::V1EchoNearLimit => checker.v1_echo_near_limit().await,
            ServerCase::V1Hash => checker.v1_hash().await,
            ServerCase::V1UnknownType => checker.v1_unknown_type().await,
            ServerCase::V1WrongDirection => checker.v1_wrong_direction().await,
            ServerCase::V1BadMagic => checker.v1_bad_frame(BadFrame::Magic).await,
            ServerCase::V1BadVersion => checker.v1_bad_frame(BadFrame::Version).await,
            ServerCase::V1LongLength => checker.v1_bad_frame(BadFrame::LongLength).await,
            ServerCase::V1ShortLength => checker.v1_bad_frame(BadFrame::ShortLength).await,
            ServerCase::V1TrailingPayload => checker.v1_bad_frame(BadFrame::TrailingPayload).await,
            ServerCase::V1TruncatedString => checker.v1_bad_frame(BadFrame::TruncatedString).await,
            ServerCase::V1InvalidUtf8 => checker.v1_bad_frame(BadFrame::InvalidUtf8).await,
            ServerCase::V1AnswersBeforeError => checker.v1_answers_before_error().await,
            ServerCase::V1OverLimit => checker.v1_over_limit().await,
            ServerCase::V1Disconnect => checker.v1_disconnect().await,
            ServerCase::V1ManySessions => checker.v1_many_sessions(20).await,
            ServerCase::V1PingsArrive => checker.v1_pings_arrive().await,
            ServerCase::V1TimeArrives => checker.v1_time_arrives().await,
            ServerCase::V1KissArrives => checker.v1_kiss_arrives().await,
            ServerCase::V1Eviction => checker.v1_eviction(Pongs::None).await,
            ServerCase::V1UnmatchedPongs => checker.v1_eviction(Pongs::Unmatched).await,
            ServerCase::V1LiveNotEvicted => checker.v1_live_not_evicted().await,
        }
    }

    /// Whether the case judges v1 sessions; the others judge JSON ones.
    fn is_v1(self) -> bool {
        matches!(
            self,
            ServerCase::V1Handshake
                | ServerCase::V1HelloBonjour
                | ServerCase::V1EchoRoundTrip
                | ServerCase::V1EchoI64Ids
                | ServerCase::V1EchoInFlight
                | ServerCase::V1EchoUtf8
                | ServerCase::V1EchoNearLimit
                | ServerCase::V1Hash
                | ServerCase::V1UnknownType
                | ServerCase::V1WrongDirection
                | ServerCase::V1BadMagic
                | ServerCase::V1BadVersion
                | ServerCase::V1LongLength
                | ServerCase::V1ShortLength
                | ServerCase::V1TrailingPayload
                | ServerCase::V1TruncatedString
                | ServerCase::V1InvalidUtf8
                | ServerCase::V1AnswersBeforeError
                | ServerCase::V1OverLimit
                | ServerCase::V1Disconnect
                | ServerCase::V1ManySessions
                | ServerCase::V1PingsArrive
                | ServerCase::V1TimeArrives
                | ServerCase::V1KissArrives
                | ServerCase::V1Eviction
                | ServerCase::V1UnmatchedPongs
                | ServerCase::V1LiveNotEvicted
        )
    }
}

/// Runs `cases` against the server, calling `on_result` as each one ends, and returns the
/// report, its cases in the order given. The timed cases run side by side, after the others.
pub async fn run_server_suite(
    config: &ServerSuiteConfig,
    cases: &[ServerCase],
    mut on_result: impl FnMut(&CaseResult),
) -> Report {
    let checker = Checker {
        config: config.clone(),
        tls: tls_for_url(&config.url, &config.tls).map_err(|error| error.to_string()),
        svr: Mutex::default(),
    };
    let mut results: Vec<(ServerCase, CaseResult)> = Vec::with_capacity(cases.len());
    for &case in cases.iter().filter(|case| !case.timed()) {
        let result = checker.run(case).await;
        on_result(&result);
        results.push((case, result));
    }
    let timed: Vec<ServerCase> = cases.iter().copied().filter(|case| case.timed()).collect();
    let timed_results = join_all(timed.iter().map(|&case| checker.run(case))).await;
    for (case, result) in timed.into_iter().zip(timed_results) {
        on_result(&result);
        results.push((case, result));
    }
    let mut ordered = Vec::with_capacity(results.len());
    for case in cases {
        if let Some(at) = results.iter().position(|(ran, _)| ran == case) {
            ordered.push(results.swap_remove(at).1);
        }
    }
    Report {
        suite: "server".to_owned(),
        target: config.url.clone(),
        svr: checker
            .svr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        cases: ordered,
    }
}

type TlsConfig = Option<Arc<tokio_rustls::rustls::ClientConfig>>;

/// What every case of one run shares.
struct Checker {
    config: ServerSuiteConfig,
    tls: Result<TlsConfig, String>,
    /// The `SVR` the server sent, for the report.
    svr: Mutex<Option<String>>,
}

/// A case's own result: what was seen when it passes, what is wrong when it fails.
type Checked = Result<String, String>;

impl Checker {
    async fn run(&self, case: ServerCase) -> CaseResult {
        let started = std::time::Instant::now();
        let finding = Finding::from(case.run(self).await);
        CaseResult::new(case.label(self.config.dialect), finding, started.elapsed())
    }

    pub(super) async fn open(&self) -> Result<Probe, String> {
        self.open_url(&self.config.url).await
    }

    pub(super) fn options<'a>(&self, url: &'a str) -> Result<ConnectOptions<'a>, String> {
        Ok(ConnectOptions {
            url,
            name: Some("hello-check"),
            headers: &[],
            timeout: self.config.timeout,
            max_message_size: self.config.max_message_size * defaults::CLIENT_MESSAGE_SIZE_FACTOR,
            tls: self.tls.clone()?,
            local_addr: None,
        })
    }

    pub(super) async fn open_url(&self, url: &str) -> Result<Probe, String> {
        let options = self.options(url)?;
        let (ws, handshake) = connect(&options).await.map_err(|error| error.to_string())?;
        self.note_svr(&handshake);
        Ok(Probe {
            ws,
            handshake,
            timeout: self.config.timeout,
        })
    }
}

impl Checker {
    /// Keeps the `SVR` header the server sent, for the report.
    pub(super) fn note_svr(&self, handshake: &Handshake) {
        if let Some(svr) = handshake.svr() {
            *self.svr.lock().unwrap_or_else(|p| p.into_inner()) = Some(svr.to_owned());
        }
    }
}

fn human(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn case_names_are_unique_in_each_dialect() {
        let names: HashSet<(&str, Dialect)> = ServerCase::ALL
            .iter()
            .flat_map(|case| case.dialects().iter().map(|d| (case.name(), *d)))
            .collect();
        assert_eq!(names.len(), ServerCase::ALL.len());
    }
}
