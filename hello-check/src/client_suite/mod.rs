//! The client suite (`hello-server check`): judges clients, in any language, against
//! PROTOCOL.md.
//!
//! It serves the protocol as a server does, but watches everything each client does: its
//! handshake, every message, how fast it answers Kiss requests and Pings, and how it leaves. It
//! also answers Echo requests that arrive together in reverse order, so a client that pairs
//! answers with requests by arrival order rather than by id trips over its own data check.
//! After the next N sessions have ended (or the timeout has run out) each one is judged.
//!
//! Each session's first data message fixes its dialect, JSON or v1, and the session is served in
//! it; a session in another dialect than the run's fails every case, saying which to run.
//!
//! [`watch`] serves and records the sessions; one file per group of cases judges the records:
//! [`session`], [`echo`], [`kiss`], [`pings`], [`random`].

mod echo;
mod kiss;
mod pings;
mod random;
mod session;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use hello_net::{Accepted, AcceptedStream, Endpoint, Serve, accept_loop};
use hello_protocol::{defaults, v1};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::case::{Case, Dialect};
use crate::report::{CaseResult, Finding, Report};
use watch::{Record, judge_connection};

/// How to judge clients: the server's side of the protocol the judge keeps, and the run.
#[derive(Debug, Clone)]
pub struct ClientSuiteConfig {
    /// The WebSocket path; any other is answered 404.
    pub path: String,
    /// The dialect the run speaks.
    pub dialect: Dialect,
    /// How often each session is sent a Ping, and how soon its Pong is due.
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    /// How often each session is sent a Kiss request; its answer is due within it.
    pub kiss_interval: Duration,
    /// The timers v1 sessions are served with.
    pub v1: v1::Timings,
    /// How often a v1 client is expected to send a RANDOM_NUMBER.
    pub random_interval: Duration,
    /// How long a handshake, TLS and WebSocket, may take.
    pub handshake_timeout: Duration,
    /// How long a session the client closed waits for its last frames to go out.
    pub close_timeout: Duration,
    /// The largest message accepted, in bytes.
    pub max_message_size: usize,
    /// How many sessions to judge.
    pub clients: usize,
    /// How long the whole judgement may take; sessions still open then are judged as they are.
    pub timeout: Duration,
    /// Echo requests arriving within this window of each other are answered together, in
    /// reverse order.
    pub reorder_window: Duration,
    /// The clients are web browsers, which cannot set handshake headers: their name is looked
    /// for in the `whoami` query parameter, and the header cases are skipped when it is there.
    pub browser: bool,
}

impl Default for ClientSuiteConfig {
    /// PROTOCOL.md's intervals and limits, one client, a minute to judge it.
    fn default() -> Self {
        ClientSuiteConfig {
            path: defaults::PATH.to_owned(),
            dialect: Dialect::default(),
            ping_interval: defaults::PING_INTERVAL,
            pong_timeout: defaults::PONG_TIMEOUT,
            kiss_interval: defaults::KISS_INTERVAL,
            v1: v1::Timings::default(),
            random_interval: defaults::V1_RANDOM_INTERVAL,
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT,
            close_timeout: defaults::CLOSE_TIMEOUT,
            max_message_size: defaults::MAX_MESSAGE_SIZE,
            clients: 1,
            timeout: defaults::CLIENT_SUITE_TIMEOUT,
            reorder_window: defaults::REORDER_WINDOW,
            browser: false,
        }
    }
}

/// Every case of the client suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientCase {
    WhoamiSent,
    UserIdSent,
    HelloFirst,
    EchoRequestsSent,
    EchoWellFormed,
    EchoIdsUnique,
    AnswersMatchedById,
    KissAnswered,
    KissPlausible,
    PingsAnswered,
    PongsEchoPings,
    RandomNumbersSent,
    Closes1000,
    DisconnectThenClose,
}

