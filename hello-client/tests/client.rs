//! The client against the real server and against fake servers that misbehave on purpose,
//! over real sockets on 127.0.0.1, port 0, with short intervals.

// The harness's test helpers serve the client's tests as they are.
#[path = "../../hello-check/tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{WAIT, fake_server, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_client::{
    Backoff, ClientConfig, ClientError, ConnectOptions, connect, local_kiss_response, run,
};
use hello_protocol::v1::Timings;
use hello_protocol::{Dialect, EchoRequest, EchoResponse, ErrorResponse, KissRequest, encode};
use hello_server::{Endpoint, RunningServer, Server, ServerConfig, SessionRegistry};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use uuid::Uuid;

/// Pings often enough to count a few in a one-second run, with a pong timeout long against the
/// work of answering one, even in a debug build on a busy core.
fn fast_server() -> ServerConfig {
    ServerConfig {
        ping_interval: Duration::from_millis(300),
        pong_timeout: Duration::from_millis(300),
        kiss_interval: Duration::from_millis(100),
        close_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    }
}

async fn start_server_on(listener: TcpListener, config: ServerConfig) -> RunningServer {
    Server::new(config)
        .unwrap()
        .spawn(vec![Endpoint::Plain(listener)])
}

fn client_of(addr: SocketAddr) -> ClientConfig {
    ClientConfig {
        name: "test-client".into(),
        timeout: Duration::from_secs(2),
        // The server's: silence is three of them without a Ping.
        ping_interval: Duration::from_millis(300),
        // Three ping intervals and more.
        duration: Some(Duration::from_secs(1)),
        ..ClientConfig::new(format!("ws://{addr}/ws"))
    }
}

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

#[tokio::test]
async fn a_run_against_the_real_server_is_clean() {
    let server = reference_server(fast_server()).await;
    let config = ClientConfig {
        count: 200,
        ..client_of(server.addr())
    };
    let report = timeout(WAIT, run(&config, never())).await.unwrap().unwrap();
    assert_eq!(report.echoes_answered, 200);
    assert!(report.kisses_answered >= 2, "{report:?}");
    assert!(report.pings_seen >= 2, "{report:?}");
    assert_eq!(report.silences, 0);
    let [handshake] = report.handshakes.as_slice() else {
        panic!("one handshake expected: {report:?}");
    };
    assert_eq!(handshake.svr(), Some("RUST"));
    let session_id: Uuid = handshake.session_id().unwrap().parse().unwrap();
    assert_eq!(session_id.get_version_num(), 4);
    // The client closed with 1000 and the server saw it go; pings answered meant no eviction.
    assert!(server.registry().wait_until(WAIT, |r| r.is_empty()).await);
    server.shutdown().await;
}

#[tokio::test]
async fn the_kiss_answer_reaches_the_server_session() {
    let server = reference_server(fast_server()).await;
    let config = ClientConfig {
        duration: None,
        ..client_of(server.addr())
    };
    let registry = server.registry().clone();
    let stop = async move {
        registry
            .wait_until(WAIT, |r| r.sessions().iter().any(|s| s.kiss_count > 0))
            .await;
    };
    let sessions = server.registry().clone();
    let watcher = tokio::spawn(async move {
        sessions
            .wait_until(WAIT, |r| r.sessions().iter().any(|s| s.last_kiss.is_some()))
            .await;
        sessions.sessions()
    });
    let report = timeout(WAIT, run(&config, stop)).await.unwrap().unwrap();
    assert!(report.kisses_answered >= 1);
    let seen = watcher.await.unwrap();
    let session = seen
        .iter()
        .find(|s| s.last_kiss.is_some())
        .expect("a kissed session");
    assert_eq!(session.name, "test-client");
    assert_eq!(session.last_kiss.as_ref(), Some(&local_kiss_response()));
    server.shutdown().await;
}

#[tokio::test]
async fn whoami_and_extra_headers_are_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let fake = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        #[allow(clippy::result_large_err)] // tungstenite's callback signature
        let record = |request: &Request, response: Response| {
            let mut headers = recorded.lock().unwrap();
            for (name, value) in request.headers() {
                headers.push((name.to_string(), value.to_str().unwrap().to_owned()));
            }
            Ok(response)
        };
        let _ws = tokio_tungstenite::accept_hdr_async(tcp, record)
            .await
            .unwrap();
    });
    let headers = vec![
        ("X-Trace".to_owned(), "42".to_owned()),
        ("X-Trace".to_owned(), "43".to_owned()),
        ("X-Team".to_owned(), "blue".to_owned()),
    ];
    let options = ConnectOptions {
        url: &format!("ws://{addr}/ws"),
        name: Some("alice"),
        headers: &headers,
        timeout: WAIT,
        max_message_size: 1 << 20,
        tls: None,
        local_addr: None,
    };
    let (_ws, _) = connect(&options).await.unwrap();
    fake.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let values = |name: &str| -> Vec<String> {
        seen.iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .collect()
    };
    assert_eq!(values("WhoAmI"), ["alice"]);
    assert_eq!(values("X-Trace"), ["42", "43"]);
    assert_eq!(values("X-Team"), ["blue"]);
}

