//! The client suite judging v1 clients must be able to fail. A fake v1 client written here with
//! the codec keeps the dialect, or breaks one of its rules on purpose; the faithful one passes
//! every v1 case, and each broken one fails the right case with a message that says what to fix.
//! A JSON client judged in a v1 run fails, saying which dialect to run.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_check::{
    ClientCase, ClientSuiteConfig, Dialect, Report, Verdict, run_client_suite, select,
};
use hello_net::Endpoint;
use hello_protocol::{EchoRequest, encode, v1};
use tokio::net::TcpListener;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

mod verdicts;
use verdicts::{fails_only, verdicts};

// Every v1 timer the judge runs with, and the random interval it expects: long against the
// work of answering a PING or a KISS_REQUEST, so that a busy machine cannot make a faithful
// client late, and the random numbers' tolerance (half of it) is whole scheduler slices wide.
const INTERVAL: Duration = Duration::from_millis(300);
// How long a fake client stays before it leaves: five intervals, so that several PINGs, Kiss
// requests and random numbers are due.
const RUN: Duration = Duration::from_millis(1500);
// The bound on any wait of a fake client for the judge: far longer than anything takes.
const WAIT: Duration = Duration::from_secs(20);

/// The v1 rule a fake client breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    NoUserId,
    EchoBeforeHello,
    WrongPongTimestamp,
    /// Answers each PING only when the second PING after it has come.
    SlowPongs,
    NoPongs,
    NeverAnswersKiss,
    ImplausibleKiss,
    NoRandomNumbers,
    MatchesAnswersByOrder,
    LeavesWithoutDisconnect,
    /// Sends DISCONNECT, then Close 1001 of its own instead of answering the server's.
    Closes1001,
    /// Sends a frame of an unknown type and one of a server's type, both of which carry on.
    SendsBadFrames,
    /// Sends a frame with version 2, which ends the session.
    SendsBadVersion,
}

/// What the fake client saw of the judge.
#[derive(Debug, Default)]
struct Seen {
    bonjour: Option<String>,
    errors: Vec<i32>,
    close: Option<u16>,
    echo_answers: usize,
    hashes: usize,
}

fn frame(message: &v1::Message) -> Message {
    Message::Binary(v1::encode(message).into())
}

fn close(code: CloseCode) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: "".into(),
    }))
}

