//! `hello-server check`: judges clients, in any language, against PROTOCOL.md.
//!
//! It serves the protocol like the server does, but watches everything each client does: its
//! handshake, every message, how fast it answers Kiss requests and Pings, and how it leaves. It
//! also answers Echo requests that arrive together in reverse order, so a client that pairs
//! answers with requests by arrival order rather than by id trips over its own data check.
//! After the next N sessions have ended (or the timeout has run out) each one is judged.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_protocol::conformance::{CaseInfo, CaseResult, Outcome, Report};
use hello_protocol::{
    ClientMessage, EchoRequest, EchoResponse, ErrorResponse, KissResponse, decode_client_message,
    defaults, encode,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use uuid::Uuid;

use crate::config::ServerConfig;
use crate::host_facts::host_kiss_request;
use crate::server::Endpoint;
use crate::session::is_disconnect;

/// Every case of the client suite, in the order they are reported for each client.
pub const CLIENT_CASES: &[CaseInfo] = &[
    CaseInfo {
        name: "whoami-sent",
        checks: "the handshake carries a non-empty `WhoAmI` header",
    },
    CaseInfo {
        name: "echo-requests-sent",
        checks: "the client sends at least one Echo request",
    },
    CaseInfo {
        name: "echo-well-formed",
        checks: "every message the client sends is a valid Echo request (integer id, string data and meta) or Kiss response: none draws a 400",
    },
    CaseInfo {
        name: "echo-ids-unique",
        checks: "the client never reuses an id while a request with it is in flight",
    },
    CaseInfo {
        name: "answers-matched-by-id",
        checks: "answered in reverse order of its requests, the client still ends with Close 1000 (it matched answers by `results[0].id`, not by order); skipped when it never had two requests in flight",
    },
    CaseInfo {
        name: "kiss-answered",
        checks: "every Kiss request sent at least one Kiss interval before the session ended is answered within that interval; skipped when the session was too short for one",
    },
    CaseInfo {
        name: "kiss-plausible",
        checks: "each Kiss response carries a locale like `en_US`, an encoding like `UTF-8` and an IANA time zone like `Europe/Paris` or `UTC`",
    },
    CaseInfo {
        name: "pings-answered",
        checks: "every Ping sent at least one pong timeout before the session ended is answered by a Pong within the pong timeout",
    },
    CaseInfo {
        name: "closes-1000",
        checks: "the client ends its session with Close 1000, not by dropping the connection",
    },
];

/// How to judge clients.
#[derive(Debug, Clone)]
pub struct JudgeConfig {
    /// Path, intervals, limits and handshake timeout, as for a server.
    pub server: ServerConfig,
    /// How many sessions to judge.
    pub clients: usize,
    /// How long the whole judgement may take; sessions still open then are judged as they are.
    pub timeout: Duration,
    /// Echo requests arriving within this window of each other are answered together, in
    /// reverse order.
    pub reorder_window: Duration,
}

/// Serves `endpoints` until `config.clients` sessions have ended or `config.timeout` has run
/// out, then judges every session with `cases`, calling `on_result` for each result.
pub async fn check_clients(
    endpoints: Vec<Endpoint>,
    config: JudgeConfig,
    cases: &[&CaseInfo],
    mut on_result: impl FnMut(&CaseResult),
) -> Report {
    let target = endpoints
        .iter()
        .filter_map(|endpoint| endpoint.describe(&config.server.path))
        .collect::<Vec<_>>()
        .join(" ");
    let deadline = Instant::now() + config.timeout;
    let config = Arc::new(config);
    let (records, mut finished) = mpsc::channel(config.clients.max(1));
    let accepting = endpoints.into_iter().map(|endpoint| {
        let config = config.clone();
        let records = records.clone();
        tokio::spawn(accept_clients(endpoint, config, records, deadline))
    });
    let accepting: Vec<_> = accepting.collect();
    drop(records);
    let mut judged = Vec::new();
    while judged.len() < config.clients {
        match timeout_at(deadline + Duration::from_secs(1), finished.recv()).await {
            Ok(Some(record)) => judged.push(record),
            Ok(None) | Err(_) => break,
        }
    }
    for task in accepting {
        task.abort();
    }
    let mut results = Vec::new();
    for (n, record) in judged.iter().enumerate() {
        let label = |case: &str| {
            if config.clients == 1 {
                case.to_owned()
            } else {
                format!("client {} ({}): {case}", n + 1, record.label())
            }
        };
        for case in cases {
            let result = CaseResult::new(
                label(case.name),
                judge(case.name, record, &config.server),
                Duration::ZERO,
            );
            on_result(&result);
            results.push(result);
        }
    }
    for missing in judged.len()..config.clients {
        let result = CaseResult::new(
            format!("client {}", missing + 1),
            Outcome::Fail(format!(
                "no client session within {}; start the client against this server",
                humantime::format_duration(config.timeout)
            )),
            Duration::ZERO,
        );
        on_result(&result);
        results.push(result);
    }
    Report {
        suite: "client".to_owned(),
        target,
        svr: None,
        cases: results,
    }
}

async fn accept_clients(
    endpoint: Endpoint,
    config: Arc<JudgeConfig>,
    records: mpsc::Sender<Record>,
    deadline: Instant,
) {
    let (listener, tls): (TcpListener, Option<TlsAcceptor>) = endpoint.into_parts();
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let config = config.clone();
        let records = records.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let handshake_deadline = Instant::now() + config.server.handshake_timeout;
            let record = match tls {
                None => judge_connection(tcp, peer, &config, handshake_deadline, deadline).await,
                Some(acceptor) => {
                    match timeout_at(handshake_deadline, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            judge_connection(stream, peer, &config, handshake_deadline, deadline)
                                .await
                        }
                        _ => None,
                    }
                }
            };
            if let Some(record) = record {
                let _ = records.send(record).await;
            }
        });
    }
}

