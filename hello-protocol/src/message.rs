//! The five messages of PROTOCOL.md, section 3, as Rust types whose serde shape is the wire shape.
//!
//! Unknown keys are ignored on decoding (serde's default), so later versions can add keys.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Client → server: `{"id": 1, "data": "Hello", "meta": "RUST"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoRequest {
    /// Chosen by the client; the answer carries it back.
    pub id: u64,
    /// Echoed back unchanged.
    pub data: String,
    /// The client's language tag.
    pub meta: String,
}

/// Server → client, the answer to an [`EchoRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoResponse {
    /// Always 200.
    pub status: u16,
    /// Exactly one element.
    pub results: Vec<EchoResult>,
}

/// The one element of [`EchoResponse::results`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoResult {
    /// The request's id.
    pub id: u64,
    /// Always `"OK"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The echoed fields.
    pub kv: ResultKv,
}

/// The `kv` object of an [`EchoResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultKv {
    /// A fresh UUID v4 for this response.
    pub id: String,
    /// The request's id as a decimal string.
    pub idx: String,
    /// The request's data, unchanged.
    pub data: String,
    /// The server's language tag.
    pub meta: String,
}

impl EchoResponse {
    /// The answer to `request`, moving its data rather than copying it.
    pub fn answer(request: EchoRequest, response_id: Uuid, server_tag: &str) -> Self {
        EchoResponse {
            status: 200,
            results: vec![EchoResult {
                id: request.id,
                kind: "OK".to_owned(),
                kv: ResultKv {
                    id: response_id.to_string(),
                    idx: request.id.to_string(),
                    data: request.data,
                    meta: server_tag.to_owned(),
                },
            }],
        }
    }

    /// The single result of a response that passed [`crate::decode_server_message`].
    pub fn result(&self) -> &EchoResult {
        &self.results[0]
    }
}

/// Server → client, the answer to malformed input: `{"status": 400, "results": [], "error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// 400 for malformed input.
    pub status: u16,
    /// Always empty.
    pub results: Vec<serde_json::Value>,
    /// What was wrong, for a human.
    pub error: String,
}

impl ErrorResponse {
    /// A 400 answer saying what was wrong.
    pub fn bad_request(error: impl Into<String>) -> Self {
        ErrorResponse {
            status: 400,
            results: Vec::new(),
            error: error.into(),
        }
    }
}

/// Server → client: the server host's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KissRequest {
    pub os_name: String,
    pub os_version: String,
    pub os_release: String,
    pub os_architecture: String,
}

/// Client → server: the client's locale, encoding and IANA time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KissResponse {
    pub language: String,
    pub encoding: String,
    pub time_zone: String,
}

/// The answer to `request`, encoded: the same text as
/// `encode(&EchoResponse::answer(request, response_id, server_tag))`, written straight from the
/// request without building the owned response (the server's hot path).
pub fn encode_echo_answer(request: &EchoRequest, response_id: Uuid, server_tag: &str) -> String {
    #[derive(Serialize)]
    struct Answer<'a> {
        status: u16,
        results: [Result<'a>; 1],
    }
    #[derive(Serialize)]
    struct Result<'a> {
        id: u64,
        #[serde(rename = "type")]
        kind: &'static str,
        kv: Kv<'a>,
    }
    #[derive(Serialize)]
    struct Kv<'a> {
        id: &'a str,
        idx: &'a str,
        data: &'a str,
        meta: &'a str,
    }
    let mut uuid = Uuid::encode_buffer();
    let idx = request.id.to_string();
    encode(&Answer {
        status: 200,
        results: [Result {
            id: request.id,
            kind: "OK",
            kv: Kv {
                id: response_id.hyphenated().encode_lower(&mut uuid),
                idx: &idx,
                data: &request.data,
                meta: server_tag,
            },
        }],
    })
}

/// Encodes any message as the text of one WebSocket message.
pub fn encode<T: Serialize>(message: &T) -> String {
    // Every message type here is plain strings, integers and vectors with string keys, for which
    // serde_json's serializer has no failure path.
    serde_json::to_string(message).expect("protocol messages always serialize")
}

/// Multilingual data for Echo requests, taken in turn by the reference client and used by the
/// server suite: text that a server must give back code point for code point.
pub const GREETINGS: [&str; 7] = [
    "Hello",
    "Bonjour",
    "Hola",
    "こんにちは",
    "Ciao",
    "안녕하세요",
    "你好",
];
