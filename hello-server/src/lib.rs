//! The reference Hello WebSocket server.
//!
//! # Layout
//! - [`check`]: the conformance suite that judges any client (`hello-server check`).
//! - [`config`]: settings and their validation; every timing is one of them.
//! - [`server`]: accepting connections on plain and TLS endpoints, the connection limit,
//!   graceful shutdown.
//! - `session`: one connection, from the handshake to the close: Echo, Kiss, Ping and eviction.
//! - [`registry`]: the sessions held right now and why each one ended.
//! - `host_facts`: the host's OS facts for the Kiss request.
//!
//! TLS configuration and certificates live in the `hello-tls` crate.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use hello_server::{Server, ServerConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let server = Server::new(ServerConfig::default())?;
//! server.run(listener, async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```

pub mod check;
pub mod config;
mod host_facts;
pub mod registry;
pub mod server;
mod session;

pub use config::{ConfigError, ServerConfig};
pub use registry::{EndReason, SessionInfo, SessionRegistry, Transport};
pub use server::{Endpoint, Server};
