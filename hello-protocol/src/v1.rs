//! The binary dialect **v1** of the hello-websocket ecosystem: frames, messages, and their strict
//! encoding and decoding. No I/O: bytes in, a [`Message`] or a [`FrameError`] out, and back.
//!
//! A frame is one binary WebSocket message: an 8-byte header (magic `0x48`, version `0x01`, the
//! message type, flags, the payload length as u32 big-endian), then the payload. Integers are
//! big-endian; a string is a u32 byte length and that many bytes of UTF-8; a kv is a u32 count of
//! key and value strings; an array is a u32 count and its elements. The decoder checks every
//! length and count against the bytes that remain before it allocates anything, and refuses
//! trailing bytes in the frame and in the payload.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// The first byte of every frame: `H`.
pub const MAGIC: u8 = 0x48;
/// The version byte.
pub const VERSION: u8 = 0x01;
/// The header's length: magic, version, type, flags, and the u32 payload length.
pub const HEADER_LEN: usize = 8;
/// The largest frame, header included.
pub const MAX_FRAME_LEN: usize = 1024 * 1024;

/// The timers a server keeps for each v1 session (PROTOCOL.md, section 12), which the
/// ecosystem set apart from the JSON dialect's. [`Timings::default`] is its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// How often a PING is sent.
    pub ping_interval: Duration,
    /// How long a session may go without a matching PONG before it is removed.
    pub session_timeout: Duration,
    /// How often a TIME_NOTIFICATION is sent.
    pub time_interval: Duration,
    /// How often a KISS_REQUEST is sent.
    pub kiss_interval: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            ping_interval: crate::defaults::V1_PING_INTERVAL,
            session_timeout: crate::defaults::V1_SESSION_TIMEOUT,
            time_interval: crate::defaults::V1_TIME_INTERVAL,
            kiss_interval: crate::defaults::V1_KISS_INTERVAL,
        }
    }
}

impl Timings {
    /// How many PING timestamps a session keeps, awaiting their PONG: those sent within the
    /// session timeout, at least one.
    pub fn outstanding_pings(&self) -> usize {
        let ratio = self.session_timeout.as_nanos() / self.ping_interval.as_nanos().max(1);
        usize::try_from(ratio).unwrap_or(usize::MAX).max(1)
    }

    /// Refuses timings a session cannot work with.
    ///
    /// # Errors
    /// A zero interval or timeout, or a session timeout shorter than the ping interval (a
    /// session would be removed before its first PING could be answered).
    pub fn validate(&self) -> Result<(), String> {
        let durations = [
            ("v1 ping interval", self.ping_interval),
            ("v1 session timeout", self.session_timeout),
            ("v1 time interval", self.time_interval),
            ("v1 kiss interval", self.kiss_interval),
        ];
        if let Some((name, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
            return Err(format!("the {name} must be longer than zero"));
        }
        if self.session_timeout < self.ping_interval {
            return Err(format!(
                "the v1 session timeout ({}) must be at least the v1 ping interval ({})",
                humantime::format_duration(self.session_timeout),
                humantime::format_duration(self.ping_interval),
            ));
        }
        Ok(())
    }
}

/// A v1 message, each with its payload's fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `01`, client to server.
    Hello { client_language: String },
    /// `02`, server to client.
    Bonjour { server_language: String },
    /// `03`, client to server.
    EchoRequest { id: i64, meta: String, data: String },
    /// `04`, server to client.
    EchoResponse {
        status: i32,
        results: Vec<EchoResult>,
    },
    /// `05`, server to client.
    KissRequest {
        os_name: String,
        os_version: String,
        os_release: String,
        os_architecture: String,
    },
    /// `06`, client to server.
    KissResponse {
        language: String,
        encoding: String,
        time_zone: String,
    },
    /// `07`, server to client: the server's time, ms since the Unix epoch.
    Ping { timestamp_ms: i64 },
    /// `08`, client to server: the timestamp of the PING it answers.
    Pong { timestamp_ms: i64 },
    /// `09`, server to client.
    TimeNotification { timestamp_ms: i64, iso8601: String },
    /// `0A`, client to server.
    RandomNumber { id: i64, number: i64 },
    /// `0B`, server to client: the first 10 hex characters of SHA-256 of the number in decimal.
    HashResponse { id: i64, hash_hex: String },
    /// `0C`, client to server; the reason may be empty.
    Disconnect { reason: String },
    /// `7F`, either way.
    Error { code: i32, message: String },
}

