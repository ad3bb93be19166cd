//! The reference Hello WebSocket client.
//!
//! # Layout
//! - [`bench`]: load for measuring a server (`hello-client bench`).
//! - [`check`]: the conformance suite that judges any server (`hello-client check`).
//! - [`config`]: settings; every timing is one of them.
//! - [`connection`]: the TCP connection, TLS for `wss://`, and the handshake with `WhoAmI`
//!   and extra headers. TLS configuration itself lives in the `hello-tls` crate.
//! - [`run`]: one run: Echo requests in flight, Kiss answers, Pings, the closing handshake.
//! - `locale`: this system's locale and time zone, for the Kiss answer.

pub mod bench;
pub mod check;
pub mod config;
pub mod connection;
mod locale;
pub mod run;

pub use config::{Backoff, ClientConfig, TlsSettings};
pub use connection::{ConnectOptions, Connection, Handshake, connect, connect_over};
pub use locale::local_kiss_response;
pub use run::{RunReport, run, tls_for_url};

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
