//! What every connection task of a server shares.

use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::metrics::ServerMetrics;
use crate::registry::SessionRegistry;

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) websocket_config: WebSocketConfig,
    pub(crate) registry: SessionRegistry,
    /// What the sessions count; the registry holds a clone, for sessions opening and ending.
    pub(crate) metrics: ServerMetrics,
    /// The host's Kiss request, encoded once: it is the same for every session.
    pub(crate) kiss_request: Utf8Bytes,
    /// The same facts as a v1 KISS_REQUEST frame.
    pub(crate) v1_kiss_request: Vec<u8>,
    pub(crate) shutdown: CancellationToken,
}
