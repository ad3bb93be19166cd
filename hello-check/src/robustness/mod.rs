//! The robustness suite (`hello-client robustness`): judges whether a server, in any language,
//! **survives** hostile clients (PROTOCOL.md section 13), where the server suite judges whether
//! it is correct.
//!
//! Like the server suite it judges by behaviour on the wire only. Every case opens its own
//! connections and closes them before the next case starts (the suite's process may hold at
//! most 20,000 files), and every wait is bounded by the server's settings as they are told to
//! the suite. Each case's detail prints figures (counts, times, bytes), not just a verdict.
//!
//! One file per group of cases: [`oversize`], [`handshakes`] (slowloris, garbage before and
//! after the handshake, the connection limit), [`pressure`] (non-readers, the Ping flood, frozen
//! clients), [`fragments`]; [`session`] is one connection of the suite to the server, in either
//! dialect, and [`memory`] the server's memory figures.

mod fragments;
mod handshakes;
mod memory;
mod oversize;
mod pressure;
mod session;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hello_net::{ConnectOptions, TlsSettings, tls_for_url};
use hello_protocol::{defaults, v1};

use crate::case::{Case, Dialect};
use crate::report::{CaseResult, Finding, Report};

pub use memory::{MemoryFigures, MemoryWatch};

/// The full scale of every case: what each count defaults to. `scripts/robustness.sh --ci`
/// runs a reduced one that still proves each case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    /// `oversize-delivered`: clients per size (8 MiB, then 2 MiB).
    pub oversize_clients: usize,
    /// `slowloris`: connections that send half a handshake.
    pub slowloris_connections: usize,
    /// `non-readers`: clients that write and never read.
    pub non_readers: usize,
    /// `non-readers`: Echo requests each writes at most.
    pub non_reader_requests: usize,
    /// `non-readers` and `ping-flood`: how long each writes at most.
    pub write_time: Duration,
    /// `ping-flood`: Pings sent without reading.
    pub ping_flood: usize,
    /// `frozen-clients`: sessions in all.
    pub frozen_sessions: usize,
    /// `frozen-clients`: of them, those that stop reading.
    pub frozen_stopped: usize,
    /// `garbage-handshake`: connections that send random bytes instead of a handshake.
    pub garbage_connections: usize,
}

impl Default for Scale {
    fn default() -> Self {
        Scale {
            oversize_clients: 20,
            slowloris_connections: 1_000,
            non_readers: 200,
            non_reader_requests: 20_000,
            write_time: Duration::from_secs(10),
            ping_flood: 100_000,
            frozen_sessions: 500,
            frozen_stopped: 100,
            garbage_connections: 10,
        }
    }
}

/// The default bound on the server's memory growth while it is under pressure: 256 MiB
/// (PROTOCOL.md section 13 says why).
pub const MAX_MEMORY_GROWTH: u64 = 256 * 1024 * 1024;

/// What the robustness suite is told about the server under test.
#[derive(Debug, Clone)]
pub struct RobustnessConfig {
    /// `ws://` or `wss://` URL of the server under test.
    pub url: String,
    /// The dialect the protocol-speaking cases speak.
    pub dialect: Dialect,
    /// The server's settings, as it was started with.
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub handshake_timeout: Duration,
    pub close_timeout: Duration,
    pub max_connections: usize,
    pub max_message_size: usize,
    /// The server's v1 timers (its ping interval and session timeout matter here).
    pub v1: v1::Timings,
    /// How late (or early) a timed event may be and still pass.
    pub slack: Duration,
    /// How long to wait for a connection, an answer, or a Close.
    pub timeout: Duration,
    pub tls: TlsSettings,
    /// The server's process id, when it runs on this host: its memory is then measured.
    pub server_pid: Option<u32>,
    /// The most the server's resident memory may grow under pressure, in bytes.
    pub max_memory_growth: u64,
    pub scale: Scale,
}

impl RobustnessConfig {
    /// How long after a client stops answering Pings the server must have evicted it and
    /// ended the connection: ping interval + pong timeout (in v1, session timeout + v1 ping
    /// interval), + slack, + the close timeout it may spend on a client that does not read.
    fn eviction_bound(&self) -> Duration {
        let silence = match self.dialect {
            Dialect::Json => self.ping_interval + self.pong_timeout,
            Dialect::V1 => self.v1.session_timeout + self.v1.ping_interval,
        };
        silence + self.slack + self.close_timeout
    }
}

