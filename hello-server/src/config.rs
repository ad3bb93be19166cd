//! What a server is told: its path, its timings and its limits. Every timing is a value here, so
//! tests can run the protocol in milliseconds.

use std::time::Duration;

use hello_protocol::{OriginPolicy, defaults, v1};

/// A server's settings. [`ServerConfig::default`] is PROTOCOL.md's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The WebSocket path; any other gets 404.
    pub path: String,
    /// How often each session is sent a Ping.
    pub ping_interval: Duration,
    /// How long a Ping may go unanswered before the session is evicted.
    pub pong_timeout: Duration,
    /// How often each session is sent a Kiss request.
    pub kiss_interval: Duration,
    /// The timers of v1 sessions, which replace the three above for them.
    pub v1: v1::Timings,
    /// Which dialects sessions may speak.
    pub dialects: Dialects,
    /// The server's host names besides the loopback ones (its `--host`, each `--san`): with the
    /// ports it listens on, they make its own origin (PROTOCOL.md, section 2.2).
    pub own_hosts: Vec<String>,
    /// Browser origins allowed besides the server's own; `*` allows every one.
    pub allow_origins: Vec<String>,
    /// How long a WebSocket handshake may take before the connection is dropped.
    pub handshake_timeout: Duration,
    /// How long a closing session waits for the peer's Close, and for its last frames to go out;
    /// a session that is not closed by then is aborted with a reset (PROTOCOL.md, section 7).
    pub close_timeout: Duration,
    /// How many bytes a closing session reads and throws away while it waits for the client's
    /// Close (the lingering close); a client that sends more is cut off with a reset.
    pub linger_bytes: usize,
    /// How long shutdown waits for all sessions to finish closing.
    pub shutdown_timeout: Duration,
    /// Sessions served at once; further handshakes are answered 503.
    pub max_connections: usize,
    /// The largest message accepted, in bytes; larger ones close the session with 1009.
    pub max_message_size: usize,
    /// Messages of one session read and answered before the answers are written out. While a
    /// batch cannot be written out, the session's input is not read, so a client that stops
    /// reading costs at most one batch of answers.
    pub batch_len: usize,
    /// The bytes a session reads from its socket at once; each session keeps a buffer this
    /// large, so it sets most of what an idle session costs.
    pub read_buffer_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            path: defaults::PATH.to_owned(),
            ping_interval: defaults::PING_INTERVAL,
            pong_timeout: defaults::PONG_TIMEOUT,
            kiss_interval: defaults::KISS_INTERVAL,
            v1: v1::Timings::default(),
            dialects: Dialects::Auto,
            own_hosts: Vec::new(),
            allow_origins: Vec::new(),
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT,
            close_timeout: defaults::CLOSE_TIMEOUT,
            linger_bytes: defaults::LINGER_BYTES,
            shutdown_timeout: defaults::SHUTDOWN_TIMEOUT,
            max_connections: defaults::MAX_CONNECTIONS,
            max_message_size: defaults::MAX_MESSAGE_SIZE,
            batch_len: defaults::BATCH_LEN,
            read_buffer_size: defaults::READ_BUFFER_SIZE,
        }
    }
}

/// Which dialects a server's sessions may speak (PROTOCOL.md, section 12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialects {
    /// Each session's first message fixes it: a binary message starting with `0x48` makes it
    /// v1, anything else JSON.
    #[default]
    Auto,
    /// JSON only: every session is served as JSON, whatever it sends.
    Json,
    /// v1 only: every session is served as v1, and anything that is no v1 frame is a decode
    /// error.
    V1,
}

/// A setting that makes no sense, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ServerConfig {
    /// Refuses settings the protocol cannot work with.
    ///
    /// # Errors
    /// A zero interval, timeout or limit, a path that does not start with `/`, or a pong timeout
    /// longer than the ping interval (each Ping's answer is due before the next Ping, so that at
    /// most one is outstanding).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let durations = [
            ("ping interval", self.ping_interval),
            ("pong timeout", self.pong_timeout),
            ("kiss interval", self.kiss_interval),
            ("handshake timeout", self.handshake_timeout),
            ("close timeout", self.close_timeout),
            ("shutdown timeout", self.shutdown_timeout),
        ];
        if let Some((name, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
            return Err(ConfigError(format!("the {name} must be longer than zero")));
        }
        if self.pong_timeout > self.ping_interval {
            return Err(ConfigError(format!(
                "the pong timeout ({}) must not exceed the ping interval ({}): each Ping's \
                 answer is due before the next Ping is sent",
                humantime::format_duration(self.pong_timeout),
                humantime::format_duration(self.ping_interval),
            )));
        }
        self.v1.validate().map_err(ConfigError)?;
        let counts = [
            ("max connections", self.max_connections),
            ("max message size", self.max_message_size),
            ("batch length", self.batch_len),
            ("read buffer size", self.read_buffer_size),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, n)| *n == 0) {
            return Err(ConfigError(format!("the {name} must be at least 1")));
        }
        self.origin_policy([])
            .map_err(|error| ConfigError(format!("--allow-origin: {error}")))?;
        if !self.path.starts_with('/') {
            return Err(ConfigError(format!(
                "the path must start with '/', got {:?}",
                self.path
            )));
        }
        Ok(())
    }
}

impl ServerConfig {
    /// The Origin policy of a server with these settings listening on `ports`.
    ///
    /// # Errors
    /// An allowed origin that is not one.
    pub fn origin_policy(
        &self,
        ports: impl IntoIterator<Item = u16>,
    ) -> Result<OriginPolicy, hello_protocol::origin::BadOrigin> {
        OriginPolicy::new(
            self.own_hosts.iter().map(String::as_str),
            ports,
            &self.allow_origins,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(ServerConfig::default().validate(), Ok(()));
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        let refused = |config: ServerConfig| config.validate().unwrap_err().to_string();
        let zero_ping = ServerConfig {
            ping_interval: Duration::ZERO,
            ..ServerConfig::default()
        };
        assert_eq!(
            refused(zero_ping),
            "the ping interval must be longer than zero"
        );
        let long_pong = ServerConfig {
            pong_timeout: Duration::from_secs(11),
            ..ServerConfig::default()
        };
        assert!(refused(long_pong).starts_with("the pong timeout (11s) must not exceed"));
        let no_room = ServerConfig {
            max_message_size: 0,
            ..ServerConfig::default()
        };
        assert_eq!(refused(no_room), "the max message size must be at least 1");
        let bad_path = ServerConfig {
            path: "ws".into(),
            ..ServerConfig::default()
        };
        assert!(refused(bad_path).contains("must start with '/'"));
        let bad_origin = ServerConfig {
            allow_origins: vec!["example.com".into()],
            ..ServerConfig::default()
        };
        assert!(
            refused(bad_origin).starts_with("--allow-origin: \"example.com\" is not an origin")
        );
    }
}
