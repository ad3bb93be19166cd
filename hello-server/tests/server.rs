//! The server over real sockets on 127.0.0.1, port 0, with short intervals, talked to by raw
//! tokio-tungstenite clients so that every byte on the wire is the test's choice.

mod common;

use std::time::Duration;

use common::{TestServer, WAIT, Ws};
use futures_util::{SinkExt, StreamExt};
use hello_server::{EndReason, ServerConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use uuid::Uuid;

/// A client that keeps reading, and so answers every Ping, until stopped.
struct LiveClient {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Ws>,
}

impl LiveClient {
    fn start(mut ws: Ws) -> LiveClient {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return ws,
                    message = ws.next() => match message {
                        Some(Ok(Message::Close(frame))) => panic!("a live client was closed: {frame:?}"),
                        Some(Ok(_)) => {}
                        other => panic!("a live client lost its connection: {other:?}"),
                    },
                }
            }
        });
        LiveClient { stop, task }
    }

    async fn stop(self) -> Ws {
        let _ = self.stop.send(());
        timeout(WAIT, self.task).await.unwrap().unwrap()
    }
}

/// The next application message as JSON, skipping control frames.
async fn recv_json(ws: &mut Ws) -> Value {
    loop {
        let message = timeout(WAIT, ws.next())
            .await
            .expect("a message within the wait")
            .expect("the stream is open")
            .expect("no error");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Binary(_) => panic!("the server must send text messages"),
            Message::Close(frame) => panic!("unexpected close: {frame:?}"),
            _ => {}
        }
    }
}

