//! Clients that press the server's memory or its patience: non-readers that write and never
//! read, a Ping flood, and frozen clients among live ones (PROTOCOL.md sections 5 and 6). A
//! normal client is served meanwhile, and the server's memory is measured when its pid is known.

use std::io::ErrorKind;
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt, stream};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

use super::handshakes::{OPENING_CONCURRENCY, evicted};
use super::memory::{MemoryFigures, MemoryWatch};
use super::session::{Ending, Held, Session};
use super::{Robustness, human};
use crate::case::Dialect;
use crate::report::Finding;

/// How a normal client fared while a case pressed the server.
#[derive(Debug, Default)]
struct Served {
    round_trips: usize,
    slowest: Duration,
    failure: Option<String>,
}

impl Served {
    fn describe(&self) -> String {
        match &self.failure {
            None => format!(
                "a normal client meanwhile: {} Echo round trips, the slowest {}",
                self.round_trips,
                human(self.slowest)
            ),
            Some(why) => format!(
                "a normal client meanwhile FAILED after {} round trips: {why}",
                self.round_trips
            ),
        }
    }
}

/// What one writer that never reads did.
struct Written {
    sent: usize,
    /// Why the writing stopped before its count and its time, if it did.
    cut: Option<String>,
    /// Whether it stopped on a reset. The kernel reports a reset once: to the write that meets
    /// it, after which a read sees only the end of the stream.
    reset: bool,
}

impl Robustness {
    pub(super) async fn non_readers(&self) -> Finding {
        let scale = &self.config.scale;
        let (count, requests) = (scale.non_readers, scale.non_reader_requests);
        let memory = MemoryWatch::start(self.config.server_pid);
        let opened: Vec<Result<(Session, Instant), String>> = stream::iter(0..count)
            .map(|_| async {
                let session = self.open().await?;
                Ok((session, Instant::now()))
            })
            .buffer_unordered(OPENING_CONCURRENCY)
            .collect()
            .await;
        let mut sessions = Vec::with_capacity(count);
        let mut not_opened = Vec::new();
        for result in opened {
            match result {
                Ok(opened) => sessions.push(opened),
                Err(why) => not_opened.push(why),
            }
        }
        // Requests of 1 KiB, so that the answers fill the sockets' buffers and the server must
        // hold them back, or hold them.
        let data = format!("I write and never read {}", "x".repeat(1000));
        let writing_ends = Instant::now() + scale.write_time;
        let bound = self.config.eviction_bound();
        let stop = CancellationToken::new();
        let pressure = async {
            let written = join_all(sessions.iter_mut().map(|(session, _)| {
                write_without_reading(session, requests, writing_ends, |id, session| {
                    session.request(id, &data)
                })
            }))
            .await;
            // Now the suite looks, and writes nothing more: each must have been evicted by the
            // eviction bound after its handshake (it never answered a Ping).
            let endings = join_all(sessions.iter_mut().map(|(session, opened)| {
                session.freeze();
                let deadline = (*opened + bound).max(Instant::now() + self.config.slack);
                session.ending(deadline)
            }))
            .await;
            stop.cancel();
            (written, endings)
        };
        let ((written, endings), served) =
            tokio::join!(pressure, self.served_meanwhile(stop.clone()));
        drop(sessions);
        let figures = memory.finish();

        let sent: usize = written.iter().map(|w| w.sent).sum();
        let cut = written.iter().filter(|w| w.cut.is_some()).count();
        let mut seen = format!(
            "{} non-readers wrote {sent} Echo requests in all (at most {requests} each, for at most {}), {cut} cut short by the server",
            written.len(),
            human(scale.write_time)
        );
        if !not_opened.is_empty() {
            seen.push_str(&format!(
                ", {} did not open (first: {})",
                not_opened.len(),
                not_opened[0]
            ));
        }
        // A write cut by a reset was the ending: the read after it only sees the stream end.
        let endings: Vec<Ending> = endings
            .into_iter()
            .zip(&written)
            .map(|(ending, written)| match ending {
                Ending::Eof if written.reset => Ending::Reset,
                ending => ending,
            })
            .collect();
        let (ok, wrong) = self.judge_evictions(&endings, bound);
        seen.push_str(&format!("; {ok}; {}", served.describe()));
        let memory_wrong = self.memory_verdict(figures, &mut seen);
        if let Some(wrong) = wrong {
            return Finding::fail(format!("{seen}: {wrong}"));
        }
        if served.failure.is_some() || !not_opened.is_empty() {
            return Finding::fail(format!(
                "{seen}: clients that do not read must cost the server nothing else (PROTOCOL.md section 6)"
            ));
        }
        if let Some(wrong) = memory_wrong {
            return Finding::fail(format!("{seen}: {wrong}"));
        }
        Finding::pass(seen)
    }

