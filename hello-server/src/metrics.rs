//! What the server counts, for Prometheus to scrape: sessions open and their peak, sessions
//! ended by reason, messages received and sent by kind, malformed input by kind, handshakes
//! refused by status or failed, and Kiss answers.
//!
//! The counts live in atomics that [`prometheus_client`] (the Prometheus project's Rust client)
//! renders in the Prometheus text exposition format; nothing here writes that text by hand.
//!
//! Every label takes its values from a closed set, one enum per label (`SessionEnd`,
//! `Received`, `Sent`, `Malformed`, `Refusal`, `HandshakeFailure`), never from the
//! network: a client cannot make the server grow a series. Every value of every label exists
//! from the start (at 0), so a scrape always shows the whole set and a rate over a series that
//! appears late never misses its first increments.
//!
//! Counting is on the hot path (two counts per Echo), so it costs one relaxed atomic add: each
//! labelled series is made once, when the server is, and held in an array indexed by the
//! label's enum. No map is looked up and no lock taken to count; only [`ServerMetrics::render`]
//! walks the series, in the enums' order, so a scrape reads the same from one time to the next.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hello_protocol::DecodeError;
use hello_protocol::v1::ErrorCode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A server's metrics. Cloning is cheap (one `Arc`), and every clone counts into and renders
/// the same metrics.
#[derive(Clone)]
pub struct ServerMetrics {
    inner: Arc<Metrics>,
}

struct Metrics {
    /// What [`ServerMetrics::render`] encodes; it holds clones of the handles below.
    registry: Registry,
    sessions_open: Gauge,
    sessions_peak: Gauge,
    sessions_ended: Counters<SessionEnd>,
    received: Counters<Received>,
    sent: Counters<Sent>,
    malformed: Counters<Malformed>,
    handshakes_refused: Counters<Refusal>,
    handshakes_failed: Counters<HandshakeFailure>,
    kiss_answers: Counter,
}

impl ServerMetrics {
    /// The media type of [`ServerMetrics::render`]'s text: the Prometheus text exposition
    /// format, version 0.0.4, which every Prometheus-compatible scraper reads.
    pub const CONTENT_TYPE: &'static str =
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

    /// Fresh metrics, every count at zero.
    pub fn new() -> ServerMetrics {
        let mut registry = Registry::with_prefix("hello");
        let sessions_open = Gauge::default();
        registry.register(
            "sessions_open",
            "Sessions open now: handshake done, not yet ended",
            sessions_open.clone(),
        );
        let sessions_peak = Gauge::default();
        registry.register(
            "sessions_peak",
            "The most sessions open at once since the server started",
            sessions_peak.clone(),
        );
        let sessions_ended = Counters::new();
        registry.register(
            "sessions_ended",
            "Sessions ended, by why: the client closed (a Close, or v1 DISCONNECT), it vanished \
             without a Close, its pong timeout ran out, an error (malformed input that ends a \
             session included), or the server shut down",
            sessions_ended.clone(),
        );
        let received = Counters::new();
        registry.register(
            "messages_received",
            "Messages received from clients and understood, by kind (PROTOCOL.md names; v1_ for \
             the binary dialect's frames; ping and pong are WebSocket control frames); malformed \
             ones are counted in hello_malformed_input_total instead",
            received.clone(),
        );
        let sent = Counters::new();
        registry.register(
            "messages_sent",
            "Messages sent to clients, by kind, counted as they are queued to the socket; a \
             timer's message skipped for a client that is not reading is not counted, nor the \
             Pongs the WebSocket layer sends by itself, nor Close frames",
            sent.clone(),
        );
        let malformed = Counters::new();
        registry.register(
            "malformed_input",
            "Malformed input from clients, by kind: JSON answered 400 (not_json, not_object, \
             invalid_message, unknown_message), a session closed for invalid_utf8 (1007), \
             over_limit (1009) or a protocol_violation (1002), and v1 frames refused with an \
             ERROR code",
            malformed.clone(),
        );
        let handshakes_refused = Counters::new();
        registry.register(
            "handshakes_refused",
            "WebSocket handshakes refused, by HTTP status: 404 another path, 403 an Origin the \
             policy refuses, 503 at the connection limit",
            handshakes_refused.clone(),
        );
        let handshakes_failed = Counters::new();
        registry.register(
            "handshakes_failed",
            "WebSocket handshakes that did not finish: not done within the handshake timeout, \
             or not a valid handshake (TLS handshakes are not counted)",
            handshakes_failed.clone(),
        );
        let kiss_answers = Counter::default();
        registry.register(
            "kiss_answers",
            "Kiss responses received and accepted, in either dialect, asked for or not",
            kiss_answers.clone(),
        );
        ServerMetrics {
            inner: Arc::new(Metrics {
                registry,
                sessions_open,
                sessions_peak,
                sessions_ended,
                received,
                sent,
                malformed,
                handshakes_refused,
                handshakes_failed,
                kiss_answers,
            }),
        }
    }

