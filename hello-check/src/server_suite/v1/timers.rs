//! The v1 timers (PROTOCOL.md, section 12.3): PING, TIME_NOTIFICATION and KISS_REQUEST each
//! every interval, and the session timeout, which removes a session with no matching PONG and
//! never one whose PONGs match. These wait for the server, so they run side by side.

use std::time::{Duration, SystemTime};

use hello_protocol::v1::{self, Message as V1};
use tokio::time::Instant;

use super::probe::{Incoming, V1Probe};
use crate::server_suite::{Checked, Checker, human};

/// How far a server's clock may be from the checker's and its timestamps still count as
/// plausible: enough for two hosts' clocks, far too little for seconds or microseconds read
/// as milliseconds.
const CLOCK_TOLERANCE: Duration = Duration::from_secs(10);

/// How a client under test answers PINGs while a timed case watches the session timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pongs {
    /// Every PING is answered with its own timestamp.
    Matching,
    /// Every PING is answered, but with its timestamp plus one: a PONG that matches nothing.
    Unmatched,
    /// No PING is answered.
    None,
}

impl Checker {
    /// Waits for two frames that `pick` recognises, each within `interval` (+ slack) of the one
    /// before (the first of the HELLO), answering the timers' frames as a good client does.
    /// Returns what `pick` made of them.
    async fn two_timer_frames<T>(
        &self,
        probe: &mut V1Probe,
        name: &str,
        interval: Duration,
        pick: impl Fn(&V1) -> Option<Result<T, String>>,
    ) -> Result<Vec<T>, String> {
        let mut last = Instant::now();
        let mut picked = Vec::new();
        for nth in ["first", "second"] {
            let deadline = last + interval + self.config.slack;
            loop {
                let message = probe.next_frame(deadline, name).await.map_err(|wrong| {
                    format!(
                        "the {nth} {name}: {wrong}; send one every {} (within {} of slack)",
                        human(interval),
                        human(self.config.slack)
                    )
                })?;
                probe.answer_timer(&message).await?;
                if let Some(found) = pick(&message) {
                    picked.push(found.map_err(|wrong| format!("the {nth} {name}: {wrong}"))?);
                    break;
                }
            }
            last = Instant::now();
        }
        Ok(picked)
    }

    pub(crate) async fn v1_pings_arrive(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let stamps = self
            .two_timer_frames(
                &mut probe,
                "PING",
                self.config.v1.ping_interval,
                |message| match message {
                    V1::Ping { timestamp_ms } => {
                        Some(plausible(*timestamp_ms).map(|()| *timestamp_ms))
                    }
                    _ => None,
                },
            )
            .await?;
        if stamps[1] <= stamps[0] {
            return Err(format!(
                "the second PING's timestamp {} is not after the first's {}",
                stamps[1], stamps[0]
            ));
        }
        Ok(format!("timestamps {} ms apart", stamps[1] - stamps[0]))
    }

    pub(crate) async fn v1_time_arrives(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let times = self
            .two_timer_frames(
                &mut probe,
                "TIME_NOTIFICATION",
                self.config.v1.time_interval,
                |message| match message {
                    V1::TimeNotification {
                        timestamp_ms,
                        iso8601,
                    } => Some(agreeing_time(*timestamp_ms, iso8601).map(|()| iso8601.clone())),
                    _ => None,
                },
            )
            .await?;
        Ok(format!("e.g. {}", times[0]))
    }

    pub(crate) async fn v1_kiss_arrives(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let facts = self
            .two_timer_frames(
                &mut probe,
                "KISS_REQUEST",
                self.config.v1.kiss_interval,
                |message| match message {
                    V1::KissRequest {
                        os_name,
                        os_version,
                        os_release,
                        os_architecture,
                    } => {
                        let all = [os_name, os_version, os_release, os_architecture];
                        Some(if all.iter().any(|fact| fact.trim().is_empty()) {
                            Err(format!("a fact is empty in {all:?}; send all four"))
                        } else {
                            Ok(format!("{os_name} {os_release} {os_architecture}"))
                        })
                    }
                    _ => None,
                },
            )
            .await?;
        // Each KISS_REQUEST was answered as it came; an ERROR for the answers shows here.
        probe
            .echo(1, "after the KISS_RESPONSE")
            .await
            .map_err(|wrong| {
                format!("after the KISS_RESPONSE: {wrong} (a valid KISS_RESPONSE gets no answer)")
            })?;
        Ok(facts[0].clone())
    }

