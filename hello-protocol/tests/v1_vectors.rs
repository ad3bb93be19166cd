//! The v1 codec against `vectors/v1.json`, the vectors every implementation's tests read: the
//! ecosystem's four, and ours (every message type, i64 extremes, empty and multilingual strings,
//! every malformed case). Each good frame decodes to the fields given and encodes back to the
//! same bytes; each bad one is refused with the error code given.

use hello_protocol::v1::{self, EchoResult, Message, ResultKind};
use serde_json::{Value, json};

fn vectors() -> Vec<Value> {
    serde_json::from_str(include_str!("../../vectors/v1.json")).expect("vectors/v1.json is JSON")
}

fn bytes_of(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd hex {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex digits"))
        .collect()
}

/// The message as the vector file writes it: its type name, and every field, integers as
/// decimal strings.
fn fields_of(message: &Message) -> Value {
    let n = |value: i64| Value::String(value.to_string());
    let results = |results: &[EchoResult]| -> Value {
        results
            .iter()
            .map(|result| {
                let kind = match result.kind {
                    ResultKind::Ok => "0",
                    ResultKind::Error => "1",
                };
                json!({"idx": n(result.idx), "type": kind, "kv": result.kv})
            })
            .collect()
    };
    match message {
        Message::Hello { client_language } => json!({"client_language": client_language}),
        Message::Bonjour { server_language } => json!({"server_language": server_language}),
        Message::EchoRequest { id, meta, data } => {
            json!({"id": n(*id), "meta": meta, "data": data})
        }
        Message::EchoResponse { status, results: r } => {
            json!({"status": n(i64::from(*status)), "results": results(r)})
        }
        Message::KissRequest {
            os_name,
            os_version,
            os_release,
            os_architecture,
        } => json!({
            "os_name": os_name,
            "os_version": os_version,
            "os_release": os_release,
            "os_architecture": os_architecture,
        }),
        Message::KissResponse {
            language,
            encoding,
            time_zone,
        } => json!({"language": language, "encoding": encoding, "time_zone": time_zone}),
        Message::Ping { timestamp_ms } | Message::Pong { timestamp_ms } => {
            json!({"timestamp_ms": n(*timestamp_ms)})
        }
        Message::TimeNotification {
            timestamp_ms,
            iso8601,
        } => json!({"timestamp_ms": n(*timestamp_ms), "iso8601": iso8601}),
        Message::RandomNumber { id, number } => json!({"id": n(*id), "number": n(*number)}),
        Message::HashResponse { id, hash_hex } => json!({"id": n(*id), "hash_hex": hash_hex}),
        Message::Disconnect { reason } => json!({"reason": reason}),
        Message::Error { code, message } => {
            json!({"code": n(i64::from(*code)), "message": message})
        }
    }
}

#[test]
fn every_vector_decodes_as_expected_and_good_frames_encode_back() {
    let vectors = vectors();
    assert!(vectors.len() >= 40, "{} vectors", vectors.len());
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let frame = bytes_of(vector["hex"].as_str().unwrap());
        let expect = &vector["expect"];
        match (v1::decode(&frame), expect.get("error")) {
            (Ok(message), None) => {
                assert_eq!(message.type_name(), expect["type"], "{name}");
                assert_eq!(fields_of(&message), expect["fields"], "{name}");
                if name != "flags_ignored" {
                    assert_eq!(v1::encode(&message), frame, "{name}: not canonical");
                }
            }
            (Err(error), Some(code)) => {
                assert_eq!(Value::from(error.code.number()), *code, "{name}: {error}");
            }
            (decoded, _) => panic!("{name}: expected {expect}, got {decoded:?}"),
        }
    }
}

