//! wss end to end: the client and the server over TLS with certificates generated for the test,
//! the ways a client must refuse a server, mutual TLS, and bad input on both ports.

// The harness's test helpers serve the client's tests as they are.
#[path = "../../hello-check/tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::WAIT;
use hello_check::{Dialect, ServerCase, ServerSuiteConfig, run_server_suite, select};
use hello_client::{ClientConfig, ClientError, RunReport, TlsSettings, run};
use hello_server::{Endpoint, RunningServer, Server, ServerConfig, SessionRegistry, Transport};
use hello_tls::certs::{CertFiles, ensure_certs, ensure_certs_valid};
use hello_tls::{ClientAuth, Identity, ServerTrust, Validity, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

/// A server with a plain and a TLS endpoint.
struct TlsServer {
    plain: SocketAddr,
    tls: SocketAddr,
    registry: SessionRegistry,
    running: RunningServer,
}

impl TlsServer {
    async fn start(host: &str, files: &CertFiles, client_auth: ClientAuth) -> TlsServer {
        let identity = Identity {
            cert: files.server_cert(),
            key: files.server_key(),
        };
        let acceptor = TlsAcceptor::from(server_config(&identity, &client_auth).unwrap());
        let plain = TcpListener::bind((host, 0)).await.unwrap();
        let tls = TcpListener::bind((host, 0)).await.unwrap();
        let (plain_addr, tls_addr) = (plain.local_addr().unwrap(), tls.local_addr().unwrap());
        let server = Server::new(ServerConfig {
            kiss_interval: Duration::from_millis(100),
            // A pong timeout long against the work of answering a Ping, and a handshake timeout
            // long against a TLS handshake, even in a debug build on a busy core.
            ping_interval: Duration::from_millis(300),
            pong_timeout: Duration::from_millis(300),
            handshake_timeout: Duration::from_secs(2),
            close_timeout: Duration::from_millis(300),
            ..ServerConfig::default()
        })
        .unwrap();
        let running = server.spawn(vec![Endpoint::Plain(plain), Endpoint::Tls(tls, acceptor)]);
        TlsServer {
            plain: plain_addr,
            tls: tls_addr,
            registry: running.registry().clone(),
            running,
        }
    }

    async fn shutdown(self) {
        timeout(WAIT, self.running.shutdown()).await.unwrap();
    }
}

fn certs_in(dir: &Path) -> CertFiles {
    let files = CertFiles::new(dir);
    ensure_certs(&files, &[], false).unwrap();
    files
}

fn client(url: String, trust: ServerTrust, identity: Option<Identity>) -> ClientConfig {
    ClientConfig {
        name: "tls-client".into(),
        duration: Some(Duration::from_millis(300)),
        timeout: Duration::from_secs(3),
        ping_interval: Duration::from_millis(300),
        tls: TlsSettings { trust, identity },
        ..ClientConfig::new(url)
    }
}

fn trusting(files: &CertFiles) -> ServerTrust {
    ServerTrust::Ca(files.ca_cert())
}

fn client_identity(files: &CertFiles) -> Identity {
    Identity {
        cert: files.client_cert(),
        key: files.client_key(),
    }
}

async fn run_client(config: ClientConfig) -> Result<RunReport, ClientError> {
    timeout(WAIT, run(&config, std::future::pending()))
        .await
        .unwrap()
}

fn refused(result: Result<RunReport, ClientError>, because: &str) {
    match result {
        Err(ClientError::Connect(message)) => {
            assert!(
                message.contains(because),
                "{message:?} should say {because:?}"
            )
        }
        other => panic!("expected a refusal saying {because:?}, got {other:?}"),
    }
}

/// Proof the server still serves: a clean wss run.
async fn still_serves(server: &TlsServer, files: &CertFiles) {
    let url = format!("wss://localhost:{}/ws", server.tls.port());
    let report = run_client(client(url, trusting(files), None))
        .await
        .unwrap();
    assert_eq!(report.echoes_answered, 3);
}

#[tokio::test]
async fn the_browser_page_is_served_over_tls_on_the_wss_port() {
    use rustls_pki_types::ServerName;

    let dir = tempfile::tempdir().unwrap();
    let files = certs_in(dir.path());
    let server = TlsServer::start("127.0.0.1", &files, ClientAuth::None).await;
    let config = hello_tls::client_config(&ServerTrust::Ca(files.ca_cert()), None).unwrap();
    let tcp = TcpStream::connect(server.tls).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap();
    let answer = common::http_get(tls, "localhost", "/").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, include_str!("../../web/index.html").as_bytes());
    still_serves(&server, &files).await;
    server.shutdown().await;
}

