//! `hello-client check`: judges any server, in any language, against PROTOCOL.md.
//!
//! Each case opens its own sessions, so one case's damage cannot spill into the next, and checks
//! behaviour only: what goes over the wire, never how the server is written. A FAIL's detail
//! says what was seen and what to fix. Cases that wait for the server's timers (Kiss, Ping,
//! eviction) run side by side, so the suite takes about one ping interval plus one pong timeout
//! beyond the quick cases, whatever the intervals are.

use std::collections::{HashMap, HashSet};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use hello_protocol::conformance::{CaseInfo, CaseResult, Outcome, Report};
use hello_protocol::{
    EchoRequest, EchoResponse, ServerMessage, decode_server_message, defaults, encode,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, sleep, timeout_at};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use uuid::Uuid;

use crate::config::{GREETINGS, TlsSettings};
use crate::connection::{ConnectOptions, Connection, Handshake, connect, connect_over};
use crate::locale::local_kiss_response;
use crate::run::tls_for_url;

/// What the checker is told about the server under test.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// `ws://` or `wss://` URL of the server under test.
    pub url: String,
    /// The server's ping interval, pong timeout and Kiss interval, as it was started with.
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub kiss_interval: Duration,
    /// How late a timed event may be and still pass.
    pub slack: Duration,
    /// How long to wait for a connection, an answer, or a Close.
    pub timeout: Duration,
    /// The server's message limit.
    pub max_message_size: usize,
    pub tls: TlsSettings,
}

/// Every case of the server suite, in the order they are reported.
pub const SERVER_CASES: &[CaseInfo] = &[
    CaseInfo {
        name: "handshake",
        checks: "the upgrade is answered 101 with a non-empty `SVR` header and an `X-Session-Id` that is a UUID v4, with `WhoAmI` sent",
    },
    CaseInfo {
        name: "echo-round-trip",
        checks: "an Echo request is answered with status 200, one result carrying the request's id, type OK, `kv.idx` the id as a string, `kv.data` unchanged, a non-empty `kv.meta` and a UUID v4 `kv.id` that differs between two answers",
    },
    CaseInfo {
        name: "echo-u64-ids",
        checks: "ids 0, 2^53+1 and 2^64-1 come back exactly, in `results[0].id` and in `kv.idx`",
    },
    CaseInfo {
        name: "echo-in-flight",
        checks: "500 requests sent at once are each answered exactly once, with their own data, matched by id",
    },
    CaseInfo {
        name: "echo-utf8",
        checks: "multilingual text, emoji, an empty string, quotes, backslashes and control characters, and `\\u` escapes come back as the same code points",
    },
    CaseInfo {
        name: "echo-near-limit",
        checks: "a request just under the message limit is answered with its data intact",
    },
    CaseInfo {
        name: "unknown-keys-ignored",
        checks: "a request with extra keys is answered as if they were absent",
    },
    CaseInfo {
        name: "binary-frame",
        checks: "a request in a binary frame is answered",
    },
    CaseInfo {
        name: "malformed-not-json",
        checks: "a text frame that is not JSON is answered 400 with a non-empty `error` and an empty `results`, and the session still answers requests",
    },
    CaseInfo {
        name: "malformed-not-object",
        checks: "a JSON array is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-id-negative",
        checks: "`id` -1 is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-id-fraction",
        checks: "`id` 1.5 is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-id-string",
        checks: "`id` \"1\" is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-id-too-large",
        checks: "`id` 2^64 is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-missing-field",
        checks: "an Echo request without `data` is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-wrong-type",
        checks: "an Echo request whose `data` is a number is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-unknown-message",
        checks: "an object with none of the known keys is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "malformed-kiss-response",
        checks: "a Kiss response missing keys is answered 400, and the session goes on",
    },
    CaseInfo {
        name: "invalid-utf8-1007",
        checks: "a text frame that is not valid UTF-8 is answered with Close 1007, and a new session works",
    },
    CaseInfo {
        name: "over-limit-1009",
        checks: "a message one byte over the limit is answered with Close 1009, and a new session works",
    },
    CaseInfo {
        name: "path-404",
        checks: "a handshake for another path is answered HTTP 404",
    },
    CaseInfo {
        name: "clean-close",
        checks: "a Close 1000 from the client is answered with a Close",
    },
    CaseInfo {
        name: "many-sessions",
        checks: "20 sessions at once get 20 distinct session ids and are all answered",
    },
    CaseInfo {
        name: "kiss-arrives",
        checks: "a Kiss request with four non-empty facts arrives within the Kiss interval (+ slack), a second one an interval later, and the Kiss response sent back is accepted (no 400)",
    },
    CaseInfo {
        name: "pings-arrive",
        checks: "a Ping arrives within the ping interval (+ slack) of the handshake, and another within an interval of it",
    },
    CaseInfo {
        name: "eviction",
        checks: "a client that stops reading, and so answers no Ping, is closed with 1008 within ping interval + pong timeout (+ slack)",
    },
    CaseInfo {
        name: "live-not-evicted",
        checks: "a client that answers every Ping is still served after ping interval + pong timeout (+ slack)",
    },
];

