//! Accepting connections on plain and TLS endpoints, the connection limit, and graceful
//! shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use hello_net::{Accepted, AcceptedStream, Endpoint, Serve, accept_loop, host_kiss_request};
use hello_protocol::{OriginPolicy, encode, v1};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConfigError, ServerConfig};
use crate::metrics::ServerMetrics;
use crate::registry::SessionRegistry;
use crate::session::serve_connection;
use crate::shared::Shared;

/// A Hello WebSocket server: build it, keep a [`SessionRegistry`] or [`ServerMetrics`] handle if
/// you want to look inside, then [`Server::run`] it on a bound listener.
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
        let kiss_request = host_kiss_request();
        let metrics = ServerMetrics::new();
        Ok(Server {
            shared: Arc::new(Shared {
                websocket_config,
                registry: SessionRegistry::with_metrics(metrics.clone()),
                metrics,
                kiss_request: encode(&kiss_request).into(),
                v1_kiss_request: v1::encode(&v1::Message::from(&kiss_request)),
                shutdown: CancellationToken::new(),
                config,
            }),
        })
    }

    /// The sessions this server holds.
    pub fn registry(&self) -> SessionRegistry {
        self.shared.registry.clone()
    }

    /// What this server counts, for `GET /metrics`: a handle that stays valid while and after it
    /// serves.
    pub fn metrics(&self) -> ServerMetrics {
        self.shared.metrics.clone()
    }

    /// Serves plain `ws://` on `listener` until `shutdown` completes; see [`Server::serve`].
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        self.serve(vec![Endpoint::Plain(listener)], shutdown).await;
    }

    /// Serves `endpoints` in a task of its own until [`RunningServer::stop`]: the way a test or a
    /// program that embeds the server starts one.
    pub fn spawn(self, endpoints: Vec<Endpoint>) -> RunningServer {
        let addr = endpoints
            .first()
            .and_then(|endpoint| endpoint.local_addr().ok());
        let registry = self.registry();
        let metrics = self.metrics();
        let stop = CancellationToken::new();
        let task = tokio::spawn(self.serve(endpoints, stop.clone().cancelled_owned()));
        RunningServer {
            addr,
            registry,
            metrics,
            stop,
            task,
        }
    }

    /// Serves every endpoint until `shutdown` completes; then stops accepting, sends Close 1001
    /// to every session and waits up to the shutdown timeout for them to finish.
    ///
    /// One connection's failure, or panic, never stops the server; accept errors (such as
    /// running out of file descriptors) are logged and retried after a pause.
    pub async fn serve(self, endpoints: Vec<Endpoint>, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        // The server's own origin has the ports it really listens on (`--port 0` included).
        let ports = endpoints
            .iter()
            .filter_map(|endpoint| endpoint.local_addr().ok())
            .map(|addr| addr.port());
        let origin_policy = Arc::new(
            shared
                .config
                .origin_policy(ports)
                .expect("the allowed origins were checked when the server was made"),
        );
        let connection_limit = Arc::new(Semaphore::new(shared.config.max_connections));
        let tasks = TaskTracker::new();
        let stop_accepting = CancellationToken::new();
        for endpoint in endpoints {
            let sessions = Sessions {
                shared: Arc::clone(&shared),
                connection_limit: Arc::clone(&connection_limit),
                origin_policy: Arc::clone(&origin_policy),
            };
            tasks.spawn(accept_loop(
                endpoint,
                shared.config.handshake_timeout,
                tasks.clone(),
                stop_accepting.clone(),
                sessions,
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

/// Serves each accepted connection as a session, under the connection limit and the Origin
/// policy.
struct Sessions {
    shared: Arc<Shared>,
    connection_limit: Arc<Semaphore>,
    origin_policy: Arc<OriginPolicy>,
}

impl Serve for Sessions {
    fn serve<S: AcceptedStream>(
        &self,
        accepted: Accepted<S>,
    ) -> impl Future<Output = ()> + Send + 'static {
        // Without a place under the limit the handshake is answered 503.
        let permit = Arc::clone(&self.connection_limit).try_acquire_owned().ok();
        serve_connection(
            accepted,
            permit,
            Arc::clone(&self.origin_policy),
            Arc::clone(&self.shared),
        )
    }
}

/// A server serving in a task of its own (see [`Server::spawn`]).
pub struct RunningServer {
    addr: Option<SocketAddr>,
    registry: SessionRegistry,
    metrics: ServerMetrics,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address of its first endpoint.
    ///
    /// # Panics
    /// When it was spawned without endpoints.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("a server spawned with an endpoint")
    }

    /// The sessions it holds.
    pub fn registry(&self) -> &SessionRegistry {
        &self.registry
    }

    /// What it counts.
    pub fn metrics(&self) -> &ServerMetrics {
        &self.metrics
    }

    /// Starts the graceful shutdown of [`Server::serve`], without waiting for it.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Shuts down gracefully and waits until the server's task is over.
    ///
    /// # Panics
    /// When the server's task panicked.
    pub async fn shutdown(self) {
        self.stop();
        self.task
            .await
            .expect("the server's task ends without a panic");
    }
}