    pub(super) async fn ping_flood(&self) -> Finding {
        let pings = self.config.scale.ping_flood;
        let memory = MemoryWatch::start(self.config.server_pid);
        let mut flooder = match self.open_in(Dialect::Json).await {
            Ok(session) => session,
            Err(why) => return Finding::fail(format!("the flooding session did not open: {why}")),
        };
        let started = Instant::now();
        let writing_ends = started + self.config.scale.write_time;
        let stop = CancellationToken::new();
        let flood = async {
            let written = write_without_reading(&mut flooder, pings, writing_ends, |n, _| {
                Message::Ping(n.to_be_bytes().to_vec().into())
            })
            .await;
            stop.cancel();
            written
        };
        let (written, served) = tokio::join!(flood, self.served_meanwhile(stop.clone()));
        let took = started.elapsed();
        let afterwards = self.normal_session().await;
        flooder.freeze();
        let flooder_ending = flooder.ending(Instant::now() + self.config.slack).await;
        drop(flooder);
        let figures = memory.finish();

        let mut seen = format!(
            "{} of {pings} Pings sent in {}{}; {}",
            written.sent,
            human(took),
            written
                .cut
                .as_ref()
                .map(|why| format!(" (cut short: {why})"))
                .unwrap_or_default(),
            served.describe()
        );
        match &afterwards {
            Ok(took) => seen.push_str(&format!(
                "; a normal session afterwards was served in {}",
                human(*took)
            )),
            Err(why) => seen.push_str(&format!("; a normal session afterwards failed: {why}")),
        }
        seen.push_str(&format!("; the flooder then saw {flooder_ending}"));
        let memory_wrong = self.memory_verdict(figures, &mut seen);
        if served.failure.is_some() || afterwards.is_err() {
            return Finding::fail(format!(
                "{seen}: one client's Pings must cost the server nothing else (PROTOCOL.md section 6)"
            ));
        }
        if let Some(wrong) = memory_wrong {
            return Finding::fail(format!("{seen}: {wrong}"));
        }
        Finding::pass(seen)
    }

    pub(super) async fn frozen_clients(&self) -> Finding {
        let total = self.config.scale.frozen_sessions;
        let frozen_count = self.config.scale.frozen_stopped.min(total);
        // Live sessions are kept alive as soon as they open; frozen ones stop at once.
        let opened: Vec<(usize, Result<Opened, String>)> = stream::iter(0..total)
            .map(|n| async move {
                let session = self.open().await.map(|session| {
                    if n < frozen_count {
                        session.freeze();
                        Opened::Frozen(Box::new(session))
                    } else {
                        Opened::Live(Held::new(session))
                    }
                });
                (n, session)
            })
            .buffer_unordered(OPENING_CONCURRENCY)
            .collect()
            .await;
        let frozen_at = Instant::now();
        let (mut frozen, mut live, mut not_opened) = (Vec::new(), Vec::new(), Vec::new());
        for (_, result) in opened {
            match result {
                Ok(Opened::Frozen(session)) => frozen.push(session),
                Ok(Opened::Live(held)) => live.push(held),
                Err(why) => not_opened.push(why),
            }
        }
        let bound = self.config.eviction_bound();
        sleep_until(frozen_at + bound).await;
        let look = Instant::now() + self.config.slack;
        let endings = join_all(frozen.iter_mut().map(|session| session.ending(look))).await;
        drop(frozen);
        let live_count = live.len();
        let live_results = join_all(live.into_iter().map(|held| held.release(true))).await;
        let live_lost: Vec<&String> = live_results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .collect();

        let (ok, wrong) = self.judge_evictions(&endings, bound);
        let mut seen = format!(
            "{total} sessions, {} frozen: {ok}; {} of {live_count} live ones kept and answered an Echo at the end",
            endings.len(),
            live_count - live_lost.len()
        );
        if !not_opened.is_empty() {
            seen.push_str(&format!(
                "; {} did not open (first: {})",
                not_opened.len(),
                not_opened[0]
            ));
        }
        if let Some(wrong) = wrong {
            return Finding::fail(format!("{seen}: {wrong}"));
        }
        if let Some(first) = live_lost.first() {
            return Finding::fail(format!(
                "{seen}; a live one: {first}: a client that answers every Ping must never be evicted (PROTOCOL.md section 5)"
            ));
        }
        if !not_opened.is_empty() {
            return Finding::fail(seen);
        }
        Finding::pass(seen)
    }

