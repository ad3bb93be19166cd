//! The sessions a server holds right now, what is known of each, and why each one ended.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use hello_protocol::{Dialect, KissResponse, Quoted};
use tokio::sync::watch;
use uuid::Uuid;

pub use hello_net::Transport;

use crate::metrics::{ServerMetrics, SessionEnd};

/// What the server knows of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id, also sent to the client as `X-Session-Id`.
    pub id: Uuid,
    /// The client's `WhoAmI` (else `userId`, else the session id), at most 128 bytes; logged
    /// quoted, since it comes from the network (PROTOCOL.md, section 2.1).
    pub name: String,
    /// The client's address.
    pub peer: SocketAddr,
    /// Plain or TLS, with the client certificate's CN under mutual TLS.
    pub transport: Transport,
    /// When the handshake completed.
    pub connected_at: SystemTime,
    /// The dialect the session speaks, once its first message (or its first Kiss) fixed it.
    pub dialect: Option<Dialect>,
    /// When the latest Pong arrived.
    pub last_pong: Option<SystemTime>,
    /// How many Pongs arrived.
    pub pong_count: u64,
    /// The latest Kiss response.
    pub last_kiss: Option<KissResponse>,
    /// How many Kiss responses arrived.
    pub kiss_count: u64,
}

/// Why a session ended, as logged in its `session-` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The client ended the session: with a Close carrying `code` (1005 when it carried none,
    /// as RFC 6455 reports it), or, without one, with v1's DISCONNECT.
    ClientClosed { code: Option<u16> },
    /// The connection ended without a Close.
    ClientVanished,
    /// No Pong came back within the pong timeout.
    PongTimeout,
    /// The server is shutting down.
    Shutdown,
    /// Something went wrong; the text says what.
    Error(String),
}

impl EndReason {
    /// The reason as the metrics count it: without its details.
    fn metric(&self) -> SessionEnd {
        match self {
            EndReason::ClientClosed { .. } => SessionEnd::ClientClosed,
            EndReason::ClientVanished => SessionEnd::Vanished,
            EndReason::PongTimeout => SessionEnd::PongTimeout,
            EndReason::Error(_) => SessionEnd::Error,
            EndReason::Shutdown => SessionEnd::Shutdown,
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::ClientClosed { .. } => f.write_str("client closed"),
            EndReason::ClientVanished => f.write_str("client vanished without a Close"),
            EndReason::PongTimeout => f.write_str("pong timeout"),
            EndReason::Shutdown => f.write_str("shutdown"),
            EndReason::Error(error) => write!(f, "error: {error}"),
        }
    }
}

/// The server's sessions, shared by every connection task. Cloning it is cheap and every clone
/// sees the same sessions.
#[derive(Debug, Clone, Default)]
pub struct SessionRegistry {
    sessions: Arc<Mutex<HashMap<Uuid, SessionInfo>>>,
    /// Bumped on every change, so that observers can await one instead of polling.
    changes: Arc<watch::Sender<u64>>,
    /// Where sessions opening and ending are counted: the registry is the one place every
    /// session passes through both ways, a panicking one included.
    metrics: ServerMetrics,
}

impl SessionRegistry {
    /// An empty registry that counts its sessions into `metrics`.
    pub(crate) fn with_metrics(metrics: ServerMetrics) -> SessionRegistry {
        SessionRegistry {
            sessions: Arc::default(),
            changes: Arc::default(),
            metrics,
        }
    }

    /// Adds a session. It stays until the returned guard is dropped, so a connection task that
    /// ends in any way, a panic included, leaves no session behind.
    pub fn insert(&self, info: SessionInfo) -> SessionGuard {
        let id = info.id;
        let name = info.name.clone();
        match &info.transport {
            Transport::Plain => {
                tracing::info!(id = %id, name = %Quoted(&name), peer = %info.peer, "session+")
            }
            Transport::Tls { client_cert } => tracing::info!(
                id = %id,
                name = %Quoted(&name),
                peer = %info.peer,
                tls = true,
                client_cert = %Quoted(client_cert.as_deref().unwrap_or("")),
                "session+"
            ),
        }
        self.metrics.session_opened();
        self.lock().insert(id, info);
        self.changed();
        SessionGuard {
            registry: self.clone(),
            id,
            name,
            dialect: None,
            reason: None,
        }
    }

