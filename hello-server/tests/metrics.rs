//! The server's metrics against scripted sessions over real sockets: every series of
//! `ServerMetrics::render` is parsed from the text and checked exactly, those the script moves and
//! every other one at zero.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{TestServer, WAIT, Ws};
use futures_util::{SinkExt, StreamExt};
use hello_protocol::v1::{self, Message as V1};
use hello_server::{ServerConfig, ServerMetrics};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};

/// The samples of an exposition: `name{labels}` to value. Comment lines (`# HELP`, `# TYPE`)
/// are skipped; every other line must be one sample, `series value`.
fn samples(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not a sample: {line:?}"));
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("not a whole number: {line:?}"));
            (series.to_owned(), value)
        })
        .collect()
}

/// What differs between the scrape and `expected` (series not named there are expected at 0;
/// a series named there must exist).
fn differences(text: &str, expected: &[(&str, u64)]) -> Vec<String> {
    let scraped = samples(text);
    let mut differences = Vec::new();
    for (series, want) in expected {
        if !scraped.contains_key(*series) {
            differences.push(format!("{series}: missing, expected {want}"));
        }
    }
    for (series, got) in &scraped {
        let want = expected
            .iter()
            .find(|(name, _)| name == series)
            .map_or(0, |(_, want)| *want);
        if *got != want {
            differences.push(format!("{series}: {got}, expected {want}"));
        }
    }
    differences
}

/// Waits until the scrape shows exactly `expected` (a session's end is counted by the server's
/// task, which may finish after the client saw its side end), and fails with what differs.
async fn assert_scrape(metrics: &ServerMetrics, expected: &[(&str, u64)]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = metrics.render();
        let differences = differences(&text, expected);
        if differences.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "the scrape differs:\n  {}\n\nthe scrape:\n{text}",
                differences.join("\n  ")
            );
        }
        sleep(Duration::from_millis(20)).await;
    }
}