/// How a judged session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    Closed(Option<u16>),
    Vanished,
    Failed(String),
    StillOpen,
}

/// Everything a client did in one session.
#[derive(Debug)]
struct Record {
    who_am_i: Option<String>,
    peer: SocketAddr,
    started: Instant,
    ended: Instant,
    ending: Ending,
    echo_requests: u64,
    malformed: Vec<String>,
    duplicate_ids: Vec<u64>,
    answered_out_of_order: bool,
    kisses_sent: Vec<Instant>,
    kiss_answers: Vec<(Instant, KissResponse)>,
    pings_sent: Vec<Instant>,
    pongs: Vec<Instant>,
}

impl Record {
    fn label(&self) -> String {
        self.who_am_i
            .clone()
            .unwrap_or_else(|| self.peer.to_string())
    }
}

async fn judge_connection<S>(
    stream: S,
    peer: SocketAddr,
    config: &JudgeConfig,
    handshake_deadline: Instant,
    deadline: Instant,
) -> Option<Record>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut who_am_i = None;
    let path = config.server.path.as_str();
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let callback = |request: &Request, mut response: Response| {
        if request.uri().path() != path {
            let mut refusal =
                tokio_tungstenite::tungstenite::handshake::server::ErrorResponse::new(None);
            *refusal.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::NOT_FOUND;
            return Err(refusal);
        }
        who_am_i = request
            .headers()
            .get(defaults::WHO_AM_I_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty());
        let headers = response.headers_mut();
        headers.insert(
            defaults::SVR_HEADER,
            HeaderValue::from_static(defaults::LANGUAGE_TAG),
        );
        let id = Uuid::new_v4().to_string();
        headers.insert(
            defaults::SESSION_ID_HEADER,
            HeaderValue::from_str(&id).expect("a UUID is a valid header value"),
        );
        Ok(response)
    };
    let websocket_config = WebSocketConfig::default()
        .max_message_size(Some(config.server.max_message_size))
        .max_frame_size(Some(config.server.max_message_size));
    let handshake =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(websocket_config));
    let ws = timeout_at(handshake_deadline, handshake).await.ok()?.ok()?;
    let started = Instant::now();
    let mut record = Record {
        who_am_i,
        peer,
        started,
        ended: started,
        ending: Ending::StillOpen,
        echo_requests: 0,
        malformed: Vec::new(),
        duplicate_ids: Vec::new(),
        answered_out_of_order: false,
        kisses_sent: Vec::new(),
        kiss_answers: Vec::new(),
        pings_sent: Vec::new(),
        pongs: Vec::new(),
    };
    watch_session(ws, config, deadline, &mut record).await;
    record.ended = Instant::now();
    Some(record)
}

