//! The robustness suite must be able to fail. The reference server passes every case at a small
//! scale with short intervals; a fake server written here breaks one rule of survival on purpose
//! and fails exactly the case that judges it, saying what to fix. The faithful fake passes those
//! cases, so the fakes are sound.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{assert_fails_once, failures, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_check::robustness::{MAX_MEMORY_GROWTH, Scale};
use hello_check::{
    Case, Dialect, Report, RobustnessCase, RobustnessConfig, run_robustness_suite, select,
};
use hello_net::TlsSettings;
use hello_protocol::{ClientMessage, EchoResponse, decode_client_message, defaults, encode, v1};
use hello_server::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

// Short intervals, and a slack long against a busy machine: no fake's fault is a matter of
// lateness, so the slack hides none.
const PING: Duration = Duration::from_millis(800);
const PONG: Duration = Duration::from_millis(800);
const HANDSHAKE: Duration = Duration::from_millis(600);
const CLOSE: Duration = Duration::from_millis(300);
const SLACK: Duration = Duration::from_secs(1);
const MESSAGE_LIMIT: usize = 64 * 1024;
const CONNECTION_LIMIT: usize = 24;
/// The v1 timers of the server under test, and what the suite is told of them.
const V1_TIMINGS: v1::Timings = v1::Timings {
    ping_interval: Duration::from_millis(200),
    session_timeout: Duration::from_millis(800),
    time_interval: defaults::V1_TIME_INTERVAL,
    kiss_interval: defaults::V1_KISS_INTERVAL,
};

fn config_for(addr: SocketAddr, dialect: Dialect) -> RobustnessConfig {
    RobustnessConfig {
        url: format!("ws://{addr}/ws"),
        dialect,
        ping_interval: PING,
        pong_timeout: PONG,
        handshake_timeout: HANDSHAKE,
        close_timeout: CLOSE,
        max_connections: CONNECTION_LIMIT,
        max_message_size: MESSAGE_LIMIT,
        v1: V1_TIMINGS,
        slack: SLACK,
        timeout: Duration::from_secs(3),
        tls: TlsSettings::default(),
        // The in-process server's memory is this process's: it exercises the figures.
        server_pid: Some(std::process::id()),
        max_memory_growth: MAX_MEMORY_GROWTH * 4,
        scale: Scale {
            oversize_clients: 2,
            slowloris_connections: 5,
            non_readers: 3,
            non_reader_requests: 500,
            write_time: Duration::from_millis(500),
            ping_flood: 2_000,
            frozen_sessions: 6,
            frozen_stopped: 2,
            garbage_connections: 3,
        },
    }
}

async fn judge(addr: SocketAddr, dialect: Dialect, only: &[&str], skip: &[&str]) -> Report {
    let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let cases = select::<RobustnessCase>(&owned(only), &owned(skip), dialect).unwrap();
    run_robustness_suite(&config_for(addr, dialect), &cases, |_| {}).await
}

fn reference_config() -> ServerConfig {
    ServerConfig {
        ping_interval: PING,
        pong_timeout: PONG,
        handshake_timeout: HANDSHAKE,
        close_timeout: CLOSE,
        max_connections: CONNECTION_LIMIT,
        max_message_size: MESSAGE_LIMIT,
        v1: V1_TIMINGS,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn the_reference_server_survives_every_case() {
    let server = reference_server(reference_config()).await;
    let report = judge(server.addr(), Dialect::Json, &[], &["oversize-delivered"]).await;
    assert_eq!(report.cases.len(), RobustnessCase::ALL.len() - 1);
    assert_eq!(failures(&report), vec![]);
    assert_eq!(report.svr.as_deref(), Some("RUST"));
    for case in &report.cases {
        assert!(
            case.detail.chars().any(|c| c.is_ascii_digit()),
            "{} prints figures: {}",
            case.case,
            case.detail
        );
    }
}

#[tokio::test]
async fn the_reference_server_survives_every_case_in_v1() {
    let server = reference_server(reference_config()).await;
    let report = judge(server.addr(), Dialect::V1, &[], &["oversize-delivered"]).await;
    let count = select::<RobustnessCase>(&[], &[], Dialect::V1)
        .unwrap()
        .len();
    assert_eq!(report.cases.len(), count - 1);
    assert_eq!(failures(&report), vec![]);
    assert!(report.cases.iter().all(|case| case.case.ends_with(" [v1]")));
}

#[tokio::test]
async fn the_reference_server_delivers_close_1009_to_a_client_still_writing() {
    let server = reference_server(reference_config()).await;
    for dialect in [Dialect::Json, Dialect::V1] {
        let report = judge(server.addr(), dialect, &["oversize-delivered"], &[]).await;
        assert_eq!(failures(&report), vec![], "{dialect:?}");
    }
}

/// The rule of survival a fake server breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Waits for a handshake for as long as the client likes.
    NeverDropsHalfHandshakes,
    /// Never evicts a client that answers no Ping.
    NeverEvicts,
    /// Admits sessions beyond its limit.
    AdmitsBeyondLimit,
    /// Answers 404 at its limit.
    Answers404AtLimit,
    /// Resets a client whose message is too large, without a Close.
    ResetsOnOversize,
    /// Loses a message when a Ping comes between its fragments.
    LosesMessageAfterPing,
    /// Stops accepting after a handshake that was garbage.
    StopsAcceptingAfterGarbage,
}

struct Fake {
    fault: Fault,
    sessions: AtomicUsize,
    stop_accepting: CancellationToken,
}

async fn fake_server(fault: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = Arc::new(Fake {
        fault,
        sessions: AtomicUsize::new(0),
        stop_accepting: CancellationToken::new(),
    });
    tokio::spawn(async move {
        loop {
            let tcp = tokio::select! {
                () = fake.stop_accepting.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(_) => continue,
                },
            };
            tokio::spawn(fake_session(tcp, Arc::clone(&fake)));
        }
    });
    addr
}

