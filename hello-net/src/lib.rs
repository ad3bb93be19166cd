//! The network pieces that the reference server and client and the conformance harness share,
//! so that each is written once. The harness uses them to reach and to serve peers; it never
//! uses the reference pair's session code, so that it judges independently.
//!
//! # Layout
//! - [`endpoint`]: listening sockets, plain or TLS, and the accept loop that backs off on errors.
//! - [`handshake`]: the server's side of the WebSocket handshake: the path, `WhoAmI`, `SVR` and
//!   `X-Session-Id`.
//! - [`connect`]: the client's side: TCP, TLS for `wss://`, the handshake with `WhoAmI` and
//!   extra headers, and what the server answered.
//! - [`host`]: this host's facts, as a server's Kiss request and as a client's Kiss response.
//! - [`process`]: what a binary sets up: logging, the shutdown signal, the exit status.
//! - [`whole_head`]: the HTTP head of a handshake handed to tungstenite whole, so that one that
//!   arrives sliced into tiny segments is not mistaken for an attack.

pub mod connect;
pub mod endpoint;
pub mod handshake;
pub mod host;
pub mod process;
pub mod whole_head;

pub use connect::{
    ClientStream, ConnectError, ConnectOptions, Connection, Handshake, TlsSettings, connect,
    connect_over, tls_for_url,
};
pub use endpoint::{Accepted, AcceptedStream, Endpoint, Serve, Transport, accept_loop};
pub use host::{host_kiss_request, local_kiss_response};
pub use whole_head::{MAX_HEAD_BYTES, WholeHead};

use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::ProtocolError;

/// Whether a WebSocket error means the connection ended under the peer's feet, as opposed to one
/// the peer broke the protocol on.
pub fn is_disconnect(error: &WsError) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    match error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => true,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => true,
        WsError::Io(error) => matches!(
            error.kind(),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
        ),
        _ => false,
    }
}
