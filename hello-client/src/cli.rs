//! The command line of `hello-client`: flags, their defaults (from
//! `hello_protocol::defaults`), and the settings they make.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use hello_check::ServerSuiteConfig;
use hello_check::bench::{BenchTarget, EchoLoad, IdleLoad, Stop};
use hello_check::cli::SuiteArgs;
use hello_check::robustness::{MAX_MEMORY_GROWTH, RobustnessConfig, Scale};
use hello_client::config::{generated_name, url_from_parts};
use hello_client::{Backoff, ClientConfig, TlsSettings};
use hello_net::process::Failure;
use hello_protocol::{Dialect, defaults, v1};
use hello_tls::{Identity, ServerTrust};

/// How long `bench --idle` holds its sessions by default.
const BENCH_HOLD: Duration = Duration::from_secs(60);
/// How long an Echo load runs when neither --requests nor --duration is given.
const BENCH_DURATION: Duration = Duration::from_secs(10);

/// The reference Hello WebSocket client.
///
/// Examples:
///
///   hello-client                                   3 Echo requests to ws://127.0.0.1:9898/ws, then stay until Ctrl-C
///
///   hello-client --count 100 --duration 12s       100 requests in flight, stay 12 s answering Kiss and Pings
///
///   hello-client --url ws://example.test:9898/ws --name alice -H 'X-Trace: 42' --reconnect
///
///   hello-client --url wss://localhost:9886/ws     TLS, trusting certs/ca.crt
///
///   hello-client --dialect v1 --duration 12s      the ecosystem's binary v1: HELLO, Echo, RANDOM_NUMBER, DISCONNECT
///
///   hello-client check --url ws://127.0.0.1:9898/ws --junit report.xml     judge a server
///
///   hello-client robustness --url ws://127.0.0.1:9898/ws --server-pid 4242  see it survive hostile clients
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge a server, in any language, against PROTOCOL.md: one line per case, then
    /// `N passed, N failed`; exit status 1 on any failure.
    ///
    /// Give the server's intervals with the flags it was started with, so the timed cases know
    /// what to expect: `hello-client check --url ws://127.0.0.1:9898/ws --ping-interval 1s
    /// --pong-timeout 1s --kiss-interval 500ms`.
    Check(CheckArgs),
    /// Load a server and measure it: C connections each keeping P Echo requests in flight
    /// (every answer matched by id and checked), or --idle N sessions that only answer Pings and
    /// Kiss. Prints msgs/s and latency percentiles, or --json; exit status 1 on any error.
    ///
    /// `hello-client bench --connections 1 --in-flight 64 --requests 640000` is the seed's
    /// gateway benchmark. `hello-client bench --idle 10000 --hold 60s --sources 8` holds ten
    /// thousand sessions from 127.0.0.1 to 127.0.0.8. `--dialect v1` loads the same way in the
    /// binary dialect.
    Bench(BenchArgs),
    /// Judge whether a server, in any language, survives hostile clients (PROTOCOL.md section
    /// 13): oversize messages, half handshakes, clients that never read, Ping floods,
    /// fragments, garbage, frozen clients, the connection limit. One line per case with its
    /// figures, then `N passed, N failed`; exit status 1 on any failure.
    ///
    /// Give the server's settings with the flags it was started with, and its pid when it runs
    /// on this host, so its memory is measured: `hello-client robustness --url
    /// ws://127.0.0.1:9898/ws --ping-interval 1s --pong-timeout 1s --handshake-timeout 2s
    /// --max-connections 300 --server-pid 4242`. The counts default to the full scale;
    /// `scripts/robustness.sh --ci` runs a reduced one.
    Robustness(RobustnessArgs),
}