    /// Counts the endings of sessions that stopped answering Pings: what they saw, and what
    /// is wrong if any was not evicted.
    fn judge_evictions(&self, endings: &[Ending], bound: Duration) -> (String, Option<String>) {
        let closes = endings
            .iter()
            .filter(|e| **e == Ending::Close(Some(1008)))
            .count();
        let resets = endings.iter().filter(|e| **e == Ending::Reset).count();
        let open = endings.iter().filter(|e| **e == Ending::Open).count();
        let otherwise: Vec<String> = endings
            .iter()
            .filter(|e| !evicted(e) && **e != Ending::Open)
            .map(Ending::to_string)
            .collect();
        let mut seen = format!(
            "{} of {} evicted by {} ({closes} Close 1008, {resets} reset), {open} still open",
            closes + resets,
            endings.len(),
            human(bound)
        );
        if let Some(first) = otherwise.first() {
            seen.push_str(&format!(
                ", {} ended otherwise (first: {first})",
                otherwise.len()
            ));
        }
        let wrong = (closes + resets < endings.len()).then(|| {
            let timers = match self.config.dialect {
                Dialect::Json => "ping interval + pong timeout",
                Dialect::V1 => "v1 session timeout + v1 ping interval",
            };
            format!(
                "evict a client that stops answering Pings within {timers} (+ slack), with Close 1008, and abort it (a reset) if it does not take the Close within the close timeout (PROTOCOL.md section 5)"
            )
        });
        (seen, wrong)
    }

    /// Appends the memory figures to `seen`; what is wrong if the growth passed the bound.
    fn memory_verdict(&self, figures: Option<MemoryFigures>, seen: &mut String) -> Option<String> {
        let Some(figures) = figures else {
            if self.config.server_pid.is_some() {
                seen.push_str("; the server's memory could not be read");
            }
            return None;
        };
        seen.push_str(&format!("; {figures}"));
        (figures.growth() > self.config.max_memory_growth).then(|| {
            format!(
                "the server's memory grew by more than {}: bound what one session holds (PROTOCOL.md section 6)",
                super::mib(self.config.max_memory_growth)
            )
        })
    }

    /// A normal client's session, an Echo round trip about every 100 ms (answering what a live
    /// client answers in between), until `stop`.
    async fn served_meanwhile(&self, stop: CancellationToken) -> Served {
        let mut served = Served::default();
        let mut session = match self.open().await {
            Ok(session) => session,
            Err(why) => {
                served.failure = Some(format!("it did not open: {why}"));
                return served;
            }
        };
        // At least one round trip, however soon the pressure ends.
        let mut id = 0;
        loop {
            id += 1;
            match session.echo(id, "served meanwhile").await {
                Ok(took) => {
                    served.round_trips += 1;
                    served.slowest = served.slowest.max(took);
                }
                Err(why) => {
                    served.failure = Some(why);
                    return served;
                }
            }
            if stop.is_cancelled() {
                break;
            }
            let pause = Instant::now() + Duration::from_millis(100);
            tokio::select! {
                () = stop.cancelled() => {}
                result = session.stay_alive(pause) => if let Err(why) = result {
                    served.failure = Some(why);
                    return served;
                }
            }
        }
        session.close().await;
        served
    }
}

enum Opened {
    Frozen(Box<Session>),
    Live(Held),
}

/// Writes up to `count` messages made by `message`, never reading, until `deadline`.
async fn write_without_reading(
    session: &mut Session,
    count: usize,
    deadline: Instant,
    message: impl Fn(u64, &Session) -> Message,
) -> Written {
    let mut sent = 0;
    let writing = async {
        for n in 0..count {
            let next = message(n as u64, session);
            session.ws.feed(next).await?;
            sent += 1;
            if sent % 64 == 0 {
                session.ws.flush().await?;
            }
        }
        session.ws.flush().await
    };
    let (cut, reset) = match timeout_at(deadline, writing).await {
        Ok(Ok(())) | Err(_) => (None, false),
        Ok(Err(error)) => {
            let reset = matches!(
                &error,
                WsError::Io(error) if matches!(
                    error.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
                )
            );
            (Some(error.to_string()), reset)
        }
    };
    Written { sent, cut, reset }
}
