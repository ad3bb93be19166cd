//! The reference Hello WebSocket server.
//!
//! # Layout
//! - [`config`]: settings and their validation; every timing is one of them.
//! - [`server`]: serving endpoints, the connection limit, graceful shutdown.
//! - `session`: one connection, from the handshake to the close: Echo, Kiss, Ping and eviction.
//! - [`registry`]: the sessions held right now and why each one ended.
//! - `page`: the plain HTTP side: the browser client's page (`web/`) at `/`.
//! - `shared`: what every connection task shares.
//!
//! Endpoints, the accept loop, the handshake headers and the host's facts live in `hello-net`;
//! TLS configuration and certificates in `hello-tls`; the binary's `check` subcommand runs the
//! client suite of `hello-check`.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use hello_server::{Server, ServerConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let server = Server::new(ServerConfig::default())?;
//! server.run(listener, async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```

pub mod config;
mod page;
pub mod registry;
pub mod server;
mod session;
mod shared;

pub use config::{ConfigError, Dialects, ServerConfig};
pub use hello_net::Endpoint;
pub use registry::{EndReason, SessionInfo, SessionRegistry, Transport};
pub use server::{RunningServer, Server};