/// Counts a session under the limit while it lives.
struct Place(Arc<Fake>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn fake_session(tcp: TcpStream, fake: Arc<Fake>) {
    let fault = fake.fault;
    let place = Arc::new(std::sync::Mutex::new(None));
    let admitted = Arc::clone(&place);
    let counted = Arc::clone(&fake);
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let callback = move |_: &Request, mut response: Response| {
        let held = counted.sessions.fetch_add(1, Ordering::SeqCst);
        let place = Place(Arc::clone(&counted));
        if held >= CONNECTION_LIMIT && fault != Fault::AdmitsBeyondLimit {
            let mut refusal = ErrorResponse::new(None);
            *refusal.status_mut() = if fault == Fault::Answers404AtLimit {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            return Err(refusal);
        }
        *admitted.lock().unwrap() = Some(place);
        response
            .headers_mut()
            .insert("SVR", HeaderValue::from_static("FAKE"));
        Ok(response)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MESSAGE_LIMIT))
        .max_frame_size(Some(MESSAGE_LIMIT));
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config));
    let accepted = if fault == Fault::NeverDropsHalfHandshakes {
        Ok(handshake.await)
    } else {
        timeout(HANDSHAKE, handshake).await
    };
    let mut ws = match accepted {
        Ok(Ok(ws)) => ws,
        Ok(Err(_)) => {
            if fault == Fault::StopsAcceptingAfterGarbage {
                fake.stop_accepting.cancel();
            }
            return;
        }
        Err(_) => return,
    };
    let _place = place.lock().unwrap().take();
    let start = Instant::now();
    let mut pings = interval_at(start + PING, PING);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pong_due: Option<Instant> = None;
    let mut lose_next = false;
    loop {
        let overdue = pong_due.unwrap_or(start + Duration::from_secs(3600));
        let reply = tokio::select! {
            () = sleep_until(overdue), if pong_due.is_some() && fault != Fault::NeverEvicts => {
                let frame = CloseFrame { code: CloseCode::Policy, reason: "pong timeout".into() };
                let _ = timeout(CLOSE, ws.send(Message::Close(Some(frame)))).await;
                abort(ws.get_ref());
                return;
            }
            _ = pings.tick() => {
                pong_due.get_or_insert(Instant::now() + PONG);
                Message::Ping(Bytes::new())
            }
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => match answer(text.as_bytes(), &mut lose_next) {
                    Some(reply) => Message::Text(reply.into()),
                    None => continue,
                },
                Some(Ok(Message::Binary(bytes))) => match answer(&bytes, &mut lose_next) {
                    Some(reply) => Message::Text(reply.into()),
                    None => continue,
                },
                Some(Ok(Message::Ping(_))) => {
                    lose_next = fault == Fault::LosesMessageAfterPing;
                    continue;
                }
                Some(Ok(Message::Pong(_))) => {
                    pong_due = None;
                    continue;
                }
                Some(Ok(Message::Close(_))) => {
                    let _ = timeout(CLOSE, ws.next()).await;
                    return;
                }
                Some(Ok(_)) => continue,
                Some(Err(WsError::Capacity(_))) if fault == Fault::ResetsOnOversize => {
                    abort(ws.get_ref());
                    return;
                }
                Some(Err(WsError::Capacity(_))) => {
                    close_lingering(ws, CloseCode::Size).await;
                    return;
                }
                Some(Err(WsError::Protocol(_))) => {
                    close_lingering(ws, CloseCode::Protocol).await;
                    return;
                }
                Some(Err(_)) | None => return,
            },
        };
        if timeout(CLOSE, ws.send(reply)).await.is_err() {
            abort(ws.get_ref());
            return;
        }
    }
}