/// Connects, greets, sends five Echo requests at once, then for [`RUN`] answers what comes and
/// sends a RANDOM_NUMBER every interval, then leaves with DISCONNECT and answers the Close.
async fn fake_v1_client(url: String, fault: Fault) -> Seen {
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("WhoAmI", "fake-v1-client".parse().unwrap());
    if fault != Fault::NoUserId {
        headers.insert("userId", "fake-user".parse().unwrap());
    }
    // Nagle's algorithm off, as a client that answers at once needs it.
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .unwrap();
    let hello = frame(&v1::Message::Hello {
        client_language: "TEST".into(),
    });
    let sent: Vec<(i64, String)> = (1..=5)
        .map(|id| (id, format!("data {id} ✓ 你好")))
        .collect();
    let echoes = sent.iter().map(|(id, data)| {
        frame(&v1::Message::EchoRequest {
            id: *id,
            meta: "TEST".into(),
            data: data.clone(),
        })
    });
    let mut opening: Vec<Message> = echoes.collect();
    if fault == Fault::EchoBeforeHello {
        opening.push(hello);
    } else {
        opening.insert(0, hello);
    }
    match fault {
        Fault::SendsBadFrames => {
            opening.push(Message::Binary(
                vec![0x48, 0x01, 0x20, 0, 0, 0, 0, 0].into(),
            ));
            opening.push(frame(&v1::Message::Bonjour {
                server_language: "TEST".into(),
            }));
        }
        Fault::SendsBadVersion => {
            let mut bad = v1::encode(&v1::Message::Pong { timestamp_ms: 1 });
            bad[1] = 0x02;
            opening.push(Message::Binary(bad.into()));
        }
        _ => {}
    }
    for message in opening {
        ws.feed(message).await.unwrap();
    }
    ws.flush().await.unwrap();

    let by_id: HashMap<String, &str> = sent
        .iter()
        .map(|(id, data)| (id.to_string(), data.as_str()))
        .collect();
    let mut in_order = sent.iter();
    let mut numbers: HashMap<i64, i64> = HashMap::new();
    let mut held_pings: VecDeque<i64> = VecDeque::new();
    let mut seen = Seen::default();
    let mut randoms = interval_at(Instant::now() + INTERVAL, INTERVAL);
    randoms.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let end = Instant::now() + RUN;
    loop {
        let answer = tokio::select! {
            () = sleep_until(end) => break,
            _ = randoms.tick(), if fault != Fault::NoRandomNumbers => {
                let id = i64::try_from(numbers.len()).unwrap() + 1;
                let number = id * 7919 - 1;
                numbers.insert(id, number);
                Some(v1::Message::RandomNumber { id, number })
            }
            message = ws.next() => {
                let bytes = match message {
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(frame))) => {
                        seen.close = frame.map(|frame| u16::from(frame.code));
                        continue;
                    }
                    Some(Ok(_)) => continue,
                    // The judge ended the session (after a bad frame): nothing left to do.
                    Some(Err(_)) | None => return seen,
                };
                match v1::decode(&bytes).expect("the judge sends valid frames") {
                    v1::Message::Bonjour { server_language } => {
                        seen.bonjour = Some(server_language);
                        None
                    }
                    v1::Message::Ping { timestamp_ms } => match fault {
                        Fault::NoPongs => None,
                        Fault::WrongPongTimestamp => Some(v1::Message::Pong { timestamp_ms: timestamp_ms + 1 }),
                        Fault::SlowPongs => {
                            held_pings.push_back(timestamp_ms);
                            (held_pings.len() > 2)
                                .then(|| v1::Message::Pong { timestamp_ms: held_pings.pop_front().unwrap() })
                        }
                        _ => Some(v1::Message::Pong { timestamp_ms }),
                    },
                    v1::Message::KissRequest { .. } if fault != Fault::NeverAnswersKiss => {
                        let language = if fault == Fault::ImplausibleKiss { "English" } else { "fr_FR" };
                        Some(v1::Message::KissResponse {
                            language: language.into(),
                            encoding: "UTF-8".into(),
                            time_zone: "Europe/Paris".into(),
                        })
                    }
                    v1::Message::EchoResponse { results, .. } => {
                        seen.echo_answers += 1;
                        let field = |key: &str| {
                            results[0].kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
                        };
                        let expected = if fault == Fault::MatchesAnswersByOrder {
                            in_order.next().map(|(_, data)| data.as_str())
                        } else {
                            field("id").and_then(|id| by_id.get(&id).copied())
                        };
                        if expected != field("data").as_deref() {
                            // What a client does when it believes the server garbled its data.
                            ws.send(close(CloseCode::Policy)).await.unwrap();
                            let _ = timeout_at(Instant::now() + WAIT, ws.next()).await;
                            return seen;
                        }
                        None
                    }
                    v1::Message::HashResponse { id, hash_hex } => {
                        seen.hashes += 1;
                        assert_eq!(hash_hex, v1::hash_hex(numbers[&id]), "RANDOM_NUMBER {id}");
                        None
                    }
                    v1::Message::Error { code, .. } => {
                        seen.errors.push(code);
                        None
                    }
                    _ => None,
                }
            }
        };
        if let Some(answer) = answer {
            ws.send(frame(&answer)).await.unwrap();
        }
    }
    let disconnect = frame(&v1::Message::Disconnect {
        reason: "bye".into(),
    });
    let leaving = match fault {
        Fault::LeavesWithoutDisconnect => vec![close(CloseCode::Normal)],
        Fault::Closes1001 => vec![disconnect, close(CloseCode::Away)],
        _ => vec![disconnect],
    };
    for message in leaving {
        ws.feed(message).await.unwrap();
    }
    ws.flush().await.unwrap();
    // Reads until the judge's Close has come (tungstenite answers it) and the connection ends.
    let closing = async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Close(frame) = message {
                seen.close = frame.map(|frame| u16::from(frame.code));
            }
        }
    };
    timeout_at(Instant::now() + WAIT, closing)
        .await
        .expect("the judge closes the session");
    seen
}

