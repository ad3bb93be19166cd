//! Accepting connections on plain and TLS endpoints, the connection limit, and graceful
//! shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hello_protocol::encode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConfigError, ServerConfig};
use crate::host_facts::host_kiss_request;
use crate::registry::SessionRegistry;
use crate::session::{Transport, serve_connection};

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) websocket_config: WebSocketConfig,
    pub(crate) registry: SessionRegistry,
    /// The host's Kiss request, encoded once: it is the same for every session.
    pub(crate) kiss_request: Utf8Bytes,
    pub(crate) shutdown: CancellationToken,
}

/// A Hello WebSocket server: build it, keep a [`SessionRegistry`] handle if you want to look
/// inside, then [`Server::run`] it on a bound listener.
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    /// A server with these settings.
    ///
    /// # Errors
    /// Settings that [`ServerConfig::validate`] refuses.
    pub fn new(config: ServerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let websocket_config = WebSocketConfig::default()
            .read_buffer_size(config.read_buffer_size)
            // Sessions write out once per batch, by flushing; never in the middle of one.
            .write_buffer_size(usize::MAX / 2)
            .max_message_size(Some(config.max_message_size))
            .max_frame_size(Some(config.max_message_size));
        Ok(Server {
            shared: Arc::new(Shared {
                websocket_config,
                registry: SessionRegistry::default(),
                kiss_request: encode(&host_kiss_request()).into(),
                shutdown: CancellationToken::new(),
                config,
            }),
        })
    }

    /// The sessions this server holds.
    pub fn registry(&self) -> SessionRegistry {
        self.shared.registry.clone()
    }

    /// Serves plain `ws://` on `listener` until `shutdown` completes; see [`Server::serve`].
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        self.serve(vec![Endpoint::Plain(listener)], shutdown).await;
    }

    /// Serves every endpoint until `shutdown` completes; then stops accepting, sends Close 1001
    /// to every session and waits up to the shutdown timeout for them to finish.
    ///
    /// One connection's failure, or panic, never stops the server; accept errors (such as
    /// running out of file descriptors) are logged and retried after a pause.
    pub async fn serve(self, endpoints: Vec<Endpoint>, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        let connection_limit = Arc::new(Semaphore::new(shared.config.max_connections));
        let tasks = TaskTracker::new();
        let stop_accepting = CancellationToken::new();
        for endpoint in endpoints {
            tasks.spawn(accept_loop(
                endpoint,
                shared.clone(),
                connection_limit.clone(),
                tasks.clone(),
                stop_accepting.clone(),
            ));
        }
        shutdown.await;
        stop_accepting.cancel();
        tracing::info!(sessions = shared.registry.len(), "shutting down");
        shared.shutdown.cancel();
        tasks.close();
        if tokio::time::timeout(shared.config.shutdown_timeout, tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                sessions = shared.registry.len(),
                "shutdown timeout: dropping sessions that are still closing"
            );
        }
    }
}

/// A listening socket and what runs over it.
pub enum Endpoint {
    /// `ws://`
    Plain(TcpListener),
    /// `wss://`, with this TLS configuration.
    Tls(TcpListener, TlsAcceptor),
}

impl Endpoint {
    /// The listener, and the TLS configuration when there is one.
    pub fn into_parts(self) -> (TcpListener, Option<TlsAcceptor>) {
        match self {
            Endpoint::Plain(listener) => (listener, None),
            Endpoint::Tls(listener, acceptor) => (listener, Some(acceptor)),
        }
    }

    /// The URL clients reach it at, e.g. `wss://127.0.0.1:9886/ws`.
    pub fn describe(&self, path: &str) -> Option<String> {
        let (listener, scheme) = match self {
            Endpoint::Plain(listener) => (listener, "ws"),
            Endpoint::Tls(listener, _) => (listener, "wss"),
        };
        let address = listener.local_addr().ok()?;
        Some(format!("{scheme}://{address}{path}"))
    }
}

async fn accept_loop(
    endpoint: Endpoint,
    shared: Arc<Shared>,
    connection_limit: Arc<Semaphore>,
    tasks: TaskTracker,
    stop_accepting: CancellationToken,
) {
    let (listener, tls) = endpoint.into_parts();
    loop {
        let accepted = tokio::select! {
            () = stop_accepting.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let permit = connection_limit.clone().try_acquire_owned().ok();
                let deadline = Instant::now() + shared.config.handshake_timeout;
                let shared = shared.clone();
                match tls.clone() {
                    None => tasks.spawn(serve_connection(
                        stream,
                        peer,
                        Transport::Plain,
                        deadline,
                        permit,
                        shared,
                    )),
                    Some(acceptor) => tasks.spawn(async move {
                        if let Some((stream, transport)) =
                            accept_tls(&acceptor, stream, peer, deadline).await
                        {
                            serve_connection(stream, peer, transport, deadline, permit, shared)
                                .await;
                        }
                    }),
                };
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The TLS handshake, within the connection's handshake deadline. Failures are logged here:
/// they are the client's, and cost the server nothing more.
async fn accept_tls(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    peer: std::net::SocketAddr,
    deadline: Instant,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, Transport)> {
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