async fn watch_session<S>(
    mut ws: WebSocketStream<S>,
    config: &JudgeConfig,
    deadline: Instant,
    record: &mut Record,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let server = &config.server;
    let kiss_request = encode(&host_kiss_request());
    let mut pings = interval_at(record.started + server.ping_interval, server.ping_interval);
    let mut kisses = interval_at(record.started + server.kiss_interval, server.kiss_interval);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    kisses.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut in_flight: HashSet<u64> = HashSet::new();
    let mut batch: Vec<EchoRequest> = Vec::new();
    let mut batch_due: Option<Instant> = None;
    let mut end = pin!(sleep_until(deadline));
    loop {
        let due = batch_due.unwrap_or(deadline);
        let outgoing: Vec<Message> = tokio::select! {
            () = &mut end => return,
            () = sleep_until(due), if batch_due.is_some() => {
                batch_due = None;
                record.answered_out_of_order |= batch.len() > 1;
                batch
                    .drain(..)
                    .rev()
                    .map(|request| {
                        in_flight.remove(&request.id);
                        let answer = EchoResponse::answer(request, Uuid::new_v4(), defaults::LANGUAGE_TAG);
                        Message::Text(encode(&answer).into())
                    })
                    .collect()
            }
            _ = pings.tick() => {
                record.pings_sent.push(Instant::now());
                vec![Message::Ping(Bytes::new())]
            }
            _ = kisses.tick() => {
                record.kisses_sent.push(Instant::now());
                vec![Message::Text(kiss_request.clone().into())]
            }
            message = ws.next() => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => Bytes::from(text),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Pong(_))) => {
                        record.pongs.push(Instant::now());
                        continue;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        record.ending = Ending::Closed(frame.map(|frame| u16::from(frame.code)));
                        // Lets tungstenite send the answering Close.
                        let _ = timeout_at(Instant::now() + server.close_timeout, ws.next()).await;
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => {
                        record.ending = if is_disconnect(&error) {
                            Ending::Vanished
                        } else {
                            Ending::Failed(error.to_string())
                        };
                        return;
                    }
                    None => {
                        record.ending = Ending::Vanished;
                        return;
                    }
                };
                match decode_client_message(&bytes) {
                    Ok(ClientMessage::Echo(request)) => {
                        record.echo_requests += 1;
                        if !in_flight.insert(request.id) {
                            record.duplicate_ids.push(request.id);
                        }
                        batch.push(request);
                        batch_due.get_or_insert(Instant::now() + config.reorder_window);
                        continue;
                    }
                    Ok(ClientMessage::Kiss(answer)) => {
                        record.kiss_answers.push((Instant::now(), answer));
                        continue;
                    }
                    Err(error) => {
                        let text = String::from_utf8_lossy(&bytes);
                        record.malformed.push(format!("{} → {error}", abbreviate(&text)));
                        vec![Message::Text(encode(&ErrorResponse::bad_request(error.to_string())).into())]
                    }
                }
            }
        };
        for message in outgoing {
            if ws.feed(message).await.is_err() {
                break;
            }
        }
        if let Err(error) = ws.flush().await {
            record.ending = Ending::Failed(error.to_string());
            return;
        }
    }
}