/// Cases that wait for the server's timers; they run side by side, after the others.
const TIMED_CASES: [&str; 4] = [
    "kiss-arrives",
    "pings-arrive",
    "eviction",
    "live-not-evicted",
];

/// Runs `cases` against the server, calling `on_result` as each one ends, and returns the
/// report.
pub async fn check_server(
    config: &CheckConfig,
    cases: &[&CaseInfo],
    mut on_result: impl FnMut(&CaseResult),
) -> Report {
    let checker = Checker {
        config: config.clone(),
        tls: tls_for_url(&config.url, &config.tls).map_err(|error| error.to_string()),
        svr: Mutex::default(),
    };
    let mut results: HashMap<&str, CaseResult> = HashMap::new();
    for case in cases
        .iter()
        .filter(|case| !TIMED_CASES.contains(&case.name))
    {
        let result = checker.run(case.name).await;
        on_result(&result);
        results.insert(case.name, result);
    }
    let timed = cases.iter().filter(|case| TIMED_CASES.contains(&case.name));
    for (case, result) in timed
        .clone()
        .zip(join_all(timed.map(|case| checker.run(case.name))).await)
    {
        on_result(&result);
        results.insert(case.name, result);
    }
    Report {
        suite: "server".to_owned(),
        target: config.url.clone(),
        svr: checker
            .svr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        cases: cases
            .iter()
            .filter_map(|case| results.remove(case.name))
            .collect(),
    }
}

type TlsConfig = Option<Arc<tokio_rustls::rustls::ClientConfig>>;

struct Checker {
    config: CheckConfig,
    tls: Result<TlsConfig, String>,
    /// The `SVR` the server sent, for the report.
    svr: Mutex<Option<String>>,
}

/// A case's own result: what was seen when it passes, what is wrong when it fails.
type Verdict = Result<String, String>;

impl Checker {
    async fn run(&self, name: &str) -> CaseResult {
        let started = std::time::Instant::now();
        let outcome = match self.case(name).await {
            Ok(seen) => Outcome::Pass(seen),
            Err(wrong) => Outcome::Fail(wrong),
        };
        CaseResult::new(name, outcome, started.elapsed())
    }

