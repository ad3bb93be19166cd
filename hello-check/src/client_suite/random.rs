//! The v1 client's RANDOM_NUMBERs: one every `--random-interval`, give or take half of it, for
//! as long as the session lasts.

use std::time::Duration;

use tokio::time::Instant;

use super::ClientSuiteConfig;
use super::pings::round;
use super::watch::Record;
use crate::report::Finding;

/// `random-numbers-sent`
pub(super) fn random_numbers_sent(record: &Record, config: &ClientSuiteConfig) -> Finding {
    let interval = config.random_interval;
    let tolerance = interval / 2;
    let (start, end) = (record.since(), record.active_until());
    let arrivals: Vec<Instant> = record.v1.random_numbers.iter().map(|(_, at)| *at).collect();
    let show = |duration: Duration| humantime::format_duration(round(duration)).to_string();
    let (Some(first), Some(last)) = (arrivals.first(), arrivals.last()) else {
        let lasted = end - start;
        return if lasted < interval + tolerance {
            Finding::skip(format!(
                "the session lasted {}, under 1.5 random intervals ({}), and sent no RANDOM_NUMBER: run the client longer",
                show(lasted),
                show(interval + tolerance)
            ))
        } else {
            Finding::fail(format!(
                "no RANDOM_NUMBER in a session of {}; send one every {} (--random-interval)",
                show(lasted),
                show(interval)
            ))
        };
    };
    let lead = *first - start;
    if lead > interval + tolerance {
        return Finding::fail(format!(
            "the first RANDOM_NUMBER came {} after the session's first message, later than {} + {}; send one every random interval from the start",
            show(lead),
            show(interval),
            show(tolerance)
        ));
    }
    let gaps: Vec<Duration> = arrivals.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let allowed = interval - tolerance..=interval + tolerance;
    if let Some((n, gap)) = gaps
        .iter()
        .enumerate()
        .find(|(_, gap)| !allowed.contains(*gap))
    {
        return Finding::fail(format!(
            "RANDOM_NUMBER {} came {} after the one before, outside {} ± {}; send one every random interval",
            n + 2,
            show(*gap),
            show(interval),
            show(tolerance)
        ));
    }
    let tail = end.saturating_duration_since(*last);
    if tail > interval + tolerance {
        return Finding::fail(format!(
            "the last of {} RANDOM_NUMBER(s) came {} before the session ended, more than {} + {}: the client stopped sending them",
            arrivals.len(),
            show(tail),
            show(interval),
            show(tolerance)
        ));
    }
    let figures = match (gaps.iter().min(), gaps.iter().max()) {
        (Some(min), Some(max)) => format!(", gaps from {} to {}", show(*min), show(*max)),
        _ => String::new(),
    };
    Finding::pass(format!(
        "{} RANDOM_NUMBER(s), the first {} after the first message{figures}",
        arrivals.len(),
        show(lead)
    ))
}
