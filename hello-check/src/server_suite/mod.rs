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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use hello_net::{ConnectOptions, TlsSettings, connect, tls_for_url};
use hello_protocol::defaults;

use crate::case::{Case, Dialect};
use crate::report::{CaseResult, Finding, Report};
use probe::Probe;

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
    CleanClose,
    ManySessions,
    KissArrives,
    PingsArrive,
    Eviction,
    LiveNotEvicted,
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
        ServerCase::CleanClose,
        ServerCase::ManySessions,
        ServerCase::KissArrives,
        ServerCase::PingsArrive,
        ServerCase::Eviction,
        ServerCase::LiveNotEvicted,
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
            ServerCase::CleanClose => "clean-close",
            ServerCase::ManySessions => "many-sessions",
            ServerCase::KissArrives => "kiss-arrives",
            ServerCase::PingsArrive => "pings-arrive",
            ServerCase::Eviction => "eviction",
            ServerCase::LiveNotEvicted => "live-not-evicted",
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
                "a client that stops reading, and so answers no Ping, is closed with 1008 within ping interval + pong timeout (+ slack)"
            }
            ServerCase::LiveNotEvicted => {
                "a client that answers every Ping is still served after ping interval + pong timeout (+ slack)"
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
        )
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
            ServerCase::CleanClose => checker.clean_close().await,
            ServerCase::ManySessions => checker.many_sessions(20).await,
            ServerCase::KissArrives => checker.kiss_arrives().await,
            ServerCase::PingsArrive => checker.pings_arrive().await,
            ServerCase::Eviction => checker.eviction().await,
            ServerCase::LiveNotEvicted => checker.live_not_evicted().await,
        }
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
        if let Some(svr) = handshake.svr() {
            *self.svr.lock().unwrap_or_else(|p| p.into_inner()) = Some(svr.to_owned());
        }
        Ok(Probe {
            ws,
            handshake,
            timeout: self.config.timeout,
        })
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
    fn case_names_are_unique() {
        let names: HashSet<&str> = ServerCase::ALL.iter().map(|case| case.name()).collect();
        assert_eq!(names.len(), ServerCase::ALL.len());
    }
}
