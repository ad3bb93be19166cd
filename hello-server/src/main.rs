//! `hello-server`: parses the command line, sets up logging, and runs [`hello_server::Server`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use hello_protocol::conformance::select;
use hello_protocol::defaults;
use hello_server::check::{CLIENT_CASES, JudgeConfig, check_clients};
use hello_server::{Endpoint, Server, ServerConfig};
use hello_tls::certs::CertFiles;
use hello_tls::{ClientAuth, Identity, ensure_certs, server_config};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The reference Hello WebSocket server.
///
/// Examples:
///
///   hello-server                                  serve ws://127.0.0.1:9898/ws
///
///   hello-server --host 0.0.0.0 --port 8080       serve every interface on port 8080
///
///   hello-server --tls                            also serve wss://127.0.0.1:9886/ws, certs made in certs/
///
///   hello-server --ping-interval 1s --pong-timeout 500ms --kiss-interval 300ms
///
///   hello-server gen-certs --san hello.example    make certs/ now, for one more name
///
///   hello-server check --port 0 --clients 1       judge the next client that connects
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the certificates folder: a local CA, a server and a client certificate. Files
    /// already there and usable are kept.
    GenCerts(GenCertsArgs),
    /// Judge clients, in any language, against PROTOCOL.md: serve as usual, watch the next
    /// --clients sessions, then print one line per case and `N passed, N failed`; exit status
    /// 1 on any failure.
    ///
    /// Run the client under test for longer than the Kiss interval and ping interval, so that
    /// its answers to them can be judged.
    Check(Box<CheckArgs>),
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// How many client sessions to judge.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// How long to wait for the clients to come and finish; sessions still open then are
    /// judged as they are.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Echo requests arriving within this time of each other are answered together, in reverse.
    #[arg(long, default_value = "20ms", value_parser = humantime::parse_duration)]
    reorder_window: Duration,
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
struct GenCertsArgs {
    #[command(flatten)]
    certs: CertsArgs,
    /// Make every certificate anew, the CA included (clients must trust the new CA).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct CertsArgs {
    /// Where ca.crt, server.crt, client.crt and their keys are, or are made.
    #[arg(long, env = "WS_CERTS_DIR", default_value = "certs")]
    certs_dir: PathBuf,
    /// One more name (DNS name or IP address) for the server certificate; repeatable.
    #[arg(long = "san", value_name = "NAME")]
    sans: Vec<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
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
    /// Messages of one session answered before the answers are written out; while they cannot
    /// be written, the session's input is not read.
    #[arg(long, default_value_t = 64)]
    batch_len: usize,
    /// Bytes read from a socket at once; each session keeps a buffer this large.
    #[arg(long, default_value_t = defaults::READ_BUFFER_SIZE)]
    read_buffer_size: usize,
    /// Also serve wss:// on --tls-port.
    #[arg(long, env = "WS_TLS")]
    tls: bool,
    /// The wss:// port; 0 picks a free one.
    #[arg(long, env = "WS_TLS_PORT", default_value_t = defaults::TLS_PORT)]
    tls_port: u16,
    #[command(flatten)]
    certs: CertsArgs,
    /// The server's certificate chain (PEM) instead of the generated one; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Require a client certificate signed by the CA in this file (mutual TLS).
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Require a client certificate signed by the generated CA (certs-dir/ca.crt).
    #[arg(long, conflicts_with = "client_ca")]
    require_client_cert: bool,
}

impl ServeArgs {
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
            batch_len: self.batch_len,
            read_buffer_size: self.read_buffer_size,
        }
    }

    /// The TLS acceptor for --tls: certificates from --cert/--key, or made in --certs-dir when
    /// missing; client certificates required under --client-ca / --require-client-cert.
    fn tls_acceptor(&self) -> Result<TlsAcceptor, String> {
        let identity = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Identity {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ => {
                let files = make_certs(&self.certs, false)?;
                Identity {
                    cert: files.server_cert(),
                    key: files.server_key(),
                }
            }
        };
        let client_auth = match (&self.client_ca, self.require_client_cert) {
            (Some(ca), _) => ClientAuth::Required { ca: ca.clone() },
            (None, true) => ClientAuth::Required {
                ca: CertFiles::new(&self.certs.certs_dir).ca_cert(),
            },
            (None, false) => ClientAuth::None,
        };
        let config = server_config(&identity, &client_auth).map_err(|error| error.to_string())?;
        Ok(TlsAcceptor::from(config))
    }
}