async fn send_json(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

/// The next message, skipping Pings and Pongs.
async fn next(ws: &mut Ws) -> Message {
    loop {
        let message = timeout(WAIT, ws.next())
            .await
            .expect("a message within the wait")
            .expect("the stream is open")
            .expect("no error");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

async fn recv_json(ws: &mut Ws) -> Value {
    match next(ws).await {
        Message::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

async fn recv_v1(ws: &mut Ws) -> V1 {
    match next(ws).await {
        Message::Binary(bytes) => v1::decode(&bytes).unwrap(),
        other => panic!("expected a v1 frame, got {other:?}"),
    }
}

async fn send_v1(ws: &mut Ws, message: &V1) {
    ws.send(Message::Binary(v1::encode(message).into()))
        .await
        .unwrap();
}

/// The server's Close, skipping anything before it.
async fn recv_close(ws: &mut Ws) -> CloseCode {
    loop {
        match timeout(WAIT, ws.next())
            .await
            .expect("a close within the wait")
        {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(Message::Close(None))) => panic!("a Close without a code"),
            Some(Ok(_)) => {}
            Some(Err(error)) => panic!("no Close but {error}"),
            None => panic!("no Close but the end of the stream"),
        }
    }
}

/// The HTTP status a handshake for `path`, with these extra headers, is refused with.
async fn refused_status(server: &TestServer, path: &str, headers: &[(&'static str, &str)]) -> u16 {
    let mut request = server.url(path).into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    match timeout(WAIT, client_async(request, tcp)).await.unwrap() {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected a refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, got a session"),
    }
}

/// A connection the server drops: reads until the end.
async fn assert_dropped(mut tcp: TcpStream) {
    let mut rest = Vec::new();
    let read = timeout(WAIT, tcp.read_to_end(&mut rest))
        .await
        .expect("dropped within the wait");
    assert!(read.is_ok() || rest.is_empty(), "{read:?}");
}

#[tokio::test]
async fn a_fresh_server_shows_every_series_at_zero_in_prometheus_text() {
    let server = TestServer::start(TestServer::quiet()).await;
    let metrics = server.running.metrics();
    assert_eq!(
        metrics.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = metrics.render();
    assert!(
        text.contains("# TYPE hello_sessions_open gauge\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE hello_messages_received_total counter\n"),
        "{text}"
    );
    // 2 gauges, 1 counter, and 48 labelled series: 5 end reasons, 11 kinds received, 11 sent,
    // 12 kinds of malformed input, 3 refusals, 2 failures.
    assert_eq!(
        samples(&text).len(),
        2 + 1 + 5 + 11 + 11 + 12 + 3 + 2,
        "{text}"
    );
    assert_scrape(metrics, &[]).await;
    server.shutdown().await;
}

/// One JSON session scripted (3 Echo requests, a malformed message, a Kiss answer, Close 1000),
/// with a v1 session beside it, the other ways a session ends with malformed input, the refused
/// and failed handshakes, and a plain HTTP request.
#[tokio::test]
async fn a_scripted_run_is_counted_exactly() {
    let server = TestServer::start(ServerConfig {
        max_message_size: 4096,
        handshake_timeout: Duration::from_millis(300),
        ..TestServer::quiet()
    })
    .await;
    let metrics = server.running.metrics();

    // JSON: three Echo requests, one malformed, a Kiss answer, a Ping of the client's own.
    let mut json = server.session().await;
    for id in 1..=3 {
        send_json(
            &mut json,
            json!({"id": id, "data": "hello", "meta": "TEST"}),
        )
        .await;
        assert_eq!(recv_json(&mut json).await["status"], 200);
    }
    send_json(&mut json, json!({"id": -1, "data": "x", "meta": "TEST"})).await;
    assert_eq!(recv_json(&mut json).await["status"], 400);
    send_json(
        &mut json,
        json!({"language": "en_US", "encoding": "UTF-8", "time_zone": "UTC"}),
    )
    .await;
    json.send(Message::Ping(Bytes::from_static(b"hi")))
        .await
        .unwrap();

    // v1, while the JSON session is open (a peak of 2): each client message, an unknown type
    // (ERROR code 2, the session goes on), then DISCONNECT.
    let mut binary = server.session().await;
    send_v1(
        &mut binary,
        &V1::Hello {
            client_language: "RUST".into(),
        },
    )
    .await;
    assert!(matches!(recv_v1(&mut binary).await, V1::Bonjour { .. }));
    send_v1(
        &mut binary,
        &V1::EchoRequest {
            id: 7,
            meta: "RUST".into(),
            data: "Hi".into(),
        },
    )
    .await;
    assert!(matches!(
        recv_v1(&mut binary).await,
        V1::EchoResponse { .. }
    ));
    send_v1(&mut binary, &V1::RandomNumber { id: 1, number: -1 }).await;
    assert!(matches!(
        recv_v1(&mut binary).await,
        V1::HashResponse { .. }
    ));
    send_v1(
        &mut binary,
        &V1::KissResponse {
            language: "en_US".into(),
            encoding: "UTF-8".into(),
            time_zone: "UTC".into(),
        },
    )
    .await;
    // A PONG that matches no PING: received all the same.
    send_v1(&mut binary, &V1::Pong { timestamp_ms: 1 }).await;
    binary
        .send(Message::Binary(vec![0x48, 1, 0x42, 0, 0, 0, 0, 0].into()))
        .await
        .unwrap();
    assert!(matches!(
        recv_v1(&mut binary).await,
        V1::Error { code: 2, .. }
    ));
    send_v1(
        &mut binary,
        &V1::Disconnect {
            reason: String::new(),
        },
    )
    .await;
    assert_eq!(recv_close(&mut binary).await, CloseCode::Normal);

    json.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
    .await
    .unwrap();
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);

    // Sessions that end for malformed input: bad magic (ERROR 4, Close 1002), a message over
    // the limit (1009), a text message that is not UTF-8 (1007).
    let mut bad_magic = server.session().await;
    send_v1(
        &mut bad_magic,
        &V1::Hello {
            client_language: "RUST".into(),
        },
    )
    .await;
    assert!(matches!(recv_v1(&mut bad_magic).await, V1::Bonjour { .. }));
    let mut frame = v1::encode(&V1::Hello {
        client_language: "RUST".into(),
    });
    frame[0] = b'J';
    bad_magic.send(Message::Binary(frame.into())).await.unwrap();
    assert!(matches!(
        recv_v1(&mut bad_magic).await,
        V1::Error { code: 4, .. }
    ));
    assert_eq!(recv_close(&mut bad_magic).await, CloseCode::Protocol);

    let mut over_limit = server.session().await;
    // The server may close before the whole message is written.
    let _ = over_limit
        .send(Message::Text("x".repeat(5000).into()))
        .await;
    assert_eq!(recv_close(&mut over_limit).await, CloseCode::Size);

    let mut not_utf8 = server.session().await;
    let frame = Frame::message(
        Bytes::from_static(b"{\"id\": 1, \"data\": \"\xc3\x28\", \"meta\": \"T\"}"),
        OpCode::Data(Data::Text),
        true,
    );
    not_utf8.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(recv_close(&mut not_utf8).await, CloseCode::Invalid);

    // Refused: another path (404), a foreign page (403).
    assert_eq!(refused_status(&server, "/elsewhere", &[]).await, 404);
    let evil = [("Origin", "https://evil.example")];
    assert_eq!(refused_status(&server, "/ws", &evil).await, 403);

    // Failed: an upgrade without its key, and one that never finishes.
    let mut keyless = TcpStream::connect(server.addr).await.unwrap();
    keyless
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        )
        .await
        .unwrap();
    assert_dropped(keyless).await;
    assert_dropped(TcpStream::connect(server.addr).await.unwrap()).await;

    // A plain HTTP request (the page, or a scrape) is no handshake: it moves no count.
    let mut page = TcpStream::connect(server.addr).await.unwrap();
    page.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    timeout(WAIT, page.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    assert_scrape(
        metrics,
        &[
            ("hello_sessions_open", 0),
            ("hello_sessions_peak", 2),
            ("hello_sessions_ended_total{reason=\"client_closed\"}", 2),
            ("hello_sessions_ended_total{reason=\"error\"}", 3),
            ("hello_messages_received_total{kind=\"echo_request\"}", 3),
            ("hello_messages_received_total{kind=\"kiss_response\"}", 1),
            ("hello_messages_received_total{kind=\"ping\"}", 1),
            ("hello_messages_received_total{kind=\"v1_hello\"}", 2),
            ("hello_messages_received_total{kind=\"v1_echo_request\"}", 1),
            (
                "hello_messages_received_total{kind=\"v1_kiss_response\"}",
                1,
            ),
            ("hello_messages_received_total{kind=\"v1_pong\"}", 1),
            (
                "hello_messages_received_total{kind=\"v1_random_number\"}",
                1,
            ),
            ("hello_messages_received_total{kind=\"v1_disconnect\"}", 1),
            ("hello_messages_sent_total{kind=\"echo_response\"}", 3),
            ("hello_messages_sent_total{kind=\"error_response\"}", 1),
            ("hello_messages_sent_total{kind=\"v1_bonjour\"}", 2),
            ("hello_messages_sent_total{kind=\"v1_echo_response\"}", 1),
            ("hello_messages_sent_total{kind=\"v1_hash_response\"}", 1),
            ("hello_messages_sent_total{kind=\"v1_error\"}", 2),
            ("hello_malformed_input_total{kind=\"invalid_message\"}", 1),
            ("hello_malformed_input_total{kind=\"v1_unknown_type\"}", 1),
            ("hello_malformed_input_total{kind=\"v1_bad_magic\"}", 1),
            ("hello_malformed_input_total{kind=\"over_limit\"}", 1),
            ("hello_malformed_input_total{kind=\"invalid_utf8\"}", 1),
            ("hello_handshakes_refused_total{status=\"404\"}", 1),
            ("hello_handshakes_refused_total{status=\"403\"}", 1),
            ("hello_handshakes_failed_total{reason=\"error\"}", 1),
            ("hello_handshakes_failed_total{reason=\"timeout\"}", 1),
            ("hello_kiss_answers_total", 2),
        ],
    )
    .await;
    server.shutdown().await;
}

/// A session that answers no Ping is evicted: one Ping sent, one pong timeout; a handshake
/// beyond the connection limit meanwhile is refused 503; shutting down ends the rest.
#[tokio::test]
async fn eviction_the_limit_and_shutdown_are_counted_exactly() {
    let server = TestServer::start(ServerConfig {
        ping_interval: Duration::from_millis(500),
        pong_timeout: Duration::from_millis(500),
        max_connections: 1,
        ..TestServer::quiet()
    })
    .await;
    let metrics = server.running.metrics().clone();
    // Never read, so the server's Ping is never answered.
    let sleeper = server.session().await;
    assert_eq!(refused_status(&server, "/ws", &[]).await, 503);
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);
    drop(sleeper);
    assert_scrape(
        &metrics,
        &[
            ("hello_sessions_open", 0),
            ("hello_sessions_peak", 1),
            ("hello_sessions_ended_total{reason=\"pong_timeout\"}", 1),
            ("hello_messages_sent_total{kind=\"ping\"}", 1),
            ("hello_handshakes_refused_total{status=\"503\"}", 1),
        ],
    )
    .await;

    // A live session, answering Pings (reading), ended by the server's shutdown.
    let mut live = server.session().await;
    assert!(server.registry.wait_until(WAIT, |r| r.len() == 1).await);
    let running = server.running;
    running.stop();
    assert_eq!(recv_close(&mut live).await, CloseCode::Away);
    drop(live);
    timeout(WAIT, running.shutdown()).await.unwrap();
    let text = metrics.render();
    let scraped = samples(&text);
    assert_eq!(
        scraped["hello_sessions_ended_total{reason=\"shutdown\"}"], 1,
        "{text}"
    );
    assert_eq!(scraped["hello_sessions_open"], 0, "{text}");
}
