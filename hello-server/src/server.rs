//! Accepting connections, the connection limit, and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hello_protocol::encode;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConfigError, ServerConfig};
use crate::host_facts::host_kiss_request;
use crate::registry::SessionRegistry;
use crate::session::serve_connection;

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

    /// Serves `listener` until `shutdown` completes; then stops accepting, sends Close 1001 to
    /// every session and waits up to the shutdown timeout for them to finish.
    ///
    /// One connection's failure, or panic, never stops the server; accept errors (such as
    /// running out of file descriptors) are logged and retried after a pause.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        let connection_limit = Arc::new(Semaphore::new(shared.config.max_connections));
        let tasks = TaskTracker::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let permit = connection_limit.clone().try_acquire_owned().ok();
                    tasks.spawn(serve_connection(stream, peer, permit, shared.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        drop(listener);
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
