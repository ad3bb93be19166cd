//! Messages in fragments (RFC 6455 section 5.4), sent as tungstenite's raw frames: one byte at a
//! time with Pings in between, UTF-8 characters cut across fragments, a total over the limit,
//! and a continuation with nothing to continue.

use futures_util::SinkExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use super::session::{Ending, Session, request_frame, request_text};
use super::{Robustness, human};
use crate::case::Dialect;
use crate::report::Finding;

/// Text whose characters are one to four bytes long.
const MIXED: &str = "héllo wörld – 日本語のテキスト – emoji 😀🎉🚀 – ünïcödé ✓ ";

impl Robustness {
    pub(super) async fn fragments_one_byte(&self) -> Finding {
        let data = format!("one byte at a time {}", "-".repeat(500));
        let checked = async {
            let mut session = self.open().await?;
            let (opcode, bytes) = request_bytes(&session, 7, &data);
            let fragments = split(&bytes, 1);
            let started = Instant::now();
            send_fragments(&mut session, opcode, &fragments, true).await?;
            session.answer(7, &data).await?;
            let took = started.elapsed();
            session.close().await;
            Ok::<_, String>(format!(
                "a {}-byte request in {} one-byte fragments with {} Pings between them was answered {} after its first fragment",
                bytes.len(),
                fragments.len(),
                fragments.len() - 1,
                human(took)
            ))
        };
        checked.await.map_err(|wrong| {
            format!("{wrong}: reassemble fragmented messages, and answer Pings between their fragments (RFC 6455 section 5.4)")
        }).into()
    }

    pub(super) async fn fragments_utf8_split(&self) -> Finding {
        let data = MIXED.repeat(4);
        let checked = async {
            let mut session = self.open().await?;
            let (opcode, bytes) = request_bytes(&session, 8, &data);
            let fragments = split(&bytes, 5);
            let data_at = bytes
                .windows(data.len())
                .position(|window| window == data.as_bytes())
                .unwrap_or(0);
            let cut = (1..fragments.len())
                .map(|n| n * 5)
                .filter(|&at| at > data_at && at < data_at + data.len())
                .filter(|&at| !data.is_char_boundary(at - data_at))
                .count();
            send_fragments(&mut session, opcode, &fragments, false).await?;
            session.answer(8, &data).await?;
            session.close().await;
            Ok::<_, String>(format!(
                "a {}-byte request in {} fragments of 5 bytes, {cut} of them cutting a character, was answered with the same data",
                bytes.len(),
                fragments.len()
            ))
        };
        checked
            .await
            .map_err(|wrong| {
                format!("{wrong}: a character may be cut across fragments; judge UTF-8 on the whole message")
            })
            .into()
    }

    pub(super) async fn fragments_over_limit(&self) -> Finding {
        let limit = self.config.max_message_size;
        let size = limit / 4 + 1;
        let total = size * 5;
        let mut session = match self.open().await {
            Ok(session) => session,
            Err(why) => return Finding::fail(format!("the session did not open: {why}")),
        };
        let data = "x".repeat(total);
        let (opcode, mut bytes) = request_bytes(&session, 9, &data);
        bytes.truncate(total);
        let fragments = split(&bytes, size);
        let bound = self.config.timeout + self.config.close_timeout;
        let sending = send_fragments(&mut session, opcode, &fragments, false);
        let sent = tokio::time::timeout(bound, sending)
            .await
            .unwrap_or_else(|_| Err(format!("the write did not finish within {}", human(bound))));
        let deadline = Instant::now() + bound;
        let ending = session.ending(deadline).await;
        let seen = format!(
            "{} fragments of {size} bytes, {total} in all (limit {limit}): the session ended with {ending}{}",
            fragments.len(),
            sent.err()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default()
        );
        if ending == Ending::Close(Some(1009)) {
            Finding::pass(seen)
        } else {
            Finding::fail(format!(
                "{seen}: close with 1009 a message whose fragments together exceed the limit (PROTOCOL.md section 6)"
            ))
        }
    }

    pub(super) async fn continuation_without_start(&self) -> Finding {
        let mut session = match self.open().await {
            Ok(session) => session,
            Err(why) => return Finding::fail(format!("the session did not open: {why}")),
        };
        let frame = Frame::message(b"x".to_vec(), OpCode::Data(Data::Continue), true);
        let sent = session.send(Message::Frame(frame)).await;
        let ending = session.ending(Instant::now() + self.config.timeout).await;
        let seen = format!(
            "a continuation frame with no message started: the session ended with {ending}{}",
            sent.err()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default()
        );
        match ending {
            Ending::Close(Some(1002)) => Finding::pass(seen),
            Ending::Close(_) | Ending::Reset | Ending::Eof => {
                Finding::pass(format!("{seen}, not Close 1002"))
            }
            Ending::Open | Ending::Failed(_) => Finding::fail(format!(
                "{seen} within {}: a continuation with nothing to continue is a protocol error; close with 1002 (PROTOCOL.md section 6)",
                human(self.config.timeout)
            )),
        }
    }
}

/// An Echo request's bytes in the session's dialect, and the opcode of its first fragment.
fn request_bytes(session: &Session, id: u64, data: &str) -> (Data, Vec<u8>) {
    match session.dialect {
        Dialect::Json => (Data::Text, request_text(id, data).into_bytes()),
        Dialect::V1 => (Data::Binary, request_frame(id, data)),
    }
}

fn split(bytes: &[u8], size: usize) -> Vec<Vec<u8>> {
    bytes.chunks(size.max(1)).map(<[u8]>::to_vec).collect()
}

/// Sends `fragments` as one message, with a Ping between each two when `pings`, in one write.
async fn send_fragments(
    session: &mut Session,
    opcode: Data,
    fragments: &[Vec<u8>],
    pings: bool,
) -> Result<(), String> {
    let last = fragments.len() - 1;
    let failed = |error: tokio_tungstenite::tungstenite::Error| format!("sending failed: {error}");
    for (n, fragment) in fragments.iter().enumerate() {
        let code = if n == 0 { opcode } else { Data::Continue };
        let frame = Frame::message(fragment.clone(), OpCode::Data(code), n == last);
        session
            .ws
            .feed(Message::Frame(frame))
            .await
            .map_err(failed)?;
        if pings && n != last {
            let ping = Message::Ping((n as u32).to_be_bytes().to_vec().into());
            session.ws.feed(ping).await.map_err(failed)?;
        }
    }
    session.ws.flush().await.map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixed_text_has_characters_of_every_length() {
        for len in 1..=4 {
            assert!(MIXED.chars().any(|c| c.len_utf8() == len), "{len}");
        }
    }
}
