//! The client's Pongs: every Ping answered within the pong timeout, every v1 PING by a PONG
//! echoing its timestamp; and how a request is judged answered in time, for Pings and Kiss
//! requests alike.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::ClientSuiteConfig;
use super::watch::Record;
use crate::report::Finding;

/// `pings-answered`
pub(super) fn pings_answered(record: &Record, config: &ClientSuiteConfig) -> Finding {
    let lasted = record.ended - record.started;
    judge_answers(
        &record.pings_sent,
        &record.pongs,
        config.pong_timeout,
        record.ended,
        "Ping",
        "pong timeout",
        lasted,
    )
}
/// `pongs-echo-pings`: a v1 PONG answers the PING whose timestamp it echoes, so answers are
/// paired with PINGs by timestamp, not by order.
pub(super) fn pongs_echo_pings(record: &Record, config: &ClientSuiteConfig) -> Finding {
    let within = config.v1.ping_interval;
    let until = record.active_until();
    let v1 = &record.v1;
    let sent: HashMap<i64, Instant> = v1.pings_sent.iter().copied().collect();
    let strays: Vec<i64> = v1
        .pongs
        .iter()
        .map(|(timestamp, _)| *timestamp)
        .filter(|timestamp| !sent.contains_key(timestamp))
        .collect();
    if let Some(&stray) = strays.first() {
        let nearest = sent
            .keys()
            .min_by_key(|timestamp| timestamp.abs_diff(stray))
            .map(|timestamp| format!(" (the nearest PING carried {timestamp})"))
            .unwrap_or_default();
        return Finding::fail(format!(
            "{} of {} PONG(s) echoed a timestamp no PING carried, first {stray}{nearest}; echo each PING's timestamp_ms unchanged",
            strays.len(),
            v1.pongs.len()
        ));
    }
    let due: Vec<(i64, Instant)> = v1
        .pings_sent
        .iter()
        .copied()
        .filter(|(_, at)| *at + within <= until)
        .collect();
    if due.is_empty() {
        return too_short(until - record.since(), "PING", "v1 ping interval", within);
    }
    let mut slowest = Duration::ZERO;
    for (n, (timestamp, at)) in due.iter().enumerate() {
        let answer = v1.pongs.iter().find(|(echoed, _)| echoed == timestamp);
        let Some((_, answered)) = answer else {
            return Finding::fail(format!(
                "PING {} of {} (timestamp_ms {timestamp}) was never answered by a PONG echoing it; answer every PING with a PONG carrying its timestamp_ms",
                n + 1,
                due.len()
            ));
        };
        let took = answered.saturating_duration_since(*at);
        if took > within {
            return Finding::fail(format!(
                "PING {} of {} was answered after {}, beyond the v1 ping interval ({}); answer each PING at once",
                n + 1,
                due.len(),
                humantime::format_duration(round(took)),
                humantime::format_duration(within)
            ));
        }
        slowest = slowest.max(took);
    }
    Finding::pass(format!(
        "{} PINGs answered by PONGs echoing their timestamps, the slowest in {slowest:.1?}",
        due.len()
    ))
}

/// Whether each request sent early enough was answered within `within`, pairing answers with
/// requests in order.
pub(super) fn judge_answers(
    sent: &[Instant],
    answers: &[Instant],
    within: Duration,
    ended: Instant,
    what: &str,
    limit: &str,
    lasted: Duration,
) -> Finding {
    let due: Vec<&Instant> = sent.iter().filter(|at| **at + within <= ended).collect();
    if due.is_empty() {
        return too_short(lasted, what, limit, within);
    }
    let mut answers = answers.iter().peekable();
    for (n, at) in due.iter().enumerate() {
        while answers.next_if(|answer| *answer <= *at).is_some() {}
        match answers.next() {
            Some(answer) if *answer <= **at + within => {}
            Some(answer) => {
                return Finding::fail(format!(
                    "{what} {} of {} was answered after {}, beyond the {limit} ({})",
                    n + 1,
                    due.len(),
                    humantime::format_duration(round(*answer - **at)),
                    humantime::format_duration(within)
                ));
            }
            None => {
                return Finding::fail(format!(
                    "{what} {} of {} was never answered; answer every {what}",
                    n + 1,
                    due.len()
                ));
            }
        }
    }
    Finding::pass(format!("{} answered in time", due.len()))
}

/// The skip of a timed case whose session ended before anything was due.
pub(super) fn too_short(lasted: Duration, what: &str, limit: &str, within: Duration) -> Finding {
    Finding::skip(format!(
        "the session lasted {}, too short for a {what} to be answered within the {limit} ({}): run the client longer",
        humantime::format_duration(round(lasted)),
        humantime::format_duration(within)
    ))
}

pub(super) fn round(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    #[test]
    fn answers_are_paired_with_requests_in_order() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let within = Duration::from_millis(100);
        let sent = [at(0), at(100), at(200)];
        let ended = at(400);
        let lasted = Duration::from_millis(400);
        let judge = |answers: &[Instant]| {
            judge_answers(
                &sent,
                answers,
                within,
                ended,
                "Ping",
                "pong timeout",
                lasted,
            )
        };
        assert!(matches!(
            judge(&[at(10), at(110), at(210)]),
            Finding {
                verdict: Verdict::Pass,
                ..
            }
        ));
        assert!(
            matches!(judge(&[at(10), at(110)]), Finding { verdict: Verdict::Fail, detail } if detail.contains("3 of 3 was never answered"))
        );
        assert!(
            matches!(judge(&[at(10), at(250), at(260)]), Finding { verdict: Verdict::Fail, detail } if detail.contains("2 of 3 was answered after 150ms"))
        );
        let too_short = judge_answers(&sent, &[], within, at(50), "Ping", "pong timeout", lasted);
        assert_eq!(too_short.verdict, Verdict::Skip);
    }
}
