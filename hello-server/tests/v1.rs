//! v1 sessions of the server (PROTOCOL.md, section 12) over real sockets on 127.0.0.1, port 0,
//! with short timers: the dialect each session's first message fixes, every answer, the timers,
//! eviction by the session timeout, and bad frames.

mod common;

use std::time::{Duration, SystemTime};

use common::{TestServer, WAIT, Ws};
use futures_util::{SinkExt, StreamExt};
use hello_protocol::Dialect;
use hello_protocol::v1::{self, Message as V1, Timings};
use hello_server::{Dialects, ServerConfig};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// v1 timers long enough that nothing periodic happens unless a test asks for it.
fn quiet() -> ServerConfig {
    ServerConfig {
        v1: Timings {
            ping_interval: Duration::from_secs(60),
            session_timeout: Duration::from_secs(60),
            time_interval: Duration::from_secs(60),
            kiss_interval: Duration::from_secs(60),
        },
        ..TestServer::quiet()
    }
}

fn hello() -> V1 {
    V1::Hello {
        client_language: "RUST".into(),
    }
}

async fn send(ws: &mut Ws, message: &V1) {
    send_bytes(ws, v1::encode(message)).await;
}

async fn send_bytes(ws: &mut Ws, frame: Vec<u8>) {
    ws.send(Message::Binary(frame.into())).await.unwrap();
}

/// The next v1 frame, decoded, skipping WebSocket control frames.
async fn recv(ws: &mut Ws) -> V1 {
    loop {
        match timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Binary(frame))) => return v1::decode(&frame).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a v1 frame, got {other:?}"),
        }
    }
}

/// The next frame that no timer sent: an answer.
async fn recv_answer(ws: &mut Ws) -> V1 {
    loop {
        match recv(ws).await {
            V1::Ping { .. } | V1::TimeNotification { .. } | V1::KissRequest { .. } => {}
            answer => return answer,
        }
    }
}

/// The Close that ends the session, skipping what comes before it.
async fn recv_close(ws: &mut Ws) -> (CloseCode, String) {
    loop {
        match timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code, frame.reason.to_string()),
            Some(Ok(_)) => {}
            other => panic!("expected a Close, got {other:?}"),
        }
    }
}

/// A v1 session that has said HELLO and been answered.
async fn v1_session(server: &TestServer) -> Ws {
    let mut ws = server.session().await;
    send(&mut ws, &hello()).await;
    assert_eq!(
        recv_answer(&mut ws).await,
        V1::Bonjour {
            server_language: "RUST".into()
        }
    );
    ws
}

#[tokio::test]
async fn hello_fixes_the_dialect_and_every_request_is_answered() {
    let server = TestServer::start(quiet()).await;
    let mut ws = v1_session(&server).await;
    // A second HELLO is answered again.
    send(&mut ws, &hello()).await;
    assert!(matches!(recv_answer(&mut ws).await, V1::Bonjour { .. }));
    for id in [i64::MIN, -1, 0, 7, i64::MAX] {
        send(
            &mut ws,
            &V1::EchoRequest {
                id,
                meta: "RUST".into(),
                data: "Hello, 世界 👋".into(),
            },
        )
        .await;
        assert_eq!(
            recv_answer(&mut ws).await,
            v1::echo_answer(id, "Hello, 世界 👋".into(), "RUST")
        );
    }
    for (id, number) in [(1, -1), (2, i64::MIN), (3, i64::MAX)] {
        send(&mut ws, &V1::RandomNumber { id, number }).await;
        assert_eq!(
            recv_answer(&mut ws).await,
            V1::HashResponse {
                id,
                hash_hex: v1::hash_hex(number)
            }
        );
    }
    let session = server.registry.sessions().pop().unwrap();
    assert_eq!(session.dialect, Some(Dialect::V1));
    server.shutdown().await;
}