/// One result of an ECHO_RESPONSE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoResult {
    pub idx: i64,
    pub kind: ResultKind,
    /// Key and value pairs, in order.
    pub kv: Vec<(String, String)>,
}

/// A result's type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    Ok = 0,
    Error = 1,
}

impl Message {
    /// The message's type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Message::Hello { .. } => 0x01,
            Message::Bonjour { .. } => 0x02,
            Message::EchoRequest { .. } => 0x03,
            Message::EchoResponse { .. } => 0x04,
            Message::KissRequest { .. } => 0x05,
            Message::KissResponse { .. } => 0x06,
            Message::Ping { .. } => 0x07,
            Message::Pong { .. } => 0x08,
            Message::TimeNotification { .. } => 0x09,
            Message::RandomNumber { .. } => 0x0A,
            Message::HashResponse { .. } => 0x0B,
            Message::Disconnect { .. } => 0x0C,
            Message::Error { .. } => 0x7F,
        }
    }

    /// The name the ecosystem gives the message type, e.g. `ECHO_REQUEST`.
    pub fn type_name(&self) -> &'static str {
        type_name(self.type_byte()).expect("every message has a named type")
    }
}

impl Message {
    /// Whether a client sends this message (HELLO, ECHO_REQUEST, KISS_RESPONSE, PONG,
    /// RANDOM_NUMBER, DISCONNECT, ERROR); a server sends the others, and ERROR too.
    pub fn client_sends(&self) -> bool {
        matches!(
            self,
            Message::Hello { .. }
                | Message::EchoRequest { .. }
                | Message::KissResponse { .. }
                | Message::Pong { .. }
                | Message::RandomNumber { .. }
                | Message::Disconnect { .. }
                | Message::Error { .. }
        )
    }

    /// Whether a server sends this message (BONJOUR, ECHO_RESPONSE, KISS_REQUEST, PING,
    /// TIME_NOTIFICATION, HASH_RESPONSE, ERROR).
    pub fn server_sends(&self) -> bool {
        matches!(self, Message::Error { .. }) || !self.client_sends()
    }

    /// A TIME_NOTIFICATION of `now`.
    pub fn time_notification(now: SystemTime) -> Message {
        Message::TimeNotification {
            timestamp_ms: unix_ms(now),
            iso8601: iso8601(now),
        }
    }

    /// The HASH_RESPONSE that answers RANDOM_NUMBER `id`, `number`.
    pub fn hash_response(id: i64, number: i64) -> Message {
        Message::HashResponse {
            id,
            hash_hex: hash_hex(number),
        }
    }
}

impl From<&crate::KissRequest> for Message {
    fn from(facts: &crate::KissRequest) -> Message {
        Message::KissRequest {
            os_name: facts.os_name.clone(),
            os_version: facts.os_version.clone(),
            os_release: facts.os_release.clone(),
            os_architecture: facts.os_architecture.clone(),
        }
    }
}

impl From<&crate::KissResponse> for Message {
    fn from(answer: &crate::KissResponse) -> Message {
        Message::KissResponse {
            language: answer.language.clone(),
            encoding: answer.encoding.clone(),
            time_zone: answer.time_zone.clone(),
        }
    }
}

