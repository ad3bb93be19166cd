//! The client suite must be able to fail. A fake client written here keeps the protocol, or
//! breaks one rule on purpose; the faithful one passes every case, and each broken one fails
//! the right case with a message that tells an implementer what to fix.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_check::{
    Case, ClientCase, ClientSuiteConfig, Dialect, Report, Verdict, run_client_suite, select,
};
use hello_net::Endpoint;
use hello_protocol::{EchoRequest, KissResponse, ServerMessage, decode_server_message, encode};
use tokio::net::TcpListener;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

mod verdicts;
use verdicts::{fails_only, verdicts};

// The ping, pong and Kiss timings the judge runs with: long against the work of answering a
// Ping or a Kiss request, so that a busy machine cannot make a faithful client late.
const INTERVAL: Duration = Duration::from_millis(300);
// How long a fake client stays: five intervals, so that several Pings and Kiss requests are due.
const RUN: Duration = Duration::from_millis(1500);

/// The rule a fake client breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    NeverAnswersKiss,
    NoWhoAmI,
    /// As a browser: no `WhoAmI`, the name in the URL's `whoami` parameter.
    NameInQuery,
    MalformedEchoRequests,
    DropsWithoutClose,
    MatchesAnswersByOrder,
    ImplausibleKiss,
}

