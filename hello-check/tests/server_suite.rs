//! The server suite must be able to fail. A fake server written here keeps the protocol, or
//! breaks one rule on purpose; the faithful one passes every case (so the fake is sound), the
//! reference server passes every case, and each broken one fails the right case with a message
//! that tells an implementer what to fix.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{assert_fails_once, failures, fake_server, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_check::{Case, Dialect, Report, ServerCase, ServerSuiteConfig, run_server_suite, select};
use hello_net::TlsSettings;
use hello_protocol::{
    ClientMessage, EchoResponse, ErrorResponse, KissRequest, OriginPolicy, decode_client_message,
    encode,
};
use hello_server::ServerConfig;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError};
use uuid::Uuid;

// Short intervals, so that the timed cases take two seconds; a pong timeout and a slack long
// against the work of answering a Ping or sending a Kiss, so that a busy machine fails none of
// them. No fake's fault is a matter of lateness, so the slack hides none.
const PING: Duration = Duration::from_millis(400);
const PONG: Duration = Duration::from_millis(400);
const KISS: Duration = Duration::from_millis(300);
const SLACK: Duration = Duration::from_secs(1);
const LIMIT: usize = 64 * 1024;

/// The rule a fake server breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    NeverSendsKiss,
    AnswersWithWrongId,
    AltersData,
    NeverPings,
    OmitsHeaders,
    IgnoresMalformedInput,
    NeverEvicts,
    /// Evicts by aborting the connection (a reset), as PROTOCOL.md section 5 allows for a client
    /// that does not take its Close: not a fault, the case must pass and say so.
    ResetsOnEviction,
    /// Evicts by closing the connection with neither a Close nor a reset.
    DropsOnEviction,
    /// Serves a page of any origin.
    AcceptsAnyOrigin,
    /// Serves no page, not even its own.
    RefusesEveryOrigin,
}

async fn faulty_server(fault: Fault) -> SocketAddr {
    fake_server(move |tcp| fake_session(tcp, fault)).await
}

async fn fake_session(tcp: tokio::net::TcpStream, fault: Fault) {
    let own_port = tcp.local_addr().unwrap().port();
    let allow = match fault {
        Fault::AcceptsAnyOrigin => vec!["*".to_owned()],
        _ => vec![],
    };
    let ports = if fault == Fault::RefusesEveryOrigin {
        vec![]
    } else {
        vec![own_port]
    };
    let origins = OriginPolicy::new([], ports, &allow).unwrap();
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let callback = |request: &Request, mut response: Response| {
        let refuse = |status| {
            let mut refusal =
                tokio_tungstenite::tungstenite::handshake::server::ErrorResponse::new(None);
            *refusal.status_mut() = status;
            refusal
        };
        if request.uri().path() != "/ws" {
            return Err(refuse(StatusCode::NOT_FOUND));
        }
        let origin = request
            .headers()
            .get("Origin")
            .map(|value| value.as_bytes());
        if !origins.judge(origin).is_accepted() {
            return Err(refuse(StatusCode::FORBIDDEN));
        }
        if fault != Fault::OmitsHeaders {
            let headers = response.headers_mut();
            headers.insert("SVR", HeaderValue::from_static("FAKE"));
            headers.insert("X-Session-Id", Uuid::new_v4().to_string().parse().unwrap());
        }
        Ok(response)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(LIMIT))
        .max_frame_size(Some(LIMIT));
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config)).await
    else {
        return;
    };
    let start = Instant::now();
    let mut pings = interval_at(start + PING, PING);
    let mut kisses = interval_at(start + KISS, KISS);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    kisses.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pong_due: Option<Instant> = None;
    let kiss = encode(&KissRequest {
        os_name: "FakeOS".into(),
        os_version: "1".into(),
        os_release: "1.0".into(),
        os_architecture: "fake64".into(),
    });
    loop {
        let overdue = pong_due.unwrap_or(start + Duration::from_secs(3600));
        let reply = tokio::select! {
            () = sleep_until(overdue), if pong_due.is_some() && fault != Fault::NeverEvicts => {
                match fault {
                    Fault::ResetsOnEviction => {
                        ws.get_ref().set_zero_linger().unwrap();
                        return;
                    }
                    Fault::DropsOnEviction => return,
                    _ => {}
                }
                let frame = CloseFrame { code: CloseCode::Policy, reason: "pong timeout".into() };
                let _ = ws.send(Message::Close(Some(frame))).await;
                return;
            }
            _ = pings.tick(), if fault != Fault::NeverPings => {
                pong_due.get_or_insert(Instant::now() + PONG);
                Message::Ping(Bytes::new())
            }
            _ = kisses.tick(), if fault != Fault::NeverSendsKiss => Message::Text(kiss.clone().into()),
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => match answer(text.as_bytes(), fault) {
                    Some(reply) => Message::Text(reply.into()),
                    None => continue,
                },
                Some(Ok(Message::Binary(bytes))) => match answer(&bytes, fault) {
                    Some(reply) => Message::Text(reply.into()),
                    None => continue,
                },
                Some(Ok(Message::Pong(_))) => {
                    pong_due = None;
                    continue;
                }
                Some(Ok(Message::Close(_))) => {
                    let _ = ws.next().await;
                    return;
                }
                Some(Ok(_)) => continue,
                Some(Err(WsError::Utf8(_))) => close_with(CloseCode::Invalid),
                Some(Err(WsError::Capacity(_))) => close_with(CloseCode::Size),
                Some(Err(_)) | None => return,
            },
        };
        let closing = matches!(reply, Message::Close(_));
        if ws.send(reply).await.is_err() || closing {
            return;
        }
    }
}