/// One case's verdict on one session.
fn judge(case: &str, record: &Record, server: &ServerConfig) -> Outcome {
    let lasted = record.ended - record.started;
    match case {
        "whoami-sent" => match &record.who_am_i {
            Some(name) => Outcome::Pass(format!("WhoAmI: {name}")),
            None => Outcome::Fail(
                "the handshake carried no WhoAmI header: send `WhoAmI: <client name>`".into(),
            ),
        },
        "echo-requests-sent" => match record.echo_requests {
            0 => Outcome::Fail("the client sent no Echo request".into()),
            n => Outcome::Pass(format!("{n} requests")),
        },
        "echo-well-formed" => match record.malformed.first() {
            None => Outcome::Pass(String::new()),
            Some(first) => Outcome::Fail(format!(
                "{} message(s) were neither a valid Echo request nor a valid Kiss response (PROTOCOL.md 3.2, 3.6), first: {first}",
                record.malformed.len()
            )),
        },
        "echo-ids-unique" => match record.duplicate_ids.first() {
            None => Outcome::Pass(String::new()),
            Some(id) => Outcome::Fail(format!(
                "id {id} was sent again while a request with it was in flight; use a fresh id per request"
            )),
        },
        "answers-matched-by-id" => {
            if !record.answered_out_of_order {
                Outcome::Skip("the client never had two requests in flight together, so answers could not be reordered".into())
            } else if record.ending == Ending::Closed(Some(1000)) {
                Outcome::Pass(
                    "answers came back in reverse order; the client still closed with 1000".into(),
                )
            } else if !matches!(record.ending, Ending::Closed(_)) {
                Outcome::Skip(format!(
                    "the client {}, so whether it accepted the reordered answers cannot be told (see closes-1000)",
                    describe(&record.ending)
                ))
            } else {
                Outcome::Fail(format!(
                    "after answers came back in another order than the requests, the client {}; match each answer to its request by `results[0].id`, not by order",
                    describe(&record.ending)
                ))
            }
        }
        "kiss-answered" => judge_answers(
            &record.kisses_sent,
            &record
                .kiss_answers
                .iter()
                .map(|(at, _)| *at)
                .collect::<Vec<_>>(),
            server.kiss_interval,
            record.ended,
            "Kiss request",
            "Kiss interval",
            lasted,
        ),
        "kiss-plausible" => {
            if record.kiss_answers.is_empty() {
                return Outcome::Skip("no Kiss response to judge".into());
            }
            match record
                .kiss_answers
                .iter()
                .find_map(|(_, answer)| implausible(answer))
            {
                None => {
                    let (_, answer) = &record.kiss_answers[0];
                    Outcome::Pass(format!(
                        "{} {} {}",
                        answer.language, answer.encoding, answer.time_zone
                    ))
                }
                Some(why) => Outcome::Fail(why),
            }
        }
        "pings-answered" => judge_answers(
            &record.pings_sent,
            &record.pongs,
            server.pong_timeout,
            record.ended,
            "Ping",
            "pong timeout",
            lasted,
        ),
        "closes-1000" => match &record.ending {
            Ending::Closed(Some(1000)) => Outcome::Pass(String::new()),
            ending => Outcome::Fail(format!(
                "the client {}; end a run with Close 1000",
                describe(ending)
            )),
        },
        other => Outcome::Fail(format!("no case named {other:?}")),
    }
}

/// Whether each request sent early enough was answered within `within`, pairing answers with
/// requests in order.
fn judge_answers(
    sent: &[Instant],
    answers: &[Instant],
    within: Duration,
    ended: Instant,
    what: &str,
    limit: &str,
    lasted: Duration,
) -> Outcome {
    let due: Vec<&Instant> = sent.iter().filter(|at| **at + within <= ended).collect();
    if due.is_empty() {
        return Outcome::Skip(format!(
            "the session lasted {}, too short for a {what} to be answered within the {limit} ({}): run the client longer",
            humantime::format_duration(round(lasted)),
            humantime::format_duration(within)
        ));
    }
    let mut answers = answers.iter().peekable();
    for (n, at) in due.iter().enumerate() {
        while answers.next_if(|answer| *answer <= *at).is_some() {}
        match answers.next() {
            Some(answer) if *answer <= **at + within => {}
            Some(answer) => {
                return Outcome::Fail(format!(
                    "{what} {} of {} was answered after {}, beyond the {limit} ({})",
                    n + 1,
                    due.len(),
                    humantime::format_duration(round(*answer - **at)),
                    humantime::format_duration(within)
                ));
            }
            None => {
                return Outcome::Fail(format!(
                    "{what} {} of {} was never answered; answer every {what}",
                    n + 1,
                    due.len()
                ));
            }
        }
    }
    Outcome::Pass(format!("{} answered in time", due.len()))
}