/// Runs for [`RUN`], then leaves: by Close 1000, or by dropping the connection.
async fn fake_client(url: String, fault: Fault) {
    let url = if fault == Fault::NameInQuery {
        format!("{url}?whoami=page+client")
    } else {
        url
    };
    let mut request = url.into_client_request().unwrap();
    if !matches!(fault, Fault::NoWhoAmI | Fault::NameInQuery) {
        request
            .headers_mut()
            .insert("WhoAmI", "fake-client".parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut sent = Vec::new();
    for id in 1..=5u64 {
        let text = if fault == Fault::MalformedEchoRequests {
            format!(r#"{{"id": "{id}", "data": "x", "meta": "TEST"}}"#)
        } else {
            let request = EchoRequest {
                id,
                data: format!("data {id}"),
                meta: "TEST".into(),
            };
            sent.push(request.clone());
            encode(&request)
        };
        ws.feed(Message::Text(text.into())).await.unwrap();
    }
    ws.flush().await.unwrap();
    let by_id: HashMap<u64, String> = sent.iter().map(|r| (r.id, r.data.clone())).collect();
    let mut in_order = sent.iter();
    let end = Instant::now() + RUN;
    while let Ok(Some(Ok(message))) = timeout_at(end, ws.next()).await {
        let Message::Text(text) = message else {
            continue;
        };
        match decode_server_message(text.as_bytes()) {
            Ok(ServerMessage::Echo(response)) => {
                let result = response.result();
                let expected = if fault == Fault::MatchesAnswersByOrder {
                    in_order.next().map(|r| r.data.clone())
                } else {
                    by_id.get(&result.id).cloned()
                };
                if expected.as_deref() != Some(result.kv.data.as_str()) {
                    // What a client does when it believes the server garbled its data.
                    let frame = CloseFrame {
                        code: CloseCode::Policy,
                        reason: "data mismatch".into(),
                    };
                    let _ = ws.send(Message::Close(Some(frame))).await;
                    return;
                }
            }
            Ok(ServerMessage::Kiss(_)) if fault != Fault::NeverAnswersKiss => {
                let answer = if fault == Fault::ImplausibleKiss {
                    KissResponse {
                        language: "English".into(),
                        encoding: "UTF-8".into(),
                        time_zone: "UTC".into(),
                    }
                } else {
                    KissResponse {
                        language: "fr_FR".into(),
                        encoding: "UTF-8".into(),
                        time_zone: "Europe/Paris".into(),
                    }
                };
                ws.send(Message::Text(encode(&answer).into()))
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
    if fault == Fault::DropsWithoutClose {
        drop(ws);
        return;
    }
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
    let _ = timeout_at(Instant::now() + RUN, ws.next()).await;
}

async fn judge(fault: Fault) -> Report {
    judge_as(fault, false).await
}

/// Judges a client with `fault`, as browsers when `browser`.
async fn judge_as(fault: Fault, browser: bool) -> Report {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let config = ClientSuiteConfig {
        ping_interval: INTERVAL,
        pong_timeout: INTERVAL,
        kiss_interval: INTERVAL,
        close_timeout: Duration::from_millis(200),
        clients: 1,
        timeout: Duration::from_secs(5),
        // The five requests a fake sends in one write arrive together, well within it.
        reorder_window: Duration::from_millis(100),
        browser,
        ..ClientSuiteConfig::default()
    };
    let cases = select::<ClientCase>(&[], &[], Dialect::Json).unwrap();
    let client = tokio::spawn(fake_client(url, fault));
    let report = run_client_suite(vec![Endpoint::Plain(listener)], config, &cases, |_| {}).await;
    client.await.unwrap();
    report
}

/// A client with `fault` fails exactly `case`, saying `hint` (other cases may be skipped).
async fn fails(fault: Fault, case: &str, hint: &str) {
    fails_only(&judge(fault).await, fault, case, hint);
}

#[tokio::test]
async fn the_faithful_client_passes_every_case() {
    let report = judge(Fault::None).await;
    assert_eq!(verdicts(&report), vec![]);
    let json_cases = select::<ClientCase>(&[], &[], Dialect::Json).unwrap().len();
    assert_eq!(report.cases.len(), json_cases);
    assert_eq!(
        report.summary_line(),
        format!("{json_cases} passed, 0 failed")
    );
}

#[tokio::test]
async fn a_client_that_never_answers_kiss_fails_kiss_answered() {
    let report = judge(Fault::NeverAnswersKiss).await;
    let failed = verdicts(&report);
    assert!(
        failed
            .iter()
            .any(|(case, verdict, detail)| *case == "kiss-answered"
                && *verdict == Verdict::Fail
                && detail.contains("was never answered; answer every Kiss request")),
        "{failed:?}"
    );
    // With no answer there is nothing to judge for plausibility.
    assert!(
        failed
            .iter()
            .any(|(case, verdict, _)| *case == "kiss-plausible" && *verdict == Verdict::Skip)
    );
}

#[tokio::test]
async fn a_client_without_whoami_fails_whoami_sent() {
    fails(
        Fault::NoWhoAmI,
        "whoami-sent",
        "send `WhoAmI: <client name>`",
    )
    .await;
}

#[tokio::test]
async fn a_browser_named_in_the_query_has_only_the_header_case_skipped_with_the_reason() {
    let report = judge_as(Fault::NameInQuery, true).await;
    let skipped: Vec<_> = report
        .cases
        .iter()
        .filter(|case| case.verdict != Verdict::Pass)
        .map(|case| (case.case.as_str(), case.verdict, case.detail.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![(
            "whoami-sent",
            Verdict::Skip,
            "a browser cannot set handshake headers; it named itself with ?whoami=page client"
        )],
        "{report:?}"
    );
}

#[tokio::test]
async fn a_browser_without_a_query_name_fails_and_a_query_name_is_no_header_for_other_clients() {
    fails_browser(Fault::NoWhoAmI, "no whoami parameter came").await;
    fails(
        Fault::NameInQuery,
        "whoami-sent",
        "send `WhoAmI: <client name>`",
    )
    .await;
}

async fn fails_browser(fault: Fault, hint: &str) {
    fails_only(&judge_as(fault, true).await, fault, "whoami-sent", hint);
}

#[tokio::test]
async fn a_client_sending_malformed_echo_requests_fails_echo_well_formed() {
    let report = judge(Fault::MalformedEchoRequests).await;
    let failed = verdicts(&report);
    let (_, verdict, detail) = failed
        .iter()
        .find(|(case, _, _)| *case == "echo-well-formed")
        .expect("echo-well-formed must not pass");
    assert_eq!(*verdict, Verdict::Fail);
    assert!(
        detail.contains("5 message(s)") && detail.contains("`id`"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_client_that_drops_the_connection_fails_closes_1000() {
    fails(
        Fault::DropsWithoutClose,
        "closes-1000",
        "dropped the connection without a Close frame",
    )
    .await;
}

#[tokio::test]
async fn a_client_matching_answers_by_order_fails_answers_matched_by_id() {
    let report = judge(Fault::MatchesAnswersByOrder).await;
    let failed = verdicts(&report);
    let (_, verdict, detail) = failed
        .iter()
        .find(|(case, _, _)| *case == "answers-matched-by-id")
        .expect("answers-matched-by-id must not pass");
    assert_eq!(*verdict, Verdict::Fail);
    assert!(
        detail.contains("match each answer to its request by `results[0].id`"),
        "{detail}"
    );
}

#[tokio::test]
async fn an_implausible_kiss_answer_fails_kiss_plausible() {
    fails(
        Fault::ImplausibleKiss,
        "kiss-plausible",
        "is not a locale like en_US",
    )
    .await;
}

#[test]
fn protocol_md_lists_every_case_as_the_judge_describes_it() {
    let protocol = include_str!("../../PROTOCOL.md");
    for case in ClientCase::ALL {
        let row = format!("| `{}` | {} |", case.name(), case.checks());
        assert!(
            protocol.contains(&row),
            "PROTOCOL.md section 10.2 lacks: {row}"
        );
    }
}
