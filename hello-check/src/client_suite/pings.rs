//! The client's Pongs: every Ping answered within the pong timeout; and how a request is judged
//! answered in time, for Pings and Kiss requests alike.

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
        return Finding::skip(format!(
            "the session lasted {}, too short for a {what} to be answered within the {limit} ({}): run the client longer",
            humantime::format_duration(round(lasted)),
            humantime::format_duration(within)
        ));
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