#[test]
fn the_vectors_cover_every_type_and_every_error_code_a_decoder_gives() {
    let vectors = vectors();
    let types: Vec<&str> = vectors
        .iter()
        .filter_map(|v| v["expect"]["type"].as_str())
        .collect();
    for byte in (0..=0xFF).filter_map(v1::type_name) {
        assert!(types.contains(&byte), "no vector of type {byte}");
    }
    let codes: Vec<i64> = vectors
        .iter()
        .filter_map(|v| v["expect"]["error"].as_i64())
        .collect();
    for code in [1, 2, 3, 4, 5] {
        assert!(codes.contains(&code), "no vector refused with code {code}");
    }
}

#[test]
fn the_ecosystem_vectors_are_there_as_published() {
    // The four shared by the ecosystem, copied into the file verbatim.
    let vectors = vectors();
    let hex_of = |name: &str| {
        vectors
            .iter()
            .find(|v| v["name"] == name)
            .and_then(|v| v["hex"].as_str())
            .unwrap_or_else(|| panic!("{name} missing"))
            .to_owned()
    };
    assert_eq!(hex_of("hello_go"), "480101000000000600000002476f");
    assert_eq!(
        hex_of("hello_chinese"),
        "480101000000000a00000006e4bda0e5a5bd"
    );
    assert_eq!(
        hex_of("random_negative_one"),
        "48010a00000000100000000000000001ffffffffffffffff"
    );
    assert_eq!(
        hex_of("invalid_truncated_string"),
        "480101000000000400000008"
    );
}

#[test]
fn which_errors_close_the_session() {
    use v1::ErrorCode::*;
    for code in [Decode, LengthOverrun, BadMagic, BadVersion] {
        assert!(code.closes_session(), "{code:?}");
    }
    assert!(!UnknownType.closes_session());
}

#[test]
fn every_cut_of_a_good_frame_is_refused_and_no_corruption_panics() {
    for vector in vectors()
        .iter()
        .filter(|v| v["expect"].get("error").is_none())
    {
        let name = vector["name"].as_str().unwrap();
        let frame = bytes_of(vector["hex"].as_str().unwrap());
        for len in 0..frame.len() {
            let cut = v1::decode(&frame[..len]).expect_err(name);
            let expected = if len < v1::HEADER_LEN { 1 } else { 3 };
            assert_eq!(cut.code.number(), expected, "{name} cut to {len}: {cut}");
        }
        for at in 0..frame.len() {
            for bit in 0..8 {
                let mut flipped = frame.clone();
                flipped[at] ^= 1 << bit;
                let _ = v1::decode(&flipped);
            }
        }
    }
}

#[test]
fn protocol_md_examples_are_the_bytes_the_codec_writes() {
    let protocol = include_str!("../../PROTOCOL.md");
    let spaced = |frame: &[u8]| -> Vec<String> {
        frame
            .chunks(8)
            .map(|line| {
                let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
                hex.join(" ")
            })
            .collect()
    };
    let hello = v1::encode(&Message::Hello {
        client_language: "Go".into(),
    });
    let echo = v1::encode(&Message::EchoRequest {
        id: 7,
        meta: "RUST".into(),
        data: "Hi".into(),
    });
    // PROTOCOL.md 11.3 writes the header on a line, then one line per field.
    let lines = [
        spaced(&hello[..8]),
        spaced(&hello[8..]),
        spaced(&echo[..8]),
        spaced(&echo[8..16]),
        spaced(&echo[16..24]),
        spaced(&echo[24..]),
    ];
    // And 12.3 and 12.5: a PING, and an ERROR, one line per field.
    let ping = v1::encode(&Message::Ping {
        timestamp_ms: 1_700_000_000_123,
    });
    let error = v1::encode(&Message::Error {
        code: 4,
        message: "bad magic".into(),
    });
    let whole = |bytes: &[u8]| spaced(bytes).join(" ");
    let more = [
        whole(&ping[..8]),
        whole(&ping[8..]),
        whole(&error[..8]),
        whole(&error[8..12]),
        whole(&error[12..]),
    ];
    for line in lines.iter().flatten().chain(&more) {
        assert!(
            protocol.contains(line.as_str()),
            "PROTOCOL.md lacks {line:?}"
        );
    }
}
