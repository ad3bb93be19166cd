//! The session as a whole: the client names itself in the handshake, and leaves with Close 1000.

use super::watch::{Departure, Record};
use crate::report::Finding;

/// `whoami-sent`
pub(super) fn whoami_sent(record: &Record) -> Finding {
    match &record.who_am_i {
        Some(name) => Finding::pass(format!("WhoAmI: {name}")),
        None => {
            Finding::fail("the handshake carried no WhoAmI header: send `WhoAmI: <client name>`")
        }
    }
}

/// `closes-1000`
pub(super) fn closes_1000(record: &Record) -> Finding {
    match &record.departure {
        Departure::Closed(Some(1000)) => Finding::pass(String::new()),
        ending => Finding::fail(format!("the client {}; end a run with Close 1000", ending)),
    }
}
