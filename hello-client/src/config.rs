//! What a client is told: where to connect, what to send, how long to stay, and every timing.

use std::time::Duration;

use hello_net::TlsSettings;
use hello_protocol::{Dialect, GREETINGS, defaults};

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
    /// The size of each Echo request's data, in bytes: `None` sends the request's greeting,
    /// `Some(n)` fills exactly `n` bytes with the greetings repeated ([`echo_data`]).
    pub echo_bytes: Option<usize>,
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
            echo_bytes: None,
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

/// The data of Echo request `id` (counted from 1): its greeting, one of [`GREETINGS`] in turn;
/// with `bytes`, exactly that many bytes of UTF-8: the greetings repeated from the request's own,
/// separated by spaces, cut at a character boundary and padded with spaces to the size, so that a
/// run can test what a link does to a large message (`scripts/faults.sh`).
pub fn echo_data(id: u64, bytes: Option<usize>) -> String {
    let first = usize::try_from((id.max(1) - 1) % GREETINGS.len() as u64).unwrap_or(0);
    let Some(bytes) = bytes else {
        return GREETINGS[first].to_owned();
    };
    let mut data = String::with_capacity(bytes + 16);
    for greeting in GREETINGS.iter().cycle().skip(first) {
        if data.len() >= bytes {
            break;
        }
        if !data.is_empty() {
            data.push(' ');
        }
        data.push_str(greeting);
    }
    // Cut at the last character boundary within the size; spaces take what a cut character left.
    let mut end = bytes;
    while !data.is_char_boundary(end) {
        end -= 1;
    }
    data.truncate(end);
    data.extend(std::iter::repeat_n(' ', bytes - end));
    data
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
    fn echo_data_is_the_greeting_or_exactly_the_size_asked() {
        assert_eq!(echo_data(1, None), "Hello");
        assert_eq!(echo_data(4, None), "こんにちは");
        assert_eq!(echo_data(8, None), "Hello");
        assert_eq!(echo_data(2, Some(20)), "Bonjour Hola こん ");
        assert_eq!(echo_data(4, Some(4)), "こ ");
        assert_eq!(echo_data(1, Some(5)), "Hello");
        for bytes in [1, 2, 7, 8, 9, 10, 11, 12, 13, 100, 1000, 262_144] {
            for id in 1..=7 {
                let data = echo_data(id, Some(bytes));
                assert_eq!(data.len(), bytes, "id {id}, {bytes} bytes");
                let greeting = echo_data(id, None);
                if bytes >= greeting.len() {
                    assert!(data.starts_with(&greeting), "{data:?}");
                }
            }
        }
    }

    #[test]
    fn generated_names_differ() {
        assert_ne!(generated_name(), generated_name());
        assert!(generated_name().starts_with("rust-client-"));
    }
}