    async fn case(&self, name: &str) -> Verdict {
        match name {
            "handshake" => self.handshake().await,
            "echo-round-trip" => self.echo_round_trip().await,
            "echo-u64-ids" => self.echo_u64_ids().await,
            "echo-in-flight" => self.echo_in_flight(500).await,
            "echo-utf8" => self.echo_utf8().await,
            "echo-near-limit" => self.echo_near_limit().await,
            "unknown-keys-ignored" => self.unknown_keys_ignored().await,
            "binary-frame" => self.binary_frame().await,
            "malformed-not-json" => self.malformed(r#"{"id": 1, "data": "x""#).await,
            "malformed-not-object" => self.malformed("[1, 2, 3]").await,
            "malformed-id-negative" => {
                self.malformed(r#"{"id": -1, "data": "x", "meta": "RUST"}"#)
                    .await
            }
            "malformed-id-fraction" => {
                self.malformed(r#"{"id": 1.5, "data": "x", "meta": "RUST"}"#)
                    .await
            }
            "malformed-id-string" => {
                self.malformed(r#"{"id": "1", "data": "x", "meta": "RUST"}"#)
                    .await
            }
            "malformed-id-too-large" => {
                self.malformed(r#"{"id": 18446744073709551616, "data": "x", "meta": "RUST"}"#)
                    .await
            }
            "malformed-missing-field" => self.malformed(r#"{"id": 1, "meta": "RUST"}"#).await,
            "malformed-wrong-type" => {
                self.malformed(r#"{"id": 1, "data": 42, "meta": "RUST"}"#)
                    .await
            }
            "malformed-unknown-message" => self.malformed(r#"{"hello": "world"}"#).await,
            "malformed-kiss-response" => self.malformed(r#"{"language": "en_US"}"#).await,
            "invalid-utf8-1007" => self.invalid_utf8().await,
            "over-limit-1009" => self.over_limit().await,
            "path-404" => self.path_404().await,
            "clean-close" => self.clean_close().await,
            "many-sessions" => self.many_sessions(20).await,
            "kiss-arrives" => self.kiss_arrives().await,
            "pings-arrive" => self.pings_arrive().await,
            "eviction" => self.eviction().await,
            "live-not-evicted" => self.live_not_evicted().await,
            other => Err(format!("no case named {other:?}")),
        }
    }

    async fn open(&self) -> Result<Probe, String> {
        self.open_url(&self.config.url).await
    }

    fn options<'a>(&self, url: &'a str) -> Result<ConnectOptions<'a>, String> {
        Ok(ConnectOptions {
            url,
            name: Some("hello-check"),
            headers: &[],
            timeout: self.config.timeout,
            max_message_size: self.config.max_message_size * defaults::CLIENT_MESSAGE_SIZE_FACTOR,
            tls: self.tls.clone()?,
            local_addr: None,
        })
    }

    async fn open_url(&self, url: &str) -> Result<Probe, String> {
        let options = self.options(url)?;
        let (ws, handshake) = connect(&options).await.map_err(|error| error.to_string())?;
        if let Some(svr) = handshake.svr() {
            *self.svr.lock().unwrap_or_else(|p| p.into_inner()) = Some(svr.to_owned());
        }
        Ok(Probe {
            ws,
            handshake,
            timeout: self.config.timeout,
        })
    }

    async fn handshake(&self) -> Verdict {
        let probe = self.open().await?;
        let svr = probe
            .handshake
            .svr()
            .filter(|svr| !svr.trim().is_empty())
            .ok_or("the 101 answer has no SVR header: send `SVR: <language tag>`")?;
        let session_id = probe
            .handshake
            .session_id()
            .ok_or("the 101 answer has no X-Session-Id header: send a fresh UUID v4")?;
        is_uuid_v4(session_id).then_some(()).ok_or_else(|| {
            format!("X-Session-Id {session_id:?} is not a UUID v4 (lowercase, hyphenated)")
        })?;
        Ok(format!("SVR {svr}, X-Session-Id {session_id}"))
    }

    async fn echo_round_trip(&self) -> Verdict {
        let mut probe = self.open().await?;
        let first = probe.echo(1, "Hello").await?;
        let second = probe.echo(1, "Hello").await?;
        let (first, second) = (first.result(), second.result());
        if first.kv.id == second.kv.id {
            return Err(format!(
                "two answers carried the same `kv.id` {:?}: make a fresh UUID v4 for each response",
                first.kv.id
            ));
        }
        Ok(format!("meta {}", first.kv.meta))
    }

    async fn echo_u64_ids(&self) -> Verdict {
        let mut probe = self.open().await?;
        for id in [0, (1 << 53) + 1, u64::MAX] {
            probe.echo(id, "id range").await.map_err(|wrong| {
                format!("{wrong} (ids are unsigned 64-bit integers: parse them without going through a double or a signed long)")
            })?;
        }
        Ok(String::new())
    }

    async fn echo_in_flight(&self, count: u64) -> Verdict {
        let mut probe = self.open().await?;
        // Ids spread over the range, in an order that is neither sorted nor reversed.
        let ids: Vec<u64> = (0..count)
            .map(|n| n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5)
            .collect();
        let data_of = |id: u64| format!("in flight {id}");
        for &id in &ids {
            probe.feed(&request_text(id, &data_of(id))).await?;
        }
        probe.flush().await?;
        let mut waiting: HashSet<u64> = ids.iter().copied().collect();
        while !waiting.is_empty() {
            let response = probe.echo_response().await.map_err(|wrong| {
                format!(
                    "{wrong}, with {} of {count} answers still missing",
                    waiting.len()
                )
            })?;
            let result = response.result();
            if !waiting.remove(&result.id) {
                return Err(format!(
                    "an answer for id {} that was not in flight (or a second answer to it)",
                    result.id
                ));
            }
            if result.kv.data != data_of(result.id) {
                return Err(format!(
                    "the answer for id {} carries another request's data {:?}",
                    result.id, result.kv.data
                ));
            }
        }
        Ok(format!("{count} answered"))
    }

    async fn echo_utf8(&self) -> Verdict {
        let mut probe = self.open().await?;
        let samples = GREETINGS.into_iter().chain([
            "Привет",
            "مرحبا",
            "👋🏽",
            "👨‍👩‍👧‍👦 family",
            "",
            "quote \" backslash \\ slash /",
            "control \n\t\r\u{1} \u{7f}",
            "\u{10FFFF}",
        ]);
        let samples: Vec<&str> = samples.collect();
        for (id, data) in samples.iter().enumerate() {
            probe.echo(id as u64, data).await?;
        }
        // The same code points written as escapes in the request.
        probe
            .send_text(r#"{"id": 900, "data": "caf\u00e9 \ud83d\udc4b", "meta": "RUST"}"#)
            .await?;
        probe.expect_echo(900, "café 👋").await?;
        Ok(format!("{} samples", samples.len() + 1))
    }

    async fn echo_near_limit(&self) -> Verdict {
        let mut probe = self.open().await?;
        let envelope = request_text(1, "").len();
        let room = self
            .config
            .max_message_size
            .checked_sub(envelope + 16)
            .ok_or("--max-message-size is too small for this case")?;
        let multibyte = "é".repeat((room / 2).min(1000));
        let data = multibyte.clone() + &"x".repeat(room - multibyte.len());
        probe.echo(1, &data).await?;
        Ok(format!("{} bytes", request_text(1, &data).len()))
    }

    async fn unknown_keys_ignored(&self) -> Verdict {
        let mut probe = self.open().await?;
        probe
            .send_text(r#"{"trace": {"span": [1, 2]}, "id": 7, "data": "extra keys", "meta": "RUST", "zz": null}"#)
            .await?;
        probe.expect_echo(7, "extra keys").await?;
        Ok(String::new())
    }

    async fn binary_frame(&self) -> Verdict {
        let mut probe = self.open().await?;
        let request = request_text(8, "in a binary frame");
        probe
            .send(Message::Binary(request.into_bytes().into()))
            .await?;
        probe.expect_echo(8, "in a binary frame").await?;
        Ok(String::new())
    }

    async fn malformed(&self, input: &str) -> Verdict {
        let mut probe = self.open().await?;
        probe.send_text(input).await?;
        let error = match probe.next_answer().await? {
            ServerMessage::Error(error) => error,
            ServerMessage::Echo(_) => {
                return Err(format!(
                    "{input} was answered 200 as if it were a valid Echo request; answer 400"
                ));
            }
            ServerMessage::Kiss(_) => unreachable!("next_answer skips Kiss requests"),
        };
        if error.status != 400 {
            return Err(format!(
                "answered status {}, PROTOCOL.md section 6 says 400",
                error.status
            ));
        }
        if !error.results.is_empty() {
            return Err("the 400 answer's `results` must be an empty array".to_owned());
        }
        probe
            .echo(2, "still usable")
            .await
            .map_err(|wrong| format!("after the 400 the session no longer works: {wrong}"))?;
        Ok(format!("400: {}", error.error))
    }

    async fn invalid_utf8(&self) -> Verdict {
        let mut probe = self.open().await?;
        let bad = Bytes::from_static(b"{\"id\": 1, \"data\": \"\xc3\x28\", \"meta\": \"RUST\"}");
        probe
            .send(Message::Frame(Frame::message(
                bad,
                OpCode::Data(Data::Text),
                true,
            )))
            .await?;
        probe.expect_close(CloseCode::Invalid, "1007").await?;
        self.open().await?.echo(1, "others unaffected").await?;
        Ok(String::new())
    }

    async fn over_limit(&self) -> Verdict {
        let mut probe = self.open().await?;
        let envelope = request_text(1, "").len();
        let data = "x".repeat(self.config.max_message_size + 1 - envelope);
        // The server may close before the whole message is written.
        let _ = probe.send_text(&request_text(1, &data)).await;
        probe.expect_close(CloseCode::Size, "1009").await?;
        self.open().await?.echo(1, "others unaffected").await?;
        Ok(String::new())
    }

    async fn path_404(&self) -> Verdict {
        let path = format!("/not-the-hello-path-{}", Uuid::new_v4().simple());
        let url = replace_path(&self.config.url, &path)?;
        match self.open_url(&url).await {
            Ok(_) => Err(format!(
                "{path} was upgraded; answer 404 for any path but the configured one"
            )),
            Err(error) if error.contains("HTTP 404") => Ok(String::new()),
            Err(error) => Err(format!("expected HTTP 404 for {path}, got: {error}")),
        }
    }

    async fn clean_close(&self) -> Verdict {
        let mut probe = self.open().await?;
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: Utf8Bytes::from_static("bye"),
        };
        probe.send(Message::Close(Some(frame))).await?;
        let deadline = Instant::now() + probe.timeout;
        loop {
            match timeout_at(deadline, probe.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let code =
                        frame.map_or("no code".to_owned(), |f| u16::from(f.code).to_string());
                    return Ok(format!("answered with Close ({code})"));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(error))) => {
                    return Err(format!("the connection failed instead of a Close: {error}"));
                }
                Ok(None) => {
                    return Err("the connection ended without answering the Close".to_owned());
                }
                Err(_) => {
                    return Err(format!(
                        "no Close came back within {}",
                        describe(probe.timeout)
                    ));
                }
            }
        }
    }

    async fn many_sessions(&self, count: usize) -> Verdict {
        let opened = join_all((0..count).map(|_| self.open())).await;
        let mut probes = opened.into_iter().collect::<Result<Vec<_>, _>>()?;
        let ids: HashSet<String> = probes
            .iter()
            .filter_map(|probe| probe.handshake.session_id().map(str::to_owned))
            .collect();
        if ids.len() != count {
            return Err(format!(
                "{count} sessions got only {} distinct X-Session-Id values",
                ids.len()
            ));
        }
        let answered = join_all(
            probes
                .iter_mut()
                .enumerate()
                .map(|(n, probe)| probe.echo(n as u64, "one of many")),
        )
        .await;
        answered.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(format!("{count} sessions"))
    }

    async fn kiss_arrives(&self) -> Verdict {
        let mut probe = self.open().await?;
        let interval = self.config.kiss_interval;
        let mut last = Instant::now();
        for nth in ["first", "second"] {
            let deadline = last + interval + self.config.slack;
            probe.next_kiss(deadline).await.map_err(|wrong| {
                format!(
                    "the {nth} Kiss request: {wrong}; send one every Kiss interval ({})",
                    describe(interval)
                )
            })?;
            last = Instant::now();
            let answer = local_kiss_response();
            probe.send_text(&encode(&answer)).await?;
        }
        probe.echo(1, "after the Kiss").await.map_err(|wrong| {
            format!("after the Kiss response: {wrong} (a valid Kiss response gets no answer)")
        })?;
        Ok(String::new())
    }

    async fn pings_arrive(&self) -> Verdict {
        let mut probe = self.open().await?;
        let mut last = Instant::now();
        for nth in ["first", "second"] {
            let deadline = last + self.config.ping_interval + self.config.slack;
            probe.next_ping(deadline).await.map_err(|wrong| {
                format!(
                    "the {nth} Ping: {wrong}; send one every ping interval ({})",
                    describe(self.config.ping_interval)
                )
            })?;
            last = Instant::now();
        }
        Ok(String::new())
    }

    async fn eviction(&self) -> Verdict {
        // A client that has gone deaf and mute: it reads nothing until the bound, and what it
        // would write afterwards (tungstenite's answers to old Pings) never reaches the wire,
        // so the server's Close is not lost to a reset provoked by a late Pong.
        let mute = Arc::new(AtomicBool::new(false));
        let options = self.options(&self.config.url)?;
        let (mut ws, _) = connect_over(&options, |stream| Mutable {
            stream,
            mute: mute.clone(),
        })
        .await
        .map_err(|error| error.to_string())?;
        mute.store(true, Ordering::Relaxed);
        let bound = self.config.ping_interval + self.config.pong_timeout + self.config.slack;
        sleep(bound).await;
        let deadline = Instant::now() + self.config.slack.min(Duration::from_secs(1));
        loop {
            match timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) if frame.code == CloseCode::Policy => {
                    return Ok(format!("closed with 1008 {:?}", frame.reason.as_str()));
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!(
                        "evicted, but with Close {:?}; PROTOCOL.md section 5 says 1008 \"pong timeout\"",
                        frame.map(|f| u16::from(f.code))
                    ));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => {
                    return Err("the connection was dropped without a Close 1008 frame; send Close 1008 \"pong timeout\" before closing".to_owned());
                }
                Err(_) => {
                    return Err(format!(
                        "a client that answered no Ping was still connected after {}; evict sessions whose Pong does not come within the pong timeout",
                        describe(bound)
                    ));
                }
            }
        }
    }

    async fn live_not_evicted(&self) -> Verdict {
        let mut probe = self.open().await?;
        let until = Instant::now()
            + self.config.ping_interval
            + self.config.pong_timeout
            + self.config.slack;
        let mut pings = 0;
        loop {
            match timeout_at(until, probe.ws.next()).await {
                Err(_) => break,
                Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!(
                        "a client answering every Ping was closed ({:?}); the pong timeout must run from a Ping, and any Pong answers it",
                        frame.map(|f| u16::from(f.code))
                    ));
                }
                Ok(Some(Ok(message))) => probe.answer_kiss(&message).await?,
                Ok(Some(Err(error))) => return Err(format!("the connection failed: {error}")),
                Ok(None) => return Err("a client answering every Ping was disconnected".to_owned()),
            }
        }
        if pings == 0 {
            return Err(
                "no Ping arrived, so a live client's eviction could not be judged".to_owned(),
            );
        }
        probe.echo(1, "still alive").await?;
        Ok(format!("{pings} Pings answered"))
    }
}

/// One session of the checker with the server under test.
struct Probe {
    ws: Connection,
    handshake: Handshake,
    timeout: Duration,
}

impl Probe {
    async fn send(&mut self, message: Message) -> Result<(), String> {
        self.ws
            .send(message)
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    async fn send_text(&mut self, text: &str) -> Result<(), String> {
        self.send(Message::Text(text.into())).await
    }

    async fn feed(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .feed(Message::Text(text.into()))
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    async fn flush(&mut self) -> Result<(), String> {
        self.ws
            .flush()
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    /// The next application message, answering Kiss requests and skipping control frames.
    async fn next_answer(&mut self) -> Result<ServerMessage, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.next_message(deadline, "answer").await?;
            match message {
                ServerMessage::Kiss(_) => self.send_text(&encode(&local_kiss_response())).await?,
                answer => return Ok(answer),
            }
        }
    }

    async fn next_message(
        &mut self,
        deadline: Instant,
        what: &str,
    ) -> Result<ServerMessage, String> {
        // Whole milliseconds, for the message.
        let allowed =
            deadline.saturating_duration_since(Instant::now()) + Duration::from_micros(500);
        let allowed = Duration::from_millis(allowed.as_millis() as u64);
        loop {
            let message = match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(format!("no {what} came within {}", describe(allowed))),
                Ok(None) => {
                    return Err(format!("the connection ended while waiting for the {what}"));
                }
                Ok(Some(Err(error))) => {
                    return Err(format!(
                        "the connection failed while waiting for the {what}: {error}"
                    ));
                }
                Ok(Some(Ok(message))) => message,
            };
            let bytes = match &message {
                Message::Text(text) => text.as_bytes(),
                Message::Binary(bytes) => bytes,
                Message::Close(frame) => {
                    return Err(format!(
                        "the server closed the session ({:?}) while the client waited for the {what}",
                        frame
                            .as_ref()
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                    ));
                }
                _ => continue,
            };
            return decode_server_message(bytes)
                .map_err(|error| format!("the server sent something unusable: {error}"));
        }
    }

    async fn answer_kiss(&mut self, message: &Message) -> Result<(), String> {
        if let Message::Text(text) = message
            && let Ok(ServerMessage::Kiss(_)) = decode_server_message(text.as_bytes())
        {
            self.send_text(&encode(&local_kiss_response())).await?;
        }
        Ok(())
    }

    async fn next_kiss(&mut self, deadline: Instant) -> Result<(), String> {
        match self.next_message(deadline, "Kiss request").await? {
            ServerMessage::Kiss(_) => Ok(()),
            other => Err(format!("got {other:?} where a Kiss request was due")),
        }
    }

    async fn next_ping(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err("it did not arrive in time".to_owned()),
                Ok(Some(Ok(Message::Ping(_)))) => return Ok(()),
                Ok(Some(Ok(message))) => self.answer_kiss(&message).await?,
                Ok(Some(Err(error))) => return Err(format!("the connection failed: {error}")),
                Ok(None) => return Err("the connection ended".to_owned()),
            }
        }
    }