#[tokio::test]
async fn echo_bytes_sets_the_size_of_every_requests_data() {
    const BYTES: usize = 256 * 1024;
    // A fake server that records the data of each Echo request, answers it, and sends one Kiss
    // so that the run may end.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let addr = fake_server(move |tcp| {
        let recorded = recorded.clone();
        async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            let facts = KissRequest {
                os_name: "FakeOS".into(),
                os_version: "1".into(),
                os_release: "1.0".into(),
                os_architecture: "fake64".into(),
            };
            let _ = ws.send(Message::Text(encode(&facts).into())).await;
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(request) = serde_json::from_str::<EchoRequest>(&text) else {
                    continue;
                };
                recorded
                    .lock()
                    .unwrap()
                    .push((request.id, request.data.clone()));
                let reply = encode(&EchoResponse::answer(request, Uuid::new_v4(), "FAKE"));
                if ws.send(Message::Text(reply.into())).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    let config = ClientConfig {
        count: 3,
        echo_bytes: Some(BYTES),
        duration: Some(Duration::from_millis(200)),
        ..client_of(addr)
    };
    let report = timeout(WAIT, run(&config, never())).await.unwrap().unwrap();
    assert_eq!(report.echoes_answered, 3, "{report:?}");
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let ids: Vec<u64> = seen.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2, 3]);
    for ((_, data), greeting) in seen.iter().zip(["Hello ", "Bonjour ", "Hola "]) {
        assert_eq!(data.len(), BYTES);
        assert!(data.starts_with(greeting), "{}", &data[..40]);
        assert!(data.contains("안녕하세요"), "the greetings repeated");
    }
}

/// What a fake server does with each Echo request.
#[derive(Clone, Copy)]
enum Fault {
    None,
    AltersData,
    WrongId,
    NeverAnswers,
    Answers400,
    SendsGarbage,
}

/// A server that answers Echo requests with `fault`, sends one Kiss at once when `kiss` is
/// set, and never pings.
async fn faulty_server(fault: Fault, kiss: bool) -> SocketAddr {
    fake_server(move |tcp| async move {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        if kiss {
            let facts = KissRequest {
                os_name: "FakeOS".into(),
                os_version: "1".into(),
                os_release: "1.0".into(),
                os_architecture: "fake64".into(),
            };
            let _ = ws.send(Message::Text(encode(&facts).into())).await;
        }
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(mut request) = serde_json::from_str::<EchoRequest>(&text) else {
                continue;
            };
            let reply = match fault {
                Fault::None => encode(&EchoResponse::answer(request, Uuid::new_v4(), "FAKE")),
                Fault::AltersData => {
                    request.data = request.data.to_uppercase() + "!";
                    encode(&EchoResponse::answer(request, Uuid::new_v4(), "FAKE"))
                }
                Fault::WrongId => {
                    request.id += 1000;
                    encode(&EchoResponse::answer(request, Uuid::new_v4(), "FAKE"))
                }
                Fault::NeverAnswers => continue,
                Fault::Answers400 => encode(&ErrorResponse::bad_request("no")),
                Fault::SendsGarbage => "{\"surprise\": true}".to_owned(),
            };
            if ws.send(Message::Text(reply.into())).await.is_err() {
                return;
            }
        }
    })
    .await
}

async fn failure_against(
    fault: Fault,
    kiss: bool,
    config: impl FnOnce(ClientConfig) -> ClientConfig,
) -> ClientError {
    let addr = faulty_server(fault, kiss).await;
    let config = config(client_of(addr));
    timeout(WAIT, run(&config, never()))
        .await
        .unwrap()
        .expect_err("the run must fail")
}