/// The close frame the server sends next, skipping everything else.
async fn recv_close(ws: &mut Ws) -> Option<(CloseCode, String)> {
    loop {
        match timeout(WAIT, ws.next())
            .await
            .expect("a close within the wait")
        {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|frame| (frame.code, frame.reason.to_string()));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

async fn send_json(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

/// Sends an Echo request and checks the answer field by field, as PROTOCOL.md 3.3 says.
async fn assert_echoes(ws: &mut Ws, id: u64, data: &str) {
    send_json(ws, json!({"id": id, "data": data, "meta": "TEST"})).await;
    assert_echo_answer(&recv_json(ws).await, id, data);
}

fn assert_echo_answer(answer: &Value, id: u64, data: &str) {
    assert_eq!(answer["status"], 200, "{answer}");
    let results = answer["results"].as_array().expect("results is an array");
    assert_eq!(results.len(), 1, "{answer}");
    let result = &results[0];
    assert_eq!(result["id"].as_u64(), Some(id), "{answer}");
    assert_eq!(result["type"], "OK");
    assert_eq!(result["kv"]["idx"], id.to_string());
    assert_eq!(result["kv"]["data"], data);
    assert_eq!(result["kv"]["meta"], "RUST");
    let response_id = Uuid::parse_str(result["kv"]["id"].as_str().unwrap()).unwrap();
    assert_eq!(response_id.get_version_num(), 4);
}

fn assert_bad_request(answer: &Value, mentions: &str) {
    assert_eq!(answer["status"], 400, "{answer}");
    assert_eq!(answer["results"], json!([]), "{answer}");
    let error = answer["error"].as_str().expect("error is a string");
    assert!(
        error.contains(mentions),
        "{error:?} should mention {mentions:?}"
    );
}

#[tokio::test]
async fn echo_round_trip_carries_every_field() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut ws = server.session().await;
    assert_echoes(&mut ws, 1, "Hello").await;
    assert_echoes(&mut ws, u64::MAX, "the largest id").await;
    // Two answers to the same request carry different response ids.
    send_json(&mut ws, json!({"id": 5, "data": "x", "meta": "TEST"})).await;
    send_json(&mut ws, json!({"id": 5, "data": "x", "meta": "TEST"})).await;
    let (first, second) = (recv_json(&mut ws).await, recv_json(&mut ws).await);
    assert_ne!(
        first["results"][0]["kv"]["id"],
        second["results"][0]["kv"]["id"]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn hundreds_of_requests_in_flight_are_matched_by_id() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut ws = server.session().await;
    let ids: Vec<u64> = (0..500).map(|n| n * 7919 + 3).collect();
    for &id in &ids {
        let request = json!({"id": id, "data": format!("payload {id}"), "meta": "TEST"});
        ws.feed(Message::Text(request.to_string().into()))
            .await
            .unwrap();
    }
    ws.flush().await.unwrap();
    let mut answered = Vec::new();
    for _ in &ids {
        let answer = recv_json(&mut ws).await;
        let id = answer["results"][0]["id"].as_u64().unwrap();
        assert_echo_answer(&answer, id, &format!("payload {id}"));
        answered.push(id);
    }
    answered.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(answered, expected);
    server.shutdown().await;
}

#[tokio::test]
async fn multilingual_emoji_escaped_and_empty_data_come_back_unchanged() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut ws = server.session().await;
    for (id, data) in [
        "Hello",
        "Bonjour",
        "こんにちは",
        "안녕하세요",
        "你好",
        "👋🏽 family: 👨‍👩‍👧",
        "",
        "quotes \" backslash \\ newline \n tab \t nul \u{0}",
    ]
    .into_iter()
    .enumerate()
    {
        assert_echoes(&mut ws, id as u64, data).await;
    }
    // \u escapes in the request are data like any other.
    ws.send(Message::Text(
        r#"{"id": 9, "data": "caf\u00e9", "meta": "TEST"}"#.into(),
    ))
    .await
    .unwrap();
    assert_echo_answer(&recv_json(&mut ws).await, 9, "café");
    server.shutdown().await;
}

#[tokio::test]
async fn binary_messages_carrying_json_are_accepted() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut ws = server.session().await;
    let request = json!({"id": 11, "data": "in a binary frame", "meta": "TEST"});
    ws.send(Message::Binary(request.to_string().into_bytes().into()))
        .await
        .unwrap();
    assert_echo_answer(&recv_json(&mut ws).await, 11, "in a binary frame");
    server.shutdown().await;
}

#[tokio::test]
async fn handshake_headers_go_both_ways() {
    let server = TestServer::start(TestServer::quiet()).await;
    let (_named, response) = server.open(Some("alice")).await;
    assert_eq!(response.headers()["SVR"], "RUST");
    let session_id = response.headers()["X-Session-Id"].to_str().unwrap();
    let session_id = Uuid::parse_str(session_id).unwrap();
    assert_eq!(session_id.get_version_num(), 4);
    assert!(
        server
            .registry
            .wait_until(WAIT, |r| r.get(&session_id).is_some())
            .await
    );
    let session = server.registry.get(&session_id).unwrap();
    assert_eq!(session.name, "alice");
    assert_eq!(session.peer.ip().to_string(), "127.0.0.1");

    // Without WhoAmI the session is named after its id.
    let (_anonymous, response) = server.open(None).await;
    let anonymous_id: Uuid = response.headers()["X-Session-Id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(anonymous_id, session_id);
    assert!(server.registry.wait_until(WAIT, |r| r.len() == 2).await);
    assert_eq!(
        server.registry.get(&anonymous_id).unwrap().name,
        anonymous_id.to_string()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn other_paths_get_404() {
    let server = TestServer::start(TestServer::quiet()).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let refused = client_async(server.url("/elsewhere"), tcp).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("expected 404, got {other:?}"),
    }
    assert!(server.registry.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn handshakes_over_the_connection_limit_get_503() {
    let server = TestServer::start(ServerConfig {
        max_connections: 1,
        ..TestServer::quiet()
    })
    .await;
    let mut first = server.session().await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    match client_async(server.url("/ws"), tcp).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected 503, got {other:?}"),
    }
    assert_echoes(&mut first, 1, "still served").await;
    first.close(None).await.unwrap();
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);
    // The place is free again.
    let mut second = server.session().await;
    assert_echoes(&mut second, 2, "next one in").await;
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_input_is_answered_400_and_the_session_goes_on() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut ws = server.session().await;
    let cases: [(&str, &str); 14] = [
        ("{not json", "not JSON"),
        ("", "not JSON"),
        ("[1, 2, 3]", "not a JSON object but an array"),
        ("42", "not a JSON object"),
        ("null", "not a JSON object"),
        (r#"{"id": -1, "data": "x", "meta": "T"}"#, "`id`"),
        (r#"{"id": 1.5, "data": "x", "meta": "T"}"#, "`id`"),
        (r#"{"id": "1", "data": "x", "meta": "T"}"#, "`id`"),
        (
            r#"{"id": 18446744073709551616, "data": "x", "meta": "T"}"#,
            "`id`",
        ),
        (r#"{"id": 1, "data": 7, "meta": "T"}"#, "`data`"),
        (r#"{"id": 1, "meta": "T"}"#, "missing field `data`"),
        (r#"{"language": "en_US"}"#, "invalid Kiss response"),
        (r#"{"hello": "world"}"#, "no known message"),
        (r#"{"status": 200, "results": []}"#, "no known message"),
    ];
    for (n, (input, mentions)) in cases.into_iter().enumerate() {
        ws.send(Message::Text(input.into())).await.unwrap();
        assert_bad_request(&recv_json(&mut ws).await, mentions);
        // The session still works after each one.
        assert_echoes(&mut ws, n as u64, "still here").await;
    }
    // Requests around a malformed one are all answered, in order.
    ws.feed(Message::Text(
        json!({"id": 100, "data": "before", "meta": "T"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    ws.feed(Message::Text("garbage".into())).await.unwrap();
    ws.feed(Message::Text(
        json!({"id": 101, "data": "after", "meta": "T"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    ws.flush().await.unwrap();
    assert_echo_answer(&recv_json(&mut ws).await, 100, "before");
    assert_bad_request(&recv_json(&mut ws).await, "not JSON");
    assert_echo_answer(&recv_json(&mut ws).await, 101, "after");
    // Binary garbage that is not even UTF-8 is malformed input too, not a protocol error.
    ws.send(Message::Binary(Bytes::from_static(b"\xff\xfe")))
        .await
        .unwrap();
    assert_bad_request(&recv_json(&mut ws).await, "not JSON");
    assert_echoes(&mut ws, 102, "still here").await;
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_utf8_text_closes_1007_and_other_sessions_go_on() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut bystander = server.session().await;
    let mut offender = server.session().await;
    let frame = Frame::message(
        Bytes::from_static(b"{\"id\": 1, \"data\": \"\xc3\x28\", \"meta\": \"T\"}"),
        OpCode::Data(Data::Text),
        true,
    );
    offender.send(Message::Frame(frame)).await.unwrap();
    let (code, _) = recv_close(&mut offender).await.expect("a close frame");
    assert_eq!(code, CloseCode::Invalid);
    assert_echoes(&mut bystander, 1, "unaffected").await;
    assert!(server.registry.wait_until(WAIT, |r| r.len() == 1).await);
    server.shutdown().await;
}

#[tokio::test]
async fn messages_over_the_limit_close_1009_and_others_go_on() {
    let limit = 4096;
    let server = TestServer::start(ServerConfig {
        max_message_size: limit,
        ..TestServer::quiet()
    })
    .await;
    let mut bystander = server.session().await;
    let mut near_limit = server.session().await;
    let mut offender = server.session().await;
    // A request just under the limit is answered in full.
    let envelope = json!({"id": 1, "data": "", "meta": "TEST"})
        .to_string()
        .len();
    let data = "é".repeat((limit - envelope) / 2);
    assert!(envelope + data.len() > limit - 2);
    assert_echoes(&mut near_limit, 1, &data).await;
    let data = "x".repeat(limit + 1);
    let request = json!({"id": 2, "data": data, "meta": "T"});
    // The server may close before the whole message is written.
    let _ = offender
        .send(Message::Text(request.to_string().into()))
        .await;
    let (code, _) = recv_close(&mut offender).await.expect("a close frame");
    assert_eq!(code, CloseCode::Size);
    assert_echoes(&mut bystander, 3, "unaffected").await;
    assert_echoes(&mut near_limit, 4, "unaffected").await;
    server.shutdown().await;
}

#[tokio::test]
async fn kiss_arrives_every_interval_and_the_answer_is_kept() {
    let interval = Duration::from_millis(150);
    let server = TestServer::start(ServerConfig {
        kiss_interval: interval,
        ..TestServer::quiet()
    })
    .await;
    // Taken before the handshake, which starts the server's Kiss timer: no Kiss can then come
    // sooner than its interval after `started`, however long the handshake takes.
    let started = Instant::now();
    let (mut ws, response) = server.open(Some("kisser")).await;
    let id: Uuid = response.headers()["X-Session-Id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    for n in 1..=3 {
        let kiss = recv_json(&mut ws).await;
        for key in ["os_name", "os_version", "os_release", "os_architecture"] {
            let fact = kiss[key].as_str().unwrap_or_default();
            assert!(!fact.is_empty(), "{key} in {kiss}");
        }
        let elapsed = started.elapsed();
        assert!(elapsed >= interval * n, "Kiss {n} came after {elapsed:?}");
        let answer = json!({"language": "fr_FR", "encoding": "UTF-8", "time_zone": format!("Europe/Paris{n}")});
        send_json(&mut ws, answer).await;
    }
    assert!(
        server
            .registry
            .wait_until(WAIT, |r| r.get(&id).is_some_and(|s| s.kiss_count == 3))
            .await
    );
    let kept = server.registry.get(&id).unwrap().last_kiss.unwrap();
    assert_eq!(kept.language, "fr_FR");
    assert_eq!(kept.time_zone, "Europe/Paris3");
    server.shutdown().await;
}

#[tokio::test]
async fn a_live_client_is_pinged_and_never_evicted() {
    // A pong timeout long against the work of answering a Ping, so that only a server that
    // evicts wrongly can fail this, not a busy machine.
    let ping_interval = Duration::from_millis(300);
    let server = TestServer::start(ServerConfig {
        ping_interval,
        pong_timeout: ping_interval,
        ..TestServer::quiet()
    })
    .await;
    let mut ws = server.session().await;
    // Reading lets tungstenite answer each Ping; five Pings, five chances to evict wrongly.
    let mut pings = 0;
    while pings < 5 {
        match timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(frame)))) => panic!("a live client was closed: {frame:?}"),
            Ok(Some(Ok(_))) => {}
            other => panic!("no Ping within {WAIT:?} after {pings}: {other:?}"),
        }
    }
    // The Pong to the fifth Ping is on its way; the four before it have arrived.
    assert!(
        server
            .registry
            .wait_until(WAIT, |r| r.sessions().iter().all(|s| s.pong_count >= 4))
            .await
    );
    assert_eq!(server.registry.len(), 1);
    assert_echoes(&mut ws, 1, "alive").await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_evicted_within_interval_plus_timeout() {
    // The live client must answer each Ping within the pong timeout: long against that work.
    // The slack below is shorter than ping interval - pong timeout, so a server that evicts
    // only when the next Ping is due fails.
    let ping_interval = Duration::from_millis(1000);
    let pong_timeout = Duration::from_millis(300);
    let slack = Duration::from_millis(500);
    let server = TestServer::start(ServerConfig {
        ping_interval,
        pong_timeout,
        batch_len: 4,
        ..TestServer::quiet()
    })
    .await;
    let live = LiveClient::start(server.session().await);
    // A raw client: handshake by hand, then requests without ever reading an answer.
    let mut raw = TcpStream::connect(server.addr).await.unwrap();
    raw.write_all(
        b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          WhoAmI: sleeper\r\n\r\n",
    )
    .await
    .unwrap();
    let connected = Instant::now();
    assert!(server.registry.wait_until(WAIT, |r| r.len() == 2).await);
    let sleeper = || {
        server
            .registry
            .sessions()
            .into_iter()
            .find(|s| s.name == "sleeper")
    };
    // Masked client text frames carrying Echo requests, far more than a batch.
    let request = br#"{"id": 1, "data": "never read", "meta": "T"}"#;
    let mut frame = vec![0x81, 0x80 | request.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(request);
    let burst = frame.repeat(2000);
    let _ = timeout(Duration::from_millis(100), raw.write_all(&burst)).await;
    assert!(sleeper().is_some(), "evicted before any Ping was due");
    assert!(
        server
            .registry
            .wait_until(WAIT, |_| sleeper().is_none())
            .await,
        "the sleeper was never evicted"
    );
    let evicted_after = connected.elapsed();
    let bound = ping_interval + pong_timeout + slack;
    assert!(
        evicted_after <= bound,
        "evicted after {evicted_after:?}, bound {bound:?}"
    );
    // Meanwhile the live session kept its place and its service.
    let mut live = live.stop().await;
    assert_echoes(&mut live, 1, "unaffected").await;
    assert_eq!(server.registry.len(), 1);
    // And the server hung up on the sleeper.
    let mut rest = Vec::new();
    let hung_up = timeout(WAIT, raw.read_to_end(&mut rest)).await;
    assert!(hung_up.is_ok(), "the evicted connection was left open");
    server.shutdown().await;
}

#[tokio::test]
async fn a_handshake_sliced_into_one_byte_segments_is_accepted() {
    // One byte per TCP segment, a millisecond apart, as a slicing proxy sends them: the server
    // reads most of them one at a time, which tungstenite alone takes for an attack. (The
    // deterministic test of this is hello-net's `whole_head`; this one shows the server uses it.)
    let server = TestServer::start(TestServer::quiet()).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let request = b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\nWhoAmI: sliced\r\n\r\n";
    for byte in request {
        tcp.write_all(&[*byte]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut answer = vec![0; 12];
    timeout(WAIT, tcp.read_exact(&mut answer))
        .await
        .expect("an answer within the wait")
        .expect("an answer, not a dropped connection");
    assert_eq!(&answer, b"HTTP/1.1 101");
    assert!(
        server
            .registry
            .wait_until(WAIT, |r| r.sessions().iter().any(|s| s.name == "sliced"))
            .await
    );
    server.shutdown().await;
}

#[tokio::test]
async fn handshakes_that_never_finish_time_out() {
    let server = TestServer::start(ServerConfig {
        handshake_timeout: Duration::from_millis(200),
        ..TestServer::quiet()
    })
    .await;
    // Taken before connecting: the server's deadline starts at accept, which comes after.
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut buffer = [0u8; 64];
    let read = timeout(WAIT, silent.read(&mut buffer))
        .await
        .expect("dropped within the wait");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    let mut ws = server.session().await;
    assert_echoes(&mut ws, 1, "others unaffected").await;
    server.shutdown().await;
}

#[tokio::test]
async fn client_close_is_answered_and_logged_as_such() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut ws = server.session().await;
    assert!(server.registry.wait_until(WAIT, |r| r.len() == 1).await);
    ws.close(None).await.unwrap();
    // The server's answering Close arrives, then the stream ends.
    let answered = timeout(WAIT, async {
        while let Some(Ok(message)) = ws.next().await {
            if matches!(message, Message::Close(_)) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(answered);
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_sends_1001_to_every_session() {
    let server = TestServer::start(TestServer::quiet()).await;
    let mut sessions = vec![server.session().await, server.session().await];
    assert!(server.registry.wait_until(WAIT, |r| r.len() == 2).await);
    let registry = server.registry.clone();
    let addr = server.addr;
    let stopping = tokio::spawn(server.shutdown());
    for ws in &mut sessions {
        let (code, reason) = recv_close(ws).await.expect("a close frame");
        assert_eq!(code, CloseCode::Away);
        assert_eq!(reason, "server shutting down");
    }
    timeout(WAIT, stopping).await.unwrap().unwrap();
    assert!(registry.is_empty());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[test]
fn end_reasons_read_well_in_logs() {
    assert_eq!(EndReason::PongTimeout.to_string(), "pong timeout");
    assert_eq!(EndReason::Error("x".into()).to_string(), "error: x");
}

#[tokio::test]
async fn a_client_that_reads_late_gets_every_answer_in_order_pings_and_all() {
    // The client writes requests, with a Ping now and then, without reading for a while: the
    // server's socket fills, its flushes wait, and some Pongs must be written while they do.
    // Once the client reads, every answer must be there, in order.
    let server = TestServer::start(ServerConfig {
        batch_len: 8,
        ..TestServer::quiet()
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let (ws, _) = timeout(WAIT, client_async(server.url("/ws"), tcp))
        .await
        .unwrap()
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    const REQUESTS: u64 = 3000;
    let data = "x".repeat(200);
    let writer = tokio::spawn({
        let data = data.clone();
        async move {
            for id in 1..=REQUESTS {
                let request = json!({"id": id, "data": data, "meta": "T"}).to_string();
                sink.feed(Message::text(request)).await.unwrap();
                if id % 25 == 0 {
                    sink.feed(Message::Ping(Bytes::from_static(b"late")))
                        .await
                        .unwrap();
                }
            }
            sink.flush().await.unwrap();
            sink
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut expected = 1;
    while expected <= REQUESTS {
        let message = timeout(WAIT, stream.next())
            .await
            .expect("an answer went missing")
            .expect("the session ended")
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["results"][0]["id"], expected, "{answer}");
        assert_eq!(answer["results"][0]["kv"]["data"], data.as_str());
        expected += 1;
    }
    let _sink = timeout(WAIT, writer).await.unwrap().unwrap();
    server.shutdown().await;
}