    async fn echo_response(&mut self) -> Result<EchoResponse, String> {
        match self.next_answer().await? {
            ServerMessage::Echo(response) => Ok(response),
            ServerMessage::Error(error) => Err(format!(
                "a valid Echo request was answered with status {}: {}",
                error.status, error.error
            )),
            ServerMessage::Kiss(_) => unreachable!("next_answer skips Kiss requests"),
        }
    }

    async fn expect_echo(&mut self, id: u64, data: &str) -> Result<EchoResponse, String> {
        let response = self.echo_response().await?;
        let result = response.result();
        if result.id != id {
            return Err(format!("the answer to id {id} carried id {}", result.id));
        }
        if result.kv.data != data {
            return Err(format!(
                "the answer to id {id} altered its data: sent {:?}, got {:?}",
                abbreviate(data),
                abbreviate(&result.kv.data)
            ));
        }
        if result.kv.meta.trim().is_empty() {
            return Err("`kv.meta` is empty: put the server's language tag there".to_owned());
        }
        Ok(response)
    }

    /// Sends one Echo request and checks its answer field by field.
    async fn echo(&mut self, id: u64, data: &str) -> Result<EchoResponse, String> {
        self.send_text(&request_text(id, data)).await?;
        self.expect_echo(id, data).await
    }

