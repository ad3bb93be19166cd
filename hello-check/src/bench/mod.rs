//! The load generator (`hello-client bench`): load for measuring a server, in two shapes.
//!
//! - **Echo load** ([`bench_echo`]): C connections, each keeping P Echo requests in flight, every
//!   answer matched by id and checked (id, idx and data in JSON; kv `id`, kv `data`, status and
//!   result type in v1), latency from send to answer in an HDR histogram. `--connections 1 --in-flight 64 --requests 640000` is the seed's gateway
//!   benchmark.
//! - **Idle sessions** ([`bench_idle`]): N sessions that only answer Pings and Kiss requests for a
//!   while, to measure what a session costs the server; any session the server closes is
//!   counted, by how it ended ([`ServerEnding`]: the Close code, a reset, no Close) and when, so
//!   an eviction of a live session shows, and so does a shutdown's Close 1001 to every session
//!   and how long it took.
//!
//! Neither shape hides an error: a wrong or missing answer is counted and reported, and a run
//! with errors exits non-zero.
//!
//! Both shapes speak either dialect ([`BenchTarget::dialect`]): the loops are one, and
//! [`dialect`] holds what differs (a v1 session says HELLO and waits for BONJOUR first, and
//! answers the server's PINGs with PONGs).

mod dialect;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, SinkExt, StreamExt};
use hdrhistogram::Histogram;
use hello_protocol::Dialect;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::{self, Message};

use hello_net::{ConnectError, ConnectOptions, Connection, TlsSettings, connect, tls_for_url};

use dialect::{Heard, Prompt, Wire};

/// Where the server is and how every connection is opened.
#[derive(Debug, Clone)]
pub struct BenchTarget {
    pub url: String,
    pub tls: TlsSettings,
    /// How long to wait for a connection, for each answer, and for the server's Close.
    pub timeout: Duration,
    pub max_message_size: usize,
    /// Sessions are named `<name>-<n>` in their `WhoAmI` header.
    pub name: String,
    /// Local addresses to spread connections over (round robin); empty for the system's choice.
    pub sources: Vec<IpAddr>,
    /// Opening handshakes in progress at once.
    pub connect_concurrency: usize,
    /// The dialect every session speaks; a v1 session is open once BONJOUR has come.
    pub dialect: Dialect,
}

impl BenchTarget {
    /// Opens session number `n`: named `<name>-<n>`, from the n-th of the source addresses,
    /// greeted as `wire`'s dialect wants.
    async fn open(
        &self,
        n: usize,
        tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
        wire: &Wire,
    ) -> Result<Connection, String> {
        let name = format!("{}-{n}", self.name);
        let options = ConnectOptions {
            url: &self.url,
            name: Some(&name),
            headers: &[],
            timeout: self.timeout,
            max_message_size: self.max_message_size,
            tls,
            local_addr: (!self.sources.is_empty()).then(|| self.sources[n % self.sources.len()]),
        };
        let (mut ws, _) = connect(&options).await.map_err(|error| error.to_string())?;
        wire.greet(&mut ws, self.timeout).await?;
        Ok(ws)
    }
}

/// When an Echo load stops sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many requests in all, across the connections.
    Requests(u64),
    /// After this long; requests in flight then are still awaited.
    Duration(Duration),
}

/// The shape of an Echo load.
#[derive(Debug, Clone)]
pub struct EchoLoad {
    pub connections: usize,
    pub in_flight: usize,
    pub stop: Stop,
    /// The `data` of every request.
    pub data: String,
    /// The server sends every frame back unchanged (the ceiling server) instead of answering
    /// with an Echo response; answers are then the requests themselves, matched by id.
    pub frame_echo: bool,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

/// What an Echo load measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EchoReport {
    pub url: String,
    /// `json` or `v1`.
    pub dialect: &'static str,
    pub connections: usize,
    pub in_flight: usize,
    /// Requests sent.
    pub requests: u64,
    /// Answers that matched a request in flight and carried its id and data (and in JSON its
    /// idx; in v1 status 200 and one OK result).
    pub answers: u64,
    /// Wrong answers, missing answers, refused or failed connections.
    pub errors: u64,
    /// The first few errors, as text.
    pub error_samples: Vec<String>,
    /// From the moment every connection was open to the last answer.
    pub seconds: f64,
    pub msgs_per_sec: f64,
    pub latency: Latency,
}

