//! A handshake whose HTTP head comes one byte per read, as through a proxy that slices every TCP
//! segment to one byte, over real sockets on 127.0.0.1. tungstenite alone takes it for an attack
//! and gives up; through `WholeHead` it succeeds, on the server's side and on the client's. The
//! reads are cut to one byte by the reading side itself, so the test is the same on any machine.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hello_net::{MAX_HEAD_BYTES, WholeHead};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{accept_async, client_async};

const WAIT: Duration = Duration::from_secs(10);
const URL: &str = "ws://127.0.0.1/ws";

/// Reads at most one byte at a time from the stream under it.
struct OneByteReads<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for OneByteReads<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut one = [0; 1];
        let mut read = ReadBuf::new(&mut one);
        ready!(Pin::new(&mut self.get_mut().0).poll_read(cx, &mut read))?;
        buf.put_slice(read.filled());
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for OneByteReads<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// Both ends of a TCP connection on 127.0.0.1: (the client's, the server's).
async fn connected() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = tokio::join!(client, listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

#[tokio::test]
async fn a_server_reading_the_request_one_byte_at_a_time_accepts_it_through_whole_head() {
    // Without it, the bug: tungstenite refuses the sliced request.
    let (client, server) = connected().await;
    let refused = tokio::spawn(accept_async(OneByteReads(server)));
    let _ = timeout(WAIT, client_async(URL, client)).await.unwrap();
    match timeout(WAIT, refused).await.unwrap().unwrap() {
        Err(WsError::AttackAttempt) => {}
        other => panic!(
            "the test no longer reproduces the refusal: {:?}",
            other.map(|_| ())
        ),
    }
    // With it, the same request is accepted.
    let (client, server) = connected().await;
    let accepted = tokio::spawn(accept_async(WholeHead::new(OneByteReads(server))));
    timeout(WAIT, client_async(URL, client))
        .await
        .unwrap()
        .expect("the client's handshake succeeds");
    timeout(WAIT, accepted)
        .await
        .unwrap()
        .unwrap()
        .expect("the server accepts a request read one byte at a time");
}

#[tokio::test]
async fn a_client_reading_the_answer_one_byte_at_a_time_accepts_it_through_whole_head() {
    let (client, server) = connected().await;
    let server_side = tokio::spawn(accept_async(server));
    match timeout(WAIT, client_async(URL, OneByteReads(client)))
        .await
        .unwrap()
    {
        Err(WsError::AttackAttempt) => {}
        other => panic!(
            "the test no longer reproduces the refusal: {:?}",
            other.map(|_| ())
        ),
    }
    let _ = timeout(WAIT, server_side).await.unwrap();
    let (client, server) = connected().await;
    let server_side = tokio::spawn(accept_async(server));
    timeout(
        WAIT,
        client_async(URL, WholeHead::new(OneByteReads(client))),
    )
    .await
    .unwrap()
    .expect("the client accepts an answer read one byte at a time");
    timeout(WAIT, server_side).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_head_over_the_bound_is_refused_and_what_follows_a_head_is_kept() {
    let (mut client, server) = connected().await;
    let mut reading = WholeHead::new(server);
    // A head that never ends: refused once it passes the bound.
    let endless = vec![b'x'; MAX_HEAD_BYTES + 2048];
    let writing = tokio::spawn(async move {
        let _ = client.write_all(&endless).await;
        client
    });
    let mut buf = [0; 64];
    let error = timeout(WAIT, reading.read(&mut buf))
        .await
        .unwrap()
        .expect_err("a head over the bound is refused");
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    drop(writing.await.unwrap());
    // A head followed by the first frame: both come through, in order, in the reads after it.
    let (mut client, server) = connected().await;
    let sent = b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n\x81\x00after";
    client.write_all(sent).await.unwrap();
    client.shutdown().await.unwrap();
    let mut received = Vec::new();
    timeout(
        WAIT,
        WholeHead::new(OneByteReads(server)).read_to_end(&mut received),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(received, sent);
}
