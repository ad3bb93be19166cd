//! The JSON dialect's decoders on any bytes a peer may send, in both directions: what a server
//! calls on each incoming message (`decode_client_message`) and what a client calls
//! (`decode_server_message`).
//!
//! Beyond "no panic", each outcome is held to PROTOCOL.md:
//! - a message that decodes re-encodes to text that decodes to the same message;
//! - it is what section 3.7 classifies the object as, valid as sections 3.2 to 3.6 say;
//! - the server's answer to it (an Echo response, or an Error response for input it refuses,
//!   section 6) is one that a client's decoder accepts as that answer.

#![no_main]

use hello_protocol::{
    ClientMessage, EchoResponse, ErrorResponse, ServerMessage, decode_client_message,
    decode_server_message, defaults, encode, encode_echo_answer,
};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The UUID v4 of the answers this target makes; which one does not matter.
const RESPONSE_ID: Uuid = Uuid::from_u128(0x9f1c6d2e_7a4b_4c1e_9d3f_2b8a5e6f7c10);

fuzz_target!(|bytes: &[u8]| {
    as_server(bytes);
    as_client(bytes);
});

/// What a server does with a message: decode it, answer it.
fn as_server(bytes: &[u8]) {
    let answer = match decode_client_message(bytes) {
        Ok(ClientMessage::Echo(request)) => {
            assert_round_trip(
                &ClientMessage::Echo(request.clone()),
                &encode(&request),
                decode_client_message,
            );
            let answer = encode_echo_answer(&request, RESPONSE_ID, defaults::LANGUAGE_TAG);
            let owned = EchoResponse::answer(request.clone(), RESPONSE_ID, defaults::LANGUAGE_TAG);
            assert_eq!(
                answer,
                encode(&owned),
                "the hot path writes the same answer"
            );
            match decode_server_message(answer.as_bytes()) {
                Ok(ServerMessage::Echo(response)) => assert_eq!(response, owned),
                other => panic!("a client refuses the server's Echo answer {answer}: {other:?}"),
            }
            return;
        }
        Ok(ClientMessage::Kiss(kiss)) => {
            let keys = keys_of(bytes);
            assert!(
                !has_any(&keys, &["id", "data", "meta"]),
                "an object with an Echo request's key is never a Kiss response (3.7)"
            );
            assert!(
                [&kiss.language, &kiss.encoding, &kiss.time_zone]
                    .iter()
                    .all(|value| !value.is_empty()),
                "a Kiss response's strings are non-empty (3.6): {kiss:?}"
            );
            assert_round_trip(
                &ClientMessage::Kiss(kiss.clone()),
                &encode(&kiss),
                decode_client_message,
            );
            return;
        }
        Err(error) => encode(&ErrorResponse::bad_request(error.to_string())),
    };
    // Input the server refuses is answered with an Error response (section 6), which a client
    // must take as one: a non-empty `error`, and a status other than 200.
    match decode_server_message(answer.as_bytes()) {
        Ok(ServerMessage::Error(error)) => assert!(!error.error.is_empty()),
        other => panic!("a client does not take {answer} as an Error response: {other:?}"),
    }
}

/// What a client does with a message: decode it, and use what it decoded.
fn as_client(bytes: &[u8]) {
    let Ok(message) = decode_server_message(bytes) else {
        return;
    };
    let keys = keys_of(bytes);
    match &message {
        ServerMessage::Echo(response) => {
            // The client reads the single result without checking again (3.3).
            let result = response.result();
            assert_eq!(response.status, 200);
            assert_eq!(response.results.len(), 1);
            assert_eq!(result.kind, "OK");
            assert_eq!(result.kv.idx, result.id.to_string());
            let kv_id = Uuid::try_parse(&result.kv.id).expect("kv.id is a UUID");
            assert_eq!(kv_id.get_version_num(), 4, "kv.id is a UUID v4");
            assert_round_trip(&message, &encode(response), decode_server_message);
        }
        ServerMessage::Error(error) => {
            assert_ne!(error.status, 200, "status 200 is an Echo response (3.7)");
            assert!(!error.error.is_empty(), "an Error response says what (3.4)");
            // The elements of `results` (empty from any server, 3.4; the decoder takes any) are
            // counted, not compared: without its `float_roundtrip` feature, which nothing here
            // needs, serde_json may read a number written back 1 ULP off its first reading
            // (118446744073709551615 gives 1.1844674407370955e20, which reads as ...57e20).
            let without_results = |error: &ErrorResponse| ErrorResponse {
                results: vec![serde_json::Value::Null; error.results.len()],
                ..error.clone()
            };
            let text = encode(error);
            match decode_server_message(text.as_bytes()) {
                Ok(ServerMessage::Error(again)) => {
                    assert_eq!(without_results(&again), without_results(error), "{text}")
                }
                other => panic!("{error:?} re-encoded as {text} decodes to {other:?}"),
            }
        }
        ServerMessage::Kiss(kiss) => {
            assert!(
                !keys.contains_key("status"),
                "an object with `status` is never a Kiss request (3.7)"
            );
            assert!(
                [
                    &kiss.os_name,
                    &kiss.os_version,
                    &kiss.os_release,
                    &kiss.os_architecture,
                ]
                .iter()
                .all(|value| !value.is_empty()),
                "a Kiss request's facts are non-empty (3.5): {kiss:?}"
            );
            assert_round_trip(&message, &encode(kiss), decode_server_message);
        }
    }
}

/// `text`, the encoding of `decoded`, decodes to `decoded` again.
fn assert_round_trip<M, E>(decoded: &M, text: &str, decode: fn(&[u8]) -> Result<M, E>)
where
    M: PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    match decode(text.as_bytes()) {
        Ok(again) => assert_eq!(&again, decoded, "{text} decodes to another message"),
        Err(error) => panic!("{decoded:?} re-encoded as {text} does not decode: {error:?}"),
    }
}

/// The keys of the object that a message which decoded was. Its values are skipped unread, as
/// the decoders skip the values of keys they do not know: such a value may hold what a `String`
/// cannot (a lone surrogate escape; bytes that are not UTF-8), which `serde_json::Value` refuses.
fn keys_of(bytes: &[u8]) -> BTreeMap<String, IgnoredAny> {
    match serde_json::from_slice(bytes) {
        Ok(object) => object,
        Err(error) => panic!("a message that decoded is not a JSON object: {error}"),
    }
}

fn has_any(object: &BTreeMap<String, IgnoredAny>, names: &[&str]) -> bool {
    names.iter().any(|name| object.contains_key(*name))
}