/// The shape of an idle-session run.
#[derive(Debug, Clone, Copy)]
pub struct IdleLoad {
    pub sessions: usize,
    /// How long to hold every session open once all are open.
    pub hold: Duration,
}

/// What an idle-session run saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IdleReport {
    pub url: String,
    /// `json` or `v1`.
    pub dialect: &'static str,
    pub sessions: usize,
    /// Sessions that completed the handshake.
    pub opened: usize,
    /// Sessions that could not be opened.
    pub failed: usize,
    /// Seconds it took to open them all.
    pub open_seconds: f64,
    pub hold_seconds: f64,
    /// Live sessions the server closed or lost during the hold (evictions among them).
    pub closed_by_server: usize,
    /// Those sessions by how they ended ([`ServerEnding::key`]): `{"1001": 10000}` after a
    /// shutdown, `{"1008": 3}` after evictions, `reset` and `no-close` for connections that
    /// ended without a Close.
    pub server_closes: BTreeMap<String, usize>,
    /// When the first session the server ended saw its end (its Close read, or the connection
    /// lost), in milliseconds since the Unix epoch; `None` when the server ended none. Taken
    /// on this host's clock, so that a script can compare it with when it signalled the server.
    pub first_server_close_unix_ms: Option<u64>,
    /// When the last one did.
    pub last_server_close_unix_ms: Option<u64>,
    pub kisses_answered: u64,
    /// WebSocket Pings in JSON, v1 PINGs (each answered with a PONG) in v1.
    pub pings_seen: u64,
    pub error_samples: Vec<String>,
}

/// How many error texts a report keeps.
const ERROR_SAMPLES: usize = 5;

/// Raises the soft limit on open files as far as the hard limit allows, so that thousands of
/// sessions can be opened; returns the limit in force.
pub fn raise_open_files_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// A progress bar on standard error, drawn only when it is a terminal.
pub fn progress_bar(length: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    let template = format!("{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit} {{per_sec}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// Runs an Echo load and reports what it measured. Connection failures and wrong answers are in
/// the report's errors, not an `Err`; `Err` is for a target that cannot be used at all.
///
/// # Errors
/// Certificate files that cannot be used for a `wss://` URL.
pub async fn bench_echo(
    target: &BenchTarget,
    load: &EchoLoad,
    progress: &ProgressBar,
) -> Result<EchoReport, ConnectError> {
    let tls = tls_for_url(&target.url, &target.tls)?;
    let mut report = EchoReport {
        url: target.url.clone(),
        dialect: target.dialect.name(),
        connections: load.connections,
        in_flight: load.in_flight,
        ..EchoReport::default()
    };
    let wire = Wire::new(target.dialect, load.frame_echo);
    let opened = open_sessions(target, tls.as_ref(), &wire, load.connections).await;
    let mut connections = Vec::with_capacity(opened.len());
    for outcome in opened {
        match outcome {
            Ok(ws) => connections.push(ws),
            Err(error) => report.note_error(error),
        }
    }
    let started = Instant::now();
    let plan = Arc::new(Plan {
        remaining: AtomicU64::new(match load.stop {
            Stop::Requests(count) => count,
            Stop::Duration(_) => u64::MAX,
        }),
        deadline: match load.stop {
            Stop::Requests(_) => None,
            Stop::Duration(duration) => Some(started + duration),
        },
        expected_data: load.data.clone(),
        wire,
        in_flight: load.in_flight.max(1),
        answer_timeout: target.timeout,
    });
    let workers: Vec<_> = connections
        .into_iter()
        .map(|ws| {
            let plan = Arc::clone(&plan);
            let progress = progress.clone();
            tokio::spawn(async move { drive_echo(ws, &plan, &progress).await })
        })
        .collect();
    let mut histogram = new_histogram();
    for worker in workers {
        match worker.await {
            Ok(outcome) => {
                report.requests += outcome.sent;
                report.answers += outcome.answered;
                histogram.add(&outcome.latencies).expect("same bounds");
                for error in outcome.errors {
                    report.note_error(error);
                }
            }
            Err(error) => report.note_error(format!("a connection's task failed: {error}")),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    report.seconds = elapsed;
    report.msgs_per_sec = if elapsed > 0.0 {
        report.answers as f64 / elapsed
    } else {
        0.0
    };
    report.latency = latency_of(&histogram);
    progress.finish_and_clear();
    Ok(report)
}

impl EchoReport {
    /// Whether the load went without an error and was answered at all: a run's success.
    pub fn clean(&self) -> bool {
        self.errors == 0 && self.answers > 0
    }

    fn note_error(&mut self, error: String) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(error);
        }
    }
}

impl fmt::Display for EchoReport {
    /// Three lines: the load, the answers and their rate, the latency percentiles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let latency = &self.latency;
        writeln!(
            f,
            "{} ({}): {} connection(s) x {} in flight",
            self.url, self.dialect, self.connections, self.in_flight
        )?;
        writeln!(
            f,
            "answers {}/{} in {:.2} s: {:.0} msgs/s, {} errors",
            self.answers, self.requests, self.seconds, self.msgs_per_sec, self.errors
        )?;
        write!(
            f,
            "latency p50 {} us, p90 {} us, p99 {} us, max {} us, mean {:.1} us",
            latency.p50_us, latency.p90_us, latency.p99_us, latency.max_us, latency.mean_us
        )
    }
}

impl IdleReport {
    /// Whether every session opened and none was closed by the server: a run's success.
    pub fn clean(&self) -> bool {
        self.opened == self.sessions && self.closed_by_server == 0
    }

    /// How many sessions the server ended this way.
    pub fn server_closes_by(&self, ending: ServerEnding) -> usize {
        self.server_closes.get(&ending.key()).copied().unwrap_or(0)
    }
}

/// How the server ended one session of an idle load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerEnding {
    /// A Close frame with this code: 1001 for a shutdown, 1008 for an eviction.
    Close(u16),
    /// A Close frame with no code in it.
    CloseWithoutCode,
    /// The connection was reset (or a write found it broken) before any Close was read.
    Reset,
    /// The connection ended or failed otherwise, without a Close.
    NoClose,
}