    /// The metrics as Prometheus scrapes them, in the text format of [`Self::content_type`].
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.inner.registry)
            .expect("writing into a String does not fail");
        text
    }

    /// The `Content-Type` to serve [`Self::render`]'s text with.
    pub fn content_type(&self) -> &'static str {
        Self::CONTENT_TYPE
    }

    /// A session's handshake is done: one more open, and maybe a new peak.
    pub(crate) fn session_opened(&self) {
        let open = self.inner.sessions_open.inc() + 1;
        self.inner
            .sessions_peak
            .inner()
            .fetch_max(open, Ordering::Relaxed);
    }

    /// A session ended, for `reason`.
    pub(crate) fn session_ended(&self, end: SessionEnd) {
        self.inner.sessions_open.dec();
        self.inner.sessions_ended.inc(end);
    }

    pub(crate) fn received(&self, kind: Received) {
        self.inner.received.inc(kind);
    }

    pub(crate) fn sent(&self, kind: Sent) {
        self.inner.sent.inc(kind);
    }

    pub(crate) fn malformed(&self, kind: Malformed) {
        self.inner.malformed.inc(kind);
    }

    pub(crate) fn handshake_refused(&self, refusal: Refusal) {
        self.inner.handshakes_refused.inc(refusal);
    }

    pub(crate) fn handshake_failed(&self, failure: HandshakeFailure) {
        self.inner.handshakes_failed.inc(failure);
    }

    pub(crate) fn kiss_answered(&self) {
        self.inner.kiss_answers.inc();
    }
}

impl Default for ServerMetrics {
    fn default() -> Self {
        ServerMetrics::new()
    }
}

impl fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerMetrics")
            .field("sessions_open", &self.inner.sessions_open.get())
            .finish_non_exhaustive()
    }
}

/// A label whose values are a closed set: the variants of an enum, in declaration order.
trait Label: Copy + fmt::Debug + Send + Sync + 'static {
    /// The label's name, e.g. `reason`.
    const NAME: &'static str;
    /// Every value, in the order of the discriminants (`ALL[i] as usize == i`).
    const ALL: &'static [Self];
    /// The value as the label carries it.
    fn as_str(self) -> &'static str;
    /// The value's place in [`Label::ALL`].
    fn index(self) -> usize;
}

/// A counter for each value of label `L`, made once; counting one is an index and an atomic add.
#[derive(Debug)]
struct Counters<L> {
    counters: Arc<[Counter]>,
    label: std::marker::PhantomData<L>,
}

impl<L: Label> Counters<L> {
    fn new() -> Self {
        Counters {
            counters: L::ALL.iter().map(|_| Counter::default()).collect(),
            label: std::marker::PhantomData,
        }
    }

    fn inc(&self, value: L) {
        self.counters[value.index()].inc();
    }
}

impl<L> Clone for Counters<L> {
    fn clone(&self) -> Self {
        Counters {
            counters: Arc::clone(&self.counters),
            label: std::marker::PhantomData,
        }
    }
}

/// The crate's counter family encoding, over our fixed series in their fixed order.
impl<L: Label> EncodeMetric for Counters<L> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), fmt::Error> {
        for (value, counter) in L::ALL.iter().zip(self.counters.iter()) {
            counter.encode(encoder.encode_family(&LabelValue(*value))?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
}

/// One label, `L::NAME="value"`.
struct LabelValue<L>(L);

impl<L: Label> EncodeLabelSet for LabelValue<L> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        [(L::NAME, self.0.as_str())].encode(encoder)
    }
}