/// Makes the coming close of `tcp` a reset: `SO_LINGER` with a zero timeout, which is what an
/// abort is (tokio deprecates it because a non-zero linger would block on drop).
#[allow(deprecated)]
fn abort(tcp: &TcpStream) {
    let _ = tcp.set_linger(Some(Duration::ZERO));
}

/// Sends Close with `code`, then reads and discards the client's input until the client closes
/// (bounded) before closing, so that a client still writing gets the Close (PROTOCOL.md section 7).
async fn close_lingering(mut ws: tokio_tungstenite::WebSocketStream<TcpStream>, code: CloseCode) {
    use tokio::io::AsyncReadExt;
    let frame = CloseFrame {
        code,
        reason: "".into(),
    };
    let _ = timeout(CLOSE, ws.send(Message::Close(Some(frame)))).await;
    // Long against any machine's time to write 8 MiB; the client's end of the connection ends
    // it sooner.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buffer = vec![0u8; 64 * 1024];
    let tcp = ws.get_mut();
    while let Ok(Ok(read)) = tokio::time::timeout_at(deadline, tcp.read(&mut buffer)).await {
        if read == 0 {
            break;
        }
    }
}

fn answer(bytes: &[u8], lose_next: &mut bool) -> Option<String> {
    if std::mem::take(lose_next) {
        return None;
    }
    match decode_client_message(bytes) {
        Ok(ClientMessage::Echo(request)) => Some(encode(&EchoResponse::answer(
            request,
            Uuid::new_v4(),
            "FAKE",
        ))),
        _ => None,
    }
}

/// The faithful fake passes `case`; the one with `fault` fails it, saying `hint`.
async fn fails(fault: Fault, case: &str, hint: &str) {
    let faithful = judge(fake_server(Fault::None).await, Dialect::Json, &[case], &[]).await;
    assert_eq!(failures(&faithful), vec![], "the faithful fake, {case}");
    let report = judge(fake_server(fault).await, Dialect::Json, &[case], &[]).await;
    assert_fails_once(&report, (fault, case), hint);
}

#[tokio::test]
async fn a_server_that_never_drops_half_handshakes_fails_slowloris() {
    fails(
        Fault::NeverDropsHalfHandshakes,
        "slowloris",
        "5 still open at the timeout + slack",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_never_evicts_fails_frozen_clients() {
    fails(Fault::NeverEvicts, "frozen-clients", "0 of 2 evicted").await;
}

#[tokio::test]
async fn a_server_that_admits_beyond_its_limit_fails_connection_limit() {
    fails(
        Fault::AdmitsBeyondLimit,
        "connection-limit",
        "admitted a session beyond its limit",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_answers_404_at_its_limit_fails_connection_limit() {
    fails(
        Fault::Answers404AtLimit,
        "connection-limit",
        "the next handshake was answered HTTP 404",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_resets_instead_of_1009_fails_oversize_delivered() {
    fails(
        Fault::ResetsOnOversize,
        "oversize-delivered",
        "0/2 got Close 1009 with the whole message written",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_loses_a_fragmented_request_fails_fragments_one_byte() {
    fails(
        Fault::LosesMessageAfterPing,
        "fragments-one-byte",
        "no answer came within",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_stops_accepting_after_garbage_fails_garbage_handshake() {
    fails(
        Fault::StopsAcceptingAfterGarbage,
        "garbage-handshake",
        "a normal session afterwards failed",
    )
    .await;
}

#[test]
fn protocol_md_lists_every_case_as_the_suite_describes_it() {
    let protocol = include_str!("../../PROTOCOL.md");
    for case in RobustnessCase::ALL {
        let dialects: Vec<&str> = case.dialects().iter().map(|d| d.name()).collect();
        let row = format!(
            "| `{}` | {} | {} |",
            case.name(),
            case.checks(),
            dialects.join(", ")
        );
        assert!(
            protocol.contains(&row),
            "PROTOCOL.md section 13 lacks: {row}"
        );
    }
}