    /// A v1 session whose PINGs are answered as `pongs` says, watched until the session timeout
    /// plus a ping interval plus the slack has passed, or the server closes it. Returns the
    /// Close's code, if any, when it came (since the HELLO), and how many PINGs came.
    async fn watch_session_timeout(
        &self,
        pongs: Pongs,
    ) -> Result<(Option<u16>, Duration, u32), String> {
        let mut probe = self.open_v1_silent().await?;
        let hello_sent = Instant::now();
        probe.hello().await?;
        let timings = self.config.v1;
        let until =
            hello_sent + timings.session_timeout + timings.ping_interval + self.config.slack;
        let mut pings = 0;
        loop {
            match probe.next_incoming(until, "Close").await {
                Err(wrong) if wrong.starts_with("no ") => {
                    return Ok((None, hello_sent.elapsed(), pings));
                }
                Err(wrong) => return Err(wrong),
                Ok(Incoming::Closed(code)) => return Ok((code, hello_sent.elapsed(), pings)),
                Ok(Incoming::Frame(V1::Ping { timestamp_ms })) => {
                    pings += 1;
                    let echoed = match pongs {
                        Pongs::Matching => timestamp_ms,
                        Pongs::Unmatched => timestamp_ms.wrapping_add(1),
                        Pongs::None => continue,
                    };
                    probe
                        .send(&V1::Pong {
                            timestamp_ms: echoed,
                        })
                        .await?;
                }
                Ok(Incoming::Frame(other)) => {
                    probe.answer_timer(&other).await?;
                }
                Ok(_) => {}
            }
        }
    }

    pub(crate) async fn v1_eviction(&self, pongs: Pongs) -> Checked {
        let timings = self.config.v1;
        let (code, after, pings) = self.watch_session_timeout(pongs).await?;
        let earliest = timings.session_timeout.saturating_sub(self.config.slack);
        let which = match pongs {
            Pongs::None => "a client that answered no PING",
            _ => "a client whose PONGs matched no PING",
        };
        match code {
            None => Err(format!(
                "{which} ({pings} PINGs) was still connected {} after its HELLO; remove a session with no matching PONG for the session timeout ({})",
                measured(after),
                human(timings.session_timeout)
            )),
            Some(_) if after < earliest => Err(format!(
                "{which} was closed {} after its HELLO, before the session timeout ({}) had run",
                measured(after),
                human(timings.session_timeout)
            )),
            Some(1008) => Ok(format!(
                "closed with 1008 {} after the HELLO",
                measured(after)
            )),
            Some(code) => Err(format!(
                "evicted {} after the HELLO, but with Close {code}; PROTOCOL.md section 12.3 says 1008 \"pong timeout\"",
                measured(after)
            )),
        }
    }

    pub(crate) async fn v1_live_not_evicted(&self) -> Checked {
        let (code, after, pings) = self.watch_session_timeout(Pongs::Matching).await?;
        if let Some(code) = code {
            return Err(format!(
                "a client answering every PING with its timestamp was closed with {code} {} after its HELLO; a matching PONG must extend the session",
                measured(after)
            ));
        }
        if pings == 0 {
            return Err(
                "no PING arrived, so a live client's eviction could not be judged".to_owned(),
            );
        }
        Ok(format!("{pings} PINGs answered over {}", measured(after)))
    }
}

/// A measured time, to the millisecond.
fn measured(duration: Duration) -> String {
    human(Duration::from_millis(duration.as_millis() as u64))
}

/// A timestamp in ms since the Unix epoch near the checker's clock.
fn plausible(timestamp_ms: i64) -> Result<(), String> {
    let now = v1::unix_ms(SystemTime::now());
    let off = timestamp_ms.abs_diff(now);
    if off > CLOCK_TOLERANCE.as_millis() as u64 {
        return Err(format!(
            "timestamp_ms {timestamp_ms} is {off} ms from the checker's clock ({now}); send ms since the Unix epoch"
        ));
    }
    Ok(())
}

/// A TIME_NOTIFICATION's timestamp is plausible, and its iso8601 is RFC 3339 in UTC with
/// milliseconds and `Z`, naming the same millisecond (one apart at most, for a server that read
/// its clock twice).
fn agreeing_time(timestamp_ms: i64, iso8601: &str) -> Result<(), String> {
    plausible(timestamp_ms)?;
    let shape_ok =
        iso8601.len() == 24 && iso8601.ends_with('Z') && iso8601.as_bytes().get(19) == Some(&b'.');
    let parsed = humantime::parse_rfc3339(iso8601).ok().filter(|_| shape_ok).ok_or_else(|| {
        format!("iso8601 {iso8601:?} is not RFC 3339 in UTC with milliseconds, like 2026-12-01T20:57:43.123Z")
    })?;
    let said = v1::unix_ms(parsed);
    if said.abs_diff(timestamp_ms) > 1 {
        return Err(format!(
            "iso8601 {iso8601:?} is {} ms from timestamp_ms {timestamp_ms}; both name the same time",
            said - timestamp_ms
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_must_agree_and_be_written_to_the_millisecond_in_utc() {
        let now = SystemTime::now();
        let ms = v1::unix_ms(now);
        assert_eq!(agreeing_time(ms, &v1::iso8601(now)), Ok(()));
        let seconds = humantime::format_rfc3339_seconds(now).to_string();
        assert!(
            agreeing_time(ms, &seconds)
                .unwrap_err()
                .contains("with milliseconds")
        );
        assert!(
            agreeing_time(ms + 5, &v1::iso8601(now))
                .unwrap_err()
                .contains("ms from")
        );
        assert!(
            plausible(ms / 1000)
                .unwrap_err()
                .contains("ms since the Unix epoch")
        );
    }
}