/// The ECHO_RESPONSE to request `id` (PROTOCOL.md, section 12.4): status 200 and one OK
/// result, whose `idx` is the id and whose kv is `id` (the id in decimal, which clients match
/// answers by), `data` unchanged, `meta` the server's language tag, and `idx` the id again.
pub fn echo_answer(id: i64, data: String, server_tag: &str) -> Message {
    let id_text = id.to_string();
    Message::EchoResponse {
        status: 200,
        results: vec![EchoResult {
            idx: id,
            kind: ResultKind::Ok,
            kv: vec![
                ("id".to_owned(), id_text.clone()),
                ("data".to_owned(), data),
                ("meta".to_owned(), server_tag.to_owned()),
                ("idx".to_owned(), id_text),
            ],
        }],
    }
}

/// Whether a WebSocket message's bytes are a v1 frame rather than JSON: they start with the
/// magic byte, which no JSON text can start with. This is what fixes a session's dialect.
pub fn is_v1(message: &[u8]) -> bool {
    message.first() == Some(&MAGIC)
}

/// The hash a HASH_RESPONSE carries for `number`: the first 10 hex characters of SHA-256 of the
/// number in ASCII decimal.
pub fn hash_hex(number: i64) -> String {
    let digest = Sha256::digest(number.to_string().as_bytes());
    let mut hex = String::with_capacity(HASH_HEX_LEN);
    for byte in &digest[..HASH_HEX_LEN / 2] {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The hex characters of a HASH_RESPONSE's hash.
pub const HASH_HEX_LEN: usize = 10;

/// `time` in ms since the Unix epoch, negative before it.
pub fn unix_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// `time` as a TIME_NOTIFICATION writes it: RFC 3339 in UTC, with milliseconds and `Z`.
pub fn iso8601(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// The name of message type `byte`, or `None` for a type v1 does not define.
pub fn type_name(byte: u8) -> Option<&'static str> {
    Some(match byte {
        0x01 => "HELLO",
        0x02 => "BONJOUR",
        0x03 => "ECHO_REQUEST",
        0x04 => "ECHO_RESPONSE",
        0x05 => "KISS_REQUEST",
        0x06 => "KISS_RESPONSE",
        0x07 => "PING",
        0x08 => "PONG",
        0x09 => "TIME_NOTIFICATION",
        0x0A => "RANDOM_NUMBER",
        0x0B => "HASH_RESPONSE",
        0x0C => "DISCONNECT",
        0x7F => "ERROR",
        _ => return None,
    })
}

/// The error codes of an ERROR message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A payload that does not decode: a truncated or invalid-UTF-8 string, a bad result type,
    /// trailing bytes, a frame under 8 bytes. The receiver closes with 1002.
    Decode = 1,
    /// A message type v1 does not define. The receiver carries on.
    UnknownType = 2,
    /// A payload length larger than the bytes that follow. The receiver closes with 1002.
    LengthOverrun = 3,
    /// A first byte other than `0x48`. The receiver closes with 1002.
    BadMagic = 4,
    /// A version byte other than `0x01`. The receiver closes with 1002.
    BadVersion = 5,
    /// Never required of an implementation.
    SessionNotFound = 6,
    /// Never required of an implementation.
    Internal = 7,
}

impl ErrorCode {
    /// The code's number in an ERROR message.
    pub fn number(self) -> i32 {
        self as i32
    }

    /// Whether the receiver closes the session with 1002 after sending ERROR.
    pub fn closes_session(self) -> bool {
        !matches!(self, ErrorCode::UnknownType)
    }
}

/// Why a frame does not decode: the ERROR code to answer with, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub what: String,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (v1 error code {})", self.what, self.code.number())
    }
}

impl std::error::Error for FrameError {}

fn error(code: ErrorCode, what: impl Into<String>) -> FrameError {
    FrameError {
        code,
        what: what.into(),
    }
}