impl ServerEnding {
    /// The key of [`IdleReport::server_closes`]: the code (`1001`), `close-without-code`,
    /// `reset` or `no-close`.
    pub fn key(self) -> String {
        match self {
            ServerEnding::Close(code) => code.to_string(),
            ServerEnding::CloseWithoutCode => "close-without-code".to_owned(),
            ServerEnding::Reset => "reset".to_owned(),
            ServerEnding::NoClose => "no-close".to_owned(),
        }
    }

    /// How `message`, read from the server, ends the session; `None` when it does not.
    fn of_message(message: &Option<Result<Message, tungstenite::Error>>) -> Option<ServerEnding> {
        match message {
            None => Some(ServerEnding::NoClose),
            Some(Ok(Message::Close(Some(frame)))) => Some(ServerEnding::Close(frame.code.into())),
            Some(Ok(Message::Close(None))) => Some(ServerEnding::CloseWithoutCode),
            Some(Ok(_)) => None,
            Some(Err(error)) => Some(ServerEnding::of_error(error)),
        }
    }

    /// How a failed read or write ends the session.
    fn of_error(error: &tungstenite::Error) -> ServerEnding {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
        match error {
            tungstenite::Error::Io(io)
                if matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe) =>
            {
                ServerEnding::Reset
            }
            _ => ServerEnding::NoClose,
        }
    }
}

impl fmt::Display for IdleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}/{} sessions opened, held {:.1} s; {} closed by the server; {} Kiss answered, {} Pings seen",
            self.url,
            self.dialect,
            self.opened,
            self.sessions,
            self.hold_seconds,
            self.closed_by_server,
            self.kisses_answered,
            self.pings_seen
        )?;
        if let (Some(first), Some(last)) = (
            self.first_server_close_unix_ms,
            self.last_server_close_unix_ms,
        ) {
            let kinds: Vec<String> = self
                .server_closes
                .iter()
                .map(|(kind, count)| match kind.parse::<u16>() {
                    Ok(_) => format!("Close {kind}: {count}"),
                    Err(_) => format!("{kind}: {count}"),
                })
                .collect();
            write!(
                f,
                "\nthe server ended {} session(s): {}; the first at {first} (unix ms), the last {} ms later",
                self.closed_by_server,
                kinds.join(", "),
                last.saturating_sub(first)
            )?;
        }
        Ok(())
    }
}