/// Where the server is, and how to trust it.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's URL; when absent it is built from --server, --port and --path.
    #[arg(long)]
    url: Option<String>,
    /// The server's host, when --url is absent.
    #[arg(long, env = "WS_SERVER", default_value = "127.0.0.1")]
    server: String,
    /// The server's port, when --url is absent.
    #[arg(long, env = "WS_PORT", default_value_t = defaults::PORT)]
    port: u16,
    /// The server's path, when --url is absent.
    #[arg(long, env = "WS_PATH", default_value = defaults::PATH)]
    path: String,
    /// How long to wait for the connection, for each answer, and for the server's Close.
    #[arg(long, default_value_t = defaults::CLIENT_TIMEOUT.into())]
    timeout: humantime::Duration,
    /// The server's ping interval.
    #[arg(long, env = "WS_PING_INTERVAL", default_value_t = defaults::PING_INTERVAL.into())]
    ping_interval: humantime::Duration,
    /// The server's ping interval for v1 sessions.
    #[arg(long, env = "WS_V1_PING_INTERVAL", default_value_t = defaults::V1_PING_INTERVAL.into())]
    v1_ping_interval: humantime::Duration,
    /// The CA to trust for wss:// (PEM).
    #[arg(long, value_name = "FILE", default_value = "certs/ca.crt")]
    ca: PathBuf,
    /// Do not verify the server's certificate at all. For testing only.
    #[arg(short = 'k', long)]
    insecure: bool,
    /// A client certificate (PEM) to present, for mutual TLS; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
}