    async fn expect_close(&mut self, code: CloseCode, which: &str) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) if frame.code == code => return Ok(()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!(
                        "closed with {:?} instead of {which}",
                        frame.map(|f| u16::from(f.code))
                    ));
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(ServerMessage::Error(error)) = decode_server_message(text.as_bytes())
                    {
                        return Err(format!(
                            "answered status {} instead of Close {which}: {}",
                            error.status, error.error
                        ));
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => {
                    return Err(format!(
                        "the connection was dropped without a Close {which} frame"
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "no Close {which} within {}",
                        describe(self.timeout)
                    ));
                }
            }
        }
    }
}

/// A stream whose writes can be silenced: once `mute` is set, what is written is dropped (and
/// reported written), while reads go on.
struct Mutable<S> {
    stream: S,
    mute: Arc<AtomicBool>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Mutable<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Mutable<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.mute.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.mute.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

fn request_text(id: u64, data: &str) -> String {
    encode(&EchoRequest {
        id,
        data: data.to_owned(),
        meta: defaults::LANGUAGE_TAG.to_owned(),
    })
}

fn is_uuid_v4(text: &str) -> bool {
    Uuid::try_parse(text)
        .is_ok_and(|uuid| uuid.get_version_num() == 4 && uuid.hyphenated().to_string() == text)
}

fn replace_path(url: &str, path: &str) -> Result<String, String> {
    let after_scheme = url
        .find("://")
        .map(|at| at + 3)
        .ok_or("the URL has no scheme")?;
    let path_at = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |at| after_scheme + at);
    Ok(format!("{}{path}", &url[..path_at]))
}