/// What every connection of an Echo load shares.
struct Plan {
    /// Requests not yet handed out.
    remaining: AtomicU64,
    deadline: Option<Instant>,
    expected_data: String,
    wire: Wire,
    in_flight: usize,
    answer_timeout: Duration,
}

impl Plan {
    /// Takes one request from the budget; false when the load is over.
    fn take(&self) -> bool {
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return false;
        }
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

/// What one connection of an Echo load did.
struct Tally {
    sent: u64,
    answered: u64,
    latencies: Histogram<u64>,
    errors: Vec<String>,
}

/// Keeps `plan.in_flight` requests in flight on one connection until the plan runs out, then
/// waits for the last answers and closes.
async fn drive_echo(mut ws: Connection, plan: &Plan, progress: &ProgressBar) -> Tally {
    let mut outcome = Tally {
        sent: 0,
        answered: 0,
        latencies: new_histogram(),
        errors: Vec::new(),
    };
    let mut sent_at: HashMap<u64, Instant> = HashMap::with_capacity(plan.in_flight);
    let mut next_id = 1u64;
    let mut free = plan.in_flight;
    // An answer to the server (Kiss, PONG) fed but not yet flushed.
    let mut unflushed = false;
    loop {
        // Fill the window, then write it out in one flush.
        let mut queued = unflushed;
        while free > 0 && plan.take() {
            let request = plan.wire.request(next_id, &plan.expected_data);
            if let Err(error) = ws.feed(request).await {
                outcome.errors.push(format!("sending: {error}"));
                return outcome;
            }
            sent_at.insert(next_id, Instant::now());
            next_id += 1;
            free -= 1;
            outcome.sent += 1;
            queued = true;
        }
        if queued && let Err(error) = ws.flush().await {
            outcome.errors.push(format!("sending: {error}"));
            return outcome;
        }
        unflushed = false;
        if sent_at.is_empty() {
            break;
        }
        let first = match timeout(plan.answer_timeout, ws.next()).await {
            Err(_) => Heard::Fatal(format!(
                "{} answers missing after {}",
                sent_at.len(),
                humantime::format_duration(plan.answer_timeout)
            )),
            Ok(message) => plan.wire.hear(message, &plan.expected_data),
        };
        let mut received = vec![first];
        // Whatever else has already arrived is handled before the window is refilled.
        while received.len() < plan.in_flight {
            match ws.next().now_or_never() {
                Some(message) => received.push(plan.wire.hear(message, &plan.expected_data)),
                None => break,
            }
        }
        let mut answered = 0;
        for item in received {
            match item {
                Heard::Answer(id, verdict) => {
                    let Some(sent) = sent_at.remove(&id) else {
                        outcome
                            .errors
                            .push(format!("an answer for id {id}, not in flight"));
                        continue;
                    };
                    free += 1;
                    match verdict {
                        Ok(()) => {
                            let micros = sent.elapsed().as_micros().max(1) as u64;
                            let _ = outcome.latencies.record(micros);
                            outcome.answered += 1;
                            answered += 1;
                        }
                        Err(wrong) => outcome.errors.push(wrong),
                    }
                }
                Heard::Prompt(prompt, Some(reply)) => {
                    if let Err(error) = ws.feed(reply).await {
                        outcome
                            .errors
                            .push(format!("answering a {prompt:?}: {error}"));
                        return outcome;
                    }
                    unflushed = true;
                }
                Heard::Prompt(_, None) | Heard::Nothing => {}
                Heard::Bonjour => outcome
                    .errors
                    .push("a BONJOUR after the session's HELLO was answered".to_owned()),
                Heard::Closed(error) | Heard::Fatal(error) => {
                    outcome.errors.push(error);
                    for _ in 0..sent_at.len() {
                        outcome
                            .errors
                            .push("no answer (the connection failed)".to_owned());
                    }
                    return outcome;
                }
            }
        }
        progress.inc(answered);
    }
    part(&mut ws, &plan.wire, plan.answer_timeout).await;
    outcome
}

/// Opens `count` sessions, `target.connect_concurrency` handshakes at a time, in order.
async fn open_sessions(
    target: &BenchTarget,
    tls: Option<&Arc<tokio_rustls::rustls::ClientConfig>>,
    wire: &Wire,
    count: usize,
) -> Vec<Result<Connection, String>> {
    let gate = Arc::new(Semaphore::new(target.connect_concurrency.max(1)));
    let shared = Arc::new((target.clone(), wire.clone()));
    let tasks: Vec<_> = (0..count)
        .map(|n| {
            let gate = Arc::clone(&gate);
            let target = Arc::clone(&shared);
            let tls = tls.cloned();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                let (target, wire) = &*target;
                target.open(n, tls, wire).await
            })
        })
        .collect();
    let mut sessions = Vec::with_capacity(count);
    for task in tasks {
        sessions.push(task.await.unwrap_or_else(|error| Err(error.to_string())));
    }
    sessions
}

