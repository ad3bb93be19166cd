//! The server suite's v1 cases must be able to fail. A fake v1 server written here keeps
//! PROTOCOL.md section 12, or breaks one rule on purpose; the faithful one and the reference
//! server pass every v1 case, and each broken one fails the right case, saying what to fix.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use common::{assert_fails_once, failures, fake_server, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_check::{Case, Dialect, Report, ServerCase, ServerSuiteConfig, run_server_suite, select};
use hello_net::TlsSettings;
use hello_protocol::v1::{self, ErrorCode, Message as V1, Timings};
use hello_server::ServerConfig;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

// Short timers, so that the timed cases take about three seconds; a slack long against the
// work of sending a frame, and half the session timeout, so that eviction long before the
// timeout is still caught. No fake's fault is a matter of lateness, so the slack hides none.
const TIMINGS: Timings = Timings {
    ping_interval: Duration::from_millis(300),
    session_timeout: Duration::from_secs(2),
    time_interval: Duration::from_millis(300),
    kiss_interval: Duration::from_millis(300),
};
const SLACK: Duration = Duration::from_secs(1);
const LIMIT: usize = 64 * 1024;

/// The rule a fake v1 server breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Puts the data in `kv.idx` and its clock in `results[0].idx`, as some servers do: a
    /// judge reports it, and passes it.
    DataInIdx,
    NoBonjour,
    WrongKvId,
    IdsThroughDoubles,
    WrongHash,
    ClosesOnUnknownType,
    AlwaysCodeOne,
    CarriesOnAfterBadFrames,
    DropsAnswersBeforeError,
    IgnoresDisconnect,
    NoPings,
    PingsInSeconds,
    TimeWithoutMillis,
    NoKiss,
    NeverEvicts,
    AnyPongExtends,
    IgnoresPongs,
    EvictsAtFirstMissedPing,
}

async fn faulty_server(fault: Fault) -> SocketAddr {
    fake_server(move |tcp| fake_session(tcp, fault)).await
}

/// One v1 session of the fake, with `fault`.
async fn fake_session(tcp: TcpStream, fault: Fault) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(LIMIT))
        .max_frame_size(Some(LIMIT));
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else {
        return;
    };
    let start = Instant::now();
    let (mut next_ping, mut next_time, mut next_kiss) = (
        start + TIMINGS.ping_interval,
        start + TIMINGS.time_interval,
        start + TIMINGS.kiss_interval,
    );
    let mut expires = start + TIMINGS.session_timeout;
    let mut outstanding: VecDeque<i64> = VecDeque::new();
    // Echo answers held back until the next frame comes, under DropsAnswersBeforeError.
    let mut held: Vec<V1> = Vec::new();
    loop {
        let due = next_ping.min(next_time).min(next_kiss).min(expires);
        let mut out: Vec<V1> = Vec::new();
        tokio::select! {
            () = sleep_until(due) => {
                let now = Instant::now();
                if now >= expires && fault != Fault::NeverEvicts {
                    return close(&mut ws, CloseCode::Policy).await;
                }
                if now >= next_ping {
                    next_ping = now + TIMINGS.ping_interval;
                    let ms = v1::unix_ms(SystemTime::now());
                    let timestamp_ms = if fault == Fault::PingsInSeconds { ms / 1000 } else { ms };
                    if fault == Fault::EvictsAtFirstMissedPing && !outstanding.is_empty() {
                        return close(&mut ws, CloseCode::Policy).await;
                    }
                    outstanding.push_back(timestamp_ms);
                    if fault != Fault::NoPings {
                        out.push(V1::Ping { timestamp_ms });
                    }
                }
                if now >= next_time {
                    next_time = now + TIMINGS.time_interval;
                    let mut time = V1::time_notification(SystemTime::now());
                    if let (Fault::TimeWithoutMillis, V1::TimeNotification { iso8601, .. }) = (fault, &mut time) {
                        *iso8601 = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
                    }
                    out.push(time);
                }
                if now >= next_kiss {
                    next_kiss = now + TIMINGS.kiss_interval;
                    if fault != Fault::NoKiss {
                        out.push(V1::KissRequest {
                            os_name: "FakeOS".into(),
                            os_version: "1".into(),
                            os_release: "1.0".into(),
                            os_architecture: "fake64".into(),
                        });
                    }
                }
                if expires <= now {
                    // NeverEvicts: keep the timer from firing in a loop.
                    expires = now + TIMINGS.session_timeout;
                }
            }
            message = ws.next() => {
                let frame = match message {
                    Some(Ok(Message::Binary(frame))) => frame,
                    Some(Ok(Message::Close(_))) => {
                        let _ = ws.next().await;
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(WsError::Capacity(_))) => return close(&mut ws, CloseCode::Size).await,
                    Some(Err(_)) | None => return,
                };
                let answers_held = std::mem::take(&mut held);
                let message = match v1::decode(&frame) {
                    Ok(message) => message,
                    Err(error) => {
                        let code = if fault == Fault::AlwaysCodeOne { 1 } else { error.code.number() };
                        let closes = error.code.closes_session() && fault != Fault::CarriesOnAfterBadFrames;
                        if fault == Fault::ClosesOnUnknownType && error.code == ErrorCode::UnknownType {
                            return close(&mut ws, CloseCode::Protocol).await;
                        }
                        if fault != Fault::DropsAnswersBeforeError {
                            out.extend(answers_held);
                        }
                        out.push(V1::Error { code, message: error.what });
                        send_all(&mut ws, out).await;
                        if closes {
                            return close(&mut ws, CloseCode::Protocol).await;
                        }
                        continue;
                    }
                };
                out.extend(answers_held);
                match message {
                    V1::Hello { .. } if fault != Fault::NoBonjour => out.push(V1::Bonjour { server_language: "FAKE".into() }),
                    V1::EchoRequest { id, data, .. } => {
                        let answer = echo_answer(id, data, fault);
                        if fault == Fault::DropsAnswersBeforeError {
                            held.push(answer);
                        } else {
                            out.push(answer);
                        }
                    }
                    V1::RandomNumber { id, number } => {
                        let number = if fault == Fault::WrongHash { number.wrapping_add(1) } else { number };
                        out.push(V1::hash_response(id, number));
                    }
                    V1::Pong { timestamp_ms } => {
                        let at = outstanding.iter().position(|&sent| sent == timestamp_ms);
                        match (fault, at) {
                            (Fault::IgnoresPongs, _) => {}
                            (Fault::AnyPongExtends, _) => expires = Instant::now() + TIMINGS.session_timeout,
                            (_, Some(at)) => {
                                outstanding.drain(..=at);
                                expires = Instant::now() + TIMINGS.session_timeout;
                            }
                            (_, None) => {}
                        }
                    }
                    V1::Disconnect { .. } if fault != Fault::IgnoresDisconnect => {
                        send_all(&mut ws, out).await;
                        return close(&mut ws, CloseCode::Normal).await;
                    }
                    other if other.server_sends() && !other.client_sends() => out.push(V1::Error {
                        code: 2,
                        message: format!("{} is sent by a server", other.type_name()),
                    }),
                    _ => {}
                }
            }
        }
        send_all(&mut ws, out).await;
    }
}

