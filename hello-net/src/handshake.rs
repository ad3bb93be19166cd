//! The server's side of the WebSocket handshake (PROTOCOL.md, section 2): the path, the `Origin`,
//! the client's name (`WhoAmI`, v1's `userId` or the `whoami` query parameter), and the `SVR` and
//! `X-Session-Id` headers of the answer. The
//! reference server and the harness's judge of clients both answer handshakes with these.

use std::net::SocketAddr;

use hello_protocol::{OriginPolicy, Quoted, defaults, untrusted_name};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use uuid::Uuid;

/// Whether an HTTP request head asks for a WebSocket: its `Upgrade` header names `websocket`.
/// Anything else, a head that is no HTTP request included, is plain HTTP, for a server's page
/// or its 400; the WebSocket handshake itself checks the rest of an upgrade.
pub fn asks_for_websocket(head: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    // A head with more headers than these is no handshake this protocol sends; tungstenite
    // would refuse it all the same.
    if request.parse(head).is_err() {
        return false;
    }
    request.headers.iter().any(|header| {
        header.name.eq_ignore_ascii_case("upgrade")
            && String::from_utf8_lossy(header.value)
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("websocket"))
    })
}

/// An HTTP answer refusing the upgrade, with `body` saying why.
pub fn refusal(status: StatusCode, body: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(body.to_owned()));
    *response.status_mut() = status;
    response
}

/// Refuses, with 404, a handshake for any other path than `path`.
///
/// # Errors
/// The 404 answer.
// The error type is tungstenite's, for its callback; it is not ours to box.
#[allow(clippy::result_large_err)]
pub fn require_path(request: &Request, path: &str) -> Result<(), ErrorResponse> {
    if request.uri().path() == path {
        Ok(())
    } else {
        Err(refusal(StatusCode::NOT_FOUND, "no WebSocket at this path"))
    }
}

/// Refuses, with 403, a handshake whose `Origin` `policy` refuses (PROTOCOL.md, section 2.2),
/// and logs the refusal with the origin quoted and cut like a name, since it came from the
/// network.
///
/// # Errors
/// The 403 answer.
#[allow(clippy::result_large_err)]
pub fn require_origin(
    request: &Request,
    policy: &OriginPolicy,
    peer: SocketAddr,
) -> Result<(), ErrorResponse> {
    let mut origins = request.headers().get_all("origin").iter();
    let origin = origins.next().map(|value| value.as_bytes());
    // A browser sends one Origin; two are no origin, whatever the first says.
    let accepted = match origins.next() {
        None => policy.judge(origin).is_accepted(),
        Some(_) => false,
    };
    if accepted {
        return Ok(());
    }
    let shown = origin.and_then(untrusted_name).unwrap_or_default();
    tracing::info!(%peer, origin = %Quoted(&shown), "origin refused");
    Err(refusal(
        StatusCode::FORBIDDEN,
        "this origin may not open a session here",
    ))
}

/// The client's `WhoAmI`, as an untrusted name (PROTOCOL.md, section 2.1): decoded, trimmed and
/// cut to a bounded length; `None` when it sent none or a blank one.
pub fn who_am_i(request: &Request) -> Option<String> {
    header_name(request, defaults::WHO_AM_I_HEADER)
}

/// The client's `userId` (the v1 dialect's name for itself), as [`who_am_i`] reads `WhoAmI`.
pub fn user_id(request: &Request) -> Option<String> {
    header_name(request, defaults::USER_ID_HEADER)
}

/// The `whoami` parameter of the request's query, percent-decoded as a form value, as
/// [`who_am_i`] reads `WhoAmI`: the name of a client that cannot set headers, a browser.
pub fn query_name(request: &Request) -> Option<String> {
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "whoami")
        .and_then(|(_, value)| untrusted_name(value.as_bytes()))
}

/// The name a session is given: `WhoAmI`, else `userId` (PROTOCOL.md, section 12.2), else the
/// `whoami` query parameter (section 2).
pub fn client_name(request: &Request) -> Option<String> {
    who_am_i(request)
        .or_else(|| user_id(request))
        .or_else(|| query_name(request))
}

fn header_name(request: &Request, header: &str) -> Option<String> {
    request
        .headers()
        .get(header)
        .and_then(|value| untrusted_name(value.as_bytes()))
}

/// Adds the server's language as `SVR` and the session's id as `X-Session-Id` to the answer.
pub fn add_server_headers(response: &mut Response, session_id: Uuid) {
    let headers = response.headers_mut();
    headers.insert(
        defaults::SVR_HEADER,
        HeaderValue::from_static(defaults::LANGUAGE_TAG),
    );
    headers.insert(
        defaults::SESSION_ID_HEADER,
        HeaderValue::from_str(&session_id.to_string()).expect("a UUID is a valid header value"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("a valid request")
    }

    #[test]
    fn only_a_head_asking_for_a_websocket_is_taken_for_a_handshake() {
        let upgrade =
            b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n";
        assert!(asks_for_websocket(upgrade));
        let page = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        assert!(!asks_for_websocket(page));
        let other = b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n";
        assert!(!asks_for_websocket(other));
        assert!(!asks_for_websocket(b"\x16\x03\x01 not http\r\n\r\n"));
        assert!(!asks_for_websocket(b""));
    }

    #[test]
    fn a_client_without_headers_is_named_by_the_whoami_query_parameter() {
        let request = request("/ws?x=1&whoami=caf%C3%A9+page&whoami=second", &[]);
        assert_eq!(client_name(&request).as_deref(), Some("café page"));
        assert!(require_path(&request, "/ws").is_ok());
    }

    #[test]
    fn headers_come_before_the_query_and_a_blank_query_name_is_none() {
        let named = request("/ws?whoami=query", &[("WhoAmI", "header")]);
        assert_eq!(client_name(&named).as_deref(), Some("header"));
        let v1 = request("/ws?whoami=query", &[("userId", "user")]);
        assert_eq!(client_name(&v1).as_deref(), Some("user"));
        assert_eq!(client_name(&request("/ws?whoami=+%20", &[])), None);
        assert_eq!(client_name(&request("/ws", &[])), None);
    }

    #[test]
    fn a_query_name_is_cut_like_any_name() {
        let long = "x".repeat(300);
        let name = client_name(&request(&format!("/ws?whoami={long}"), &[])).unwrap();
        assert_eq!(name.len(), defaults::MAX_NAME_BYTES);
    }

    #[test]
    fn a_refused_origin_is_answered_403_and_an_own_one_passes() {
        let policy = OriginPolicy::new([], [9898], &[]).unwrap();
        let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let foreign = request("/ws", &[("Origin", "https://evil.example")]);
        let refused = require_origin(&foreign, &policy, peer).unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let own = request("/ws", &[("Origin", "http://127.0.0.1:9898")]);
        assert!(require_origin(&own, &policy, peer).is_ok());
        assert!(require_origin(&request("/ws", &[]), &policy, peer).is_ok());
        let twice = request(
            "/ws",
            &[
                ("Origin", "http://127.0.0.1:9898"),
                ("Origin", "https://evil.example"),
            ],
        );
        assert!(require_origin(&twice, &policy, peer).is_err());
    }
}
