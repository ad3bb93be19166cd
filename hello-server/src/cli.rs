//! The command line of `hello-server`: flags, their defaults (from
//! `hello_protocol::defaults`), the settings they make, and the endpoints they bind.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hello_check::ClientSuiteConfig;
use hello_check::cli::SuiteArgs;
use hello_net::Endpoint;
use hello_net::process::Failure;
use hello_protocol::{defaults, v1};
use hello_server::{Dialects, ServerConfig};
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
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
pub struct CheckArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    #[command(flatten)]
    protocol: ProtocolArgs,
    /// How many client sessions to judge.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// How long to wait for the clients to come and finish; sessions still open then are
    /// judged as they are.
    #[arg(long, default_value_t = defaults::CLIENT_SUITE_TIMEOUT.into())]
    timeout: humantime::Duration,
    /// Echo requests arriving within this time of each other are answered together, in reverse.
    #[arg(long, default_value_t = defaults::REORDER_WINDOW.into())]
    reorder_window: humantime::Duration,
    /// How often a v1 client under judgement is expected to send a RANDOM_NUMBER.
    #[arg(long, env = "WS_RANDOM_INTERVAL", default_value_t = defaults::V1_RANDOM_INTERVAL.into())]
    random_interval: humantime::Duration,
    /// The clients are web browsers: they cannot set handshake headers, so their name is judged
    /// from the `whoami` query parameter and `whoami-sent`/`user-id-sent` are skipped, with the
    /// reason, when it came.
    #[arg(long)]
    browser: bool,
    #[command(flatten)]
    pub suite: SuiteArgs,
}

#[derive(Debug, Args)]
pub struct GenCertsArgs {
    #[command(flatten)]
    pub certs: CertsArgs,
    /// Make every certificate anew, the CA included (clients must trust the new CA).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Where ca.crt, server.crt, client.crt and their keys are, or are made.
    #[arg(long, env = "WS_CERTS_DIR", default_value = "certs")]
    certs_dir: PathBuf,
    /// One more name (DNS name or IP address) for the server certificate; repeatable.
    #[arg(long = "san", value_name = "NAME")]
    sans: Vec<String>,
}

/// Where to listen, plain and TLS, and with which certificates.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to bind.
    #[arg(long, env = "WS_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Plain ws:// port; 0 picks a free one.
    #[arg(long, env = "WS_PORT", default_value_t = defaults::PORT)]
    port: u16,
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

/// The protocol's side of a server: its path, its timings and its message limit.
#[derive(Debug, Args)]
pub struct ProtocolArgs {
    /// The WebSocket path; other paths get 404.
    #[arg(long, env = "WS_PATH", default_value = defaults::PATH)]
    pub path: String,
    /// How often each session is sent a Ping.
    #[arg(long, env = "WS_PING_INTERVAL", default_value_t = defaults::PING_INTERVAL.into())]
    ping_interval: humantime::Duration,
    /// How long a Ping may go unanswered before the session is evicted (at most the ping interval).
    #[arg(long, env = "WS_PONG_TIMEOUT", default_value_t = defaults::PONG_TIMEOUT.into())]
    pong_timeout: humantime::Duration,
    /// How often each session is sent a Kiss request.
    #[arg(long, env = "WS_KISS_INTERVAL", default_value_t = defaults::KISS_INTERVAL.into())]
    kiss_interval: humantime::Duration,
    /// How often each v1 session is sent a PING.
    #[arg(long, env = "WS_V1_PING_INTERVAL", default_value_t = defaults::V1_PING_INTERVAL.into())]
    v1_ping_interval: humantime::Duration,
    /// How long a v1 session may go without a PONG matching a PING before it is removed.
    #[arg(long, env = "WS_V1_SESSION_TIMEOUT", default_value_t = defaults::V1_SESSION_TIMEOUT.into())]
    v1_session_timeout: humantime::Duration,
    /// How often each v1 session is sent a TIME_NOTIFICATION.
    #[arg(long, env = "WS_V1_TIME_INTERVAL", default_value_t = defaults::V1_TIME_INTERVAL.into())]
    v1_time_interval: humantime::Duration,
    /// How often each v1 session is sent a KISS_REQUEST.
    #[arg(long, env = "WS_V1_KISS_INTERVAL", default_value_t = defaults::V1_KISS_INTERVAL.into())]
    v1_kiss_interval: humantime::Duration,
    /// How long a WebSocket handshake may take.
    #[arg(long, env = "WS_HANDSHAKE_TIMEOUT", default_value_t = defaults::HANDSHAKE_TIMEOUT.into())]
    handshake_timeout: humantime::Duration,
    /// How long a closing session waits for the client's Close.
    #[arg(long, default_value_t = defaults::CLOSE_TIMEOUT.into())]
    close_timeout: humantime::Duration,
    /// The largest message accepted, in bytes; larger ones close the session with 1009.
    #[arg(long, env = "WS_MAX_MESSAGE_SIZE", default_value_t = defaults::MAX_MESSAGE_SIZE)]
    max_message_size: usize,
}