#[tokio::test]
async fn a_server_that_alters_data_fails_the_run() {
    let error = failure_against(Fault::AltersData, true, |c| c).await;
    assert!(
        matches!(&error, ClientError::Misbehaved(m) if m.contains("altered its data")),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_with_a_wrong_id_fails_the_run() {
    let error = failure_against(Fault::WrongId, true, |c| c).await;
    assert!(
        matches!(&error, ClientError::Misbehaved(m) if m.contains("not in flight")),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_that_never_comes_fails_the_run() {
    let error = failure_against(Fault::NeverAnswers, true, |c| ClientConfig {
        timeout: Duration::from_millis(300),
        ..c
    })
    .await;
    assert!(
        matches!(&error, ClientError::Misbehaved(m) if m.contains("no answer to Echo request(s) [1, 2, 3]")),
        "{error}"
    );
}

#[tokio::test]
async fn a_400_to_a_good_request_fails_the_run() {
    let error = failure_against(Fault::Answers400, true, |c| c).await;
    assert!(
        matches!(&error, ClientError::Misbehaved(m) if m.contains("status 400")),
        "{error}"
    );
}

#[tokio::test]
async fn an_unknown_message_fails_the_run() {
    let error = failure_against(Fault::SendsGarbage, true, |c| c).await;
    assert!(
        matches!(&error, ClientError::Misbehaved(m) if m.contains("no known message")),
        "{error}"
    );
}

#[tokio::test]
async fn a_run_with_a_duration_and_no_kiss_fails() {
    let error = failure_against(Fault::None, false, |c| c).await;
    assert!(
        matches!(&error, ClientError::Misbehaved(m) if m.contains("no Kiss request")),
        "{error}"
    );
}

#[tokio::test]
async fn a_silent_server_is_noticed() {
    let addr = faulty_server(Fault::None, true).await;
    let config = ClientConfig {
        ping_interval: Duration::from_millis(50),
        ..client_of(addr)
    };
    let report = timeout(WAIT, run(&config, never())).await.unwrap().unwrap();
    assert_eq!(report.echoes_answered, 3);
    assert_eq!(report.pings_seen, 0);
    assert!(report.silences >= 1, "{report:?}");
}

#[tokio::test]
async fn an_unreachable_server_fails_to_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = timeout(WAIT, run(&client_of(addr), never()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(error, ClientError::Connect(_)), "{error}");
}

#[tokio::test]
async fn a_server_going_away_fails_the_run_without_reconnect() {
    let server = reference_server(fast_server()).await;
    let config = ClientConfig {
        duration: Some(Duration::from_secs(5)),
        ..client_of(server.addr())
    };
    let registry = server.registry().clone();
    let client = tokio::spawn(async move { run(&config, never()).await });
    assert!(registry.wait_until(WAIT, |r| r.len() == 1).await);
    server.shutdown().await;
    let error = timeout(WAIT, client).await.unwrap().unwrap().unwrap_err();
    assert!(
        matches!(&error, ClientError::ServerGone(m) if m.contains("1001")),
        "{error}"
    );
}

#[tokio::test]
async fn reconnect_rides_out_a_server_restart() {
    for dialect in Dialect::ALL {
        reconnect_rides_out_a_server_restart_in(*dialect).await;
    }
}

async fn reconnect_rides_out_a_server_restart_in(dialect: Dialect) {
    let first = reference_server(fast_server()).await;
    let addr = first.addr();
    // The run ends once the reconnected session has answered a Kiss (in either dialect), which
    // the second server sends a second after the handshake, long after its answers to the requests the client
    // sends again on connecting: when, is the test's to say, not a duration's that a slow
    // restart could outlast.
    let (second_started, second_registry) = oneshot::channel::<SessionRegistry>();
    let reconnected = async move {
        if let Ok(registry) = second_registry.await {
            registry
                .wait_until(WAIT, |r| r.sessions().iter().any(|s| s.kiss_count > 0))
                .await;
        }
    };
    let config = ClientConfig {
        dialect,
        duration: None,
        reconnect: Some(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        }),
        ..client_of(addr)
    };
    let registry = first.registry().clone();
    let client = tokio::spawn(async move { run(&config, reconnected).await });
    assert!(registry.wait_until(WAIT, |r| r.len() == 1).await);
    first.shutdown().await;
    // The same port again: std sets SO_REUSEADDR on Unix, so the rebind succeeds.
    let second = start_server_on(
        TcpListener::bind(addr).await.unwrap(),
        ServerConfig {
            kiss_interval: Duration::from_secs(1),
            v1: Timings {
                kiss_interval: Duration::from_secs(1),
                ..Timings::default()
            },
            ..fast_server()
        },
    )
    .await;
    second_started.send(second.registry().clone()).unwrap();
    let report = timeout(WAIT, client).await.unwrap().unwrap().unwrap();
    assert_eq!(report.handshakes.len(), 2, "{}: {report:?}", dialect.name());
    assert_eq!(report.echoes_answered, 3);
    assert_ne!(
        report.handshakes[0].session_id(),
        report.handshakes[1].session_id()
    );
    second.shutdown().await;
}