/// Encodes `message` as one frame, flags 0.
///
/// # Panics
/// When the payload exceeds what a u32 length can say (4 GiB), which no message of this
/// protocol comes near.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut frame = vec![MAGIC, VERSION, message.type_byte(), 0, 0, 0, 0, 0];
    let out = &mut frame;
    match message {
        Message::Hello { client_language } => put_str(out, client_language),
        Message::Bonjour { server_language } => put_str(out, server_language),
        Message::EchoRequest { id, meta, data } => {
            put_i64(out, *id);
            put_str(out, meta);
            put_str(out, data);
        }
        Message::EchoResponse { status, results } => {
            out.extend_from_slice(&status.to_be_bytes());
            put_count(out, results.len());
            for result in results {
                put_i64(out, result.idx);
                out.push(result.kind as u8);
                put_count(out, result.kv.len());
                for (key, value) in &result.kv {
                    put_str(out, key);
                    put_str(out, value);
                }
            }
        }
        Message::KissRequest {
            os_name,
            os_version,
            os_release,
            os_architecture,
        } => {
            for fact in [os_name, os_version, os_release, os_architecture] {
                put_str(out, fact);
            }
        }
        Message::KissResponse {
            language,
            encoding,
            time_zone,
        } => {
            for part in [language, encoding, time_zone] {
                put_str(out, part);
            }
        }
        Message::Ping { timestamp_ms } | Message::Pong { timestamp_ms } => {
            put_i64(out, *timestamp_ms);
        }
        Message::TimeNotification {
            timestamp_ms,
            iso8601,
        } => {
            put_i64(out, *timestamp_ms);
            put_str(out, iso8601);
        }
        Message::RandomNumber { id, number } => {
            put_i64(out, *id);
            put_i64(out, *number);
        }
        Message::HashResponse { id, hash_hex } => {
            put_i64(out, *id);
            put_str(out, hash_hex);
        }
        Message::Disconnect { reason } => put_str(out, reason),
        Message::Error { code, message } => {
            out.extend_from_slice(&code.to_be_bytes());
            put_str(out, message);
        }
    }
    let payload_len = u32::try_from(frame.len() - HEADER_LEN).expect("a payload under 4 GiB");
    frame[4..HEADER_LEN].copy_from_slice(&payload_len.to_be_bytes());
    frame
}