fn echo_answer(id: i64, data: String, fault: Fault) -> V1 {
    let mut answer = v1::echo_answer(id, data, "FAKE");
    let V1::EchoResponse { results, .. } = &mut answer else {
        unreachable!()
    };
    let kv = &mut results[0].kv;
    match fault {
        Fault::WrongKvId => kv[0].1 = (id.wrapping_add(1)).to_string(),
        Fault::IdsThroughDoubles => kv[0].1 = ((id as f64) as i64).to_string(),
        Fault::DataInIdx => {
            kv[3].1 = kv[1].1.clone();
            results[0].idx = v1::unix_ms(SystemTime::now());
        }
        _ => {}
    }
    answer
}

async fn send_all(ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>, frames: Vec<V1>) {
    for frame in frames {
        let _ = ws.feed(Message::Binary(v1::encode(&frame).into())).await;
    }
    let _ = ws.flush().await;
}

async fn close(ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>, code: CloseCode) {
    let frame = CloseFrame {
        code,
        reason: "".into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.next()).await;
}

fn v1_cases(only: &[&str]) -> Vec<ServerCase> {
    let only: Vec<String> = only.iter().map(|name| name.to_string()).collect();
    select::<ServerCase>(&only, &[], Dialect::V1).unwrap()
}

/// `timeout` bounds each wait for an answer: short where the fault is a missing answer.
async fn check_within(addr: SocketAddr, only: &[&str], timeout: Duration) -> Report {
    let config = ServerSuiteConfig {
        url: format!("ws://{addr}/ws"),
        dialect: Dialect::V1,
        ping_interval: Duration::from_secs(60),
        pong_timeout: Duration::from_secs(60),
        kiss_interval: Duration::from_secs(60),
        v1: TIMINGS,
        slack: SLACK,
        timeout,
        max_message_size: LIMIT,
        tls: TlsSettings::default(),
    };
    run_server_suite(&config, &v1_cases(only), |_| {}).await
}

async fn check(addr: SocketAddr, only: &[&str]) -> Report {
    check_within(addr, only, Duration::from_secs(5)).await
}

