//! Listening sockets, plain or TLS, and the loop that accepts connections on one.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long the accept loop pauses after an accept error (such as running out of file
/// descriptors) before it tries again, instead of spinning on the error.
pub const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A listening socket and what runs over it.
pub enum Endpoint {
    /// `ws://`
    Plain(TcpListener),
    /// `wss://`, with this TLS configuration.
    Tls(TcpListener, TlsAcceptor),
}

impl Endpoint {
    /// The address it listens on.
    ///
    /// # Errors
    /// As [`TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Endpoint::Plain(listener) | Endpoint::Tls(listener, _) => listener.local_addr(),
        }
    }

    /// The URL clients reach it at for `path`, e.g. `wss://127.0.0.1:9886/ws`.
    pub fn url(&self, path: &str) -> Option<String> {
        let scheme = match self {
            Endpoint::Plain(_) => "ws",
            Endpoint::Tls(..) => "wss",
        };
        let address = self.local_addr().ok()?;
        Some(format!("{scheme}://{address}{path}"))
    }
}

/// How a connection reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `ws://`
    Plain,
    /// `wss://`, with the subject CN of the client's certificate under mutual TLS.
    Tls { client_cert: Option<String> },
}

/// A connection accepted, its TLS handshake (if any) done, its WebSocket handshake to come.
/// `S` is `TcpStream` on a plain endpoint and `TlsStream<TcpStream>` on a TLS one: each session
/// holds only the stream it has, so a plain session carries no TLS state.
pub struct Accepted<S> {
    pub stream: S,
    pub peer: SocketAddr,
    pub transport: Transport,
    /// When the whole handshake, TLS and WebSocket, must be over: the handshake timeout after
    /// the connection was accepted.
    pub deadline: Instant,
}

/// An accepted connection's byte stream, plain or TLS, and the TCP socket under it: what a
/// server needs to abort a connection (see [`AcceptedStream::abort_on_close`]).
pub trait AcceptedStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The TCP socket the stream runs over.
    fn tcp(&self) -> &TcpStream;

    /// Makes closing this connection abort it: `SO_LINGER` with a zero timeout, so that when the
    /// stream is dropped the kernel sends a reset and frees at once whatever it still held to
    /// send, instead of keeping it in an orphaned socket behind a FIN (PROTOCOL.md, section 5).
    fn abort_on_close(&self) {
        if let Err(error) = self.tcp().set_zero_linger() {
            tracing::debug!(%error, "cannot set SO_LINGER to zero");
        }
    }
}

impl AcceptedStream for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl AcceptedStream for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// What serves each connection an accept loop accepts.
pub trait Serve: Send + Sync + 'static {
    /// Serves one connection to its end.
    fn serve<S: AcceptedStream>(
        &self,
        accepted: Accepted<S>,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// Accepts connections on `endpoint` until `stop` is cancelled, each served by a task of
/// `tasks`: its TLS handshake (on a TLS endpoint) within `handshake_timeout`, then `service`.
///
/// A failed or timed-out TLS handshake is logged and costs nothing else. An accept error is
/// logged, and the loop pauses [`ACCEPT_RETRY_PAUSE`] before trying again.
pub async fn accept_loop(
    endpoint: Endpoint,
    handshake_timeout: Duration,
    tasks: TaskTracker,
    stop: CancellationToken,
    service: impl Serve,
) {
    let service = Arc::new(service);
    let (listener, tls) = match endpoint {
        Endpoint::Plain(listener) => (listener, None),
        Endpoint::Tls(listener, acceptor) => (listener, Some(acceptor)),
    };
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed; retrying shortly");
                tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let deadline = Instant::now() + handshake_timeout;
        match tls.clone() {
            None => tasks.spawn(service.serve(Accepted {
                stream: tcp,
                peer,
                transport: Transport::Plain,
                deadline,
            })),
            Some(acceptor) => {
                let service = Arc::clone(&service);
                tasks.spawn(async move {
                    if let Some((stream, transport)) =
                        accept_tls(&acceptor, tcp, peer, deadline).await
                    {
                        let accepted = Accepted {
                            stream,
                            peer,
                            transport,
                            deadline,
                        };
                        service.serve(accepted).await;
                    }
                })
            }
        };
    }
}

/// The TLS handshake, within the connection's handshake deadline. Failures are logged here:
/// they are the client's, and cost nothing more.
async fn accept_tls(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    deadline: Instant,
) -> Option<(TlsStream<TcpStream>, Transport)> {
    match timeout_at(deadline, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => {
            let client_cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(hello_tls::peer_common_name);
            Some((stream, Transport::Tls { client_cert }))
        }
        Ok(Err(error)) => {
            tracing::info!(%peer, %error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "TLS handshake timed out");
            None
        }
    }
}