fn put_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_count(out: &mut Vec<u8>, count: usize) {
    let count = u32::try_from(count).expect("a count under 2^32");
    out.extend_from_slice(&count.to_be_bytes());
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_count(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

/// Decodes one frame, strictly: the header, then the payload of its type, with no byte left
/// over.
///
/// # Errors
/// A [`FrameError`] with the code PROTOCOL.md gives for what is wrong: 4 bad magic, 5 bad
/// version, 3 a payload length larger than the bytes that follow, 2 an unknown type, and 1 for
/// everything else (a frame under 8 bytes, a length smaller than the bytes that follow, a
/// truncated or invalid-UTF-8 string, a bad result type, trailing payload bytes).
pub fn decode(frame: &[u8]) -> Result<Message, FrameError> {
    let Some((header, payload)) = frame.split_first_chunk::<HEADER_LEN>() else {
        return Err(error(
            ErrorCode::Decode,
            format!("a frame of {} bytes, under the 8-byte header", frame.len()),
        ));
    };
    let [magic, version, kind, _flags, length @ ..] = *header;
    if magic != MAGIC {
        return Err(error(
            ErrorCode::BadMagic,
            format!("magic byte 0x{magic:02x}, not 0x48"),
        ));
    }
    if version != VERSION {
        return Err(error(
            ErrorCode::BadVersion,
            format!("version byte 0x{version:02x}, not 0x01"),
        ));
    }
    let length = u32::from_be_bytes(length) as usize;
    if length > payload.len() {
        return Err(error(
            ErrorCode::LengthOverrun,
            format!(
                "a payload length of {length} bytes, with {} bytes after the header",
                payload.len()
            ),
        ));
    }
    if length < payload.len() {
        return Err(error(
            ErrorCode::Decode,
            format!(
                "{} bytes after a payload of {length} bytes",
                payload.len() - length
            ),
        ));
    }
    let Some(name) = type_name(kind) else {
        return Err(error(
            ErrorCode::UnknownType,
            format!("unknown message type 0x{kind:02x}"),
        ));
    };
    let mut reader = Reader {
        bytes: payload,
        message: name,
    };
    let message = reader.message(kind)?;
    if !reader.bytes.is_empty() {
        return Err(error(
            ErrorCode::Decode,
            format!(
                "{} bytes after the last field of {name}",
                reader.bytes.len()
            ),
        ));
    }
    Ok(message)
}

/// The payload still to read, and the message it belongs to, for the errors.
struct Reader<'a> {
    bytes: &'a [u8],
    message: &'static str,
}

impl Reader<'_> {
    fn message(&mut self, kind: u8) -> Result<Message, FrameError> {
        Ok(match kind {
            0x01 => Message::Hello {
                client_language: self.string("client_language")?,
            },
            0x02 => Message::Bonjour {
                server_language: self.string("server_language")?,
            },
            0x03 => Message::EchoRequest {
                id: self.i64("id")?,
                meta: self.string("meta")?,
                data: self.string("data")?,
            },
            0x04 => {
                let status = i32::from_be_bytes(self.take("status")?);
                // Each result is at least an idx, a type and an empty kv: 13 bytes.
                let count = self.count("results", 13)?;
                let mut results = Vec::with_capacity(count);
                for _ in 0..count {
                    results.push(self.echo_result()?);
                }
                Message::EchoResponse { status, results }
            }
            0x05 => Message::KissRequest {
                os_name: self.string("os_name")?,
                os_version: self.string("os_version")?,
                os_release: self.string("os_release")?,
                os_architecture: self.string("os_architecture")?,
            },
            0x06 => Message::KissResponse {
                language: self.string("language")?,
                encoding: self.string("encoding")?,
                time_zone: self.string("time_zone")?,
            },
            0x07 => Message::Ping {
                timestamp_ms: self.i64("timestamp_ms")?,
            },
            0x08 => Message::Pong {
                timestamp_ms: self.i64("timestamp_ms")?,
            },
            0x09 => Message::TimeNotification {
                timestamp_ms: self.i64("timestamp_ms")?,
                iso8601: self.string("iso8601")?,
            },
            0x0A => Message::RandomNumber {
                id: self.i64("id")?,
                number: self.i64("number")?,
            },
            0x0B => Message::HashResponse {
                id: self.i64("id")?,
                hash_hex: self.string("hash_hex")?,
            },
            0x0C => Message::Disconnect {
                reason: self.string("reason")?,
            },
            0x7F => Message::Error {
                code: i32::from_be_bytes(self.take("code")?),
                message: self.string("message")?,
            },
            _ => unreachable!("decode checked the type"),
        })
    }

    fn echo_result(&mut self) -> Result<EchoResult, FrameError> {
        let idx = self.i64("results[].idx")?;
        let [kind] = self.take::<1>("results[].type")?;
        let kind = match kind {
            0 => ResultKind::Ok,
            1 => ResultKind::Error,
            other => {
                return Err(self.fail(format!("result type {other}, not 0 (OK) or 1 (ERROR)")));
            }
        };
        // Each entry is at least two empty strings: 8 bytes.
        let count = self.count("results[].kv", 8)?;
        let mut kv = Vec::with_capacity(count);
        for _ in 0..count {
            kv.push((self.string("kv key")?, self.string("kv value")?));
        }
        Ok(EchoResult { idx, kind, kv })
    }

    fn fail(&self, what: String) -> FrameError {
        error(ErrorCode::Decode, format!("{}: {what}", self.message))
    }

    fn take<const N: usize>(&mut self, field: &str) -> Result<[u8; N], FrameError> {
        match self.bytes.split_first_chunk::<N>() {
            Some((value, rest)) => {
                self.bytes = rest;
                Ok(*value)
            }
            None => Err(self.fail(format!(
                "{field} needs {N} bytes, {} remain",
                self.bytes.len()
            ))),
        }
    }

    fn i64(&mut self, field: &str) -> Result<i64, FrameError> {
        self.take(field).map(i64::from_be_bytes)
    }

    /// A u32 count of elements of at least `min_len` bytes each, checked against what remains
    /// before anything is allocated for them.
    fn count(&mut self, field: &str, min_len: usize) -> Result<usize, FrameError> {
        let count = u32::from_be_bytes(self.take(field)?) as usize;
        if count.saturating_mul(min_len) > self.bytes.len() {
            return Err(self.fail(format!(
                "{field} counts {count} elements, more than the {} bytes left can hold",
                self.bytes.len()
            )));
        }
        Ok(count)
    }

    fn string(&mut self, field: &str) -> Result<String, FrameError> {
        let length = u32::from_be_bytes(self.take(field)?) as usize;
        if length > self.bytes.len() {
            return Err(self.fail(format!(
                "{field} is {length} bytes long, {} remain",
                self.bytes.len()
            )));
        }
        let (text, rest) = self.bytes.split_at(length);
        let text = std::str::from_utf8(text)
            .map_err(|_| self.fail(format!("{field} is not valid UTF-8")))?
            .to_owned();
        self.bytes = rest;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_its_header_counts_its_payload() {
        let message = Message::Hello {
            client_language: "Go".into(),
        };
        let frame = encode(&message);
        assert_eq!(frame, [0x48, 1, 1, 0, 0, 0, 0, 6, 0, 0, 0, 2, b'G', b'o']);
        assert_eq!(decode(&frame), Ok(message));
    }

    #[test]
    fn a_huge_count_is_refused_before_anything_is_allocated() {
        // An ECHO_RESPONSE claiming 2^32 - 1 results in a 8-byte payload.
        let frame = [
            0x48, 1, 4, 0, 0, 0, 0, 8, 0, 0, 0, 200, 0xff, 0xff, 0xff, 0xff,
        ];
        let refused = decode(&frame).unwrap_err();
        assert_eq!(refused.code, ErrorCode::Decode);
        assert!(
            refused.what.contains("more than the 0 bytes left"),
            "{refused}"
        );
    }

    #[test]
    fn hashes_are_the_first_ten_hex_characters_of_sha256_of_the_decimal() {
        assert_eq!(hash_hex(-1), "1bad6b8cf9");
        // SHA-256("42") = 73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049
        assert_eq!(hash_hex(42), "73475cb40a");
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        let time = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(unix_ms(time), 1_700_000_000_123);
        assert_eq!(iso8601(time), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            unix_ms(UNIX_EPOCH - std::time::Duration::from_millis(5)),
            -5
        );
    }

    #[test]
    fn timings_keep_a_timeouts_worth_of_pings_and_refuse_nonsense() {
        let timings = Timings::default();
        assert_eq!(timings.validate(), Ok(()));
        assert_eq!(timings.outstanding_pings(), 60);
        let short = Timings {
            session_timeout: Duration::from_millis(500),
            ..timings
        };
        assert!(
            short
                .validate()
                .unwrap_err()
                .contains("at least the v1 ping interval")
        );
    }

    #[test]
    fn every_message_has_a_sender() {
        let hello = Message::Hello {
            client_language: String::new(),
        };
        let ping = Message::Ping { timestamp_ms: 0 };
        let error = Message::Error {
            code: 1,
            message: String::new(),
        };
        assert!(hello.client_sends() && !hello.server_sends());
        assert!(ping.server_sends() && !ping.client_sends());
        assert!(error.client_sends() && error.server_sends());
        assert!(is_v1(&encode(&ping)) && !is_v1(b"{}") && !is_v1(b""));
    }

    #[test]
    fn flags_are_ignored() {
        let mut frame = encode(&Message::Ping { timestamp_ms: 7 });
        frame[3] = 0xA5;
        assert_eq!(decode(&frame), Ok(Message::Ping { timestamp_ms: 7 }));
    }
}
