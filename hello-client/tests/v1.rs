//! The client in the binary dialect v1, against the real server and against fake v1 servers
//! that misbehave on purpose, over real sockets on 127.0.0.1, port 0, with short intervals.

// The harness's test helpers serve the client's tests as they are.
#[path = "../../hello-check/tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{WAIT, fake_server, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_check::{ClientCase, ClientSuiteConfig, Verdict, run_client_suite, select};
use hello_client::{ClientConfig, ClientError, Closing, RunReport, local_kiss_response, run};
use hello_net::Endpoint;
use hello_protocol::Dialect;
use hello_protocol::v1::{self, Message as V1, Timings};
use hello_server::ServerConfig;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// v1 timers short enough for several of each in a two-second run, with a session timeout
/// long against any PONG's delay on a busy machine.
fn v1_server() -> ServerConfig {
    ServerConfig {
        v1: Timings {
            ping_interval: Duration::from_millis(250),
            session_timeout: Duration::from_secs(30),
            time_interval: Duration::from_millis(200),
            kiss_interval: Duration::from_millis(200),
        },
        close_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    }
}

fn v1_client_of(addr: SocketAddr) -> ClientConfig {
    ClientConfig {
        dialect: Dialect::V1,
        name: "v1-client".into(),
        timeout: Duration::from_secs(2),
        // The server's: silence is three of them without a PING.
        v1_ping_interval: Duration::from_millis(250),
        random_interval: Duration::from_millis(200),
        // Eight PING intervals, ten of each other timer.
        duration: Some(Duration::from_secs(2)),
        ..ClientConfig::new(format!("ws://{addr}/ws"))
    }
}

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

#[tokio::test]
async fn a_v1_run_against_the_real_server_is_clean() {
    let server = reference_server(v1_server()).await;
    let config = ClientConfig {
        count: 50,
        ..v1_client_of(server.addr())
    };
    // The session as the server saw it, once it has a Kiss answer and matched PONGs: it is
    // gone from the registry when the run is over.
    let registry = server.registry().clone();
    let watcher = tokio::spawn(async move {
        let seen = registry
            .wait_until(WAIT, |r| {
                r.sessions()
                    .iter()
                    .any(|s| s.kiss_count >= 1 && s.pong_count >= 2)
            })
            .await;
        assert!(seen, "no session with a Kiss answer and two matched PONGs");
        registry.sessions()
    });
    let report = timeout(WAIT, run(&config, never())).await.unwrap().unwrap();
    assert_eq!(report.echoes_answered, 50, "{report:?}");
    assert!(report.hashes_verified >= 2, "{report:?}");
    assert!(report.kisses_answered >= 1, "{report:?}");
    assert!(report.pings_seen >= 2, "{report:?}");
    assert_eq!(report.pongs_sent, report.pings_seen, "{report:?}");
    assert!(report.time_notifications_seen >= 1, "{report:?}");
    assert_eq!(report.silences, 0, "{report:?}");
    // The server answered DISCONNECT with Close 1000, as it does for a client's close only.
    assert_eq!(
        report.closing,
        Some(Closing::ByServer {
            code: 1000,
            reason: "disconnect".into()
        })
    );
    let [session] = watcher.await.unwrap().try_into().expect("one session");
    assert_eq!(session.dialect, Some(Dialect::V1));
    assert_eq!(session.name, "v1-client");
    assert_eq!(session.last_kiss, Some(local_kiss_response()));
    assert!(server.registry().wait_until(WAIT, |r| r.is_empty()).await);
    server.shutdown().await;
}

#[tokio::test]
async fn the_v1_client_passes_every_v1_case_of_the_client_suite() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let suite = ClientSuiteConfig {
        dialect: Dialect::V1,
        v1: v1_server().v1,
        random_interval: Duration::from_millis(200),
        close_timeout: Duration::from_millis(500),
        clients: 1,
        timeout: WAIT,
        ..ClientSuiteConfig::default()
    };
    let cases = select::<ClientCase>(&[], &[], Dialect::V1).unwrap();
    let judge = tokio::spawn(async move {
        run_client_suite(vec![Endpoint::Plain(listener)], suite, &cases, |_| {}).await
    });
    let report = timeout(WAIT, run(&v1_client_of(addr), never()))
        .await
        .unwrap()
        .unwrap();
    assert!(report.hashes_verified >= 2, "{report:?}");
    let judged = timeout(WAIT, judge).await.unwrap().unwrap();
    let not_passed: Vec<_> = judged
        .cases
        .iter()
        .filter(|case| case.verdict != Verdict::Pass)
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:?}");
    assert_eq!(
        judged.cases.len(),
        select::<ClientCase>(&[], &[], Dialect::V1).unwrap().len()
    );
}