impl ServerArgs {
    fn url(&self) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| url_from_parts(&self.server, self.port, &self.path))
    }

    fn tls(&self) -> TlsSettings {
        TlsSettings {
            trust: if self.insecure {
                ServerTrust::Insecure
            } else {
                ServerTrust::Ca(self.ca.clone())
            },
            identity: self
                .cert
                .clone()
                .zip(self.key.clone())
                .map(|(cert, key)| Identity { cert, key }),
        }
    }

    fn refuse_zero_durations(&self) -> Result<(), Failure> {
        if self.timeout.is_zero() || self.ping_interval.is_zero() {
            return Err(Failure::Usage(
                "--timeout and --ping-interval must be longer than zero".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The dialect to speak: json (PROTOCOL.md's text messages) or v1 (the ecosystem's binary
    /// frames).
    #[arg(long, default_value = "json")]
    dialect: Dialect,
    /// v1: how often to send a RANDOM_NUMBER, whose HASH_RESPONSE is checked.
    #[arg(long, env = "WS_RANDOM_INTERVAL", default_value_t = defaults::V1_RANDOM_INTERVAL.into())]
    random_interval: humantime::Duration,
    /// Sent as the WhoAmI header, and in v1 as userId [default: rust-client-XXXX, generated]
    #[arg(long)]
    name: Option<String>,
    /// An extra handshake header, 'Name: value'; repeatable, one value each.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// How many Echo requests to send, all in flight together.
    #[arg(long, default_value_t = defaults::ECHO_COUNT)]
    count: u64,
    /// The size of each Echo request's data, in bytes: the greetings repeated, exactly N bytes of
    /// UTF-8 [default: the request's greeting alone]
    #[arg(long, value_name = "N")]
    echo_bytes: Option<usize>,
    /// How long to stay connected, answering Kiss and Pings; without it, until Ctrl-C.
    #[arg(long)]
    duration: Option<humantime::Duration>,
    /// Reconnect, with backoff, when the server goes away.
    #[arg(long)]
    reconnect: bool,
    /// The first pause before reconnecting; it doubles on each failed try.
    #[arg(long, default_value_t = defaults::BACKOFF_INITIAL.into())]
    backoff_initial: humantime::Duration,
    /// The longest pause before reconnecting.
    #[arg(long, default_value_t = defaults::BACKOFF_MAX.into())]
    backoff_max: humantime::Duration,
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("expected 'Name: value', got {text:?}"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("the header name is empty in {text:?}"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

impl RunArgs {
    /// The run's settings.
    ///
    /// # Errors
    /// A usage error for settings that make no sense.
    pub fn client_config(self) -> Result<ClientConfig, Failure> {
        self.server.refuse_zero_durations()?;
        if self.backoff_initial.is_zero() || self.backoff_max < self.backoff_initial {
            return Err(Failure::Usage(
                "--backoff-initial must be longer than zero, and --backoff-max at least as long"
                    .into(),
            ));
        }
        if self.echo_bytes == Some(0) {
            return Err(Failure::Usage("--echo-bytes must be at least 1".into()));
        }
        if self.random_interval.is_zero() || self.server.v1_ping_interval.is_zero() {
            return Err(Failure::Usage(
                "--random-interval and --v1-ping-interval must be longer than zero".into(),
            ));
        }
        Ok(ClientConfig {
            dialect: self.dialect,
            name: self.name.unwrap_or_else(generated_name),
            headers: self.headers,
            count: self.count,
            echo_bytes: self.echo_bytes,
            duration: self.duration.map(Into::into),
            timeout: self.server.timeout.into(),
            ping_interval: self.server.ping_interval.into(),
            v1_ping_interval: self.server.v1_ping_interval.into(),
            random_interval: self.random_interval.into(),
            reconnect: self.reconnect.then_some(Backoff {
                initial: self.backoff_initial.into(),
                max: self.backoff_max.into(),
            }),
            tls: self.server.tls(),
            ..ClientConfig::new(self.server.url())
        })
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The server's pong timeout.
    #[arg(long, env = "WS_PONG_TIMEOUT", default_value_t = defaults::PONG_TIMEOUT.into())]
    pong_timeout: humantime::Duration,
    /// The server's Kiss interval.
    #[arg(long, env = "WS_KISS_INTERVAL", default_value_t = defaults::KISS_INTERVAL.into())]
    kiss_interval: humantime::Duration,
    /// The server's v1 session timeout: how long a v1 session lives without a matching PONG.
    #[arg(long, env = "WS_V1_SESSION_TIMEOUT", default_value_t = defaults::V1_SESSION_TIMEOUT.into())]
    v1_session_timeout: humantime::Duration,
    /// The server's TIME_NOTIFICATION interval for v1 sessions.
    #[arg(long, env = "WS_V1_TIME_INTERVAL", default_value_t = defaults::V1_TIME_INTERVAL.into())]
    v1_time_interval: humantime::Duration,
    /// The server's KISS_REQUEST interval for v1 sessions.
    #[arg(long, env = "WS_V1_KISS_INTERVAL", default_value_t = defaults::V1_KISS_INTERVAL.into())]
    v1_kiss_interval: humantime::Duration,
    /// How late a timed event (Kiss, Ping, eviction) may be and still pass.
    #[arg(long, default_value_t = defaults::CHECK_SLACK.into())]
    slack: humantime::Duration,
    /// The server's message limit, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_SIZE", default_value_t = defaults::MAX_MESSAGE_SIZE)]
    max_message_size: usize,
    #[command(flatten)]
    pub suite: SuiteArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Connections, each keeping --in-flight requests outstanding.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Echo requests outstanding on each connection.
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
    /// Stop after this many requests in all [default: --duration 10s].
    #[arg(long, conflicts_with = "duration")]
    requests: Option<u64>,
    /// Stop sending after this long, then wait for the answers in flight.
    #[arg(long)]
    duration: Option<humantime::Duration>,
    /// The data of every request.
    #[arg(long, default_value = "Hello")]
    data: String,
    /// The dialect every session speaks: json, or v1 (binary frames; each session says HELLO
    /// and waits for BONJOUR before the load starts, and answers the server's PINGs).
    #[arg(long, default_value = "json")]
    dialect: Dialect,
    /// The server sends frames back unchanged (the ceiling server in
    /// hello-server/examples/echo_ceiling.rs): take each echoed request as its own answer.
    #[arg(long)]
    frame_echo: bool,
    /// Instead of Echo load, open this many sessions that only answer Pings and Kiss requests.
    #[arg(long, value_name = "N", conflicts_with_all = ["requests", "duration", "frame_echo"])]
    idle: Option<usize>,
    /// How long to hold the --idle sessions once all are open.
    #[arg(long, default_value_t = BENCH_HOLD.into(), requires = "idle")]
    hold: humantime::Duration,
    /// Spread the connections over the loopback addresses 127.0.0.1 to 127.0.0.N, so that
    /// thousands of them do not run out of local ports.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    sources: u8,
    /// Handshakes in progress at once while the connections are opened.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Sessions are named <NAME>-<n> in their WhoAmI header.
    #[arg(long, default_value = "bench")]
    name: String,
    /// The largest message accepted from the server, in bytes.
    #[arg(long, default_value_t = defaults::MAX_MESSAGE_SIZE * defaults::CLIENT_MESSAGE_SIZE_FACTOR)]
    max_message_size: usize,
    /// Print the report as JSON on standard output (progress lines still go to standard error).
    #[arg(long)]
    json: bool,
}

impl CheckArgs {
    /// The suite's settings.
    ///
    /// # Errors
    /// A usage error for a zero timeout or ping interval, or v1 timings that make no sense.
    pub fn suite_config(&self) -> Result<ServerSuiteConfig, Failure> {
        self.server.refuse_zero_durations()?;
        let v1 = v1::Timings {
            ping_interval: self.server.v1_ping_interval.into(),
            session_timeout: self.v1_session_timeout.into(),
            time_interval: self.v1_time_interval.into(),
            kiss_interval: self.v1_kiss_interval.into(),
        };
        v1.validate().map_err(Failure::Usage)?;
        Ok(ServerSuiteConfig {
            url: self.server.url(),
            dialect: self.suite.dialect,
            ping_interval: self.server.ping_interval.into(),
            pong_timeout: self.pong_timeout.into(),
            kiss_interval: self.kiss_interval.into(),
            v1,
            slack: self.slack.into(),
            timeout: self.server.timeout.into(),
            max_message_size: self.max_message_size,
            tls: self.server.tls(),
        })
    }
}

#[derive(Debug, Args)]
pub struct RobustnessArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The server's pong timeout.
    #[arg(long, env = "WS_PONG_TIMEOUT", default_value_t = defaults::PONG_TIMEOUT.into())]
    pong_timeout: humantime::Duration,
    /// The server's handshake timeout.
    #[arg(long, env = "WS_HANDSHAKE_TIMEOUT", default_value_t = defaults::HANDSHAKE_TIMEOUT.into())]
    handshake_timeout: humantime::Duration,
    /// The server's close timeout: how long it waits for a client to take its Close.
    #[arg(long, default_value_t = defaults::CLOSE_TIMEOUT.into())]
    close_timeout: humantime::Duration,
    /// The server's connection limit.
    #[arg(long, env = "WS_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    max_connections: usize,
    /// The server's message limit, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_SIZE", default_value_t = defaults::MAX_MESSAGE_SIZE)]
    max_message_size: usize,
    /// The server's v1 session timeout: how long a v1 session lives without a matching PONG.
    #[arg(long, env = "WS_V1_SESSION_TIMEOUT", default_value_t = defaults::V1_SESSION_TIMEOUT.into())]
    v1_session_timeout: humantime::Duration,
    /// How late (or early) a timed event may be and still pass.
    #[arg(long, default_value_t = defaults::CHECK_SLACK.into())]
    slack: humantime::Duration,
    /// The server's process id, when it runs on this host: its memory is measured (VmRSS),
    /// and the machine's TCP memory reported.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// The most the server's resident memory may grow while it is pressed, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_MEMORY_GROWTH)]
    max_memory_growth: u64,
    /// oversize-delivered: clients per size (8 MiB, then 2 MiB).
    #[arg(long, value_name = "N", default_value_t = Scale::default().oversize_clients)]
    oversize_clients: usize,
    /// slowloris: connections that send half a handshake.
    #[arg(long, value_name = "N", default_value_t = Scale::default().slowloris_connections)]
    slowloris_connections: usize,
    /// non-readers: clients that write and never read.
    #[arg(long, value_name = "N", default_value_t = Scale::default().non_readers)]
    non_readers: usize,
    /// non-readers: Echo requests each writes at most.
    #[arg(long, value_name = "M", default_value_t = Scale::default().non_reader_requests)]
    non_reader_requests: usize,
    /// non-readers and ping-flood: how long each writes at most.
    #[arg(long, default_value_t = Scale::default().write_time.into())]
    write_time: humantime::Duration,
    /// ping-flood: Pings sent without reading.
    #[arg(long, value_name = "N", default_value_t = Scale::default().ping_flood)]
    ping_flood: usize,
    /// frozen-clients: sessions in all.
    #[arg(long, value_name = "N", default_value_t = Scale::default().frozen_sessions)]
    frozen_sessions: usize,
    /// frozen-clients: of them, those that stop reading.
    #[arg(long, value_name = "F", default_value_t = Scale::default().frozen_stopped)]
    frozen_stopped: usize,
    /// garbage-handshake: connections that send random bytes instead of a handshake.
    #[arg(long, value_name = "N", default_value_t = Scale::default().garbage_connections)]
    garbage_connections: usize,
    #[command(flatten)]
    pub suite: SuiteArgs,
}

impl RobustnessArgs {
    /// The suite's settings.
    ///
    /// # Errors
    /// A usage error for zero durations or counts, or more frozen sessions than sessions.
    pub fn suite_config(&self) -> Result<RobustnessConfig, Failure> {
        self.server.refuse_zero_durations()?;
        let durations = [
            self.pong_timeout,
            self.handshake_timeout,
            self.close_timeout,
            self.v1_session_timeout,
            self.write_time,
            self.server.v1_ping_interval,
        ];
        let counts = [
            self.max_connections,
            self.max_message_size,
            self.oversize_clients,
            self.slowloris_connections,
            self.non_readers,
            self.non_reader_requests,
            self.ping_flood,
            self.frozen_sessions,
            self.frozen_stopped,
            self.garbage_connections,
        ];
        if durations.iter().any(|d| d.is_zero()) || counts.contains(&0) {
            return Err(Failure::Usage(
                "durations must be longer than zero, and counts at least 1".into(),
            ));
        }
        if self.frozen_stopped > self.frozen_sessions {
            return Err(Failure::Usage(
                "--frozen-stopped cannot exceed --frozen-sessions".into(),
            ));
        }
        Ok(RobustnessConfig {
            url: self.server.url(),
            dialect: self.suite.dialect,
            ping_interval: self.server.ping_interval.into(),
            pong_timeout: self.pong_timeout.into(),
            handshake_timeout: self.handshake_timeout.into(),
            close_timeout: self.close_timeout.into(),
            max_connections: self.max_connections,
            max_message_size: self.max_message_size,
            v1: v1::Timings {
                ping_interval: self.server.v1_ping_interval.into(),
                session_timeout: self.v1_session_timeout.into(),
                ..v1::Timings::default()
            },
            slack: self.slack.into(),
            timeout: self.server.timeout.into(),
            tls: self.server.tls(),
            server_pid: self.server_pid,
            max_memory_growth: self.max_memory_growth,
            scale: Scale {
                oversize_clients: self.oversize_clients,
                slowloris_connections: self.slowloris_connections,
                non_readers: self.non_readers,
                non_reader_requests: self.non_reader_requests,
                write_time: self.write_time.into(),
                ping_flood: self.ping_flood,
                frozen_sessions: self.frozen_sessions,
                frozen_stopped: self.frozen_stopped,
                garbage_connections: self.garbage_connections,
            },
        })
    }
}

/// What `bench` runs: an Echo load, or idle sessions.
pub enum BenchPlan {
    Echo(EchoLoad),
    Idle(IdleLoad),
}

impl BenchArgs {
    /// Where the load goes, and what it is.
    ///
    /// # Errors
    /// A usage error for zero durations, connections, requests in flight or sessions.
    pub fn plan(&self) -> Result<(BenchTarget, BenchPlan), Failure> {
        self.server.refuse_zero_durations()?;
        if self.connections == 0 || self.in_flight == 0 || self.idle == Some(0) {
            return Err(Failure::Usage(
                "--connections, --in-flight and --idle must be at least 1".into(),
            ));
        }
        let target = BenchTarget {
            url: self.server.url(),
            tls: self.server.tls(),
            timeout: self.server.timeout.into(),
            max_message_size: self.max_message_size,
            name: self.name.clone(),
            sources: if self.sources > 1 {
                (1..=self.sources)
                    .map(|n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
                    .collect()
            } else {
                Vec::new()
            },
            connect_concurrency: self.connect_concurrency,
            dialect: self.dialect,
        };
        let plan = match self.idle {
            Some(sessions) => BenchPlan::Idle(IdleLoad {
                sessions,
                hold: self.hold.into(),
            }),
            None => BenchPlan::Echo(EchoLoad {
                connections: self.connections,
                in_flight: self.in_flight,
                stop: match (self.requests, self.duration) {
                    (Some(requests), _) => Stop::Requests(requests),
                    (None, Some(duration)) => Stop::Duration(duration.into()),
                    (None, None) => Stop::Duration(BENCH_DURATION),
                },
                data: self.data.clone(),
                frame_echo: self.frame_echo,
            }),
        };
        Ok((target, plan))
    }

    /// Whether the report goes out as JSON.
    pub fn json(&self) -> bool {
        self.json
    }
}