    /// A copy of one session.
    pub fn get(&self, id: &Uuid) -> Option<SessionInfo> {
        self.lock().get(id).cloned()
    }

    /// A copy of every session.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.lock().values().cloned().collect()
    }

    /// How many sessions there are.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Waits until `condition` holds, or `timeout` passes. Returns whether it holds.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        condition: impl Fn(&SessionRegistry) -> bool,
    ) -> bool {
        let mut changes = self.changes.subscribe();
        let waiting = async {
            loop {
                if condition(self) {
                    return;
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, waiting).await;
        condition(self)
    }

    pub(crate) fn record_pong(&self, id: &Uuid) {
        self.update(id, |info| {
            info.last_pong = Some(SystemTime::now());
            info.pong_count += 1;
        });
    }

    pub(crate) fn record_kiss(&self, id: &Uuid, kiss: KissResponse) {
        self.update(id, |info| {
            tracing::info!(
                id = %info.id,
                name = %Quoted(&info.name),
                language = %Quoted(&kiss.language),
                encoding = %Quoted(&kiss.encoding),
                time_zone = %Quoted(&kiss.time_zone),
                "kiss"
            );
            info.last_kiss = Some(kiss);
            info.kiss_count += 1;
        });
    }

    fn update(&self, id: &Uuid, change: impl FnOnce(&mut SessionInfo)) {
        if let Some(info) = self.lock().get_mut(id) {
            change(info);
        }
        self.changed();
    }

    fn changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, SessionInfo>> {
        // A panic while holding this lock leaves the map itself consistent (every change is one
        // insert, remove or field write), so a poisoned lock is still safe to use.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Keeps a session in the registry; dropping it removes the session and logs `session-`.
#[derive(Debug)]
pub struct SessionGuard {
    registry: SessionRegistry,
    id: Uuid,
    name: String,
    dialect: Option<Dialect>,
    reason: Option<EndReason>,
}

impl SessionGuard {
    /// The session's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The session's dialect, once fixed.
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    /// Records the dialect the session's first message fixed; it is logged with `session-`.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = Some(dialect);
        tracing::debug!(id = %self.id, dialect = dialect.name(), "session dialect");
        self.registry
            .update(&self.id, |info| info.dialect = Some(dialect));
    }

    /// Removes the session now, logging why. Later calls change nothing.
    pub fn end(&mut self, reason: EndReason) {
        if self.reason.is_some() {
            return;
        }
        let dialect = self.dialect.map_or("none", Dialect::name);
        let (id, name) = (self.id, Quoted(&self.name));
        match &reason {
            EndReason::PongTimeout | EndReason::Error(_) => {
                tracing::warn!(%id, %name, reason = %reason, %dialect, "session-")
            }
            // The client's close code tells a page that closed itself (1000) from one the
            // browser closed as the user left it (1001): PROTOCOL.md, section 7.
            EndReason::ClientClosed { code: Some(code) } => {
                tracing::info!(%id, %name, reason = %reason, code, %dialect, "session-")
            }
            _ => tracing::info!(%id, %name, reason = %reason, %dialect, "session-"),
        }
        // Counted before the change is announced, so that whoever awaits the session's end
        // finds it counted.
        self.registry.metrics.session_ended(reason.metric());
        self.registry.lock().remove(&self.id);
        self.registry.changed();
        self.reason = Some(reason);
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.end(EndReason::Error(
            "the session's task ended unexpectedly".into(),
        ));
    }
}
