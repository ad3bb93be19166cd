//! `hello-client`: parses the command line, sets up logging, and runs [`hello_client::run`] or
//! the conformance suite [`hello_client::check`].

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use hello_client::bench::{self, BenchTarget, EchoLoad, IdleLoad, IdleReport, Stop};
use hello_client::check::{CheckConfig, SERVER_CASES, check_server};
use hello_client::config::{generated_name, url_from_parts};
use hello_client::{Backoff, ClientConfig, TlsSettings};
use hello_protocol::conformance::{Report, select};
use hello_protocol::defaults;
use hello_tls::{Identity, ServerTrust};

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
///   hello-client check --url ws://127.0.0.1:9898/ws --junit report.xml     judge a server
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    /// thousand sessions from 127.0.0.1 to 127.0.0.8.
    Bench(BenchArgs),
}

/// Where the server is, and how to trust it.
#[derive(Debug, Args)]
struct ServerArgs {
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
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// The server's ping interval.
    #[arg(long, env = "WS_PING_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    ping_interval: Duration,
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

    fn refuse_zero_durations(&self) -> Result<(), String> {
        if self.timeout.is_zero() || self.ping_interval.is_zero() {
            return Err("--timeout and --ping-interval must be longer than zero".into());
        }
        Ok(())
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Sent as the WhoAmI header [default: rust-client-XXXX, generated]
    #[arg(long)]
    name: Option<String>,
    /// An extra handshake header, 'Name: value'; repeatable, one value each.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// How many Echo requests to send, all in flight together.
    #[arg(long, default_value_t = 3)]
    count: u64,
    /// How long to stay connected, answering Kiss and Pings; without it, until Ctrl-C.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Reconnect, with backoff, when the server goes away.
    #[arg(long)]
    reconnect: bool,
    /// The first pause before reconnecting; it doubles on each failed try.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    backoff_initial: Duration,
    /// The longest pause before reconnecting.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    backoff_max: Duration,
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
    fn client_config(self) -> Result<ClientConfig, String> {
        self.server.refuse_zero_durations()?;
        if self.backoff_initial.is_zero() || self.backoff_max < self.backoff_initial {
            return Err(
                "--backoff-initial must be longer than zero, and --backoff-max at least as long"
                    .into(),
            );
        }
        Ok(ClientConfig {
            name: self.name.unwrap_or_else(generated_name),
            headers: self.headers,
            count: self.count,
            duration: self.duration,
            timeout: self.server.timeout,
            ping_interval: self.server.ping_interval,
            reconnect: self.reconnect.then_some(Backoff {
                initial: self.backoff_initial,
                max: self.backoff_max,
            }),
            tls: self.server.tls(),
            ..ClientConfig::new(self.server.url())
        })
    }
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The server's pong timeout.
    #[arg(long, env = "WS_PONG_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pong_timeout: Duration,
    /// The server's Kiss interval.
    #[arg(long, env = "WS_KISS_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    kiss_interval: Duration,
    /// How late a timed event (Kiss, Ping, eviction) may be and still pass.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    slack: Duration,
    /// The server's message limit, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_SIZE", default_value_t = defaults::MAX_MESSAGE_SIZE)]
    max_message_size: usize,
    /// Run only these cases (comma-separated, or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CASE")]
    only: Vec<String>,
    /// Run all cases but these (comma-separated, or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CASE")]
    skip: Vec<String>,
    /// List the cases and what each checks, then exit.
    #[arg(long)]
    list: bool,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write the report as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BenchArgs {
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
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// The data of every request.
    #[arg(long, default_value = "Hello")]
    data: String,
    /// The server sends frames back unchanged (the ceiling server in
    /// hello-server/examples/echo_ceiling.rs): take each echoed request as its own answer.
    #[arg(long)]
    frame_echo: bool,
    /// Instead of Echo load, open this many sessions that only answer Pings and Kiss requests.
    #[arg(long, value_name = "N", conflicts_with_all = ["requests", "duration", "frame_echo"])]
    idle: Option<usize>,
    /// How long to hold the --idle sessions once all are open.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, requires = "idle")]
    hold: Duration,
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => check(args).await,
        Some(Command::Bench(args)) => bench(args).await,
        None => run(cli.run).await,
    }
}

async fn run(args: RunArgs) -> ExitCode {
    let config = match args.client_config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("hello-client: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging("info");
    // Before connecting: a Ctrl-C or SIGTERM from then on ends the run with Close 1000.
    let stop = stop_signal();
    tracing::info!(url = %config.url, name = %config.name, "connecting");
    match hello_client::run(&config, stop).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn check(args: CheckArgs) -> ExitCode {
    if args.list {
        for case in SERVER_CASES {
            println!("{:<28} {}", case.name, case.checks);
        }
        return ExitCode::SUCCESS;
    }
    let cases = match select(SERVER_CASES, &args.only, &args.skip) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("hello-client check: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = args.server.refuse_zero_durations() {
        eprintln!("hello-client check: {error}");
        return ExitCode::from(2);
    }
    // The report is the output; logs only say what goes wrong inside the checker itself.
    init_logging("warn");
    let config = CheckConfig {
        url: args.server.url(),
        ping_interval: args.server.ping_interval,
        pong_timeout: args.pong_timeout,
        kiss_interval: args.kiss_interval,
        slack: args.slack,
        timeout: args.server.timeout,
        max_message_size: args.max_message_size,
        tls: args.server.tls(),
    };
    println!(
        "checking the server at {} ({} cases)",
        config.url,
        cases.len()
    );
    let report = check_server(&config, &cases, |result| println!("{}", result.line())).await;
    finish_report(&report, args.report.as_ref(), args.junit.as_ref())
}

async fn bench(args: BenchArgs) -> ExitCode {
    if let Err(error) = args.server.refuse_zero_durations() {
        eprintln!("hello-client bench: {error}");
        return ExitCode::from(2);
    }
    if args.connections == 0 || args.in_flight == 0 || args.idle == Some(0) {
        eprintln!("hello-client bench: --connections, --in-flight and --idle must be at least 1");
        return ExitCode::from(2);
    }
    init_logging("warn");
    let open_files = bench::raise_open_files_limit();
    let sessions = args.idle.unwrap_or(args.connections) as u64;
    if sessions + 64 > open_files {
        eprintln!(
            "hello-client bench: warning: {sessions} sessions but only {open_files} open files \
             allowed (raise the hard limit: ulimit -Hn)"
        );
    }
    let target = BenchTarget {
        url: args.server.url(),
        tls: args.server.tls(),
        timeout: args.server.timeout,
        max_message_size: args.max_message_size,
        name: args.name.clone(),
        sources: if args.sources > 1 {
            (1..=args.sources)
                .map(|n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
                .collect()
        } else {
            Vec::new()
        },
        connect_concurrency: args.connect_concurrency,
    };
    match args.idle {
        Some(sessions) => bench_idle_sessions(&target, sessions, args.hold, args.json).await,
        None => bench_echo_load(&target, &args).await,
    }
}

async fn bench_echo_load(target: &BenchTarget, args: &BenchArgs) -> ExitCode {
    let stop = match (args.requests, args.duration) {
        (Some(requests), _) => Stop::Requests(requests),
        (None, Some(duration)) => Stop::Duration(duration),
        (None, None) => Stop::Duration(Duration::from_secs(10)),
    };
    let load = EchoLoad {
        connections: args.connections,
        in_flight: args.in_flight,
        stop,
        data: args.data.clone(),
        frame_echo: args.frame_echo,
    };
    let progress = match stop {
        Stop::Requests(requests) => bench::progress_bar(requests, "answers"),
        Stop::Duration(_) => bench::progress_bar(0, "answers"),
    };
    let report = match bench::bench_echo(target, &load, &progress).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("hello-client bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    } else {
        let latency = &report.latency;
        println!(
            "{}: {} connection(s) x {} in flight",
            report.url, report.connections, report.in_flight
        );
        println!(
            "answers {}/{} in {:.2} s: {:.0} msgs/s, {} errors",
            report.answers, report.requests, report.seconds, report.msgs_per_sec, report.errors
        );
        println!(
            "latency p50 {} us, p90 {} us, p99 {} us, max {} us, mean {:.1} us",
            latency.p50_us, latency.p90_us, latency.p99_us, latency.max_us, latency.mean_us
        );
    }
    for error in &report.error_samples {
        eprintln!("error: {error}");
    }
    if report.errors == 0 && report.answers > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn bench_idle_sessions(
    target: &BenchTarget,
    sessions: usize,
    hold: Duration,
    json: bool,
) -> ExitCode {
    let load = IdleLoad { sessions, hold };
    let progress = bench::progress_bar(sessions as u64, "sessions");
    let announce = |report: &IdleReport| {
        eprintln!(
            "opened {}/{} sessions in {:.1} s; holding them for {}",
            report.opened,
            report.sessions,
            report.open_seconds,
            humantime::format_duration(hold)
        );
    };
    let report = match bench::bench_idle(target, &load, &progress, announce).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("hello-client bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    } else {
        println!(
            "{}: {}/{} sessions opened, held {:.1} s; {} closed by the server; {} Kiss answered, {} Pings seen",
            report.url,
            report.opened,
            report.sessions,
            report.hold_seconds,
            report.closed_by_server,
            report.kisses_answered,
            report.pings_seen
        );
    }
    for error in &report.error_samples {
        eprintln!("error: {error}");
    }
    if report.opened == report.sessions && report.closed_by_server == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints the closing line, writes the JSON and JUnit files asked for, and turns the verdict
/// into the exit status.
fn finish_report(report: &Report, json: Option<&PathBuf>, junit: Option<&PathBuf>) -> ExitCode {
    if let Some(svr) = &report.svr {
        println!("server language (SVR): {svr}");
    }
    println!("{}", report.summary_line());
    let writes = [(json, report.to_json()), (junit, report.to_junit())];
    for (path, contents) in writes {
        if let Some(path) = path
            && let Err(error) = std::fs::write(path, contents)
        {
            eprintln!(
                "hello-client check: cannot write {}: {error}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: a signal that comes before then would otherwise meet the default
/// action, which ends the process without a Close to anyone.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
