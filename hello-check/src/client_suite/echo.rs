//! The client's Echo requests: sent, well formed, ids unique while in flight, answers matched
//! by id when they come back in another order.

use super::watch::{Departure, Record};
use crate::report::Finding;

/// `echo-requests-sent`
pub(super) fn echo_requests_sent(record: &Record) -> Finding {
    match record.echo_requests {
        0 => Finding::fail("the client sent no Echo request"),
        n => Finding::pass(format!("{n} requests")),
    }
}

/// `echo-well-formed`
pub(super) fn echo_well_formed(record: &Record) -> Finding {
    match record.malformed.first() {
        None => Finding::pass(String::new()),
        Some(first) => Finding::fail(format!(
            "{} message(s) were neither a valid Echo request nor a valid Kiss response (PROTOCOL.md 3.2, 3.6), first: {first}",
            record.malformed.len()
        )),
    }
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
pub(super) fn answers_matched_by_id(record: &Record) -> Finding {
    {
        if !record.answered_out_of_order {
            Finding::skip(
                "the client never had two requests in flight together, so answers could not be reordered",
            )
        } else if record.departure == Departure::Closed(Some(1000)) {
            Finding::pass("answers came back in reverse order; the client still closed with 1000")
        } else if !matches!(record.departure, Departure::Closed(_)) {
            Finding::skip(format!(
                "the client {}, so whether it accepted the reordered answers cannot be told (see closes-1000)",
                record.departure
            ))
        } else {
            Finding::fail(format!(
                "after answers came back in another order than the requests, the client {}; match each answer to its request by `results[0].id`, not by order",
                record.departure
            ))
        }
    }
}
