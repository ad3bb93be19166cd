//! `hello-server`: parses the command line, sets up logging, and runs [`hello_server::Server`].

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hello_protocol::defaults;
use hello_server::{Server, ServerConfig};
use tokio::net::TcpListener;

/// The reference Hello WebSocket server.
///
/// Examples:
///
///   hello-server                                  serve ws://127.0.0.1:9898/ws
///
///   hello-server --host 0.0.0.0 --port 8080       serve every interface on port 8080
///
///   hello-server --ping-interval 1s --pong-timeout 500ms --kiss-interval 300ms
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment)]
struct Cli {
    /// Address to bind.
    #[arg(long, env = "WS_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Plain ws:// port; 0 picks a free one.
    #[arg(long, env = "WS_PORT", default_value_t = defaults::PORT)]
    port: u16,
    /// The WebSocket path; other paths get 404.
    #[arg(long, env = "WS_PATH", default_value = defaults::PATH)]
    path: String,
    /// How often each session is sent a Ping.
    #[arg(long, env = "WS_PING_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    ping_interval: Duration,
    /// How long a Ping may go unanswered before the session is evicted (at most the ping interval).
    #[arg(long, env = "WS_PONG_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pong_timeout: Duration,
    /// How often each session is sent a Kiss request.
    #[arg(long, env = "WS_KISS_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    kiss_interval: Duration,
    /// How long a WebSocket handshake may take.
    #[arg(long, env = "WS_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    handshake_timeout: Duration,
    /// How long a closing session waits for the client's Close.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    close_timeout: Duration,
    /// How long shutdown waits for every session to close.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    shutdown_timeout: Duration,
    /// Sessions served at once; more handshakes are answered 503.
    #[arg(long, env = "WS_MAX_CONNECTIONS", default_value_t = 10_000)]
    max_connections: usize,
    /// The largest message accepted, in bytes; larger ones close the session with 1009.
    #[arg(long, env = "WS_MAX_MESSAGE_SIZE", default_value_t = defaults::MAX_MESSAGE_SIZE)]
    max_message_size: usize,
    /// Messages queued for one session before its input is paused.
    #[arg(long, default_value_t = 64)]
    send_queue_len: usize,
}

impl Cli {
    fn server_config(&self) -> ServerConfig {
        ServerConfig {
            path: self.path.clone(),
            ping_interval: self.ping_interval,
            pong_timeout: self.pong_timeout,
            kiss_interval: self.kiss_interval,
            handshake_timeout: self.handshake_timeout,
            close_timeout: self.close_timeout,
            shutdown_timeout: self.shutdown_timeout,
            max_connections: self.max_connections,
            max_message_size: self.max_message_size,
            send_queue_len: self.send_queue_len,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let server = match Server::new(cli.server_config()) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("hello-server: {error}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind((cli.host.as_str(), cli.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "hello-server: cannot listen on {}:{}: {error}",
                cli.host, cli.port
            );
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(address) => tracing::info!("listening on ws://{address}{}", cli.path),
        Err(error) => tracing::warn!(%error, "listening, on an address the OS won't tell"),
    }
    server.run(listener, shutdown_signal()).await;
    ExitCode::SUCCESS
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
async fn shutdown_signal() {
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
