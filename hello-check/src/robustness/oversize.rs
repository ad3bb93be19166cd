//! `oversize-delivered`: clients each write one message several times the limit, in one frame
//! and one write, then read. The server decides on 1009 while the client is still writing, so
//! its Close reaches the client only if it keeps reading (and discarding) the rest before it
//! closes the socket: the lingering close of PROTOCOL.md section 7.

use futures_util::future::join_all;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::Robustness;
use super::session::{Ending, request_frame, request_text};
use crate::case::Dialect;
use crate::report::Finding;

const MIB: usize = 1024 * 1024;

/// The sizes written, largest first.
const SIZES: [usize; 2] = [8 * MIB, 2 * MIB];

/// The largest message the suite sends.
pub(super) const LARGEST: usize = SIZES[0];

/// What the clients of one size saw.
#[derive(Debug, Default)]
struct Tally {
    /// Close 1009, the whole message written: the server lingered.
    delivered: usize,
    /// Close 1009 read from the receive queue, but the write was cut short by the server's
    /// reset: it closed with the client's input unread, and only the kernel kept its Close.
    after_reset: usize,
    other_close: Vec<u16>,
    reset: usize,
    eof: usize,
    nothing: usize,
    failed: Vec<String>,
    /// What cut the first write short.
    first_cut: Option<String>,
}

impl Robustness {
    pub(super) async fn oversize_delivered(&self) -> Finding {
        let clients = self.config.scale.oversize_clients;
        let limit = self.config.max_message_size;
        let mut parts = Vec::new();
        let mut wrong = false;
        for size in SIZES {
            if size <= limit {
                parts.push(format!(
                    "{} MiB: not over the limit of {limit} bytes, not sent",
                    size / MIB
                ));
                continue;
            }
            let message = oversize_message(self.config.dialect, size);
            let outcomes =
                join_all((0..clients).map(|_| self.write_oversize(message.clone()))).await;
            let mut tally = Tally::default();
            for outcome in outcomes {
                let (ending, cut) = match outcome {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        tally.failed.push(error);
                        continue;
                    }
                };
                if let Some(cut) = &cut {
                    tally.first_cut.get_or_insert_with(|| cut.clone());
                }
                match ending {
                    Ending::Close(Some(1009)) if cut.is_none() => tally.delivered += 1,
                    Ending::Close(Some(1009)) => tally.after_reset += 1,
                    Ending::Close(code) => tally.other_close.push(code.unwrap_or(0)),
                    Ending::Reset => tally.reset += 1,
                    Ending::Eof => tally.eof += 1,
                    Ending::Open => tally.nothing += 1,
                    Ending::Failed(error) => tally.failed.push(error),
                }
            }
            wrong |= tally.delivered < clients;
            let mut part = format!(
                "{} MiB: {}/{clients} got Close 1009 with the whole message written, {} got it only after their write was cut short, {} a reset, {} an end without Close, {} nothing within {}",
                size / MIB,
                tally.delivered,
                tally.after_reset,
                tally.reset,
                tally.eof,
                tally.nothing,
                super::human(self.config.timeout + self.config.close_timeout),
            );
            if !tally.other_close.is_empty() {
                part.push_str(&format!(", other Closes {:?}", tally.other_close));
            }
            if let Some(first) = tally.failed.first() {
                part.push_str(&format!(", {} failed (first: {first})", tally.failed.len()));
            }
            if let Some(cut) = &tally.first_cut {
                part.push_str(&format!(" (a cut write: {cut})"));
            }
            parts.push(part);
        }
        let seen = parts.join("; ");
        if wrong {
            Finding::fail(format!(
                "{seen}. A client still writing a message over the limit must receive Close 1009, and no reset: after sending it, keep reading and discarding its input until its Close (bounded by the close timeout), then close (PROTOCOL.md section 7, lingering close)"
            ))
        } else if SIZES.iter().all(|&size| size <= limit) {
            Finding::skip(seen)
        } else {
            Finding::pass(seen)
        }
    }

    /// One client: the handshake, one write of the whole message, then how the session ended,
    /// and what cut the write short if anything did.
    async fn write_oversize(&self, message: Message) -> Result<(Ending, Option<String>), String> {
        let mut session = self.open().await?;
        // A server that neither reads nor closes would hold the write forever.
        let bound = self.config.timeout + self.config.close_timeout;
        let cut = match tokio::time::timeout(bound, session.send(message)).await {
            Ok(sent) => sent.err(),
            Err(_) => Some(format!(
                "the write did not finish within {}",
                super::human(bound)
            )),
        };
        let deadline = Instant::now() + bound;
        Ok((session.ending(deadline).await, cut))
    }
}

/// An Echo request of `size` bytes in the dialect, in one frame.
fn oversize_message(dialect: Dialect, size: usize) -> Message {
    let envelope = match dialect {
        Dialect::Json => request_text(1, "").len(),
        Dialect::V1 => request_frame(1, "").len(),
    };
    let data = "x".repeat(size.saturating_sub(envelope));
    match dialect {
        Dialect::Json => Message::Text(request_text(1, &data).into()),
        Dialect::V1 => Message::Binary(request_frame(1, &data).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_has_the_size_asked_for() {
        for dialect in [Dialect::Json, Dialect::V1] {
            let message = oversize_message(dialect, 2 * MIB);
            assert_eq!(message.len(), 2 * MIB, "{dialect:?}");
        }
    }
}
