//! What a client is told: where to connect, what to send, how long to stay, and every timing.

use std::time::Duration;

use hello_net::TlsSettings;
use hello_protocol::{Dialect, defaults};

/// A client run's settings. [`ClientConfig::new`] takes the URL and gives PROTOCOL.md's
/// defaults for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `ws://host:port/path`.
    pub url: String,
    /// The dialect to speak: PROTOCOL.md's JSON text, or the ecosystem's binary frames, v1.
    pub dialect: Dialect,
    /// Sent as `WhoAmI`, and in v1 as `userId` too.
    pub name: String,
    /// Extra handshake headers, in order.
    pub headers: Vec<(String, String)>,
    /// How many Echo requests to send, all in flight together.
    pub count: u64,
    /// How long to stay connected; `None` runs until stopped.
    pub duration: Option<Duration>,
    /// How long to wait for the connection, for each answer, and for the server's Close.
    pub timeout: Duration,
    /// The server's ping interval as the client expects it; no Ping for
    /// [`defaults::SILENT_SERVER_INTERVALS`] of them is reported.
    pub ping_interval: Duration,
    /// v1: the server's PING interval as the client expects it; no PING for
    /// [`defaults::SILENT_SERVER_INTERVALS`] of them is reported.
    pub v1_ping_interval: Duration,
    /// v1: how often to send a RANDOM_NUMBER, whose HASH_RESPONSE is checked.
    pub random_interval: Duration,
    /// Reconnect when the server goes away, backing off between tries.
    pub reconnect: Option<Backoff>,
    /// The largest message accepted from the server, in bytes.
    pub max_message_size: usize,
    /// How to do TLS for `wss://` URLs.
    pub tls: TlsSettings,
}

/// Exponential backoff between reconnection attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first pause.
    pub initial: Duration,
    /// The longest pause; each failed try doubles the pause up to this.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: defaults::BACKOFF_INITIAL,
            max: defaults::BACKOFF_MAX,
        }
    }
}

impl ClientConfig {
    /// A client of `url` with the defaults: JSON, a generated name, three Echo requests, running
    /// until stopped.
    pub fn new(url: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            dialect: Dialect::Json,
            name: generated_name(),
            headers: Vec::new(),
            count: defaults::ECHO_COUNT,
            duration: None,
            timeout: defaults::CLIENT_TIMEOUT,
            ping_interval: defaults::PING_INTERVAL,
            v1_ping_interval: defaults::V1_PING_INTERVAL,
            random_interval: defaults::V1_RANDOM_INTERVAL,
            reconnect: None,
            max_message_size: defaults::MAX_MESSAGE_SIZE * defaults::CLIENT_MESSAGE_SIZE_FACTOR,
            tls: TlsSettings::default(),
        }
    }
}

/// `rust-client-` and four hex digits, different on every run.
pub fn generated_name() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("rust-client-{}", &id[..4])
}

/// The URL built from its parts, as when `--url` is not given.
pub fn url_from_parts(server: &str, port: u16, path: &str) -> String {
    let host = if server.contains(':') && !server.starts_with('[') {
        format!("[{server}]")
    } else {
        server.to_owned()
    };
    format!("ws://{host}:{port}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_from_parts_brackets_ipv6() {
        assert_eq!(
            url_from_parts("127.0.0.1", 9898, "/ws"),
            "ws://127.0.0.1:9898/ws"
        );
        assert_eq!(url_from_parts("::1", 1, "/ws"), "ws://[::1]:1/ws");
    }

    #[test]
    fn generated_names_differ() {
        assert_ne!(generated_name(), generated_name());
        assert!(generated_name().starts_with("rust-client-"));
    }
}