/// What a fake v1 server does wrong.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Nothing: only answers in reverse order, with its clock in `results[0].idx`.
    None,
    /// Every HASH_RESPONSE hashes the number after the one sent.
    WrongHash,
    /// ERROR code 7 in answer to HELLO.
    SendsError,
    /// No Close after DISCONNECT; it goes on reading.
    NoCloseAfterDisconnect,
}

/// What a fake v1 server saw of its client, in order.
#[derive(Debug, Default)]
struct Seen {
    headers: Vec<(String, String)>,
    frames: Vec<V1>,
    /// The code of the client's Close (or of its answer to the server's), after the frames.
    close: Option<u16>,
}

type Shared = Arc<Mutex<Seen>>;

/// A v1 server with `fault` that takes `count` Echo requests and then answers them all, in
/// reverse order. It sends a KISS_REQUEST and a WebSocket Ping at once, and no PING ever.
async fn fake_v1_server(fault: Fault, count: usize) -> (SocketAddr, Shared) {
    let seen = Shared::default();
    let recorded = seen.clone();
    let addr = fake_server(move |tcp| {
        let seen = recorded.clone();
        async move {
            #[allow(clippy::result_large_err)] // tungstenite's callback signature
            let record = |request: &Request, response: Response| {
                let mut seen = seen.lock().unwrap();
                for (name, value) in request.headers() {
                    let value = value.to_str().unwrap().to_owned();
                    seen.headers.push((name.to_string(), value));
                }
                Ok(response)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, record).await else {
                return;
            };
            let kiss = V1::KissRequest {
                os_name: "FakeOS".into(),
                os_version: "1".into(),
                os_release: "1.0".into(),
                os_architecture: "fake64".into(),
            };
            let _ = ws.feed(Message::Ping(Bytes::from_static(b"ws"))).await;
            let _ = ws.send(frame(&kiss)).await;
            let mut requests = Vec::new();
            while let Some(Ok(message)) = ws.next().await {
                let bytes = match message {
                    Message::Binary(bytes) => bytes,
                    Message::Close(close) => {
                        seen.lock().unwrap().close = close.map(|close| close.code.into());
                        continue;
                    }
                    _ => continue,
                };
                let message = v1::decode(&bytes).unwrap();
                seen.lock().unwrap().frames.push(message.clone());
                let answers = match message {
                    V1::Hello { .. } if fault == Fault::SendsError => vec![V1::Error {
                        code: 7,
                        message: "the fake is out of order".into(),
                    }],
                    V1::Hello { .. } => vec![V1::Bonjour {
                        server_language: "FAKE".into(),
                    }],
                    V1::EchoRequest { id, data, .. } => {
                        requests.push((id, data));
                        if requests.len() < count {
                            continue;
                        }
                        requests.drain(..).rev().map(reversed_answer).collect()
                    }
                    V1::RandomNumber { id, number } if fault == Fault::WrongHash => {
                        vec![V1::hash_response(id, number.wrapping_add(1))]
                    }
                    V1::RandomNumber { id, number } => vec![V1::hash_response(id, number)],
                    V1::Disconnect { .. } if fault == Fault::NoCloseAfterDisconnect => continue,
                    V1::Disconnect { .. } => {
                        let close = CloseFrame {
                            code: CloseCode::Normal,
                            reason: "disconnect".into(),
                        };
                        let _ = ws.close(Some(close)).await;
                        continue;
                    }
                    _ => continue,
                };
                for answer in answers {
                    let _ = ws.feed(frame(&answer)).await;
                }
                if ws.flush().await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (addr, seen)
}

fn frame(message: &V1) -> Message {
    Message::Binary(v1::encode(message).into())
}

/// The answer to request `id`, with the server's clock in `results[0].idx`, as some of the
/// ecosystem's servers write it: only the kv `id` names the request.
fn reversed_answer((id, data): (i64, String)) -> V1 {
    let mut answer = v1::echo_answer(id, data, "FAKE");
    if let V1::EchoResponse { results, .. } = &mut answer {
        results[0].idx = v1::unix_ms(SystemTime::now());
    }
    answer
}

async fn run_against(
    fault: Fault,
    config: impl FnOnce(ClientConfig) -> ClientConfig,
) -> (Result<RunReport, ClientError>, Seen) {
    let (addr, seen) = fake_v1_server(fault, 3).await;
    let config = config(v1_client_of(addr));
    let result = timeout(WAIT, run(&config, never())).await.unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (result, seen)
}

#[tokio::test]
async fn answers_in_reverse_order_are_matched_by_kv_id() {
    let (result, seen) = run_against(Fault::None, |config| ClientConfig {
        duration: Some(Duration::from_secs(1)),
        random_interval: Duration::from_millis(100),
        // No PING comes: three of these without one are reported.
        v1_ping_interval: Duration::from_millis(50),
        ..config
    })
    .await;
    let report = result.unwrap();
    assert_eq!(report.echoes_answered, 3, "{report:?}");
    assert_eq!(report.kisses_answered, 1, "{report:?}");
    // The fake's WebSocket Ping is no v1 PING.
    assert_eq!(report.pings_seen, 0, "{report:?}");
    assert!(report.silences >= 1, "{report:?}");
    let header = |name: &str| -> Vec<&str> {
        seen.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    };
    assert_eq!(header("userId"), ["v1-client"]);
    assert_eq!(header("WhoAmI"), ["v1-client"]);
    assert_eq!(
        seen.frames.first(),
        Some(&V1::Hello {
            client_language: "RUST".into()
        })
    );
    let random_ids: Vec<i64> = seen
        .frames
        .iter()
        .filter_map(|frame| match frame {
            V1::RandomNumber { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert!(random_ids.len() >= 2, "{:?}", seen.frames);
    assert!(
        random_ids.windows(2).all(|pair| pair[0] < pair[1]),
        "{random_ids:?}"
    );
    assert_eq!(report.hashes_verified, random_ids.len() as u64);
    assert!(
        seen.frames
            .iter()
            .any(|frame| matches!(frame, V1::KissResponse { .. }))
    );
    // DISCONNECT last, then the client's answer to the fake's Close 1000.
    assert_eq!(
        seen.frames.last(),
        Some(&V1::Disconnect {
            reason: "bye".into()
        })
    );
    assert_eq!(seen.close, Some(1000));
    assert_eq!(
        report.closing,
        Some(Closing::ByServer {
            code: 1000,
            reason: "disconnect".into()
        })
    );
}

#[tokio::test]
async fn a_wrong_hash_fails_the_run() {
    let (result, _) = run_against(Fault::WrongHash, |config| ClientConfig {
        random_interval: Duration::from_millis(50),
        ..config
    })
    .await;
    let error = result.expect_err("the run must fail");
    assert!(
        matches!(&error, ClientError::Misbehaved(m)
            if m.contains("the HASH_RESPONSE to RANDOM_NUMBER 1 (") && m.contains("where SHA-256 gives")),
        "{error}"
    );
}

#[tokio::test]
async fn an_error_from_the_server_fails_the_run_with_its_code() {
    let (result, _) = run_against(Fault::SendsError, |config| config).await;
    let error = result.expect_err("the run must fail");
    assert!(
        matches!(&error, ClientError::Misbehaved(m)
            if m.contains("ERROR code 7: the fake is out of order")),
        "{error}"
    );
}

#[tokio::test]
async fn without_a_close_after_disconnect_the_client_closes_with_1000() {
    let (result, seen) = run_against(Fault::NoCloseAfterDisconnect, |config| ClientConfig {
        duration: Some(Duration::from_millis(200)),
        // The close timeout: the wait for the server's Close, then for its answer to ours.
        timeout: Duration::from_millis(500),
        ..config
    })
    .await;
    let report = result.unwrap();
    assert_eq!(report.echoes_answered, 3, "{report:?}");
    assert_eq!(report.closing, Some(Closing::ByClient { answered: true }));
    assert_eq!(
        seen.frames.last(),
        Some(&V1::Disconnect {
            reason: "bye".into()
        })
    );
    assert_eq!(seen.close, Some(1000));
}