impl Case for ClientCase {
    const ALL: &'static [Self] = &[
        ClientCase::WhoamiSent,
        ClientCase::UserIdSent,
        ClientCase::HelloFirst,
        ClientCase::EchoRequestsSent,
        ClientCase::EchoWellFormed,
        ClientCase::EchoIdsUnique,
        ClientCase::AnswersMatchedById,
        ClientCase::KissAnswered,
        ClientCase::KissPlausible,
        ClientCase::PingsAnswered,
        ClientCase::PongsEchoPings,
        ClientCase::RandomNumbersSent,
        ClientCase::Closes1000,
        ClientCase::DisconnectThenClose,
    ];

    fn name(self) -> &'static str {
        match self {
            ClientCase::WhoamiSent => "whoami-sent",
            ClientCase::UserIdSent => "user-id-sent",
            ClientCase::HelloFirst => "hello-first",
            ClientCase::EchoRequestsSent => "echo-requests-sent",
            ClientCase::EchoWellFormed => "echo-well-formed",
            ClientCase::EchoIdsUnique => "echo-ids-unique",
            ClientCase::AnswersMatchedById => "answers-matched-by-id",
            ClientCase::KissAnswered => "kiss-answered",
            ClientCase::KissPlausible => "kiss-plausible",
            ClientCase::PingsAnswered => "pings-answered",
            ClientCase::PongsEchoPings => "pongs-echo-pings",
            ClientCase::RandomNumbersSent => "random-numbers-sent",
            ClientCase::Closes1000 => "closes-1000",
            ClientCase::DisconnectThenClose => "disconnect-then-close",
        }
    }

    fn checks(self) -> &'static str {
        match self {
            ClientCase::WhoamiSent => "the handshake carries a non-empty `WhoAmI` header",
            ClientCase::UserIdSent => "the handshake carries a non-empty `userId` header",
            ClientCase::HelloFirst => {
                "the client's first message is HELLO, with a non-empty `client_language`"
            }
            ClientCase::EchoRequestsSent => "the client sends at least one Echo request",
            ClientCase::EchoWellFormed => {
                "every message the client sends is valid, and one a client sends: in JSON an Echo request (integer id, string data and meta) or a Kiss response, none drawing a 400; in v1 a frame of a client's type, none drawing an ERROR"
            }
            ClientCase::EchoIdsUnique => {
                "the client never reuses an id while a request with it is in flight"
            }
            ClientCase::AnswersMatchedById => {
                "answered in reverse order of its requests, the client still ends with Close 1000 (it matched answers by id, `results[0].id` in JSON and `kv.id` in v1, not by order); skipped when it never had two requests in flight"
            }
            ClientCase::KissAnswered => {
                "every Kiss request sent at least one Kiss interval (in v1, the v1 Kiss interval) before the session ended is answered within that interval; skipped when the session was too short for one"
            }
            ClientCase::KissPlausible => {
                "each Kiss response carries a locale like `en_US`, an encoding like `UTF-8` and an IANA time zone like `Europe/Paris` or `UTC`"
            }
            ClientCase::PingsAnswered => {
                "every Ping sent at least one pong timeout before the session ended is answered by a Pong within the pong timeout"
            }
            ClientCase::PongsEchoPings => {
                "every PING sent at least one v1 ping interval before the session ended is answered within that interval by a PONG echoing its `timestamp_ms` exactly, and no PONG echoes a timestamp no PING carried; skipped when the session was too short for one"
            }
            ClientCase::RandomNumbersSent => {
                "the client sends a RANDOM_NUMBER every `--random-interval`, give or take half of it: the first within 1.5 intervals of its first message, every gap between two from 0.5 to 1.5 intervals, and the last within 1.5 intervals of the end; skipped when the session lasted under 1.5 intervals and sent none"
            }
            ClientCase::Closes1000 => {
                "the client ends its session with Close 1000, not by dropping the connection"
            }
            ClientCase::DisconnectThenClose => {
                "the client ends its session with DISCONNECT, then answers the server's Close 1000 (or, given none within its close timeout, closes with 1000 itself); skipped when the server closed the session after a bad frame"
            }
        }
    }

    fn timed(self) -> bool {
        matches!(
            self,
            ClientCase::KissAnswered
                | ClientCase::PingsAnswered
                | ClientCase::PongsEchoPings
                | ClientCase::RandomNumbersSent
        )
    }

    fn dialects(self) -> &'static [Dialect] {
        match self {
            ClientCase::WhoamiSent | ClientCase::PingsAnswered | ClientCase::Closes1000 => {
                &[Dialect::Json]
            }
            ClientCase::UserIdSent
            | ClientCase::HelloFirst
            | ClientCase::PongsEchoPings
            | ClientCase::RandomNumbersSent
            | ClientCase::DisconnectThenClose => &[Dialect::V1],
            ClientCase::EchoRequestsSent
            | ClientCase::EchoWellFormed
            | ClientCase::EchoIdsUnique
            | ClientCase::AnswersMatchedById
            | ClientCase::KissAnswered
            | ClientCase::KissPlausible => Dialect::ALL,
        }
    }
}

