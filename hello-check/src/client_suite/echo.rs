//! The client's Echo requests: sent, well formed, ids unique while in flight, answers matched
//! by id when they come back in another order. The same cases judge both dialects.

use super::watch::{Departure, Record};
use crate::case::Dialect;
use crate::report::Finding;

/// `echo-requests-sent`
pub(super) fn echo_requests_sent(record: &Record) -> Finding {
    match record.echo_requests {
        0 => Finding::fail("the client sent no Echo request"),
        n => Finding::pass(format!("{n} requests")),
    }
}

/// `echo-well-formed`
pub(super) fn echo_well_formed(record: &Record, dialect: Dialect) -> Finding {
    let Some(first) = record.malformed.first() else {
        return match record.v1.errors_received.first() {
            None => Finding::pass(String::new()),
            Some((code, message)) => Finding::pass(format!(
                "the client sent {} ERROR(s) of its own, first code {code} {message:?}, though every frame it was sent was valid",
                record.v1.errors_received.len()
            )),
        };
    };
    let n = record.malformed.len();
    Finding::fail(match dialect {
        Dialect::Json => format!(
            "{n} message(s) were neither a valid Echo request nor a valid Kiss response (PROTOCOL.md 3.2, 3.6), first: {first}"
        ),
        Dialect::V1 => format!(
            "{n} message(s) drew an ERROR, first: {first}; send only well-formed frames of a client's type (PROTOCOL.md 11)"
        ),
    })
}

/// `echo-ids-unique`
pub(super) fn echo_ids_unique(record: &Record) -> Finding {
    match record.duplicate_ids.first() {
        None => Finding::pass(String::new()),
        Some(id) => Finding::fail(format!(
            "id {id} was sent again while a request with it was in flight; use a fresh id per request"
        )),
    }
}

/// `answers-matched-by-id`
pub(super) fn answers_matched_by_id(record: &Record, dialect: Dialect) -> Finding {
    let (id_field, ending_case) = match dialect {
        Dialect::Json => ("`results[0].id`", "closes-1000"),
        Dialect::V1 => ("`kv.id`", "disconnect-then-close"),
    };
    if !record.answered_out_of_order {
        Finding::skip(
            "the client never had two requests in flight together, so answers could not be reordered",
        )
    } else if record.departure == Departure::Closed(Some(1000)) {
        Finding::pass("answers came back in reverse order; the client still closed with 1000")
    } else if let Some(code) = record.v1.closed_after_error {
        Finding::skip(format!(
            "the server closed the session with {code} after a bad frame (see echo-well-formed), so whether the client accepted the reordered answers cannot be told"
        ))
    } else if !matches!(record.departure, Departure::Closed(_)) || record.v1.disconnect.is_some() {
        // A client that left by DISCONNECT left on purpose; how it closed is another case's.
        Finding::skip(format!(
            "the client {}, so whether it accepted the reordered answers cannot be told (see {ending_case})",
            record.departure
        ))
    } else {
        Finding::fail(format!(
            "after answers came back in another order than the requests, the client {}; match each answer to its request by {id_field}, not by order",
            record.departure
        ))
    }
}