fn close_with(code: CloseCode) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: "".into(),
    }))
}

fn answer(bytes: &[u8], fault: Fault) -> Option<String> {
    match decode_client_message(bytes) {
        Ok(ClientMessage::Echo(mut request)) => {
            match fault {
                Fault::AnswersWithWrongId => request.id = request.id.wrapping_add(1),
                Fault::AltersData => request.data = request.data.to_uppercase(),
                _ => {}
            }
            Some(encode(&EchoResponse::answer(
                request,
                Uuid::new_v4(),
                "FAKE",
            )))
        }
        Ok(ClientMessage::Kiss(_)) => None,
        Err(_) if fault == Fault::IgnoresMalformedInput => None,
        Err(error) => Some(encode(&ErrorResponse::bad_request(error.to_string()))),
    }
}

fn config_for(addr: SocketAddr) -> ServerSuiteConfig {
    ServerSuiteConfig {
        url: format!("ws://{addr}/ws"),
        dialect: Dialect::Json,
        ping_interval: PING,
        pong_timeout: PONG,
        kiss_interval: KISS,
        v1: Default::default(),
        slack: SLACK,
        timeout: Duration::from_secs(2),
        max_message_size: LIMIT,
        tls: TlsSettings::default(),
    }
}

async fn check(addr: SocketAddr, only: &[&str]) -> Report {
    check_within(addr, only, Duration::from_secs(2)).await
}

/// `timeout` bounds each wait for an answer: short where the fault is a missing answer.
async fn check_within(addr: SocketAddr, only: &[&str], timeout: Duration) -> Report {
    let only: Vec<String> = only.iter().map(|name| name.to_string()).collect();
    let cases = select::<ServerCase>(&only, &[], Dialect::Json).unwrap();
    let config = ServerSuiteConfig {
        timeout,
        ..config_for(addr)
    };
    run_server_suite(&config, &cases, |_| {}).await
}