impl ClientCase {
    /// The case's verdict on one session, in a run judging `config.dialect`.
    fn judge(self, record: &Record, config: &ClientSuiteConfig) -> Finding {
        let dialect = config.dialect;
        if let Some(spoken) = record.dialect.filter(|spoken| *spoken != dialect) {
            return Finding::fail(format!(
                "the client spoke {}; this run judges {}: run with --dialect {}",
                dialect_name(spoken),
                dialect_name(dialect),
                spoken.name()
            ));
        }
        match self {
            ClientCase::WhoamiSent => session::whoami_sent(record, config.browser),
            ClientCase::UserIdSent => session::user_id_sent(record, config.browser),
            ClientCase::HelloFirst => session::hello_first(record),
            ClientCase::EchoRequestsSent => echo::echo_requests_sent(record),
            ClientCase::EchoWellFormed => echo::echo_well_formed(record, dialect),
            ClientCase::EchoIdsUnique => echo::echo_ids_unique(record),
            ClientCase::AnswersMatchedById => echo::answers_matched_by_id(record, dialect),
            ClientCase::KissAnswered => kiss::kiss_answered(record, config),
            ClientCase::KissPlausible => kiss::kiss_plausible(record),
            ClientCase::PingsAnswered => pings::pings_answered(record, config),
            ClientCase::PongsEchoPings => pings::pongs_echo_pings(record, config),
            ClientCase::RandomNumbersSent => random::random_numbers_sent(record, config),
            ClientCase::Closes1000 => session::closes_1000(record),
            ClientCase::DisconnectThenClose => session::disconnect_then_close(record),
        }
    }
}

/// A dialect as the verdicts name it.
fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Json => "JSON",
        Dialect::V1 => "v1",
    }
}

/// Serves each accepted connection under judgement, and hands its record on.
struct Judge {
    config: Arc<ClientSuiteConfig>,
    records: mpsc::Sender<Record>,
    /// When the whole judgement ends.
    deadline: Instant,
}

impl Serve for Judge {
    fn serve<S: AcceptedStream>(
        &self,
        accepted: Accepted<S>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (config, records, deadline) = (
            Arc::clone(&self.config),
            self.records.clone(),
            self.deadline,
        );
        async move {
            let judged = judge_connection(
                accepted.stream,
                accepted.peer,
                &config,
                accepted.deadline,
                deadline,
            );
            if let Some(record) = judged.await {
                let _ = records.send(record).await;
            }
        }
    }
}

/// Serves `endpoints` until `config.clients` sessions have ended or `config.timeout` has run
/// out, then judges every session with `cases`, calling `on_result` for each result.
pub async fn run_client_suite(
    endpoints: Vec<Endpoint>,
    config: ClientSuiteConfig,
    cases: &[ClientCase],
    mut on_result: impl FnMut(&CaseResult),
) -> Report {
    let target = endpoints
        .iter()
        .filter_map(|endpoint| endpoint.url(&config.path))
        .collect::<Vec<_>>()
        .join(" ");
    let deadline = Instant::now() + config.timeout;
    let config = Arc::new(config);
    let (records, mut finished) = mpsc::channel(config.clients.max(1));
    let tasks = TaskTracker::new();
    let stop = CancellationToken::new();
    for endpoint in endpoints {
        let judge = Judge {
            config: Arc::clone(&config),
            records: records.clone(),
            deadline,
        };
        tasks.spawn(accept_loop(
            endpoint,
            config.handshake_timeout,
            tasks.clone(),
            stop.clone(),
            judge,
        ));
    }
    drop(records);
    let mut judged = Vec::new();
    while judged.len() < config.clients {
        match timeout_at(deadline + Duration::from_secs(1), finished.recv()).await {
            Ok(Some(record)) => judged.push(record),
            Ok(None) | Err(_) => break,
        }
    }
    stop.cancel();
    let mut results = Vec::new();
    for (n, record) in judged.iter().enumerate() {
        let label = |case: ClientCase| {
            let name = case.label(config.dialect);
            if config.clients == 1 {
                name
            } else {
                format!("client {} ({}): {name}", n + 1, record.label())
            }
        };
        for &case in cases {
            let result = CaseResult::new(label(case), case.judge(record, &config), Duration::ZERO);
            on_result(&result);
            results.push(result);
        }
    }
    for missing in judged.len()..config.clients {
        let result = CaseResult::new(
            format!("client {}", missing + 1),
            Finding::fail(format!(
                "no client session within {}; start the client against this server",
                humantime::format_duration(config.timeout)
            )),
            Duration::ZERO,
        );
        on_result(&result);
        results.push(result);
    }
    Report {
        suite: "client".to_owned(),
        target,
        svr: None,
        cases: results,
    }
}
