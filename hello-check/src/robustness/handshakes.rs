//! What comes before, instead of, or beside a handshake: half handshakes left hanging
//! (`slowloris`), random bytes instead of a handshake or after one, and handshakes beyond the
//! connection limit (PROTOCOL.md section 1).

use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{StreamExt, stream};
use hello_net::{ClientStream, ConnectError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::session::{Ending, Held, Session, random_bytes};
use super::{Robustness, human};
use crate::report::Finding;

/// Handshakes in progress at once while many sessions are opened.
pub(super) const OPENING_CONCURRENCY: usize = 64;

/// How a connection the suite left hanging, or fed garbage, ended.
#[derive(Debug)]
enum Hung {
    /// It could not be established; why.
    NotEstablished(String),
    /// The server ended it this long after the suite's last byte, having sent these bytes.
    Dropped {
        after: Duration,
        reset: bool,
        answer: Vec<u8>,
    },
    /// Still open at the deadline.
    Open { answer: Vec<u8> },
}

impl Robustness {
    pub(super) async fn slowloris(&self) -> Finding {
        let count = self.config.scale.slowloris_connections;
        let timeout = self.config.handshake_timeout;
        let slack = self.config.slack;
        let half = self.half_handshake();
        let (settled, mut settling) = mpsc::unbounded_channel::<()>();
        let connections = join_all((0..count).map(|_| {
            let settled = settled.clone();
            let half = half.clone();
            async move {
                match self.raw_stream().await {
                    Ok(stream) => {
                        // The deadline is derived from the handshake timeout; `settled` lets
                        // the normal session start once every connection is hanging.
                        self.hang(stream, &half, timeout + slack, Some(settled))
                            .await
                    }
                    Err(why) => {
                        let _ = settled.send(());
                        Hung::NotEstablished(why)
                    }
                }
            }
        }));
        drop(settled);
        let normal = async {
            let mut hanging = 0;
            while hanging < count && settling.recv().await.is_some() {
                hanging += 1;
            }
            self.normal_session().await
        };
        let (hung, normal) = tokio::join!(connections, normal);

        let mut not_established: Vec<String> = Vec::new();
        let (mut early, mut open, mut dropped) = (0, 0, Vec::new());
        for hung in hung {
            match hung {
                Hung::NotEstablished(why) => not_established.push(why),
                Hung::Dropped { after, .. } => {
                    if after + slack < timeout {
                        early += 1;
                    }
                    dropped.push(after);
                }
                Hung::Open { .. } => open += 1,
            }
        }
        let established = count - not_established.len();
        let refused = not_established
            .iter()
            .filter(|why| why.contains("refused"))
            .count();
        let timed_out = not_established
            .iter()
            .filter(|why| why.contains("within"))
            .count();
        let mut seen = format!(
            "{count} half handshakes: {established} established, {} not ({refused} refused, {timed_out} timed out, {} other)",
            not_established.len(),
            not_established.len() - refused - timed_out
        );
        seen.push_str(&format!("; {} dropped", dropped.len()));
        if let (Some(first), Some(last)) = (dropped.iter().min(), dropped.iter().max()) {
            seen.push_str(&format!(
                " {}–{} after their last byte",
                human(*first),
                human(*last)
            ));
        }
        seen.push_str(&format!(
            " (handshake timeout {}), {early} before the timeout - slack, {open} still open at the timeout + slack",
            human(timeout)
        ));
        match &normal {
            Ok(took) => seen.push_str(&format!(
                "; a normal session was served in {}",
                human(*took)
            )),
            Err(why) => seen.push_str(&format!("; a normal session failed: {why}")),
        }
        if let Some(why) = not_established.first() {
            seen.push_str(&format!(" (first not established: {why})"));
        }
        if established == 0 {
            return Finding::fail(format!("{seen}: nothing to judge"));
        }
        if early > 0 || open > 0 {
            return Finding::fail(format!(
                "{seen}: drop a connection whose handshake has not completed within the handshake timeout, not before it (PROTOCOL.md section 1)"
            ));
        }
        if normal.is_err() {
            return Finding::fail(format!(
                "{seen}: half-open connections must not keep the server from serving"
            ));
        }
        Finding::pass(seen)
    }

    pub(super) async fn garbage_handshake(&self) -> Finding {
        let count = self.config.scale.garbage_connections;
        let bound = self.config.handshake_timeout + self.config.slack;
        let hung = join_all((0..count).map(|_| async move {
            match self.raw_stream().await {
                Ok(stream) => self.hang(stream, &random_bytes(512), bound, None).await,
                Err(why) => Hung::NotEstablished(why),
            }
        }))
        .await;
        let (mut answered_400, mut other_status, mut closed, mut reset, mut open) =
            (0, Vec::new(), 0, 0, 0);
        let mut not_established = Vec::new();
        for hung in hung {
            match hung {
                Hung::NotEstablished(why) => not_established.push(why),
                Hung::Dropped {
                    reset: was_reset,
                    answer,
                    ..
                } => match http_status(&answer) {
                    Some(400) => answered_400 += 1,
                    Some(status) => other_status.push(status),
                    None if was_reset => reset += 1,
                    None => closed += 1,
                },
                Hung::Open { answer } => {
                    if let Some(status) = http_status(&answer) {
                        other_status.push(status);
                    }
                    open += 1
                }
            }
        }
        let normal = self.normal_session().await;
        let mut seen = format!(
            "{count} connections sent 512 random bytes: {answered_400} answered HTTP 400, {closed} closed without an answer, {reset} reset, {open} still open after {}",
            human(bound)
        );
        if !other_status.is_empty() {
            seen.push_str(&format!(", other answers: HTTP {other_status:?}"));
        }
        if let Some(why) = not_established.first() {
            seen.push_str(&format!(
                ", {} not established (first: {why})",
                not_established.len()
            ));
        }
        match &normal {
            Ok(took) => seen.push_str(&format!(
                "; a normal session afterwards was served in {}",
                human(*took)
            )),
            Err(why) => seen.push_str(&format!("; a normal session afterwards failed: {why}")),
        }
        if open > 0 || other_status.iter().any(|status| *status < 400) {
            return Finding::fail(format!(
                "{seen}: answer bytes that are no handshake with HTTP 400, or close the connection (PROTOCOL.md section 1)"
            ));
        }
        if !not_established.is_empty() || normal.is_err() {
            return Finding::fail(format!(
                "{seen}: bad input on one connection must cost the server nothing else (section 6)"
            ));
        }
        Finding::pass(seen)
    }

    pub(super) async fn garbage_after_handshake(&self) -> Finding {
        let mut session = match self.open().await {
            Ok(session) => session,
            Err(why) => return Finding::fail(format!("the session did not open: {why}")),
        };
        // Random bytes, the first with the reserved bits set: no reading of them can be a
        // valid frame of a session without extensions.
        let mut garbage = random_bytes(512);
        garbage[0] |= 0x70;
        let stream = session.ws.get_mut().get_mut().inner();
        if let Err(error) = write_raw(stream, &garbage).await {
            return Finding::fail(format!("sending the bytes failed: {error}"));
        }
        let deadline = Instant::now() + self.config.timeout;
        let ending = session.ending(deadline).await;
        drop(session);
        let normal = self.normal_session().await;
        let mut seen =
            format!("512 random bytes after the handshake: the session ended with {ending}");
        match &normal {
            Ok(took) => seen.push_str(&format!(
                "; a normal session afterwards was served in {}",
                human(*took)
            )),
            Err(why) => seen.push_str(&format!("; a normal session afterwards failed: {why}")),
        }
        if !ending.ended() {
            return Finding::fail(format!(
                "{seen} within {}: close a session that breaks the WebSocket framing, with Close 1002 (PROTOCOL.md section 6)",
                human(self.config.timeout)
            ));
        }
        if normal.is_err() {
            return Finding::fail(format!(
                "{seen}: bad input on one session must cost the server nothing else"
            ));
        }
        Finding::pass(seen)
    }

    pub(super) async fn connection_limit(&self) -> Finding {
        let limit = self.config.max_connections;
        // Places still held by the sessions of earlier cases are freed by the time their
        // closing ends: a 503 before the limit is tried again until then.
        let settle = self.config.close_timeout + self.config.slack + self.config.timeout;
        let started = Instant::now();
        let (mut held, refused_first, failures) = self.open_held(limit, started + settle).await;
        let mut seen = format!(
            "{} of {limit} sessions admitted ({refused_first} refused at first and tried again)",
            held.len()
        );
        if held.len() < limit {
            let first = failures.first().cloned().unwrap_or_default();
            release_all(held).await;
            return Finding::fail(format!(
                "{seen}; the server refused sessions under its limit of {limit} within {} (first: {first}); is --max-connections the server's?",
                human(settle)
            ));
        }
        let beyond = self.handshake().await;
        let verdict = match &beyond {
            Err(ConnectError::Refused { status: 503, .. }) => Ok("the next was answered HTTP 503"),
            Err(ConnectError::Refused { status, .. }) => Err(format!(
                "the next handshake was answered HTTP {status}; answer 503 Service Unavailable at the limit (PROTOCOL.md section 1)"
            )),
            Err(ConnectError::Failed(why)) => Err(format!(
                "the next handshake got no answer ({why}); answer 503 Service Unavailable at the limit (PROTOCOL.md section 1)"
            )),
            Ok(_) => Err(format!(
                "the server admitted a session beyond its limit of {limit}; answer 503 at the limit"
            )),
        };
        drop(beyond);
        seen.push_str(&format!(
            "; {}",
            verdict.as_deref().unwrap_or_else(|wrong| wrong.as_str())
        ));
        if let Err(wrong) = verdict {
            release_all(held).await;
            return Finding::fail(format!("{} of {limit} sessions admitted; {wrong}", limit));
        }
        // Close some; as many new ones must be admitted again.
        let some = (limit / 10).clamp(1, limit);
        let closing: Vec<Held> = held.drain(..some).collect();
        let closed = join_all(closing.into_iter().map(|held| held.release(false))).await;
        let lost = closed.iter().filter(|result| result.is_err()).count();
        let reopened_at = Instant::now();
        let (again, refused_again, failures) = self.open_held(some, reopened_at + settle).await;
        let admitted = again.len();
        seen.push_str(&format!(
            "; {some} closed ({lost} had already ended), then {admitted} of {some} new sessions admitted in {} ({refused_again} refused at first)",
            human(reopened_at.elapsed())
        ));
        held.extend(again);
        release_all(held).await;
        if admitted < some {
            return Finding::fail(format!(
                "{seen} (first refusal: {}): free a place under the limit when a session ends",
                failures.first().cloned().unwrap_or_default()
            ));
        }
        Finding::pass(seen)
    }

    /// Opens `count` sessions kept alive, trying refused ones again until `deadline`: the
    /// sessions, how many were refused at first, and why the last tries failed.
    async fn open_held(&self, count: usize, deadline: Instant) -> (Vec<Held>, usize, Vec<String>) {
        let mut held = Vec::with_capacity(count);
        let mut refused_first = 0;
        let mut first_round = true;
        loop {
            let wanted = count - held.len();
            let opened: Vec<Result<Session, ConnectError>> = stream::iter(0..wanted)
                .map(|_| self.handshake())
                .buffer_unordered(OPENING_CONCURRENCY)
                .collect()
                .await;
            let mut failures = Vec::new();
            for result in opened {
                match result {
                    Ok(session) => held.push(Held::new(session)),
                    Err(error) => failures.push(error.to_string()),
                }
            }
            if first_round {
                refused_first = failures.len();
                first_round = false;
            }
            if failures.is_empty() || Instant::now() >= deadline {
                return (held, refused_first, failures);
            }
            // A place frees when a closing session's socket closes; look again shortly.
            let _ = timeout_at(deadline, tokio::time::sleep(Duration::from_millis(100))).await;
        }
    }

    /// The first lines of a handshake request for the server's path, without the blank line
    /// that would end it.
    fn half_handshake(&self) -> Vec<u8> {
        let request = self.config.url.as_str().into_client_request();
        let (path, host) = match &request {
            Ok(request) => (
                request.uri().path().to_owned(),
                request
                    .uri()
                    .authority()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            ),
            Err(_) => ("/".to_owned(), String::new()),
        };
        format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        )
        .into_bytes()
    }

    /// Sends `bytes` and says nothing more: how and when the server ended the connection,
    /// looking for `bound` after the last byte. `sent` hears when the bytes are out.
    async fn hang(
        &self,
        mut stream: ClientStream,
        bytes: &[u8],
        bound: Duration,
        sent: Option<mpsc::UnboundedSender<()>>,
    ) -> Hung {
        let written = write_raw(&mut stream, bytes).await;
        let last_byte = Instant::now();
        if let Some(sent) = sent {
            let _ = sent.send(());
        }
        if let Err(error) = written {
            return Hung::NotEstablished(format!("sending failed: {error}"));
        }
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        loop {
            match timeout_at(last_byte + bound, stream.read(&mut buffer)).await {
                Err(_) => return Hung::Open { answer },
                Ok(Ok(0)) => {
                    return Hung::Dropped {
                        after: last_byte.elapsed(),
                        reset: false,
                        answer,
                    };
                }
                Ok(Ok(read)) => {
                    if answer.len() < 256 {
                        answer.extend_from_slice(&buffer[..read]);
                    }
                }
                Ok(Err(_)) => {
                    return Hung::Dropped {
                        after: last_byte.elapsed(),
                        reset: true,
                        answer,
                    };
                }
            }
        }
    }
}

async fn write_raw(stream: &mut ClientStream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// The status of an HTTP answer, `HTTP/1.1 400 Bad Request` → 400.
fn http_status(answer: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(answer.get(..answer.len().min(32))?).ok()?;
    let rest = text.strip_prefix("HTTP/1.")?;
    rest.get(2..5)?.parse().ok()
}

async fn release_all(held: Vec<Held>) {
    join_all(held.into_iter().map(|held| held.release(false))).await;
}

/// Whether an ending is an eviction as PROTOCOL.md section 5 allows: Close 1008, or a reset
/// once the close timeout ran out.
pub(super) fn evicted(ending: &Ending) -> bool {
    matches!(ending, Ending::Close(Some(1008)) | Ending::Reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_from_the_status_line() {
        assert_eq!(http_status(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Some(400));
        assert_eq!(http_status(b"HTTP/1.0 503 Service Unavailable"), Some(503));
        assert_eq!(http_status(b"\x15\x03\x03"), None);
        assert_eq!(http_status(b""), None);
    }
}
