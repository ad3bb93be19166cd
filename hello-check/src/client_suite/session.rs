//! The session as a whole: the client names itself in the handshake (`WhoAmI` in JSON, `userId`
//! in v1), a v1 client greets with HELLO, and the client leaves with Close 1000 (in v1, after
//! DISCONNECT).

use hello_protocol::{defaults, v1};

use super::watch::{Departure, Record};
use crate::report::Finding;

/// `whoami-sent`
pub(super) fn whoami_sent(record: &Record, browser: bool) -> Finding {
    header_sent(
        record,
        &record.who_am_i,
        defaults::WHO_AM_I_HEADER,
        "<client name>",
        browser,
    )
}

/// `user-id-sent`
pub(super) fn user_id_sent(record: &Record, browser: bool) -> Finding {
    header_sent(
        record,
        &record.user_id,
        defaults::USER_ID_HEADER,
        "<user id>",
        browser,
    )
}

/// Whether the handshake named the client in `header`; a browser, which cannot set headers, is
/// judged by the `whoami` query parameter instead (PROTOCOL.md, section 2).
fn header_sent(
    record: &Record,
    value: &Option<String>,
    header: &str,
    placeholder: &str,
    browser: bool,
) -> Finding {
    match (value, browser, &record.query_name) {
        (Some(value), _, _) => Finding::pass(format!("{header}: {value}")),
        (None, true, Some(name)) => Finding::skip(format!(
            "a browser cannot set handshake headers; it named itself with ?whoami={name}"
        )),
        (None, true, None) => Finding::fail(format!(
            "a browser cannot send {header}, so it names itself in the URL: ws://HOST/ws?whoami=NAME \
             (PROTOCOL.md, section 2); no whoami parameter came"
        )),
        (None, false, _) => Finding::fail(format!(
            "the handshake carried no {header} header: send `{header}: {placeholder}`"
        )),
    }
}

/// `hello-first`
pub(super) fn hello_first(record: &Record) -> Finding {
    match &record.v1.first {
        None => Finding::fail(
            "the client sent no message; a v1 client sends HELLO at once, with its language tag",
        ),
        Some(Ok(v1::Message::Hello { client_language })) if !client_language.trim().is_empty() => {
            Finding::pass(format!("HELLO {client_language:?}"))
        }
        Some(Ok(v1::Message::Hello { .. })) => Finding::fail(
            "HELLO carried an empty client_language; send the client's language tag, e.g. RUST",
        ),
        Some(Ok(other)) => Finding::fail(format!(
            "the first message was {}; send HELLO first, with the client's language tag",
            other.type_name()
        )),
        Some(Err(error)) => Finding::fail(format!(
            "the first message was a frame that does not decode ({error}); send HELLO first"
        )),
    }
}

/// `closes-1000`
pub(super) fn closes_1000(record: &Record) -> Finding {
    match &record.departure {
        Departure::Closed(Some(1000)) => Finding::pass(String::new()),
        ending => Finding::fail(format!("the client {}; end a run with Close 1000", ending)),
    }
}

/// `disconnect-then-close`
pub(super) fn disconnect_then_close(record: &Record) -> Finding {
    if let Some(code) = record.v1.closed_after_error {
        return Finding::skip(format!(
            "the server closed the session with {code} after a frame that drew an ERROR (see echo-well-formed), so how the client leaves could not be seen"
        ));
    }
    match (&record.v1.disconnect, &record.departure) {
        (Some((reason, _)), Departure::Closed(Some(1000))) => {
            Finding::pass(format!("DISCONNECT {reason:?}, then Close 1000"))
        }
        (Some(_), departure) => Finding::fail(format!(
            "the client sent DISCONNECT, then {departure}; answer the server's Close 1000, or close with 1000 yourself when none comes"
        )),
        (None, departure) => Finding::fail(format!(
            "the client sent no DISCONNECT and {departure}; end a session with DISCONNECT, then Close 1000"
        )),
    }
}