#[tokio::test]
async fn the_reference_server_passes_every_v1_case() {
    let server = reference_server(ServerConfig {
        v1: TIMINGS,
        max_message_size: LIMIT,
        close_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let report = check(server.addr(), &[]).await;
    let count = v1_cases(&[]).len();
    assert_eq!(report.cases.len(), count);
    assert!(report.cases.iter().all(|case| case.case.ends_with(" [v1]")));
    assert_eq!(failures(&report), vec![]);
    assert_eq!(report.summary_line(), format!("{count} passed, 0 failed"));
}

#[tokio::test]
async fn the_faithful_fake_passes_every_v1_case() {
    let report = check(faulty_server(Fault::None).await, &[]).await;
    assert_eq!(failures(&report), vec![]);
}

#[tokio::test]
async fn data_in_idx_is_reported_but_not_failed() {
    let report = check(faulty_server(Fault::DataInIdx).await, &["echo-round-trip"]).await;
    assert_eq!(failures(&report), vec![]);
    let detail = &report.cases[0].detail;
    assert!(
        detail.contains("results[0].idx is") && detail.contains("kv.idx is"),
        "{detail}"
    );
}

/// Runs `case` against a fake with `fault`: it must fail, saying `hint`.
async fn fails(fault: Fault, case: &str, hint: &str) {
    fails_within(fault, case, hint, Duration::from_secs(5)).await;
}

async fn fails_within(fault: Fault, case: &str, hint: &str, timeout: Duration) {
    let report = check_within(faulty_server(fault).await, &[case], timeout).await;
    assert_fails_once(&report, (fault, case), hint);
}

#[tokio::test]
async fn exchanges_broken_one_rule_at_a_time_fail_their_case() {
    let short = Duration::from_millis(500);
    fails_within(Fault::NoBonjour, "hello-bonjour", "no BONJOUR came", short).await;
    fails(Fault::WrongKvId, "echo-round-trip", "has kv.id \"2\"").await;
    fails(
        Fault::WrongKvId,
        "echo-in-flight",
        "answers no request in flight",
    )
    .await;
    fails(
        Fault::IdsThroughDoubles,
        "echo-i64-ids",
        "keep them out of doubles",
    )
    .await;
    fails(
        Fault::WrongHash,
        "hash",
        "first 10 hex characters of SHA-256",
    )
    .await;
    fails(
        Fault::ClosesOnUnknownType,
        "unknown-type",
        "closed the session",
    )
    .await;
    fails_within(
        Fault::IgnoresDisconnect,
        "disconnect",
        "answer DISCONNECT with Close 1000",
        short,
    )
    .await;
}

#[tokio::test]
async fn bad_frames_need_their_code_and_the_close() {
    fails(Fault::AlwaysCodeOne, "bad-magic", "came with code 1").await;
    fails(Fault::AlwaysCodeOne, "bad-version", "came with code 1").await;
    fails(Fault::AlwaysCodeOne, "long-length", "came with code 1").await;
    // Code 1 is right for these.
    let report = check(
        faulty_server(Fault::AlwaysCodeOne).await,
        &["short-length", "truncated-string"],
    )
    .await;
    assert_eq!(failures(&report), vec![]);
    let short = Duration::from_millis(500);
    for case in ["bad-magic", "trailing-payload", "invalid-utf8-string"] {
        fails_within(
            Fault::CarriesOnAfterBadFrames,
            case,
            "closes the session with 1002",
            short,
        )
        .await;
    }
    fails(
        Fault::DropsAnswersBeforeError,
        "answers-before-error",
        "answer every frame before a bad one before the ERROR",
    )
    .await;
}

#[tokio::test]
async fn timers_broken_one_rule_at_a_time_fail_their_case() {
    // Each waits on the fake's timers, so they run side by side.
    futures_util::future::join_all([
        fails(Fault::NoPings, "pings-arrive", "send one every"),
        fails(Fault::NoPings, "live-not-evicted", "was closed with 1008"),
        fails(
            Fault::PingsInSeconds,
            "pings-arrive",
            "send ms since the Unix epoch",
        ),
        fails(
            Fault::TimeWithoutMillis,
            "time-arrives",
            "with milliseconds",
        ),
        fails(Fault::NoKiss, "kiss-arrives", "the first KISS_REQUEST"),
        fails(Fault::NeverEvicts, "eviction", "still connected"),
        fails(
            Fault::AnyPongExtends,
            "eviction-unmatched-pongs",
            "still connected",
        ),
        fails(
            Fault::IgnoresPongs,
            "live-not-evicted",
            "a matching PONG must extend the session",
        ),
        fails(
            Fault::EvictsAtFirstMissedPing,
            "eviction",
            "before the session timeout",
        ),
    ])
    .await;
}

#[test]
fn protocol_md_lists_every_v1_case_as_the_checker_describes_it() {
    let protocol = include_str!("../../PROTOCOL.md");
    for case in v1_cases(&[]) {
        let row = format!("| `{}` | {} |", case.name(), case.checks());
        assert!(
            protocol.contains(&row),
            "PROTOCOL.md section 12.7 lacks: {row}"
        );
    }
    assert!(
        ServerCase::ALL
            .iter()
            .any(|case| case.dialects() == [Dialect::V1])
    );
}
