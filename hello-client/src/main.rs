//! `hello-client`: parses the command line, sets up logging, and runs [`hello_client::run`] or
//! the conformance suite [`hello_client::check`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => check(args).await,
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
    tracing::info!(url = %config.url, name = %config.name, "connecting");
    match hello_client::run(&config, stop_signal()).await {
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

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