/// Every case of the robustness suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RobustnessCase {
    OversizeDelivered,
    Slowloris,
    NonReaders,
    PingFlood,
    FragmentsOneByte,
    FragmentsUtf8Split,
    FragmentsOverLimit,
    ContinuationWithoutStart,
    GarbageHandshake,
    GarbageAfterHandshake,
    FrozenClients,
    ConnectionLimit,
}

const BOTH: &[Dialect] = &[Dialect::Json, Dialect::V1];

impl Case for RobustnessCase {
    const ALL: &'static [Self] = &[
        RobustnessCase::OversizeDelivered,
        RobustnessCase::Slowloris,
        RobustnessCase::NonReaders,
        RobustnessCase::PingFlood,
        RobustnessCase::FragmentsOneByte,
        RobustnessCase::FragmentsUtf8Split,
        RobustnessCase::FragmentsOverLimit,
        RobustnessCase::ContinuationWithoutStart,
        RobustnessCase::GarbageHandshake,
        RobustnessCase::GarbageAfterHandshake,
        RobustnessCase::FrozenClients,
        RobustnessCase::ConnectionLimit,
    ];

    fn name(self) -> &'static str {
        match self {
            RobustnessCase::OversizeDelivered => "oversize-delivered",
            RobustnessCase::Slowloris => "slowloris",
            RobustnessCase::NonReaders => "non-readers",
            RobustnessCase::PingFlood => "ping-flood",
            RobustnessCase::FragmentsOneByte => "fragments-one-byte",
            RobustnessCase::FragmentsUtf8Split => "fragments-utf8-split",
            RobustnessCase::FragmentsOverLimit => "fragments-over-limit",
            RobustnessCase::ContinuationWithoutStart => "continuation-without-start",
            RobustnessCase::GarbageHandshake => "garbage-handshake",
            RobustnessCase::GarbageAfterHandshake => "garbage-after-handshake",
            RobustnessCase::FrozenClients => "frozen-clients",
            RobustnessCase::ConnectionLimit => "connection-limit",
        }
    }

    fn checks(self) -> &'static str {
        match self {
            RobustnessCase::OversizeDelivered => {
                "each of N clients (20) writes one message of 8 MiB in one frame, then reads, and N more 2 MiB: every one receives Close 1009 with its whole message written, no reset and no end without Close"
            }
            RobustnessCase::Slowloris => {
                "of N connections (1,000) that each send half a handshake request, every one established is dropped after the handshake timeout (not before it - slack, by it + slack), while a normal session is served; those never established are counted apart"
            }
            RobustnessCase::NonReaders => {
                "N clients (200) each write up to M Echo requests of 1 KiB (20,000) for at most the write time (10 s) and never read: a normal client is served meanwhile, the server's memory grows by at most the bound (256 MiB), and every non-reader is evicted (Close 1008 or a reset) by ping interval + pong timeout + slack + close timeout"
            }
            RobustnessCase::PingFlood => {
                "one client sends N WebSocket Pings (100,000) without reading: a normal client is served meanwhile and afterwards, and the server's memory grows by at most the bound"
            }
            RobustnessCase::FragmentsOneByte => {
                "an Echo request of at least 500 bytes sent in one-byte fragments, with a Ping between fragments, is answered with its data"
            }
            RobustnessCase::FragmentsUtf8Split => {
                "an Echo request whose UTF-8 characters are split across fragment boundaries is answered with the same data"
            }
            RobustnessCase::FragmentsOverLimit => {
                "a message in fragments each under the limit, whose total exceeds it, gets Close 1009"
            }
            RobustnessCase::ContinuationWithoutStart => {
                "a continuation frame with no message started gets Close 1002, or the connection closed (which is reported)"
            }
            RobustnessCase::GarbageHandshake => {
                "N connections (10) sending random bytes instead of a handshake are answered HTTP 400 or closed, by the handshake timeout + slack, and a normal session works afterwards"
            }
            RobustnessCase::GarbageAfterHandshake => {
                "random bytes after a good handshake close the session (Close 1002, or dropped: which is reported), and a normal session works afterwards"
            }
            RobustnessCase::FrozenClients => {
                "of N sessions (500), F (100) stop reading: exactly those F are evicted (Close 1008 or a reset) by ping interval + pong timeout + slack + close timeout, and none of the others, which still answer an Echo at the end"
            }
            RobustnessCase::ConnectionLimit => {
                "with L sessions open (the server's --max-connections), the next handshake is answered HTTP 503; once some close, new handshakes are admitted again"
            }
        }
    }

    fn timed(self) -> bool {
        true
    }

    fn dialects(self) -> &'static [Dialect] {
        match self {
            RobustnessCase::Slowloris
            | RobustnessCase::PingFlood
            | RobustnessCase::GarbageHandshake
            | RobustnessCase::ConnectionLimit => &[Dialect::Json],
            _ => BOTH,
        }
    }
}

