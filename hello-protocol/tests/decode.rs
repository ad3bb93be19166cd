//! PROTOCOL.md sections 3 and 6, case by case, with no network.

use hello_protocol::{
    ClientMessage, DecodeError, EchoRequest, EchoResponse, ErrorResponse, KissResponse,
    MessageKind, ServerMessage, decode_client_message, decode_server_message, encode,
    encode_echo_answer,
};
use uuid::Uuid;

fn client(json: &str) -> Result<ClientMessage, DecodeError> {
    decode_client_message(json.as_bytes())
}

fn client_error(json: &str) -> String {
    client(json)
        .expect_err(&format!("{json} must be refused"))
        .to_string()
}

#[test]
fn echo_request_decodes_with_unknown_keys_ignored() {
    let decoded = client(r#"{"id": 7, "data": "你好 👋", "meta": "GO", "trace": {"x": 1}}"#);
    assert_eq!(
        decoded,
        Ok(ClientMessage::Echo(EchoRequest {
            id: 7,
            data: "你好 👋".into(),
            meta: "GO".into()
        }))
    );
}

#[test]
fn echo_request_takes_the_whole_u64_range_and_empty_data() {
    let decoded = client(r#"{"id": 18446744073709551615, "data": "", "meta": "JAVA"}"#);
    assert!(matches!(
        decoded,
        Ok(ClientMessage::Echo(EchoRequest { id: u64::MAX, .. }))
    ));
}

#[test]
fn echo_request_with_a_bad_id_names_the_key() {
    for id in [
        "-1",
        "1.5",
        "1.0",
        "1e3",
        "\"1\"",
        "null",
        "18446744073709551616",
    ] {
        let error = client_error(&format!(r#"{{"id": {id}, "data": "x", "meta": "GO"}}"#));
        assert!(
            error.starts_with("invalid Echo request: `id`"),
            "{id}: {error}"
        );
    }
}

#[test]
fn echo_request_missing_or_mistyped_keys_are_named() {
    assert_eq!(
        client_error(r#"{"id": 1, "meta": "GO"}"#),
        "invalid Echo request: missing field `data`"
    );
    assert!(client_error(r#"{"id": 1, "data": 5, "meta": "GO"}"#).contains("`data`"));
    assert!(client_error(r#"{"data": "x"}"#).contains("missing field `id`"));
}

#[test]
fn a_key_given_twice_is_refused() {
    let error = client_error(r#"{"id": 1, "id": 2, "data": "x", "meta": "GO"}"#);
    assert!(error.contains("duplicate field `id`"), "{error}");
}

#[test]
fn kiss_response_decodes_and_must_not_be_empty() {
    assert_eq!(
        client(r#"{"language": "fr_FR", "encoding": "UTF-8", "time_zone": "Europe/Paris"}"#),
        Ok(ClientMessage::Kiss(KissResponse {
            language: "fr_FR".into(),
            encoding: "UTF-8".into(),
            time_zone: "Europe/Paris".into()
        }))
    );
    assert_eq!(
        client_error(r#"{"language": "fr_FR", "encoding": "", "time_zone": "UTC"}"#),
        "invalid Kiss response: `encoding` must not be empty"
    );
    assert!(client_error(r#"{"language": "fr_FR"}"#).contains("missing field `encoding`"));
}

#[test]
fn echo_keys_win_over_kiss_keys() {
    let error =
        client_error(r#"{"id": 1, "language": "en_US", "encoding": "UTF-8", "time_zone": "UTC"}"#);
    assert!(error.starts_with("invalid Echo request"), "{error}");
}

#[test]
fn not_json_not_an_object_and_unknown_are_told_apart() {
    assert!(client_error("{not json").starts_with("not JSON: "));
    assert!(
        client_error(r#"{"id": 1, "data": "x", "meta": "GO"} trailing"#).starts_with("not JSON")
    );
    assert_eq!(client_error("[1, 2]"), "not a JSON object but an array");
    assert_eq!(client_error("null"), "not a JSON object but null");
    assert_eq!(client_error("\"hi\""), "not a JSON object but a string");
    assert!(client_error(r#"{"hello": "world"}"#).starts_with("no known message"));
    // What a server sends is no known message to a server.
    assert!(client_error(r#"{"status": 200, "results": []}"#).starts_with("no known message"));
    assert!(decode_client_message(b"{\"id\": 1, \"data\": \"\xff\", \"meta\": \"GO\"}").is_err());
}

#[test]
fn echo_response_round_trips_and_is_checked() {
    let request = EchoRequest {
        id: u64::MAX,
        data: "こんにちは".into(),
        meta: "PYTHON".into(),
    };
    let response = EchoResponse::answer(request, Uuid::new_v4(), "RUST");
    let text = encode(&response);
    assert!(text.contains(r#""idx":"18446744073709551615""#), "{text}");
    assert!(text.contains(r#""type":"OK""#), "{text}");
    assert_eq!(
        decode_server_message(text.as_bytes()),
        Ok(ServerMessage::Echo(response))
    );
}

#[test]
fn echo_response_faults_are_named() {
    let good = r#"{"status": 200, "results": [{"id": 3, "type": "OK", "kv": {"id": "ID", "idx": "3", "data": "x", "meta": "GO"}}]}"#;
    let uuid = Uuid::new_v4().to_string();
    let server_error = |json: &str| {
        decode_server_message(json.replace("ID", &uuid).as_bytes())
            .expect_err(json)
            .to_string()
    };
    assert!(decode_server_message(good.replace("ID", &uuid).as_bytes()).is_ok());
    assert!(server_error(&good.replace(r#""idx": "3""#, r#""idx": "4""#)).contains("kv.idx"));
    assert!(server_error(&good.replace(r#""type": "OK""#, r#""type": "ok""#)).contains("type"));
    assert!(server_error(r#"{"status": 200, "results": []}"#).contains("exactly one"));
    assert!(server_error(&good.replace("ID", "not-a-uuid")).contains("UUID v4"));
    assert!(
        server_error(&good.replace(r#""idx": "3""#, r#""idx": 3"#)).contains("results[0].kv.idx")
    );
}

#[test]
fn error_and_kiss_request_decode() {
    let error = encode(&ErrorResponse::bad_request("bad"));
    assert!(matches!(
        decode_server_message(error.as_bytes()),
        Ok(ServerMessage::Error(ErrorResponse { status: 400, .. }))
    ));
    assert!(
        decode_server_message(br#"{"status": 400, "results": [], "error": ""}"#)
            .unwrap_err()
            .to_string()
            .contains("`error` must not be empty")
    );
    let kiss = r#"{"os_name": "Linux", "os_version": "12", "os_release": "6.1", "os_architecture": "x86_64"}"#;
    assert!(matches!(
        decode_server_message(kiss.as_bytes()),
        Ok(ServerMessage::Kiss(_))
    ));
    let empty = kiss.replace(r#""12""#, r#""""#);
    assert_eq!(
        decode_server_message(empty.as_bytes()).unwrap_err(),
        DecodeError::Invalid {
            kind: MessageKind::KissRequest,
            detail: "`os_version` must not be empty".into()
        }
    );
}

#[test]
fn the_servers_fast_answer_is_the_same_text_as_the_owned_response() {
    for data in [
        "Hello",
        "",
        "こんにちは",
        "quote \" backslash \\ newline \n tab \t",
        "\u{1}\u{7f}",
    ] {
        for id in [0, 1, 42, u64::MAX] {
            let request = EchoRequest {
                id,
                data: data.to_owned(),
                meta: "GO".to_owned(),
            };
            let response_id = Uuid::new_v4();
            assert_eq!(
                encode_echo_answer(&request, response_id, "RUST"),
                encode(&EchoResponse::answer(request, response_id, "RUST")),
            );
        }
    }
}