/// Makes what is missing in the certificates folder and says what it did.
fn make_certs(args: &CertsArgs, force: bool) -> Result<CertFiles, String> {
    let files = CertFiles::new(&args.certs_dir);
    let report = ensure_certs(&files, &args.sans, force).map_err(|error| error.to_string())?;
    for path in &report.written {
        tracing::info!(path = %path.display(), "certificate file written");
    }
    if report.written.is_empty() {
        tracing::info!(dir = %files.dir.display(), "reusing certificates");
    } else {
        tracing::info!(
            "certificates are in {}; clients trust {}",
            files.dir.display(),
            files.ca_cert().display()
        );
    }
    Ok(files)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::GenCerts(args)) => {
            init_logging("info");
            match make_certs(&args.certs, args.force) {
                Ok(_) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("hello-server: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Check(args)) => check(*args).await,
        None => {
            init_logging("info");
            serve(cli.serve).await
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    // Before anything listens: a SIGTERM from then on is a graceful shutdown.
    let shutdown = shutdown_signal();
    let server = match Server::new(args.server_config()) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("hello-server: {error}");
            return ExitCode::from(2);
        }
    };
    let endpoints = match endpoints(&args).await {
        Ok(endpoints) => endpoints,
        Err(status) => return status,
    };
    for endpoint in &endpoints {
        if let Some(url) = endpoint.describe(&args.path) {
            tracing::info!("listening on {url}");
        }
    }
    server.serve(endpoints, shutdown).await;
    ExitCode::SUCCESS
}

async fn check(args: CheckArgs) -> ExitCode {
    if args.list {
        for case in CLIENT_CASES {
            println!("{:<24} {}", case.name, case.checks);
        }
        return ExitCode::SUCCESS;
    }
    let cases = match select(CLIENT_CASES, &args.only, &args.skip) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("hello-server check: {error}");
            return ExitCode::from(2);
        }
    };
    let server = args.serve.server_config();
    if let Err(error) = server.validate() {
        eprintln!("hello-server check: {error}");
        return ExitCode::from(2);
    }
    if args.clients == 0 || args.timeout.is_zero() {
        eprintln!("hello-server check: --clients and --timeout must be more than zero");
        return ExitCode::from(2);
    }
    // The report is the output; logs only say what goes wrong inside the judge itself.
    init_logging("warn");
    let endpoints = match endpoints(&args.serve).await {
        Ok(endpoints) => endpoints,
        Err(status) => return status,
    };
    for endpoint in &endpoints {
        if let Some(url) = endpoint.describe(&args.serve.path) {
            println!("listening on {url}");
        }
    }
    println!(
        "judging the next {} client session(s), for at most {}",
        args.clients,
        humantime::format_duration(args.timeout)
    );
    let config = JudgeConfig {
        server,
        clients: args.clients,
        timeout: args.timeout,
        reorder_window: args.reorder_window,
    };
    let report = check_clients(endpoints, config, &cases, |result| {
        println!("{}", result.line())
    })
    .await;
    println!("{}", report.summary_line());
    for (path, contents) in [
        (&args.report, report.to_json()),
        (&args.junit, report.to_junit()),
    ] {
        if let Some(path) = path
            && let Err(error) = std::fs::write(path, contents)
        {
            eprintln!(
                "hello-server check: cannot write {}: {error}",
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

/// Binds the plain endpoint, and the TLS one under --tls.
async fn endpoints(args: &ServeArgs) -> Result<Vec<Endpoint>, ExitCode> {
    let mut endpoints = vec![Endpoint::Plain(bind(&args.host, args.port).await?)];
    if args.tls {
        let acceptor = args.tls_acceptor().map_err(|error| {
            eprintln!("hello-server: TLS: {error}");
            ExitCode::FAILURE
        })?;
        endpoints.push(Endpoint::Tls(
            bind(&args.host, args.tls_port).await?,
            acceptor,
        ));
    }
    Ok(endpoints)
}

async fn bind(host: &str, port: u16) -> Result<TcpListener, ExitCode> {
    TcpListener::bind((host, port)).await.map_err(|error| {
        eprintln!("hello-server: cannot listen on {host}:{port}: {error}");
        ExitCode::FAILURE
    })
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
fn shutdown_signal() -> impl Future<Output = ()> {
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
