//! The load generator (`hello-client bench`) as a library: its figures against the real
//! server, and its errors against servers that answer wrongly on purpose. Real sockets on
//! 127.0.0.1, port 0.

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{WAIT, fake_server, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_check::bench::{
    BenchTarget, EchoLoad, EchoReport, IdleLoad, IdleReport, ServerEnding, Stop, bench_echo,
    bench_idle,
};
use hello_net::TlsSettings;
use hello_protocol::v1::{self, Message as V1, Timings};
use hello_protocol::{Dialect, EchoRequest, EchoResponse, encode};
use hello_server::{RunningServer, ServerConfig, SessionRegistry};
use indicatif::ProgressBar;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use uuid::Uuid;

async fn start_server() -> RunningServer {
    // Pings and Kiss requests often enough to be seen in a hold of a few intervals, and a pong
    // timeout long against the work of answering a Ping, even in a debug build on a busy core.
    reference_server(ServerConfig {
        ping_interval: Duration::from_millis(400),
        pong_timeout: Duration::from_millis(400),
        kiss_interval: Duration::from_millis(200),
        close_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await
}

fn target(addr: SocketAddr) -> BenchTarget {
    BenchTarget {
        url: format!("ws://{addr}/ws"),
        tls: TlsSettings::default(),
        // How long an answer may take: long, since a load in a debug build on a busy machine
        // is slow; the tests of missing answers shorten it.
        timeout: Duration::from_secs(10),
        max_message_size: 1 << 22,
        name: "bench-test".into(),
        sources: Vec::new(),
        connect_concurrency: 8,
        dialect: Dialect::Json,
    }
}

fn v1_target(addr: SocketAddr) -> BenchTarget {
    BenchTarget {
        dialect: Dialect::V1,
        ..target(addr)
    }
}

fn load(connections: usize, in_flight: usize, stop: Stop) -> EchoLoad {
    EchoLoad {
        connections,
        in_flight,
        stop,
        data: "Hello".into(),
        frame_echo: false,
    }
}

#[tokio::test]
async fn every_request_of_a_counted_load_is_answered_and_timed() {
    let server = start_server().await;
    let report = counted_load(&target(server.addr())).await;
    assert_clean_and_timed(&report, "json");
}

#[tokio::test]
async fn a_v1_load_says_hello_first_and_every_answer_is_checked() {
    let server = start_server().await;
    let report = counted_load(&v1_target(server.addr())).await;
    assert_clean_and_timed(&report, "v1");
    // Every session ended with DISCONNECT and Close, and the server let it go.
    assert!(
        server.registry().wait_until(WAIT, |r| r.is_empty()).await,
        "v1 sessions left open after the load"
    );
}

/// 2,000 requests over 3 connections, 8 in flight on each.
async fn counted_load(bench_target: &BenchTarget) -> EchoReport {
    timeout(
        WAIT,
        bench_echo(
            bench_target,
            &load(3, 8, Stop::Requests(2000)),
            &ProgressBar::hidden(),
        ),
    )
    .await
    .unwrap()
    .unwrap()
}

fn assert_clean_and_timed(report: &EchoReport, dialect: &str) {
    assert_eq!(report.dialect, dialect);
    assert!(report.clean(), "{:?}", report.error_samples);
    assert_eq!(report.requests, 2000);
    assert_eq!(report.answers, 2000);
    assert!(report.msgs_per_sec > 0.0);
    let latency = report.latency;
    assert!(
        0 < latency.p50_us && latency.p50_us <= latency.p99_us && latency.p99_us <= latency.max_us
    );
}

#[tokio::test]
async fn a_timed_load_stops_sending_and_awaits_what_is_in_flight() {
    let server = start_server().await;
    let report = bench_echo(
        &target(server.addr()),
        &load(2, 4, Stop::Duration(Duration::from_millis(300))),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert!(report.answers > 0);
    assert_eq!(report.answers, report.requests);
    assert!(
        report.seconds >= 0.3 && report.seconds < 5.0,
        "{}",
        report.seconds
    );
}

#[tokio::test]
async fn frame_echo_mode_refuses_real_echo_responses() {
    // The flag is for the ceiling server only; against a real server every answer is wrong.
    let server = start_server().await;
    let mut frame_echo = load(1, 2, Stop::Requests(10));
    frame_echo.frame_echo = true;
    let report = bench_echo(&target(server.addr()), &frame_echo, &ProgressBar::hidden())
        .await
        .unwrap();
    assert_eq!(report.answers, 0);
    assert!(report.errors > 0);
    assert!(
        report.error_samples[0].contains("not an echoed request"),
        "{:?}",
        report.error_samples
    );
}

/// What a fake server does wrong.
#[derive(Clone, Copy)]
enum Fault {
    AltersData,
    WrongId,
    DropsEveryOther,
    /// Not a fault in v1: the server's clock in `results[0].idx`, as some of the ecosystem's
    /// servers put it there (PROTOCOL.md, section 12.4).
    ClockInV1Idx,
}

/// A fake server that answers Echo requests in the dialect they came in, with `fault`, and a v1
/// HELLO with BONJOUR.
async fn faulty_server(fault: Fault) -> SocketAddr {
    fake_server(move |tcp| async move {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        while let Some(Ok(message)) = ws.next().await {
            let (mut id, mut data) = match asked(&message) {
                Asked::Echo(id, data) => (id, data),
                Asked::Hello => {
                    let bonjour = V1::Bonjour {
                        server_language: "FAKE".into(),
                    };
                    if ws.send(binary(&bonjour)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Asked::Nothing => continue,
            };
            match fault {
                Fault::AltersData => data.push('!'),
                Fault::WrongId => id += 1000,
                Fault::DropsEveryOther if id % 2 == 0 => continue,
                Fault::DropsEveryOther | Fault::ClockInV1Idx => {}
            }
            let reply = if message.is_text() {
                let request = EchoRequest {
                    id,
                    data,
                    meta: "FAKE".into(),
                };
                Message::Text(encode(&EchoResponse::answer(request, Uuid::new_v4(), "FAKE")).into())
            } else {
                let mut answer = v1::echo_answer(id as i64, data, "FAKE");
                if let (Fault::ClockInV1Idx, V1::EchoResponse { results, .. }) =
                    (fault, &mut answer)
                {
                    results[0].idx = v1::unix_ms(std::time::SystemTime::now());
                }
                binary(&answer)
            };
            if ws.send(reply).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// What a client asked of a fake server.
enum Asked {
    /// Echo request id, data: JSON text or a v1 ECHO_REQUEST.
    Echo(u64, String),
    Hello,
    Nothing,
}

fn asked(message: &Message) -> Asked {
    match message {
        Message::Text(text) => serde_json::from_str::<EchoRequest>(text)
            .map_or(Asked::Nothing, |request| {
                Asked::Echo(request.id, request.data)
            }),
        Message::Binary(frame) => match v1::decode(frame) {
            Ok(V1::Hello { .. }) => Asked::Hello,
            Ok(V1::EchoRequest { id, data, .. }) => Asked::Echo(id as u64, data),
            _ => Asked::Nothing,
        },
        _ => Asked::Nothing,
    }
}

fn binary(message: &V1) -> Message {
    Message::Binary(v1::encode(message).into())
}

#[tokio::test]
async fn wrong_answers_are_errors_not_throughput() {
    for dialect in [Dialect::Json, Dialect::V1] {
        for (fault, expected) in [
            (Fault::AltersData, "data \"Hello!\" came back"),
            (Fault::WrongId, "not in flight"),
            (Fault::DropsEveryOther, "answers missing"),
        ] {
            let addr = faulty_server(fault).await;
            // An answer that never comes is counted missing at the answer timeout.
            let quick = BenchTarget {
                timeout: Duration::from_millis(1500),
                dialect,
                ..target(addr)
            };
            let report = timeout(
                WAIT,
                bench_echo(
                    &quick,
                    &load(1, 4, Stop::Requests(40)),
                    &ProgressBar::hidden(),
                ),
            )
            .await
            .unwrap()
            .unwrap();
            let case = format!("{}: {expected}", dialect.name());
            assert!(!report.clean(), "{case}: reported clean");
            assert!(report.errors > 0, "{case}: no error counted");
            assert!(
                report.answers < report.requests,
                "{case}: all counted as answered"
            );
            assert!(
                report.error_samples.iter().any(|e| e.contains(expected)),
                "{case}: {:?}",
                report.error_samples
            );
        }
    }
}

#[tokio::test]
async fn v1_answers_are_matched_by_kv_id_not_by_results_idx() {
    let addr = faulty_server(Fault::ClockInV1Idx).await;
    let report = timeout(
        WAIT,
        bench_echo(
            &v1_target(addr),
            &load(2, 4, Stop::Requests(40)),
            &ProgressBar::hidden(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(report.clean(), "{:?}", report.error_samples);
    assert_eq!(report.answers, 40);
}

#[tokio::test]
async fn idle_v1_sessions_answer_pings_with_pongs_and_are_not_evicted() {
    // The hold is longer than the session timeout: a session whose PONGs did not match would be
    // evicted in it. A timeout of a second is long against answering a PING, even in a debug
    // build on a busy core, so an eviction here is no race lost to the scheduler.
    let server = reference_server(ServerConfig {
        v1: Timings {
            ping_interval: Duration::from_millis(100),
            session_timeout: Duration::from_secs(1),
            time_interval: Duration::from_millis(100),
            kiss_interval: Duration::from_millis(100),
        },
        ..ServerConfig::default()
    })
    .await;
    let registry = server.registry().clone();
    let mut dialects_seen = Vec::new();
    let report = timeout(
        WAIT,
        bench_idle(
            &v1_target(server.addr()),
            &IdleLoad {
                sessions: 10,
                hold: Duration::from_millis(1500),
            },
            &ProgressBar::hidden(),
            |_| dialects_seen = registry.sessions().iter().map(|s| s.dialect).collect(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.dialect, "v1");
    assert_eq!(report.opened, 10, "{:?}", report.error_samples);
    assert_eq!(dialects_seen, vec![Some(Dialect::V1); 10]);
    assert_eq!(report.closed_by_server, 0, "a live v1 session was closed");
    assert!(report.clean());
    // At least one PING and one KISS_REQUEST reached each session in a hold of 15 intervals.
    assert!(report.pings_seen >= 10, "{}", report.pings_seen);
    assert!(report.kisses_answered >= 10, "{}", report.kisses_answered);
    assert!(
        server.registry().wait_until(WAIT, |r| r.is_empty()).await,
        "the v1 sessions were not closed at the end of the hold"
    );
}

#[tokio::test]
async fn idle_sessions_answer_kiss_and_pings_and_are_not_evicted() {
    let server = start_server().await;
    let mut bench_target = target(server.addr());
    // From two loopback addresses, as --sources 3 would spread them (127.0.0.2 and .3).
    bench_target.sources = vec![
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
    ];
    let registry = server.registry().clone();
    let mut peers_seen = Vec::new();
    let report = bench_idle(
        &bench_target,
        // Four ping intervals, so three Pings at least and six Kiss requests for each.
        &IdleLoad {
            sessions: 20,
            hold: Duration::from_millis(1600),
        },
        &ProgressBar::hidden(),
        |opened| {
            assert_eq!(opened.opened, 20);
            peers_seen = registry.sessions().iter().map(|s| s.peer.ip()).collect();
        },
    )
    .await
    .unwrap();
    assert_eq!(report.opened, 20);
    assert_eq!(report.failed, 0);
    assert_eq!(report.closed_by_server, 0, "a live session was closed");
    assert!(
        report.kisses_answered >= 20 * 3,
        "{}",
        report.kisses_answered
    );
    assert!(report.pings_seen >= 20 * 3, "{}", report.pings_seen);
    for source in &bench_target.sources {
        assert_eq!(peers_seen.iter().filter(|ip| *ip == source).count(), 10);
    }
    // The server saw every Kiss answer.
    assert!(
        server.registry().wait_until(WAIT, |r| r.is_empty()).await,
        "the sessions were not closed at the end of the hold"
    );
}

/// Now on the wall clock, in unix ms, as the idle report records a session's end.
fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Holds `sessions` idle sessions on `addr`, calls `end_them` once all are open, and returns
/// the report with the wall-clock time `end_them` was called at.
async fn idle_until_ended(
    addr: SocketAddr,
    sessions: usize,
    end_them: impl FnOnce(),
) -> (IdleReport, u64) {
    let mut ended_at = None;
    let mut end_them = Some(end_them);
    let report = timeout(
        WAIT * 2,
        bench_idle(
            &target(addr),
            &IdleLoad {
                sessions,
                // A hold far longer than the end takes, even on a slow machine.
                hold: WAIT,
            },
            &ProgressBar::hidden(),
            |_| {
                ended_at = Some(unix_ms_now());
                if let Some(end_them) = end_them.take() {
                    end_them();
                }
            },
        ),
    )
    .await
    .unwrap()
    .unwrap();
    (report, ended_at.expect("every session opened"))
}

#[tokio::test]
async fn a_shutdown_ends_every_idle_session_with_close_1001_within_the_shutdown_timeout() {
    let shutdown_timeout = Duration::from_secs(5);
    let server = reference_server(ServerConfig {
        shutdown_timeout,
        ..ServerConfig::default()
    })
    .await;
    // The server shuts down as soon as every session is open.
    let (report, stopped_at) = idle_until_ended(server.addr(), 20, || server.stop()).await;
    assert_eq!(report.opened, 20, "{:?}", report.error_samples);
    assert_eq!(report.closed_by_server, 20);
    assert_eq!(report.server_closes_by(ServerEnding::Close(1001)), 20);
    assert_eq!(
        report.server_closes,
        BTreeMap::from([("1001".to_owned(), 20)])
    );
    let first = report.first_server_close_unix_ms.unwrap();
    let last = report.last_server_close_unix_ms.unwrap();
    assert!(
        stopped_at <= first && first <= last,
        "stopped at {stopped_at}, closes from {first} to {last}"
    );
    assert!(
        last - stopped_at <= shutdown_timeout.as_millis() as u64,
        "the last Close {} ms after the shutdown began",
        last - stopped_at
    );
    assert!(
        report.hold_seconds < WAIT.as_secs_f64() / 2.0,
        "waited out the hold: {}",
        report.hold_seconds
    );
    let text = report.to_string();
    assert!(
        text.contains("the server ended 20 session(s): Close 1001: 20;"),
        "{text}"
    );
}

/// How a fake server ends every session when told to.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// Close 1008, as for a pong timeout: an eviction, not a shutdown.
    Evicts,
    /// A reset, with no Close.
    Resets,
    /// The TCP connection closed, with no Close.
    Vanishes,
}

/// A fake server that holds each session, reading, until `end` fires, then ends it `ending`.
async fn ending_server(ending: Ending, end: tokio::sync::watch::Receiver<bool>) -> SocketAddr {
    fake_server(move |tcp| {
        let mut end = end.clone();
        async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            tokio::select! {
                _ = end.wait_for(|ended| *ended) => {}
                // The client says nothing; its end means the test is over.
                _ = async { while let Some(Ok(_)) = ws.next().await {} } => return,
            }
            match ending {
                Ending::Evicts => {
                    let close = CloseFrame {
                        code: CloseCode::Policy,
                        reason: "pong timeout".into(),
                    };
                    let _ = ws.close(Some(close)).await;
                    while let Some(Ok(_)) = ws.next().await {}
                }
                Ending::Resets => {
                    let tcp = ws.into_inner();
                    tcp.set_zero_linger().unwrap();
                    drop(tcp);
                }
                Ending::Vanishes => drop(ws),
            }
        }
    })
    .await
}

#[tokio::test]
async fn sessions_the_server_ends_otherwise_than_with_close_1001_are_counted_apart() {
    // What a script that demands Close 1001 of every session must see fail.
    for (ending, key) in [
        (Ending::Evicts, "1008"),
        (Ending::Resets, "reset"),
        (Ending::Vanishes, "no-close"),
    ] {
        let (end_tx, end_rx) = tokio::sync::watch::channel(false);
        let addr = ending_server(ending, end_rx).await;
        let (report, ended_at) = idle_until_ended(addr, 5, move || {
            end_tx.send_replace(true);
        })
        .await;
        let case = format!("{ending:?}");
        assert_eq!(report.opened, 5, "{case}: {:?}", report.error_samples);
        assert_eq!(report.closed_by_server, 5, "{case}");
        assert_eq!(
            report.server_closes_by(ServerEnding::Close(1001)),
            0,
            "{case}"
        );
        assert_eq!(
            report.server_closes,
            BTreeMap::from([(key.to_owned(), 5)]),
            "{case}"
        );
        assert!(
            report.first_server_close_unix_ms.unwrap() >= ended_at,
            "{case}"
        );
    }
}

/// A gate in front of `server`: it forwards every connection at once except the `held`-th
/// (counting from 0), whose bytes wait until `release` is over.
async fn gate_holding_one_back(
    server: SocketAddr,
    held: usize,
    release: impl Future<Output = ()> + Send + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut release = Some(release);
    tokio::spawn(async move {
        for n in 0.. {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let release = if n == held { release.take() } else { None };
            tokio::spawn(async move {
                if let Some(release) = release {
                    release.await;
                }
                let mut outbound = TcpStream::connect(server).await.unwrap();
                let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn sessions_answer_pings_while_the_others_are_still_opening() {
    // Sessions open one at a time, and a gate holds the last handshake back until the first
    // session has answered two Pings, or has been evicted for not answering them. Opening thus
    // takes longer than a ping interval plus a pong timeout by construction, on any machine; and
    // a pong timeout of a second is long against the work of answering a Ping, so no eviction
    // here is a race lost to the scheduler. A bench that did not read a session until all were
    // open (the code before c3bc614) has its first sessions evicted every time.
    const SESSIONS: usize = 3;
    let ping = Duration::from_secs(1);
    let server = reference_server(ServerConfig {
        ping_interval: ping,
        pong_timeout: ping,
        kiss_interval: Duration::from_secs(60),
        ..ServerConfig::default()
    })
    .await;
    let registry = server.registry().clone();
    let (answered_tx, answered_rx) = oneshot::channel::<bool>();
    let release = {
        let registry = registry.clone();
        async move {
            let first =
                |r: &SessionRegistry| r.sessions().into_iter().find(|s| s.name == "bench-test-0");
            let every_other_open = registry.wait_until(WAIT, |r| r.len() == SESSIONS - 1).await;
            let settled = registry
                .wait_until(WAIT, |r| {
                    first(r).is_none_or(|s| s.pong_count >= 2) || r.len() < SESSIONS - 1
                })
                .await;
            let answered = first(&registry).is_some_and(|s| s.pong_count >= 2);
            let _ = answered_tx.send(every_other_open && settled && answered);
        }
    };
    let gate = gate_holding_one_back(server.addr(), SESSIONS - 1, release).await;
    let mut bench_target = target(gate);
    bench_target.connect_concurrency = 1;
    // The held handshake takes two ping intervals at least: the connect timeout must not end it.
    bench_target.timeout = WAIT;
    let report = timeout(
        WAIT * 2,
        bench_idle(
            &bench_target,
            &IdleLoad {
                sessions: SESSIONS,
                hold: Duration::from_millis(100),
            },
            &ProgressBar::hidden(),
            |_| {},
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.opened, SESSIONS, "{:?}", report.error_samples);
    assert!(
        answered_rx.await.unwrap(),
        "the first session answered no two Pings while the last one opened"
    );
    assert_eq!(
        report.closed_by_server, 0,
        "sessions were evicted while others opened"
    );
}