/// Declares a label's enum, each variant with the value it carries.
macro_rules! label {
    ($(#[$meta:meta])* $name:ident, $label:literal, { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl Label for $name {
            const NAME: &'static str = $label;
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

label!(
    /// Why a session ended: the registry's `EndReason` without its details.
    SessionEnd, "reason", {
        ClientClosed = "client_closed",
        Vanished = "vanished",
        PongTimeout = "pong_timeout",
        Error = "error",
        Shutdown = "shutdown",
    }
);

label!(
    /// A message the server received and understood (PROTOCOL.md sections 3 and 11.3).
    Received, "kind", {
        EchoRequest = "echo_request",
        KissResponse = "kiss_response",
        /// A WebSocket Ping from the client (its Pong is the WebSocket layer's).
        Ping = "ping",
        /// A WebSocket Pong, the JSON dialect's sign of life.
        Pong = "pong",
        V1Hello = "v1_hello",
        V1EchoRequest = "v1_echo_request",
        V1KissResponse = "v1_kiss_response",
        /// Matching a PING or not.
        V1Pong = "v1_pong",
        V1RandomNumber = "v1_random_number",
        V1Disconnect = "v1_disconnect",
        /// The client's own ERROR, which gets no answer.
        V1Error = "v1_error",
    }
);

label!(
    /// A message the server sent (PROTOCOL.md sections 3 to 5 and 11.3).
    Sent, "kind", {
        EchoResponse = "echo_response",
        ErrorResponse = "error_response",
        KissRequest = "kiss_request",
        /// A WebSocket Ping, the JSON dialect's heartbeat.
        Ping = "ping",
        V1Bonjour = "v1_bonjour",
        V1EchoResponse = "v1_echo_response",
        V1KissRequest = "v1_kiss_request",
        V1Ping = "v1_ping",
        V1TimeNotification = "v1_time_notification",
        V1HashResponse = "v1_hash_response",
        V1Error = "v1_error",
    }
);

label!(
    /// Input the server refused (PROTOCOL.md sections 6 and 12.5).
    Malformed, "kind", {
        /// Not JSON: answered 400.
        NotJson = "not_json",
        /// JSON, not an object: answered 400.
        NotObject = "not_object",
        /// An object that is an invalid Echo request or Kiss response: answered 400.
        InvalidMessage = "invalid_message",
        /// An object that is no known message: answered 400.
        UnknownMessage = "unknown_message",
        /// A text message that is not UTF-8: Close 1007.
        InvalidUtf8 = "invalid_utf8",
        /// A message over the limit: Close 1009.
        OverLimit = "over_limit",
        /// A WebSocket protocol violation: Close 1002.
        ProtocolViolation = "protocol_violation",
        /// ERROR code 1: a payload that does not decode (a text message on a v1 session too).
        V1DecodeError = "v1_decode_error",
        /// ERROR code 2: a type v1 does not define, or one a server sends; the session goes on.
        V1UnknownType = "v1_unknown_type",
        /// ERROR code 3: a length larger than the bytes that follow.
        V1LengthOverrun = "v1_length_overrun",
        /// ERROR code 4: bad magic.
        V1BadMagic = "v1_bad_magic",
        /// ERROR code 5: bad version.
        V1BadVersion = "v1_bad_version",
    }
);

impl Malformed {
    /// The kind of a JSON message that did not decode.
    pub(crate) fn of_json(error: &DecodeError) -> Malformed {
        match error {
            DecodeError::NotJson(_) => Malformed::NotJson,
            DecodeError::NotObject(_) => Malformed::NotObject,
            DecodeError::Invalid { .. } => Malformed::InvalidMessage,
            DecodeError::Unknown { .. } => Malformed::UnknownMessage,
        }
    }

    /// The kind of a v1 frame refused with `code`.
    pub(crate) fn of_v1(code: ErrorCode) -> Malformed {
        match code {
            ErrorCode::UnknownType => Malformed::V1UnknownType,
            ErrorCode::LengthOverrun => Malformed::V1LengthOverrun,
            ErrorCode::BadMagic => Malformed::V1BadMagic,
            ErrorCode::BadVersion => Malformed::V1BadVersion,
            // A decoder refuses with 1 to 5 only; 6 and 7 are never sent by this server.
            ErrorCode::Decode | ErrorCode::SessionNotFound | ErrorCode::Internal => {
                Malformed::V1DecodeError
            }
        }
    }
}

label!(
    /// A handshake refused, by the HTTP status of the answer (PROTOCOL.md sections 1 and 2.2).
    Refusal, "status", {
        /// Another path than the server's.
        NotFound = "404",
        /// An `Origin` the policy refuses.
        Forbidden = "403",
        /// The server is at its connection limit.
        Unavailable = "503",
    }
);

label!(
    /// A WebSocket handshake that did not finish.
    HandshakeFailure, "reason", {
        /// Not over within the handshake timeout.
        Timeout = "timeout",
        /// Not a valid handshake, or the connection failed during it.
        Error = "error",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn indices_follow_all<L: Label + PartialEq>() {
        for (i, value) in L::ALL.iter().enumerate() {
            assert_eq!(value.index(), i, "{value:?}");
        }
    }

    #[test]
    fn every_label_indexes_its_own_counter() {
        indices_follow_all::<SessionEnd>();
        indices_follow_all::<Received>();
        indices_follow_all::<Sent>();
        indices_follow_all::<Malformed>();
        indices_follow_all::<Refusal>();
        indices_follow_all::<HandshakeFailure>();
    }

    #[test]
    fn a_fresh_server_shows_every_series_at_zero() {
        let text = ServerMetrics::new().render();
        let samples: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
        let series = 2
            + 1
            + SessionEnd::ALL.len()
            + Received::ALL.len()
            + Sent::ALL.len()
            + Malformed::ALL.len()
            + Refusal::ALL.len()
            + HandshakeFailure::ALL.len();
        assert_eq!(samples.len(), series, "{text}");
        assert!(samples.iter().all(|line| line.ends_with(" 0")), "{text}");
        assert!(text.contains("\nhello_sessions_ended_total{reason=\"pong_timeout\"} 0\n"));
        assert!(text.contains("\nhello_handshakes_refused_total{status=\"503\"} 0\n"));
        assert!(text.contains("# TYPE hello_sessions_open gauge\n"));
    }

    #[test]
    fn the_peak_stays_when_sessions_end() {
        let metrics = ServerMetrics::new();
        metrics.session_opened();
        metrics.session_opened();
        metrics.session_ended(SessionEnd::Shutdown);
        metrics.session_opened();
        metrics.session_ended(SessionEnd::Vanished);
        let text = metrics.render();
        assert!(text.contains("\nhello_sessions_open 1\n"), "{text}");
        assert!(text.contains("\nhello_sessions_peak 2\n"), "{text}");
    }
}