fn implausible(answer: &KissResponse) -> Option<String> {
    let language_ok = {
        let (language, territory) = answer
            .language
            .split_once('_')
            .unwrap_or((&answer.language, ""));
        (2..=3).contains(&language.len())
            && language.chars().all(|c| c.is_ascii_lowercase())
            && (territory.is_empty()
                || (territory.len() == 2 && territory.chars().all(|c| c.is_ascii_uppercase())))
    };
    let encoding_ok = !answer.encoding.is_empty()
        && answer
            .encoding
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    let time_zone_ok = matches!(answer.time_zone.as_str(), "UTC" | "GMT")
        || (answer.time_zone.contains('/')
            && answer.time_zone.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
            }));
    if !language_ok {
        Some(format!(
            "language {:?} is not a locale like en_US",
            answer.language
        ))
    } else if !encoding_ok {
        Some(format!(
            "encoding {:?} is not an encoding name like UTF-8",
            answer.encoding
        ))
    } else if !time_zone_ok {
        Some(format!(
            "time_zone {:?} is not an IANA name like Europe/Paris or UTC",
            answer.time_zone
        ))
    } else {
        None
    }
}

fn describe(ending: &Ending) -> String {
    match ending {
        Ending::Closed(Some(code)) => format!("closed with {code}"),
        Ending::Closed(None) => "closed with a Close frame carrying no code".to_owned(),
        Ending::Vanished => "dropped the connection without a Close frame".to_owned(),
        Ending::Failed(error) => format!("broke the connection ({error})"),
        Ending::StillOpen => "was still connected when the check's timeout ran out".to_owned(),
    }
}

fn round(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

fn abbreviate(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(60).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiss(language: &str, encoding: &str, time_zone: &str) -> KissResponse {
        KissResponse {
            language: language.into(),
            encoding: encoding.into(),
            time_zone: time_zone.into(),
        }
    }

    #[test]
    fn plausible_kiss_answers_pass_and_others_are_named() {
        for ok in [
            kiss("en_US", "UTF-8", "Europe/Paris"),
            kiss("fr", "ISO-8859-15", "UTC"),
            kiss("zh_CN", "GB18030", "Etc/GMT+8"),
        ] {
            assert_eq!(implausible(&ok), None, "{ok:?}");
        }
        assert!(
            implausible(&kiss("English", "UTF-8", "UTC"))
                .unwrap()
                .contains("language")
        );
        assert!(
            implausible(&kiss("en_US", "UTF 8", "UTC"))
                .unwrap()
                .contains("encoding")
        );
        assert!(
            implausible(&kiss("en_US", "UTF-8", "CET-1CEST"))
                .unwrap()
                .contains("time_zone")
        );
    }

    #[test]
    fn answers_are_paired_with_requests_in_order() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let within = Duration::from_millis(100);
        let sent = [at(0), at(100), at(200)];
        let ended = at(400);
        let lasted = Duration::from_millis(400);
        let judge = |answers: &[Instant]| {
            judge_answers(
                &sent,
                answers,
                within,
                ended,
                "Ping",
                "pong timeout",
                lasted,
            )
        };
        assert!(matches!(
            judge(&[at(10), at(110), at(210)]),
            Outcome::Pass(_)
        ));
        assert!(
            matches!(judge(&[at(10), at(110)]), Outcome::Fail(why) if why.contains("3 of 3 was never answered"))
        );
        assert!(
            matches!(judge(&[at(10), at(250), at(260)]), Outcome::Fail(why) if why.contains("2 of 3 was answered after 150ms"))
        );
        let too_short = judge_answers(&sent, &[], within, at(50), "Ping", "pong timeout", lasted);
        assert!(matches!(too_short, Outcome::Skip(_)));
    }
}