#[tokio::test]
async fn the_name_comes_from_whoami_else_user_id() {
    let server = TestServer::start(quiet()).await;
    let mut request = server.url("/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("userId", "go-client-7".parse().unwrap());
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (_ws, _) = timeout(WAIT, client_async(request, tcp))
        .await
        .unwrap()
        .unwrap();
    assert!(
        server
            .registry
            .wait_until(WAIT, |registry| registry
                .sessions()
                .iter()
                .any(|s| s.name == "go-client-7"))
            .await
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_timers_send_ping_time_and_kiss_and_a_kiss_response_is_kept() {
    let server = TestServer::start(ServerConfig {
        v1: Timings {
            ping_interval: Duration::from_millis(100),
            session_timeout: Duration::from_secs(30),
            time_interval: Duration::from_millis(150),
            kiss_interval: Duration::from_millis(150),
        },
        ..quiet()
    })
    .await;
    let mut ws = v1_session(&server).await;
    let (mut pings, mut times, mut kisses) = (0, 0, 0);
    let deadline = Instant::now() + WAIT;
    while pings < 2 || times < 2 || kisses < 2 {
        assert!(
            Instant::now() < deadline,
            "{pings} pings, {times} times, {kisses} kisses"
        );
        let now_ms = v1::unix_ms(SystemTime::now());
        match recv(&mut ws).await {
            V1::Ping { timestamp_ms } => {
                assert!(
                    (now_ms - timestamp_ms).abs() < 5_000,
                    "{timestamp_ms} vs {now_ms}"
                );
                pings += 1;
            }
            V1::TimeNotification {
                timestamp_ms,
                iso8601,
            } => {
                assert!((now_ms - timestamp_ms).abs() < 5_000);
                let parsed = humantime::parse_rfc3339(&iso8601).unwrap();
                assert_eq!(v1::unix_ms(parsed), timestamp_ms, "{iso8601}");
                assert!(iso8601.ends_with('Z') && iso8601.len() == 24, "{iso8601}");
                times += 1;
            }
            V1::KissRequest { os_name, .. } => {
                assert!(!os_name.is_empty());
                kisses += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    send(
        &mut ws,
        &V1::KissResponse {
            language: "fr_FR".into(),
            encoding: "UTF-8".into(),
            time_zone: "Europe/Paris".into(),
        },
    )
    .await;
    assert!(
        server
            .registry
            .wait_until(WAIT, |registry| registry.sessions()[0].kiss_count == 1)
            .await
    );
    let kiss = server.registry.sessions()[0].last_kiss.clone().unwrap();
    assert_eq!(kiss.time_zone, "Europe/Paris");
    server.shutdown().await;
}

/// A v1 client that reads everything and answers each PING with `answer(timestamp)`, if
/// given, until it is closed: returns the Close.
async fn pong_with(mut ws: Ws, answer: Option<fn(i64) -> i64>) -> (CloseCode, String) {
    loop {
        match timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Binary(frame))) => {
                if let (Some(answer), Ok(V1::Ping { timestamp_ms })) = (answer, v1::decode(&frame))
                {
                    let pong = V1::Pong {
                        timestamp_ms: answer(timestamp_ms),
                    };
                    send(&mut ws, &pong).await;
                }
            }
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code, frame.reason.to_string()),
            Some(Ok(_)) => {}
            other => panic!("expected frames and a Close, got {other:?}"),
        }
    }
}

fn evicting() -> ServerConfig {
    ServerConfig {
        v1: Timings {
            ping_interval: Duration::from_millis(100),
            session_timeout: Duration::from_millis(600),
            ..quiet().v1
        },
        ..quiet()
    }
}

#[tokio::test]
async fn a_session_without_pongs_is_evicted_at_the_session_timeout_not_before() {
    let server = TestServer::start(evicting()).await;
    let mut ws = server.session().await;
    let sent = Instant::now();
    send(&mut ws, &hello()).await;
    let (code, reason) = pong_with(ws, None).await;
    let elapsed = sent.elapsed();
    assert_eq!((code, reason.as_str()), (CloseCode::Policy, "pong timeout"));
    // The timeout runs from the HELLO that made the session v1, so it cannot end sooner.
    assert!(
        elapsed >= Duration::from_millis(600),
        "evicted after {elapsed:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn pongs_that_match_no_ping_do_not_keep_a_session() {
    let server = TestServer::start(evicting()).await;
    let ws = v1_session(&server).await;
    let (code, _) = pong_with(ws, Some(|timestamp| timestamp + 1)).await;
    assert_eq!(code, CloseCode::Policy);
    let ws = v1_session(&server).await;
    // A timestamp of the far future matches no PING either.
    let (code, _) = pong_with(ws, Some(|_| i64::MAX)).await;
    assert_eq!(code, CloseCode::Policy);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_echoes_every_ping_is_never_evicted() {
    let server = TestServer::start(evicting()).await;
    let ws = v1_session(&server).await;
    let client = tokio::spawn(pong_with(ws, Some(|timestamp| timestamp)));
    // Five session timeouts' worth of matched PONGs, counted as they come.
    assert!(
        server
            .registry
            .wait_until(WAIT, |registry| registry
                .sessions()
                .first()
                .is_some_and(|s| s.pong_count >= 30))
            .await,
        "the live client was evicted or never matched"
    );
    assert!(!client.is_finished(), "the live client was closed");
    client.abort();
    server.shutdown().await;
}

fn echo(id: i64) -> Vec<u8> {
    v1::encode(&V1::EchoRequest {
        id,
        meta: "RUST".into(),
        data: format!("request {id}"),
    })
}

/// The ERROR's code that the next answer is.
async fn recv_error_code(ws: &mut Ws) -> i32 {
    match recv_answer(ws).await {
        V1::Error { code, message } => {
            assert!(!message.is_empty());
            code
        }
        other => panic!("expected ERROR, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_frame_gets_error_and_1002_after_the_answers_before_it() {
    let hello_bytes = v1::encode(&hello());
    let mut bad_magic = hello_bytes.clone();
    bad_magic[0] = b'J';
    let mut bad_version = hello_bytes.clone();
    bad_version[1] = 2;
    let mut long_length = hello_bytes.clone();
    long_length[7] += 1;
    let mut trailing = hello_bytes.clone();
    trailing.push(0);
    let mut truncated_string = hello_bytes.clone();
    truncated_string[11] = 9;
    let mut bad_utf8 = hello_bytes.clone();
    bad_utf8[13] = 0xff;
    let cases: [(&str, Vec<u8>, i32); 7] = [
        ("bad magic", bad_magic, 4),
        ("bad version", bad_version, 5),
        ("long length", long_length, 3),
        ("trailing bytes", trailing, 1),
        ("truncated string", truncated_string, 1),
        ("invalid UTF-8", bad_utf8, 1),
        ("under 8 bytes", vec![0x48, 1, 1], 1),
    ];
    let server = TestServer::start(quiet()).await;
    for (what, frame, code) in cases {
        let mut ws = v1_session(&server).await;
        // Two answers made, then the bad frame, then one that is lost, all in one write.
        for id in [1, 2] {
            ws.feed(Message::Binary(echo(id).into())).await.unwrap();
        }
        ws.feed(Message::Binary(frame.into())).await.unwrap();
        ws.feed(Message::Binary(echo(3).into())).await.unwrap();
        ws.flush().await.unwrap();
        for id in [1, 2] {
            match recv_answer(&mut ws).await {
                V1::EchoResponse { results, .. } => assert_eq!(results[0].idx, id, "{what}"),
                other => panic!("{what}: expected the answer to {id}, got {other:?}"),
            }
        }
        assert_eq!(recv_error_code(&mut ws).await, code, "{what}");
        assert_eq!(recv_close(&mut ws).await.0, CloseCode::Protocol, "{what}");
    }
    // The sessions' damage stayed in them.
    let mut ws = v1_session(&server).await;
    send_bytes(&mut ws, echo(4)).await;
    assert!(matches!(
        recv_answer(&mut ws).await,
        V1::EchoResponse { .. }
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_types_and_server_messages_get_error_2_and_the_session_goes_on() {
    let server = TestServer::start(quiet()).await;
    let mut ws = v1_session(&server).await;
    send_bytes(&mut ws, vec![0x48, 1, 0x42, 0, 0, 0, 0, 0]).await;
    assert_eq!(recv_error_code(&mut ws).await, 2);
    send(&mut ws, &V1::Ping { timestamp_ms: 1 }).await;
    assert_eq!(recv_error_code(&mut ws).await, 2);
    send(
        &mut ws,
        &V1::Bonjour {
            server_language: "GO".into(),
        },
    )
    .await;
    assert_eq!(recv_error_code(&mut ws).await, 2);
    // The client's own ERROR is taken in silence.
    send(
        &mut ws,
        &V1::Error {
            code: 7,
            message: "oops".into(),
        },
    )
    .await;
    send_bytes(&mut ws, echo(9)).await;
    assert!(matches!(
        recv_answer(&mut ws).await,
        V1::EchoResponse { .. }
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn text_on_a_v1_session_is_a_decode_error() {
    let server = TestServer::start(quiet()).await;
    let mut ws = v1_session(&server).await;
    ws.send(Message::Text(
        r#"{"id": 1, "data": "x", "meta": "RUST"}"#.into(),
    ))
    .await
    .unwrap();
    assert_eq!(recv_error_code(&mut ws).await, 1);
    assert_eq!(recv_close(&mut ws).await.0, CloseCode::Protocol);
    server.shutdown().await;
}

#[tokio::test]
async fn disconnect_is_answered_with_1000_and_logged_as_a_client_close() {
    let server = TestServer::start(quiet()).await;
    let mut ws = v1_session(&server).await;
    send(
        &mut ws,
        &V1::Disconnect {
            reason: "done".into(),
        },
    )
    .await;
    assert_eq!(recv_close(&mut ws).await.0, CloseCode::Normal);
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);
    server.shutdown().await;
}

#[tokio::test]
async fn over_the_limit_closes_1009_as_in_json() {
    let server = TestServer::start(ServerConfig {
        max_message_size: 4096,
        ..quiet()
    })
    .await;
    let mut ws = v1_session(&server).await;
    let big = V1::EchoRequest {
        id: 1,
        meta: "RUST".into(),
        data: "x".repeat(4096),
    };
    send(&mut ws, &big).await;
    assert_eq!(recv_close(&mut ws).await.0, CloseCode::Size);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_silent_until_its_first_kiss_is_served_as_json() {
    let server = TestServer::start(ServerConfig {
        kiss_interval: Duration::from_millis(100),
        ..quiet()
    })
    .await;
    let mut ws = server.session().await;
    // The JSON Kiss request comes first, and fixes the session as JSON...
    match timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(Message::Text(text))) => assert!(text.contains("os_name"), "{text}"),
        other => panic!("expected the JSON Kiss, got {other:?}"),
    }
    // ...so that a v1 frame later is malformed JSON, answered 400.
    send(&mut ws, &hello()).await;
    loop {
        match timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) if text.contains("\"status\":400") => break,
            Some(Ok(Message::Text(_) | Message::Ping(_))) => {}
            other => panic!("expected a 400, got {other:?}"),
        }
    }
    assert_eq!(server.registry.sessions()[0].dialect, Some(Dialect::Json));
    server.shutdown().await;
}

#[tokio::test]
async fn a_pinned_dialect_serves_every_session_in_it() {
    let json_only = TestServer::start(ServerConfig {
        dialects: Dialects::Json,
        ..quiet()
    })
    .await;
    let mut ws = json_only.session().await;
    send(&mut ws, &hello()).await;
    match timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(Message::Text(text))) => assert!(text.contains("\"status\":400"), "{text}"),
        other => panic!("expected a 400, got {other:?}"),
    }
    json_only.shutdown().await;

    let v1_only = TestServer::start(ServerConfig {
        dialects: Dialects::V1,
        ..quiet()
    })
    .await;
    let mut ws = v1_only.session().await;
    ws.send(Message::Binary(Bytes::from_static(br#"{"id":1}"#)))
        .await
        .unwrap();
    assert_eq!(recv_error_code(&mut ws).await, 4);
    assert_eq!(recv_close(&mut ws).await.0, CloseCode::Protocol);
    v1_only.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_v1_sessions_with_1001_as_json_ones() {
    let server = TestServer::start(quiet()).await;
    let mut ws = v1_session(&server).await;
    let running = server.running;
    let shutdown = tokio::spawn(async move { timeout(WAIT, running.shutdown()).await.unwrap() });
    assert_eq!(recv_close(&mut ws).await.0, CloseCode::Away);
    drop(ws);
    shutdown.await.unwrap();
}