/// A JSON client: one Echo request, its answer, Close 1000.
async fn json_client(url: String) -> Seen {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("WhoAmI", "json-client".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let echo = EchoRequest {
        id: 1,
        data: "data".into(),
        meta: "TEST".into(),
    };
    ws.send(Message::Text(encode(&echo).into())).await.unwrap();
    let answer = timeout_at(Instant::now() + WAIT, ws.next()).await.unwrap();
    assert!(matches!(answer, Some(Ok(Message::Text(_)))), "{answer:?}");
    ws.send(close(CloseCode::Normal)).await.unwrap();
    let _ = timeout_at(Instant::now() + WAIT, ws.next()).await;
    Seen::default()
}

/// Judges, in a run in `dialect`, the one session `client` opens.
async fn judge_in<F>(dialect: Dialect, client: impl FnOnce(String) -> F) -> (Report, Seen)
where
    F: Future<Output = Seen> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let config = ClientSuiteConfig {
        dialect,
        v1: v1::Timings {
            ping_interval: INTERVAL,
            time_interval: INTERVAL,
            kiss_interval: INTERVAL,
            ..v1::Timings::default()
        },
        random_interval: INTERVAL,
        close_timeout: Duration::from_secs(2),
        clients: 1,
        timeout: Duration::from_secs(10),
        // The five requests a fake sends in one write arrive together, well within it.
        reorder_window: Duration::from_millis(100),
        ..ClientSuiteConfig::default()
    };
    let cases = select::<ClientCase>(&[], &[], dialect).unwrap();
    let client = tokio::spawn(client(url));
    let report = run_client_suite(vec![Endpoint::Plain(listener)], config, &cases, |_| {}).await;
    (report, client.await.unwrap())
}

async fn judge(fault: Fault) -> (Report, Seen) {
    judge_in(Dialect::V1, |url| fake_v1_client(url, fault)).await
}

/// A client with `fault` fails exactly `case`, saying `hint` (other cases may be skipped).
async fn fails(fault: Fault, case: &str, hint: &str) -> Seen {
    let (report, seen) = judge(fault).await;
    fails_only(&report, fault, &format!("{case} [v1]"), hint);
    seen
}