/// What the server serves with: where, the protocol's settings, and its own limits.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// Which dialects sessions may speak: `auto` tells them apart by each session's first
    /// message; `json` or `v1` serves every session in that one.
    #[arg(long, env = "WS_DIALECT", default_value = "auto", value_parser = parse_dialects)]
    dialect: Dialects,
    /// How long shutdown waits for every session to close.
    #[arg(long, default_value_t = defaults::SHUTDOWN_TIMEOUT.into())]
    shutdown_timeout: humantime::Duration,
    /// Sessions served at once; more handshakes are answered 503.
    #[arg(long, env = "WS_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    max_connections: usize,
    /// Bytes a closing session reads and throws away while it waits for the client's Close, so
    /// that a client still writing receives the Close; past them it is cut off with a reset.
    #[arg(long, default_value_t = defaults::LINGER_BYTES)]
    linger_bytes: usize,
    /// Messages of one session answered before the answers are written out; while they cannot
    /// be written, the session's input is not read.
    #[arg(long, default_value_t = defaults::BATCH_LEN)]
    batch_len: usize,
    /// Bytes read from a socket at once; each session keeps a buffer this large.
    #[arg(long, default_value_t = defaults::READ_BUFFER_SIZE)]
    read_buffer_size: usize,
    /// A browser origin allowed to open sessions besides the server's own (http or https, with
    /// localhost, 127.0.0.1, [::1], --host or a --san, and a port it listens on), written as a
    /// browser does (`https://app.example:8443`), or `*` for every origin; repeatable. Other
    /// origins are answered 403 (PROTOCOL.md, section 2.2).
    #[arg(
        long = "allow-origin",
        value_name = "ORIGIN",
        env = "WS_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    allow_origins: Vec<String>,
}

impl ProtocolArgs {
    /// A server's settings with these, and the defaults for the rest; not yet checked.
    fn server_config(&self) -> ServerConfig {
        ServerConfig {
            path: self.path.clone(),
            ping_interval: self.ping_interval.into(),
            pong_timeout: self.pong_timeout.into(),
            kiss_interval: self.kiss_interval.into(),
            v1: v1::Timings {
                ping_interval: self.v1_ping_interval.into(),
                session_timeout: self.v1_session_timeout.into(),
                time_interval: self.v1_time_interval.into(),
                kiss_interval: self.v1_kiss_interval.into(),
            },
            handshake_timeout: self.handshake_timeout.into(),
            close_timeout: self.close_timeout.into(),
            max_message_size: self.max_message_size,
            ..ServerConfig::default()
        }
    }
}

impl ServeArgs {
    /// The server's settings; [`hello_server::Server::new`] checks them.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            shutdown_timeout: self.shutdown_timeout.into(),
            max_connections: self.max_connections,
            linger_bytes: self.linger_bytes,
            batch_len: self.batch_len,
            read_buffer_size: self.read_buffer_size,
            dialects: self.dialect,
            own_hosts: self.listen.own_hosts(),
            allow_origins: self.allow_origins.clone(),
            ..self.protocol.server_config()
        }
    }
}

fn parse_dialects(name: &str) -> Result<Dialects, String> {
    match name {
        "auto" => Ok(Dialects::Auto),
        "json" => Ok(Dialects::Json),
        "v1" => Ok(Dialects::V1),
        _ => Err(format!("no dialect {name:?}; known: auto, json, v1")),
    }
}

impl CheckArgs {
    /// The client suite's settings, checked as a server's would be.
    ///
    /// # Errors
    /// A usage error for settings that make no sense.
    pub fn suite_config(&self) -> Result<ClientSuiteConfig, Failure> {
        let as_server = self.protocol.server_config();
        as_server
            .validate()
            .map_err(|error| Failure::Usage(error.to_string()))?;
        if self.clients == 0 || self.timeout.is_zero() {
            return Err(Failure::Usage(
                "--clients and --timeout must be more than zero".into(),
            ));
        }
        Ok(ClientSuiteConfig {
            path: as_server.path,
            dialect: self.suite.dialect,
            ping_interval: as_server.ping_interval,
            pong_timeout: as_server.pong_timeout,
            kiss_interval: as_server.kiss_interval,
            v1: as_server.v1,
            random_interval: self.random_interval.into(),
            handshake_timeout: as_server.handshake_timeout,
            close_timeout: as_server.close_timeout,
            max_message_size: as_server.max_message_size,
            clients: self.clients,
            timeout: self.timeout.into(),
            reorder_window: self.reorder_window.into(),
            browser: self.browser,
        })
    }

    /// The path clients are to connect to.
    pub fn path(&self) -> &str {
        &self.protocol.path
    }
}

impl ListenArgs {
    /// The server's names besides the loopback ones: its `--host` and each `--san`.
    fn own_hosts(&self) -> Vec<String> {
        std::iter::once(&self.host)
            .chain(&self.certs.sans)
            .cloned()
            .collect()
    }

    /// Binds the plain endpoint, and the TLS one under --tls.
    ///
    /// # Errors
    /// An address that cannot be bound, or certificates that cannot be made or read.
    pub async fn endpoints(&self) -> Result<Vec<Endpoint>, Failure> {
        let mut endpoints = vec![Endpoint::Plain(bind(&self.host, self.port).await?)];
        if self.tls {
            let acceptor = self
                .tls_acceptor()
                .map_err(|error| Failure::Error(format!("TLS: {error}")))?;
            endpoints.push(Endpoint::Tls(
                bind(&self.host, self.tls_port).await?,
                acceptor,
            ));
        }
        Ok(endpoints)
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

async fn bind(host: &str, port: u16) -> Result<TcpListener, Failure> {
    TcpListener::bind((host, port))
        .await
        .map_err(|error| Failure::Error(format!("cannot listen on {host}:{port}: {error}")))
}

/// Makes what is missing in the certificates folder and says what it did.
pub fn make_certs(args: &CertsArgs, force: bool) -> Result<CertFiles, String> {
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