impl RobustnessCase {
    async fn run(self, suite: &Robustness) -> Finding {
        match self {
            RobustnessCase::OversizeDelivered => suite.oversize_delivered().await,
            RobustnessCase::Slowloris => suite.slowloris().await,
            RobustnessCase::NonReaders => suite.non_readers().await,
            RobustnessCase::PingFlood => suite.ping_flood().await,
            RobustnessCase::FragmentsOneByte => suite.fragments_one_byte().await,
            RobustnessCase::FragmentsUtf8Split => suite.fragments_utf8_split().await,
            RobustnessCase::FragmentsOverLimit => suite.fragments_over_limit().await,
            RobustnessCase::ContinuationWithoutStart => suite.continuation_without_start().await,
            RobustnessCase::GarbageHandshake => suite.garbage_handshake().await,
            RobustnessCase::GarbageAfterHandshake => suite.garbage_after_handshake().await,
            RobustnessCase::FrozenClients => suite.frozen_clients().await,
            RobustnessCase::ConnectionLimit => suite.connection_limit().await,
        }
    }
}

/// Runs `cases` against the server one after the other, calling `on_result` as each one ends,
/// and returns the report.
pub async fn run_robustness_suite(
    config: &RobustnessConfig,
    cases: &[RobustnessCase],
    mut on_result: impl FnMut(&CaseResult),
) -> Report {
    let suite = Robustness {
        config: config.clone(),
        tls: tls_for_url(&config.url, &config.tls).map_err(|error| error.to_string()),
        svr: Mutex::default(),
    };
    let mut results = Vec::with_capacity(cases.len());
    for &case in cases {
        let started = std::time::Instant::now();
        let finding = case.run(&suite).await;
        let result = CaseResult::new(case.label(config.dialect), finding, started.elapsed());
        on_result(&result);
        results.push(result);
    }
    Report {
        suite: "robustness".to_owned(),
        target: config.url.clone(),
        svr: suite.svr.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        cases: results,
    }
}

type TlsConfig = Option<Arc<tokio_rustls::rustls::ClientConfig>>;

/// What every case of one run shares.
struct Robustness {
    config: RobustnessConfig,
    tls: Result<TlsConfig, String>,
    /// The `SVR` the server sent, for the report.
    svr: Mutex<Option<String>>,
}

impl Robustness {
    /// How the suite connects: as `hello-check`, accepting messages of four times the limit,
    /// and frames as large as the largest it sends itself.
    fn options(&self) -> Result<ConnectOptions<'_>, String> {
        Ok(ConnectOptions {
            url: &self.config.url,
            name: Some("hello-check"),
            headers: &[],
            timeout: self.config.timeout,
            max_message_size: (self.config.max_message_size * defaults::CLIENT_MESSAGE_SIZE_FACTOR)
                .max(oversize::LARGEST + 1024),
            tls: self.tls.clone()?,
            local_addr: None,
        })
    }
}

fn human(duration: Duration) -> String {
    humantime::format_duration(Duration::from_millis(duration.as_millis() as u64)).to_string()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn case_names_are_unique() {
        let names: HashSet<&str> = RobustnessCase::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), RobustnessCase::ALL.len());
    }

    #[test]
    fn eviction_is_bounded_by_the_timers_of_the_dialect() {
        let mut config = RobustnessConfig {
            url: String::new(),
            dialect: Dialect::Json,
            ping_interval: Duration::from_secs(10),
            pong_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            max_connections: 10,
            max_message_size: 1024,
            v1: v1::Timings::default(),
            slack: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            tls: TlsSettings::default(),
            server_pid: None,
            max_memory_growth: MAX_MEMORY_GROWTH,
            scale: Scale::default(),
        };
        assert_eq!(config.eviction_bound(), Duration::from_secs(23));
        config.dialect = Dialect::V1;
        assert_eq!(config.eviction_bound(), Duration::from_secs(64));
    }
}
