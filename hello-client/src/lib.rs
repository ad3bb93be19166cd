//! The reference Hello WebSocket client.
//!
//! # Layout
//! - [`config`]: settings; every timing is one of them.
//! - [`run`]: one run: Echo requests in flight, Kiss answers, Pings, the closing handshake;
//!   what each dialect says on the wire in its own module.
//!
//! Connecting (TCP, TLS for `wss://`, the handshake with `WhoAmI` and extra headers) and this
//! host's Kiss answer live in `hello-net`; the binary's `check` and `bench` subcommands run the
//! harness in `hello-check`.

pub mod config;
pub mod run;

pub use config::{Backoff, ClientConfig};
pub use hello_net::{
    ConnectError, ConnectOptions, Connection, Handshake, TlsSettings, connect, connect_over,
    local_kiss_response,
};
pub use run::{Closing, RunReport, run};

/// Why a client run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or refused the handshake.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// The server answered the handshake with an HTTP status instead of upgrading.
    #[error("{url} refused the WebSocket handshake with HTTP {status}")]
    Refused { url: String, status: u16 },
    /// The server broke the protocol, or an answer never came.
    #[error("the server misbehaved: {0}")]
    Misbehaved(String),
    /// The server went away before the run was over.
    #[error("the server went away: {0}")]
    ServerGone(String),
}

impl From<ConnectError> for ClientError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Failed(what) => ClientError::Connect(what),
            ConnectError::Refused { url, status } => ClientError::Refused { url, status },
        }
    }
}