#[tokio::test]
async fn wss_round_trip_by_name_ipv4_and_ipv6() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs_in(dir.path());
    for (bind, host) in [
        ("127.0.0.1", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "[::1]"),
    ] {
        let server = TlsServer::start(bind, &files, ClientAuth::None).await;
        let url = format!("wss://{host}:{}/ws", server.tls.port());
        let report = run_client(client(url, trusting(&files), None))
            .await
            .unwrap();
        assert_eq!(report.echoes_answered, 3, "{host}");
        assert!(report.kisses_answered >= 1, "{host}");
        assert_eq!(report.handshakes[0].svr(), Some("RUST"));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn v1_sessions_run_over_wss_as_over_ws() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs_in(dir.path());
    let server = TlsServer::start("127.0.0.1", &files, ClientAuth::None).await;
    let only: Vec<String> = ["hello-bonjour", "echo-round-trip", "hash", "bad-magic"]
        .map(String::from)
        .into();
    let cases = select::<ServerCase>(&only, &[], Dialect::V1).unwrap();
    let config = ServerSuiteConfig {
        url: format!("wss://localhost:{}/ws", server.tls.port()),
        dialect: Dialect::V1,
        ping_interval: Duration::from_millis(300),
        pong_timeout: Duration::from_millis(300),
        kiss_interval: Duration::from_millis(100),
        v1: Default::default(),
        slack: Duration::from_secs(1),
        timeout: WAIT,
        max_message_size: hello_protocol::defaults::MAX_MESSAGE_SIZE,
        tls: TlsSettings {
            trust: trusting(&files),
            identity: None,
        },
    };
    let report = run_server_suite(&config, &cases, |_| {}).await;
    assert_eq!(report.summary_line(), "4 passed, 0 failed", "{report:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_from_another_ca_is_refused_unless_insecure() {
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    let (ours, theirs) = (certs_in(ours.path()), certs_in(theirs.path()));
    let server = TlsServer::start("127.0.0.1", &theirs, ClientAuth::None).await;
    let url = format!("wss://localhost:{}/ws", server.tls.port());
    refused(
        run_client(client(url.clone(), trusting(&ours), None)).await,
        "not signed by a CA this client trusts",
    );
    let report = run_client(client(url, ServerTrust::Insecure, None))
        .await
        .unwrap();
    assert_eq!(report.echoes_answered, 3);
    server.shutdown().await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs_in(dir.path());
    // The certificate covers localhost, 127.0.0.1 and ::1; 127.0.0.2 is loopback too.
    let server = TlsServer::start("127.0.0.2", &files, ClientAuth::None).await;
    let url = format!("wss://127.0.0.2:{}/ws", server.tls.port());
    refused(
        run_client(client(url, trusting(&files), None)).await,
        "not valid for this host name",
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = CertFiles::new(dir.path());
    ensure_certs_valid(
        &files,
        &[],
        false,
        Validity::days_from_now(10),
        Validity::expired(),
    )
    .unwrap();
    let server = TlsServer::start("127.0.0.1", &files, ClientAuth::None).await;
    let url = format!("wss://localhost:{}/ws", server.tls.port());
    refused(
        run_client(client(url, trusting(&files), None)).await,
        "has expired",
    );
    server.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_accepts_the_right_client_certificate_only() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let (files, foreign) = (certs_in(dir.path()), certs_in(other.path()));
    let auth = ClientAuth::Required {
        ca: files.ca_cert(),
    };
    let server = TlsServer::start("127.0.0.1", &files, auth).await;
    let url = format!("wss://localhost:{}/ws", server.tls.port());

    // The right certificate: accepted, and its CN recorded in the session.
    let registry = server.registry.clone();
    let watcher = tokio::spawn(async move {
        registry.wait_until(WAIT, |r| !r.is_empty()).await;
        registry.sessions()
    });
    let report = run_client(client(
        url.clone(),
        trusting(&files),
        Some(client_identity(&files)),
    ))
    .await
    .unwrap();
    assert_eq!(report.echoes_answered, 3);
    let sessions = watcher.await.unwrap();
    assert_eq!(
        sessions[0].transport,
        Transport::Tls {
            client_cert: Some("hello-client".into())
        }
    );

    // No certificate, or one from another CA: refused, and said so.
    for identity in [None, Some(client_identity(&foreign))] {
        let result = run_client(client(url.clone(), trusting(&files), identity)).await;
        match result {
            Err(ClientError::Connect(_)) => {}
            other => panic!("expected a refused connection, got {other:?}"),
        }
    }
    assert!(server.registry.is_empty());
    let report = run_client(client(url, trusting(&files), Some(client_identity(&files))))
        .await
        .unwrap();
    assert_eq!(report.echoes_answered, 3);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_input_on_either_port_costs_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs_in(dir.path());
    let server = TlsServer::start("127.0.0.1", &files, ClientAuth::None).await;

    // A plain ws client on the TLS port.
    let plain_on_tls = client(
        format!("ws://127.0.0.1:{}/ws", server.tls.port()),
        trusting(&files),
        None,
    );
    assert!(matches!(
        run_client(plain_on_tls).await,
        Err(ClientError::Connect(_))
    ));
    still_serves(&server, &files).await;

    // A TLS client on the plain port.
    let tls_on_plain = client(
        format!("wss://localhost:{}/ws", server.plain.port()),
        trusting(&files),
        None,
    );
    assert!(matches!(
        run_client(tls_on_plain).await,
        Err(ClientError::Connect(_))
    ));
    still_serves(&server, &files).await;

    // Garbage instead of a ClientHello, on both ports: the server hangs up.
    for port in [server.tls.port(), server.plain.port()] {
        let mut garbage = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        garbage
            .write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8])
            .await
            .unwrap();
        garbage
            .write_all(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let closed = timeout(WAIT, garbage.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "port {port} kept a garbage connection open");
    }
    still_serves(&server, &files).await;

    // A TCP connection that never starts its TLS handshake is dropped at the handshake timeout.
    let mut idle = TcpStream::connect(server.tls).await.unwrap();
    let mut byte = [0u8; 1];
    let dropped = timeout(WAIT, idle.read(&mut byte))
        .await
        .expect("dropped within the wait");
    assert!(matches!(dropped, Ok(0) | Err(_)));
    still_serves(&server, &files).await;
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);
    server.shutdown().await;
}

#[test]
fn tls_settings_default_to_the_generated_ca() {
    let settings = TlsSettings::default();
    assert_eq!(
        settings.trust,
        ServerTrust::Ca(Path::new("certs").join("ca.crt"))
    );
}