#[tokio::test]
async fn the_reference_server_passes_every_case() {
    let server = reference_server(ServerConfig {
        ping_interval: PING,
        pong_timeout: PONG,
        kiss_interval: KISS,
        max_message_size: LIMIT,
        close_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let addr = server.addr();
    let report = check(addr, &[]).await;
    let count = select::<ServerCase>(&[], &[], Dialect::Json).unwrap().len();
    assert_eq!(report.cases.len(), count);
    assert_eq!(failures(&report), vec![]);
    assert_eq!(report.svr.as_deref(), Some("RUST"));
    assert_eq!(report.summary_line(), format!("{count} passed, 0 failed"));
}

#[tokio::test]
async fn the_faithful_fake_passes_every_case() {
    let report = check(faulty_server(Fault::None).await, &[]).await;
    assert_eq!(failures(&report), vec![]);
}

/// Runs `case` against a server with `fault`: it must fail, saying `hint`.
async fn fails(fault: Fault, case: &str, hint: &str) {
    let report = check(faulty_server(fault).await, &[case]).await;
    assert_fails_once(&report, (fault, case), hint);
}

#[tokio::test]
async fn a_server_that_never_sends_kiss_fails_kiss_arrives() {
    fails(
        Fault::NeverSendsKiss,
        "kiss-arrives",
        "send one every Kiss interval",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_answers_with_the_wrong_id_fails_the_echo_cases() {
    fails(
        Fault::AnswersWithWrongId,
        "echo-round-trip",
        "the answer to id 1 carried id 2",
    )
    .await;
    fails(Fault::AnswersWithWrongId, "echo-in-flight", "not in flight").await;
}

#[tokio::test]
async fn a_server_that_alters_data_fails_the_echo_cases() {
    fails(Fault::AltersData, "echo-round-trip", "altered its data").await;
    fails(Fault::AltersData, "echo-utf8", "altered its data").await;
}

#[tokio::test]
async fn a_server_that_never_pings_fails_pings_arrive_and_live_not_evicted() {
    fails(
        Fault::NeverPings,
        "pings-arrive",
        "send one every ping interval",
    )
    .await;
    fails(Fault::NeverPings, "live-not-evicted", "no Ping arrived").await;
}

#[tokio::test]
async fn a_server_that_omits_the_headers_fails_the_handshake() {
    fails(Fault::OmitsHeaders, "handshake", "no SVR header").await;
}

#[tokio::test]
async fn a_server_that_serves_any_page_or_none_fails_origin() {
    fails(
        Fault::AcceptsAnyOrigin,
        "origin",
        "Origin https://hello-check.invalid was upgraded",
    )
    .await;
    fails(
        Fault::RefusesEveryOrigin,
        "origin",
        "the server's own Origin http://127.0.0.1:",
    )
    .await;
}

#[tokio::test]
async fn the_reference_server_told_to_allow_every_origin_fails_origin() {
    let server = reference_server(ServerConfig {
        allow_origins: vec!["*".into()],
        ..ServerConfig::default()
    })
    .await;
    let report = check(server.addr(), &["origin"]).await;
    assert_fails_once(&report, "--allow-origin '*'", "was upgraded: answer 403");
}

#[tokio::test]
async fn a_server_that_ignores_malformed_input_fails_each_malformed_case() {
    let malformed: Vec<&str> = select::<ServerCase>(&[], &[], Dialect::Json)
        .unwrap()
        .iter()
        .map(|case| case.name())
        .filter(|name| name.starts_with("malformed-"))
        .collect();
    let addr = faulty_server(Fault::IgnoresMalformedInput).await;
    let report = check_within(addr, &malformed, Duration::from_millis(300)).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), malformed.len(), "{report:?}");
    for (case, detail) in failed {
        assert!(detail.contains("no answer came within"), "{case}: {detail}");
    }
}

#[tokio::test]
async fn a_server_that_never_evicts_fails_eviction() {
    fails(
        Fault::NeverEvicts,
        "eviction",
        "evict sessions whose Pong does not come",
    )
    .await;
}

#[tokio::test]
async fn eviction_by_a_reset_passes_and_is_reported_but_a_silent_drop_fails() {
    let report = check(faulty_server(Fault::ResetsOnEviction).await, &["eviction"]).await;
    assert_eq!(failures(&report), vec![]);
    assert!(
        report.cases[0]
            .detail
            .contains("reset, not closed with 1008"),
        "{:?}",
        report.cases[0].detail
    );
    fails(
        Fault::DropsOnEviction,
        "eviction",
        "dropped without a Close 1008 frame or a reset",
    )
    .await;
}

#[test]
fn protocol_md_lists_every_case_as_the_checker_describes_it() {
    let protocol = include_str!("../../PROTOCOL.md");
    for case in select::<ServerCase>(&[], &[], Dialect::Json).unwrap() {
        let row = format!("| `{}` | {} |", case.name(), case.checks());
        assert!(
            protocol.contains(&row),
            "PROTOCOL.md section 10.1 lacks: {row}"
        );
    }
}
