//! Telling incoming objects apart and checking them strictly (PROTOCOL.md, sections 3.7 and 6).
//!
//! Messages carry no type tag: a receiver classifies an object by which keys it has, then
//! decodes it as that message. The common case, a well-formed message, takes one pass of
//! serde; only input that fails it is parsed again to say precisely what is wrong.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::message::{EchoRequest, EchoResponse, ErrorResponse, KissRequest, KissResponse};

/// What a server can receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    Echo(EchoRequest),
    Kiss(KissResponse),
}

/// What a client can receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    Echo(EchoResponse),
    Error(ErrorResponse),
    Kiss(KissRequest),
}

/// The message an object was classified as, for error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    EchoRequest,
    EchoResponse,
    ErrorResponse,
    KissRequest,
    KissResponse,
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::EchoRequest => "Echo request",
            MessageKind::EchoResponse => "Echo response",
            MessageKind::ErrorResponse => "Error response",
            MessageKind::KissRequest => "Kiss request",
            MessageKind::KissResponse => "Kiss response",
        })
    }
}

/// Why an incoming message was not usable. The `Display` text is what a server sends back in an
/// Error response, so it is written for the implementer on the other side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a JSON object but {0}")]
    NotObject(&'static str),
    #[error("invalid {kind}: {detail}")]
    Invalid { kind: MessageKind, detail: String },
    #[error("no known message: expected {expected}")]
    Unknown { expected: &'static str },
}

const ECHO_REQUEST_KEYS: [&str; 3] = ["id", "data", "meta"];
const KISS_RESPONSE_KEYS: [&str; 3] = ["language", "encoding", "time_zone"];
const KISS_REQUEST_KEYS: [&str; 4] = ["os_name", "os_version", "os_release", "os_architecture"];

/// Decodes what a client sent to a server: an Echo request or a Kiss response.
///
/// # Errors
/// Anything that is not exactly one of those, with a text saying what is wrong.
pub fn decode_client_message(bytes: &[u8]) -> Result<ClientMessage, DecodeError> {
    if let Ok(request) = serde_json::from_slice::<EchoRequest>(bytes) {
        return Ok(ClientMessage::Echo(request));
    }
    let object = parse_object(bytes)?;
    if has_any(&object, &ECHO_REQUEST_KEYS) {
        decode_as(bytes, MessageKind::EchoRequest).map(ClientMessage::Echo)
    } else if has_any(&object, &KISS_RESPONSE_KEYS) {
        let kiss: KissResponse = decode_as(bytes, MessageKind::KissResponse)?;
        require_non_empty(
            MessageKind::KissResponse,
            [
                ("language", &kiss.language),
                ("encoding", &kiss.encoding),
                ("time_zone", &kiss.time_zone),
            ],
        )?;
        Ok(ClientMessage::Kiss(kiss))
    } else {
        Err(DecodeError::Unknown {
            expected: "an Echo request (keys id, data, meta) or a Kiss response (keys language, encoding, time_zone)",
        })
    }
}

/// Decodes what a server sent to a client: an Echo response, an Error response or a Kiss
/// request.
///
/// An Echo response is checked in itself (one result, type `OK`, `idx` equal to `id`, `kv.id` a
/// UUID v4); whether it answers a request the client made is the client's business.
///
/// # Errors
/// Anything that is not exactly one of those, with a text saying what is wrong.
pub fn decode_server_message(bytes: &[u8]) -> Result<ServerMessage, DecodeError> {
    if let Ok(response) = serde_json::from_slice::<EchoResponse>(bytes)
        && response.status == 200
    {
        check_echo_response(&response)?;
        return Ok(ServerMessage::Echo(response));
    }
    let object = parse_object(bytes)?;
    if let Some(status) = object.get("status") {
        if status.as_u64() == Some(200) {
            let response: EchoResponse = decode_as(bytes, MessageKind::EchoResponse)?;
            check_echo_response(&response)?;
            Ok(ServerMessage::Echo(response))
        } else {
            let error: ErrorResponse = decode_as(bytes, MessageKind::ErrorResponse)?;
            require_non_empty(MessageKind::ErrorResponse, [("error", &error.error)])?;
            Ok(ServerMessage::Error(error))
        }
    } else if has_any(&object, &KISS_REQUEST_KEYS) {
        let kiss: KissRequest = decode_as(bytes, MessageKind::KissRequest)?;
        require_non_empty(
            MessageKind::KissRequest,
            [
                ("os_name", &kiss.os_name),
                ("os_version", &kiss.os_version),
                ("os_release", &kiss.os_release),
                ("os_architecture", &kiss.os_architecture),
            ],
        )?;
        Ok(ServerMessage::Kiss(kiss))
    } else {
        Err(DecodeError::Unknown {
            expected: "an Echo or Error response (key status) or a Kiss request (keys os_name, os_version, os_release, os_architecture)",
        })
    }
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(Value::Array(_)) => Err(DecodeError::NotObject("an array")),
        Ok(Value::String(_)) => Err(DecodeError::NotObject("a string")),
        Ok(Value::Number(_)) => Err(DecodeError::NotObject("a number")),
        Ok(Value::Bool(_)) => Err(DecodeError::NotObject("a boolean")),
        Ok(Value::Null) => Err(DecodeError::NotObject("null")),
        Err(error) => Err(DecodeError::NotJson(error.to_string())),
    }
}

fn has_any(object: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|key| object.contains_key(*key))
}

/// Decodes `bytes` as `T`, naming the key at fault when it fails. This reads the bytes again,
/// rather than the parsed object, so that a key given twice is caught as the error it is.
fn decode_as<T: DeserializeOwned>(bytes: &[u8], kind: MessageKind) -> Result<T, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let detail = strip_position(&error.inner().to_string());
        let detail = if path == "." {
            detail
        } else {
            format!("`{path}`: {detail}")
        };
        DecodeError::Invalid { kind, detail }
    })?;
    // Trailing bytes were already refused when the object was first parsed.
    Ok(value)
}

/// serde_json ends its messages with " at line 1 column 9"; the key's path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn require_non_empty<const N: usize>(
    kind: MessageKind,
    fields: [(&str, &String); N],
) -> Result<(), DecodeError> {
    match fields.iter().find(|(_, value)| value.is_empty()) {
        Some((key, _)) => Err(DecodeError::Invalid {
            kind,
            detail: format!("`{key}` must not be empty"),
        }),
        None => Ok(()),
    }
}

fn check_echo_response(response: &EchoResponse) -> Result<(), DecodeError> {
    let invalid = |detail: String| DecodeError::Invalid {
        kind: MessageKind::EchoResponse,
        detail,
    };
    let [result] = response.results.as_slice() else {
        return Err(invalid(format!(
            "`results` must hold exactly one element, it holds {}",
            response.results.len()
        )));
    };
    if result.kind != "OK" {
        return Err(invalid(format!(
            "`results[0].type` must be \"OK\", got {:?}",
            result.kind
        )));
    }
    if result.kv.idx != result.id.to_string() {
        return Err(invalid(format!(
            "`results[0].kv.idx` must be the id {} as a decimal string, got {:?}",
            result.id, result.kv.idx
        )));
    }
    match Uuid::try_parse(&result.kv.id) {
        Ok(uuid) if uuid.get_version_num() == 4 => Ok(()),
        _ => Err(invalid(format!(
            "`results[0].kv.id` must be a UUID v4, got {:?}",
            result.kv.id
        ))),
    }
}