fn abbreviate(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_owned()
    } else {
        format!(
            "{}… ({} bytes)",
            text.chars().take(40).collect::<String>(),
            text.len()
        )
    }
}

fn describe(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_replaced_whatever_the_url() {
        assert_eq!(replace_path("ws://h:1/ws", "/x").unwrap(), "ws://h:1/x");
        assert_eq!(replace_path("wss://h:1", "/x").unwrap(), "wss://h:1/x");
        assert_eq!(
            replace_path("ws://[::1]:1/a/b", "/x").unwrap(),
            "ws://[::1]:1/x"
        );
    }

    #[test]
    fn only_canonical_v4_uuids_pass() {
        assert!(is_uuid_v4(&Uuid::new_v4().to_string()));
        assert!(!is_uuid_v4(&Uuid::new_v4().simple().to_string()));
        assert!(!is_uuid_v4(&Uuid::new_v4().to_string().to_uppercase()));
        assert!(!is_uuid_v4("00000000-0000-1000-8000-000000000000"));
    }

    #[test]
    fn case_names_are_unique_and_the_timed_ones_exist() {
        let names: HashSet<&str> = SERVER_CASES.iter().map(|case| case.name).collect();
        assert_eq!(names.len(), SERVER_CASES.len(), "case names are unique");
        for timed in TIMED_CASES {
            assert!(names.contains(timed), "{timed}");
        }
    }
}