/// Opens `load.sessions` sessions, holds them for `load.hold` answering Pings and Kiss
/// requests, then closes them.
///
/// # Errors
/// Certificate files that cannot be used for a `wss://` URL.
pub async fn bench_idle(
    target: &BenchTarget,
    load: &IdleLoad,
    progress: &ProgressBar,
    mut on_open: impl FnMut(&IdleReport),
) -> Result<IdleReport, ConnectError> {
    let tls = tls_for_url(&target.url, &target.tls)?;
    let mut report = IdleReport {
        url: target.url.clone(),
        dialect: target.dialect.name(),
        sessions: load.sessions,
        ..IdleReport::default()
    };
    let opening = Instant::now();
    let counters = Arc::new(IdleCounters::default());
    let gate = Arc::new(Semaphore::new(target.connect_concurrency.max(1)));
    let shared = Arc::new((target.clone(), Wire::new(target.dialect, false)));
    // When every session is open, the end of the hold; until then sessions answer and wait.
    let (release, hold_until) = tokio::sync::watch::channel(None::<Instant>);
    let mut tasks = Vec::with_capacity(load.sessions);
    let (opened_tx, mut opened_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(), String>>();
    for n in 0..load.sessions {
        let gate = Arc::clone(&gate);
        let counters = Arc::clone(&counters);
        let target = Arc::clone(&shared);
        let tls = tls.clone();
        let hold_until = hold_until.clone();
        let opened_tx = opened_tx.clone();
        tasks.push(tokio::spawn(async move {
            let (target, wire) = &*target;
            let permit = gate.acquire_owned().await;
            let connected = target.open(n, tls, wire).await;
            drop(permit);
            let mut ws = match connected {
                Ok(ws) => {
                    let _ = opened_tx.send(Ok(()));
                    ws
                }
                Err(error) => {
                    let _ = opened_tx.send(Err(error));
                    return;
                }
            };
            drop(opened_tx);
            let close_timeout = target.timeout;
            hold_session(&mut ws, hold_until, wire, &counters, close_timeout).await;
        }));
    }
    drop(opened_tx);
    while let Some(opened) = opened_rx.recv().await {
        match opened {
            Ok(()) => report.opened += 1,
            Err(error) => {
                report.failed += 1;
                if report.error_samples.len() < ERROR_SAMPLES {
                    report.error_samples.push(error);
                }
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    report.open_seconds = opening.elapsed().as_secs_f64();
    on_open(&report);
    let hold_started = Instant::now();
    let _ = release.send(Some(hold_started + load.hold));
    for task in tasks {
        let _ = task.await;
    }
    report.hold_seconds = hold_started.elapsed().as_secs_f64();
    report.closed_by_server = counters.closed_by_server.load(Ordering::Relaxed);
    report.server_closes = counters
        .endings
        .lock()
        .expect("no panic while counting")
        .iter()
        .map(|(ending, count)| (ending.key(), *count))
        .collect();
    if report.closed_by_server > 0 {
        report.first_server_close_unix_ms = Some(counters.first_end_ms.load(Ordering::Relaxed));
        report.last_server_close_unix_ms = Some(counters.last_end_ms.load(Ordering::Relaxed));
    }
    report.kisses_answered = counters.kisses.load(Ordering::Relaxed);
    report.pings_seen = counters.pings.load(Ordering::Relaxed);
    Ok(report)
}

struct IdleCounters {
    closed_by_server: AtomicUsize,
    endings: Mutex<BTreeMap<ServerEnding, usize>>,
    /// The earliest and the latest end of a session by the server, in unix ms.
    first_end_ms: AtomicU64,
    last_end_ms: AtomicU64,
    kisses: AtomicU64,
    pings: AtomicU64,
}

impl Default for IdleCounters {
    fn default() -> Self {
        IdleCounters {
            closed_by_server: AtomicUsize::new(0),
            endings: Mutex::default(),
            first_end_ms: AtomicU64::new(u64::MAX),
            last_end_ms: AtomicU64::new(0),
            kisses: AtomicU64::new(0),
            pings: AtomicU64::new(0),
        }
    }
}

impl IdleCounters {
    /// Counts a session the server ended, and when: now, on the wall clock.
    fn server_ended(&self, ending: ServerEnding) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        self.first_end_ms.fetch_min(now_ms, Ordering::Relaxed);
        self.last_end_ms.fetch_max(now_ms, Ordering::Relaxed);
        *self
            .endings
            .lock()
            .expect("no panic while counting")
            .entry(ending)
            .or_default() += 1;
        self.closed_by_server.fetch_add(1, Ordering::Relaxed);
    }
}

/// Reads from the moment the session is open until the end of the hold, answering Kiss
/// requests and v1 PINGs (WebSocket Pings are answered by tungstenite as they are read), then
/// parts (v1's DISCONNECT, then Close 1000), waiting up to `close_timeout` for the server's
/// answer. A session that waited without reading while the others open would miss its Pings
/// and be evicted by any server that takes long to accept them all. What the server says
/// besides is not the idle load's business: only whether it ends the session.
async fn hold_session(
    ws: &mut Connection,
    mut hold_until: tokio::sync::watch::Receiver<Option<Instant>>,
    wire: &Wire,
    counters: &IdleCounters,
    close_timeout: Duration,
) {
    let end = async move {
        // Without an end (the run was abandoned), end at once.
        let until = match hold_until.wait_for(Option::is_some).await {
            Ok(until) => *until,
            Err(_) => None,
        };
        if let Some(until) = until {
            sleep_until(until).await;
        }
    };
    let mut end = std::pin::pin!(end);
    loop {
        let message = tokio::select! {
            () = &mut end => break,
            message = ws.next() => message,
        };
        let ending = ServerEnding::of_message(&message);
        match wire.hear(message, "") {
            Heard::Prompt(prompt, reply) => {
                let counter = match prompt {
                    Prompt::Kiss => &counters.kisses,
                    Prompt::Ping => &counters.pings,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if let Some(reply) = reply
                    && let Err(error) = ws.send(reply).await
                {
                    counters.server_ended(ServerEnding::of_error(&error));
                    return;
                }
            }
            Heard::Closed(_) => {
                counters.server_ended(ending.unwrap_or(ServerEnding::NoClose));
                // Only to answer the server's Close, if it sent one.
                let _ = timeout(close_timeout, ws.close(None)).await;
                return;
            }
            Heard::Answer(..) | Heard::Bonjour | Heard::Nothing | Heard::Fatal(_) => {}
        }
    }
    part(ws, wire, close_timeout).await;
}

/// Ends a session as its dialect wants, waiting up to `wait`: v1's DISCONNECT, then Close 1000
/// and the server's Close.
async fn part(ws: &mut Connection, wire: &Wire, wait: Duration) {
    let _ = timeout(wait, async {
        if let Some(goodbye) = wire.goodbye() {
            ws.feed(goodbye).await?;
        }
        ws.close(None).await
    })
    .await;
}

fn new_histogram() -> Histogram<u64> {
    // One microsecond to an hour, three significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

fn latency_of(histogram: &Histogram<u64>) -> Latency {
    if histogram.is_empty() {
        return Latency::default();
    }
    Latency {
        p50_us: histogram.value_at_quantile(0.50),
        p90_us: histogram.value_at_quantile(0.90),
        p99_us: histogram.value_at_quantile(0.99),
        max_us: histogram.max(),
        mean_us: histogram.mean(),
    }
}