#[tokio::test]
async fn the_faithful_v1_client_passes_every_v1_case() {
    let (report, seen) = judge(Fault::None).await;
    assert_eq!(verdicts(&report), vec![]);
    let v1_cases = select::<ClientCase>(&[], &[], Dialect::V1).unwrap().len();
    assert_eq!(report.cases.len(), v1_cases);
    assert_eq!(
        report.summary_line(),
        format!("{v1_cases} passed, 0 failed")
    );
    // The judge served it as v1: BONJOUR, five Echo answers, a hash for each number, Close 1000.
    assert_eq!(seen.bonjour.as_deref(), Some("RUST"));
    assert_eq!(seen.echo_answers, 5);
    assert!(seen.hashes >= 3, "{seen:?}");
    assert_eq!(seen.errors, Vec::<i32>::new());
    assert_eq!(seen.close, Some(1000));
    let detail = |name: &str| {
        let case = report.cases.iter().find(|case| case.case == name).unwrap();
        case.detail.clone()
    };
    assert!(
        detail("pongs-echo-pings [v1]").contains("the slowest in"),
        "{report:?}"
    );
    assert!(
        detail("random-numbers-sent [v1]").contains("gaps from"),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_v1_client_without_user_id_fails_user_id_sent() {
    fails(Fault::NoUserId, "user-id-sent", "send `userId: <user id>`").await;
}

#[tokio::test]
async fn a_v1_client_that_does_not_greet_first_fails_hello_first() {
    fails(
        Fault::EchoBeforeHello,
        "hello-first",
        "the first message was ECHO_REQUEST; send HELLO first",
    )
    .await;
}

#[tokio::test]
async fn pongs_with_a_wrong_timestamp_fail_pongs_echo_pings() {
    fails(
        Fault::WrongPongTimestamp,
        "pongs-echo-pings",
        "echoed a timestamp no PING carried",
    )
    .await;
}

#[tokio::test]
async fn pongs_two_pings_late_fail_pongs_echo_pings() {
    fails(
        Fault::SlowPongs,
        "pongs-echo-pings",
        "beyond the v1 ping interval (300ms); answer each PING at once",
    )
    .await;
}

#[tokio::test]
async fn no_pongs_fail_pongs_echo_pings() {
    fails(
        Fault::NoPongs,
        "pongs-echo-pings",
        "was never answered by a PONG echoing it",
    )
    .await;
}

#[tokio::test]
async fn a_v1_client_that_never_answers_kiss_fails_kiss_answered() {
    fails(
        Fault::NeverAnswersKiss,
        "kiss-answered",
        "was never answered; answer every Kiss request",
    )
    .await;
}

#[tokio::test]
async fn an_implausible_v1_kiss_answer_fails_kiss_plausible() {
    fails(
        Fault::ImplausibleKiss,
        "kiss-plausible",
        "is not a locale like en_US",
    )
    .await;
}

#[tokio::test]
async fn a_v1_client_without_random_numbers_fails_random_numbers_sent() {
    fails(
        Fault::NoRandomNumbers,
        "random-numbers-sent",
        "no RANDOM_NUMBER in a session of",
    )
    .await;
}

#[tokio::test]
async fn a_v1_client_matching_answers_by_order_fails_answers_matched_by_id() {
    let (report, _) = judge(Fault::MatchesAnswersByOrder).await;
    let mut failed = verdicts(&report);
    failed.retain(|(_, verdict, _)| *verdict == Verdict::Fail);
    // It leaves at once, as a client that finds its data garbled must: not by DISCONNECT.
    let names: Vec<&str> = failed.iter().map(|(case, _, _)| *case).collect();
    assert_eq!(
        names,
        ["answers-matched-by-id [v1]", "disconnect-then-close [v1]"],
        "{failed:?}"
    );
    let detail = failed[0].2;
    assert!(
        detail.contains("closed with 1008")
            && detail.contains("match each answer to its request by `kv.id`"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_v1_client_leaving_without_disconnect_fails_disconnect_then_close() {
    fails(
        Fault::LeavesWithoutDisconnect,
        "disconnect-then-close",
        "the client sent no DISCONNECT and closed with 1000; end a session with DISCONNECT",
    )
    .await;
}

#[tokio::test]
async fn a_v1_client_closing_with_1001_fails_disconnect_then_close() {
    fails(
        Fault::Closes1001,
        "disconnect-then-close",
        "the client sent DISCONNECT, then closed with 1001; answer the server's Close 1000",
    )
    .await;
}

#[tokio::test]
async fn bad_frames_that_carry_on_fail_echo_well_formed() {
    let seen = fails(
        Fault::SendsBadFrames,
        "echo-well-formed",
        "2 message(s) drew an ERROR, first: frame 48 01 20 00 00 00 00 00 → ERROR: unknown message type 0x20 (v1 error code 2)",
    )
    .await;
    assert_eq!(seen.errors, vec![2, 2], "{seen:?}");
    assert_eq!(seen.close, Some(1000), "the session carried on to its end");
}

#[tokio::test]
async fn a_bad_version_fails_echo_well_formed_and_ends_the_session_with_1002() {
    let seen = fails(
        Fault::SendsBadVersion,
        "echo-well-formed",
        "version byte 0x02, not 0x01 (v1 error code 5)",
    )
    .await;
    // The Echo answers went out before the ERROR, and the ERROR before the Close.
    assert_eq!(seen.echo_answers, 5, "{seen:?}");
    assert_eq!((seen.errors, seen.close), (vec![5], Some(1002)));
}

#[tokio::test]
async fn a_json_client_judged_as_v1_fails_saying_which_dialect_to_run() {
    let (report, _) = judge_in(Dialect::V1, json_client).await;
    every_case_fails_saying(
        &report,
        "the client spoke JSON; this run judges v1: run with --dialect json",
    );
}

#[tokio::test]
async fn a_v1_client_judged_as_json_fails_saying_which_dialect_to_run() {
    let (report, _) = judge_in(Dialect::Json, |url| fake_v1_client(url, Fault::None)).await;
    every_case_fails_saying(
        &report,
        "the client spoke v1; this run judges JSON: run with --dialect v1",
    );
}

fn every_case_fails_saying(report: &Report, detail: &str) {
    assert!(!report.cases.is_empty());
    for case in &report.cases {
        assert_eq!(
            (case.verdict, case.detail.as_str()),
            (Verdict::Fail, detail),
            "{case:?}"
        );
    }
}
