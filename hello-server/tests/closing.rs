//! How sessions end when the client is still writing or has stopped reading (PROTOCOL.md,
//! sections 5 and 7): the lingering close delivers the server's Close to a client in the middle
//! of a large write, the linger limit cuts off a client that writes on and on, and an evicted
//! client that does not read is reset, so that no socket is left holding its unsent answers.

mod common;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use common::{TestServer, WAIT};
use futures_util::{SinkExt, StreamExt};
use hello_server::ServerConfig;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

const MIB: usize = 1024 * 1024;

/// A client session whose own limits allow messages of any size, over `tcp`.
async fn open_unlimited(tcp: TcpStream, addr: SocketAddr) -> WebSocketStream<TcpStream> {
    let request = format!("ws://{addr}/ws").into_client_request().unwrap();
    let config = WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    timeout(WAIT, client_async_with_config(request, tcp, Some(config)))
        .await
        .expect("the handshake within the wait")
        .expect("the handshake succeeds")
        .0
}

/// Writes one message of `size` bytes, then reads until the server's Close: its code, or how
/// the connection failed instead.
async fn write_then_read_close(addr: SocketAddr, size: usize) -> Result<CloseCode, String> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut ws = open_unlimited(tcp, addr).await;
    let big = Message::Binary(vec![b'x'; size].into());
    timeout(WAIT, ws.send(big))
        .await
        .expect("the write ends within the wait")
        .map_err(|error| format!("the write failed: {error}"))?;
    loop {
        match timeout(WAIT, ws.next())
            .await
            .expect("a Close within the wait")
        {
            Some(Ok(Message::Close(Some(frame)))) => return Ok(frame.code),
            Some(Ok(Message::Close(None))) => return Err("a Close without a code".into()),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(format!("the read failed: {error}")),
            None => return Err("the stream ended without a Close".into()),
        }
    }
}

#[tokio::test]
async fn clients_writing_8_mib_messages_all_receive_close_1009_without_a_reset() {
    // The close timeout is long here so that the test does not depend on how fast the machine
    // drains 160 MiB; the byte bound, the default 16 MiB, is what this test is about.
    let server = TestServer::start(ServerConfig {
        close_timeout: WAIT,
        ..TestServer::quiet()
    })
    .await;
    let clients: Vec<_> = (0..20)
        .map(|_| tokio::spawn(write_then_read_close(server.addr, 8 * MIB)))
        .collect();
    let mut failures = Vec::new();
    for client in clients {
        match client.await.unwrap() {
            Ok(CloseCode::Size) => {}
            other => failures.push(format!("{other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 20 clients got no Close 1009: {failures:?}",
        failures.len()
    );
    // The server is unharmed.
    let mut session = server.session().await;
    session
        .send(Message::Text(
            json!({"id": 1, "data": "still here", "meta": "T"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    assert!(matches!(
        timeout(WAIT, session.next()).await.unwrap(),
        Some(Ok(Message::Text(_)))
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_writing_past_the_linger_limit_is_cut_off_there() {
    let linger_bytes = MIB;
    let server = TestServer::start(ServerConfig {
        linger_bytes,
        close_timeout: WAIT,
        ..TestServer::quiet()
    })
    .await;
    // Far more than the limit plus what the kernel buffers on both sides.
    let outcome = write_then_read_close(server.addr, 256 * MIB).await;
    let error = outcome.expect_err("a client writing 256 MiB must be cut off");
    assert!(
        error.contains("reset") || error.contains("Broken pipe"),
        "cut off with a reset, not: {error}"
    );
    server.shutdown().await;
}

/// Local ports of the server's TCP sockets on `port`, other than the listening one, as the
/// kernel lists them (what `ss -tan sport = :PORT` shows).
fn server_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields[1].rsplit(':').next().unwrap();
            let state = fields[3];
            u16::from_str_radix(local_port, 16).unwrap() == port && state != "0A"
        })
        .count()
}

/// A client that opens a session, sends one Echo request whose answer is far larger than what
/// the kernel buffers between the two, and never reads. The server reads the whole request, so
/// nothing of the client's is left unread: only the answer, stuck in the server's send buffer.
/// Closing such a socket politely would queue a FIN behind that answer, in an orphaned socket
/// the kernel keeps for as long as the client acknowledges its zero-window probes.
async fn non_reader(addr: SocketAddr) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let mut ws = open_unlimited(tcp, addr).await;
    let request = json!({"id": 1, "data": "x".repeat(256 * 1024), "meta": "T"});
    timeout(WAIT, ws.send(Message::Text(request.to_string().into())))
        .await
        .expect("the request is written within the wait")
        .expect("the request is written");
    ws
}

#[tokio::test]
async fn evicted_clients_that_do_not_read_are_reset_and_leave_no_socket() {
    const CLIENTS: usize = 200;
    let server = TestServer::start(ServerConfig {
        ping_interval: Duration::from_millis(300),
        pong_timeout: Duration::from_millis(300),
        close_timeout: Duration::from_millis(300),
        ..TestServer::quiet()
    })
    .await;
    let port = server.addr.port();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(non_reader(server.addr)))
        .collect();
    let mut streams = Vec::new();
    for client in clients {
        streams.push(client.await.unwrap());
    }
    assert!(
        server.registry.wait_until(WAIT, |r| r.is_empty()).await,
        "the non-readers were not all evicted"
    );
    // Each was closed within the close timeout of its eviction: wait for the kernel to show it,
    // a bounded number of times.
    let started = Instant::now();
    while server_sockets(port) > 0 && started.elapsed() < WAIT {
        sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        server_sockets(port),
        0,
        "sockets left on the server's side after every non-reader was evicted"
    );
    let mut reset = 0;
    let mut other = Vec::new();
    for mut ws in streams {
        let tcp = ws.get_mut();
        let mut discard = vec![0; 64 * 1024];
        let ending = timeout(WAIT, async {
            loop {
                match tcp.read(&mut discard).await {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(error) => return Err(error),
                }
            }
        })
        .await
        .expect("the connection ends within the wait");
        match ending {
            Err(error) if error.kind() == ErrorKind::ConnectionReset => reset += 1,
            other_ending => other.push(format!("{other_ending:?}")),
        }
    }
    assert_eq!(reset, CLIENTS, "not reset: {other:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_reads_still_gets_a_clean_close_1008() {
    let server = TestServer::start(ServerConfig {
        ping_interval: Duration::from_millis(300),
        pong_timeout: Duration::from_millis(300),
        close_timeout: WAIT,
        ..TestServer::quiet()
    })
    .await;
    // tungstenite answers Pings only when the Pong can be written, which it is as soon as the
    // application reads; a client that never reads between Pings is evicted, then reads.
    let mut ws = server.session().await;
    assert!(server.registry.wait_until(WAIT, |r| r.is_empty()).await);
    let close = loop {
        match timeout(WAIT, ws.next())
            .await
            .expect("a Close within the wait")
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => {}
            other => panic!("no Close 1008 but {other:?}"),
        }
    };
    assert_eq!(close.map(|frame| frame.code), Some(CloseCode::Policy));
    // Its answer to the Close completes the closing handshake: no reset follows.
    assert!(matches!(
        timeout(WAIT, ws.next()).await.unwrap(),
        None | Some(Err(WsError::ConnectionClosed))
    ));
    server.shutdown().await;
}
