//! The server's side of the WebSocket handshake (PROTOCOL.md, section 2): the path, the client's
//! `WhoAmI` (or v1's `userId`), and the `SVR` and `X-Session-Id` headers of the answer. The
//! reference server and the harness's judge of clients both answer handshakes with these.

use hello_protocol::{defaults, untrusted_name};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use uuid::Uuid;

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

/// The client's `WhoAmI`, as an untrusted name (PROTOCOL.md, section 2.1): decoded, trimmed and
/// cut to a bounded length; `None` when it sent none or a blank one.
pub fn who_am_i(request: &Request) -> Option<String> {
    header_name(request, defaults::WHO_AM_I_HEADER)
}

/// The client's `userId` (the v1 dialect's name for itself), as [`who_am_i`] reads `WhoAmI`.
pub fn user_id(request: &Request) -> Option<String> {
    header_name(request, defaults::USER_ID_HEADER)
}

/// The name a session is given: `WhoAmI`, else `userId` (PROTOCOL.md, section 12.2).
pub fn client_name(request: &Request) -> Option<String> {
    who_am_i(request).or_else(|| user_id(request))
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
