//! `hello-client`: parses the command line, sets up logging, and runs [`hello_client::run`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hello_client::config::{generated_name, url_from_parts};
use hello_client::{Backoff, ClientConfig, TlsSettings};
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
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment)]
struct Cli {
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
    /// How long to wait for the connection, for each answer, and for the server's Close.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// The server's ping interval; no Ping for three of them is reported.
    #[arg(long, env = "WS_PING_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    ping_interval: Duration,
    /// Reconnect, with backoff, when the server goes away.
    #[arg(long)]
    reconnect: bool,
    /// The first pause before reconnecting; it doubles on each failed try.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    backoff_initial: Duration,
    /// The longest pause before reconnecting.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    backoff_max: Duration,
    /// The CA to trust for wss:// (PEM).
    #[arg(long, value_name = "FILE", default_value = "certs/ca.crt")]
    ca: PathBuf,
    /// Do not verify the server's certificate at all. For testing only.
    #[arg(short = 'k', long, conflicts_with = "ca")]
    insecure: bool,
    /// A client certificate (PEM) to present, for mutual TLS; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
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

impl Cli {
    fn client_config(self) -> Result<ClientConfig, String> {
        if self.timeout.is_zero() || self.ping_interval.is_zero() || self.backoff_initial.is_zero()
        {
            return Err(
                "--timeout, --ping-interval and --backoff-initial must be longer than zero".into(),
            );
        }
        if self.backoff_max < self.backoff_initial {
            return Err("--backoff-max must be at least --backoff-initial".into());
        }
        let url = self
            .url
            .unwrap_or_else(|| url_from_parts(&self.server, self.port, &self.path));
        Ok(ClientConfig {
            name: self.name.unwrap_or_else(generated_name),
            headers: self.headers,
            count: self.count,
            duration: self.duration,
            timeout: self.timeout,
            ping_interval: self.ping_interval,
            reconnect: self.reconnect.then_some(Backoff {
                initial: self.backoff_initial,
                max: self.backoff_max,
            }),
            tls: TlsSettings {
                trust: if self.insecure {
                    ServerTrust::Insecure
                } else {
                    ServerTrust::Ca(self.ca)
                },
                identity: self
                    .cert
                    .zip(self.key)
                    .map(|(cert, key)| Identity { cert, key }),
            },
            ..ClientConfig::new(url)
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Cli::parse().client_config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("hello-client: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    tracing::info!(url = %config.url, name = %config.name, "connecting");
    match hello_client::run(&config, stop_signal()).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
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
