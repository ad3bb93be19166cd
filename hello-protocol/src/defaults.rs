//! Values every implementation starts from (PROTOCOL.md, section 9), and the names of the
//! handshake headers (section 2).

use std::time::Duration;

/// The plain `ws://` port.
pub const PORT: u16 = 9898;
/// The `wss://` port.
pub const TLS_PORT: u16 = 9886;
/// The WebSocket path; the server answers 404 for any other.
pub const PATH: &str = "/ws";
/// How often the server pings each session.
pub const PING_INTERVAL: Duration = Duration::from_secs(10);
/// How long a Ping may go unanswered before the session is evicted.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server sends each session a Kiss request.
pub const KISS_INTERVAL: Duration = Duration::from_secs(5);
/// How long a WebSocket handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message a server accepts, in bytes.
pub const MAX_MESSAGE_SIZE: usize = 1024 * 1024;
/// The bytes a session reads from its socket at once. A session holds a buffer of this size for
/// as long as it lives: tungstenite's default, 128 KiB, would make an idle session cost over
/// 130 KB (BENCHMARKS.md). Larger messages still arrive whole, over several reads.
pub const READ_BUFFER_SIZE: usize = 2 * 1024;
/// How many times the server's limit a client accepts: an Echo response repeats the request's
/// data in an envelope, and JSON escaping may make it longer (PROTOCOL.md, section 1).
pub const CLIENT_MESSAGE_SIZE_FACTOR: usize = 4;
/// A client warns when it has seen no Ping for this many ping intervals.
pub const SILENT_SERVER_INTERVALS: u32 = 3;

/// This implementation's language tag, sent in `meta` and `SVR`.
pub const LANGUAGE_TAG: &str = "RUST";

/// Request header naming the client.
pub const WHO_AM_I_HEADER: &str = "WhoAmI";
/// Response header naming the server's language.
pub const SVR_HEADER: &str = "SVR";
/// Response header carrying the session's UUID.
pub const SESSION_ID_HEADER: &str = "X-Session-Id";

/// The longest name a server gives a session, in bytes; a longer `WhoAmI` is cut at a character
/// boundary (PROTOCOL.md, section 2.1).
pub const MAX_NAME_BYTES: usize = 128;

/// Close reason sent with code 1008 when a session is evicted.
pub const PONG_TIMEOUT_REASON: &str = "pong timeout";

// The reference implementation's own settings: each default is set here once, and the
// binaries' flags and the configs' `Default` take it from here.

/// How long a closing session waits for the peer's Close, and for its last frames to go out.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How much of a client's input a server reads and throws away after sending its own Close, so
/// that a client still writing receives the Close instead of a reset (PROTOCOL.md, section 7).
pub const LINGER_BYTES: usize = 16 * 1024 * 1024;
/// How long a server's shutdown waits for every session to finish closing.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Sessions a server serves at once; further handshakes are answered 503.
pub const MAX_CONNECTIONS: usize = 10_000;
/// Messages of one session a server reads and answers before writing the answers out.
pub const BATCH_LEN: usize = 64;
/// How long a client waits for the connection, for each answer, and for the server's Close.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many Echo requests a client run sends, all in flight together.
pub const ECHO_COUNT: u64 = 3;
/// A reconnecting client's first pause; it doubles on each failed try, up to the next.
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(200);
/// A reconnecting client's longest pause.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How late the server suite lets a timed event (Kiss, Ping, eviction) be and still pass.
pub const CHECK_SLACK: Duration = Duration::from_secs(1);
/// How long the client suite waits for its clients to come and finish.
pub const CLIENT_SUITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Echo requests the client suite receives within this time of each other are answered
/// together, in reverse order.
pub const REORDER_WINDOW: Duration = Duration::from_millis(20);

// The binary dialect v1 (PROTOCOL.md, section 12): its timers are its own, since the ecosystem
// fixed them apart from the JSON dialect's.

/// How often a server sends each v1 session a PING.
pub const V1_PING_INTERVAL: Duration = Duration::from_secs(1);
/// How long a v1 session may go without a matching PONG before it is removed.
pub const V1_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a server sends each v1 session a TIME_NOTIFICATION.
pub const V1_TIME_INTERVAL: Duration = Duration::from_secs(5);
/// How often a server sends each v1 session a KISS_REQUEST.
pub const V1_KISS_INTERVAL: Duration = Duration::from_secs(5);
/// How often a v1 client sends a RANDOM_NUMBER.
pub const V1_RANDOM_INTERVAL: Duration = Duration::from_secs(5);
/// The request header a v1 client names itself with, besides `WhoAmI`.
pub const USER_ID_HEADER: &str = "userId";
