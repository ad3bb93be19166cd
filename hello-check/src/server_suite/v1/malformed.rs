//! Bad frames on v1 sessions (PROTOCOL.md, section 11.4): each gets ERROR with its code, then
//! Close 1002; the answers to the frames before it still go out first; a new session works.

use hello_protocol::v1::{self, Message as V1};

use super::probe::{check_echo_answer, describe, echo_request, hello};
use crate::server_suite::{Checked, Checker};

/// A frame made wrong in one way, from HELLO "RUST":
/// `48 01 01 00 | 00 00 00 08 | 00 00 00 04 52 55 53 54`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadFrame {
    /// Magic `0x4A`: code 4.
    Magic,
    /// Version `0x02`: code 5.
    Version,
    /// A payload length of 9 with 8 bytes after the header: code 3.
    LongLength,
    /// A payload length of 7 with 8 bytes after the header: code 1, or 3.
    ShortLength,
    /// One byte after the HELLO's last field, counted in the length: code 1, or 3.
    TrailingPayload,
    /// A string length of 9 with 4 bytes left: code 1.
    TruncatedString,
    /// `RUS\xff`: code 1.
    InvalidUtf8,
}

impl BadFrame {
    pub(crate) fn bytes(self) -> Vec<u8> {
        let mut frame = v1::encode(&hello());
        match self {
            BadFrame::Magic => frame[0] = 0x4A,
            BadFrame::Version => frame[1] = 0x02,
            BadFrame::LongLength => frame[7] = 9,
            BadFrame::ShortLength => frame[7] = 7,
            BadFrame::TrailingPayload => {
                frame[7] = 9;
                frame.push(0);
            }
            BadFrame::TruncatedString => frame[11] = 9,
            BadFrame::InvalidUtf8 => frame[15] = 0xff,
        }
        frame
    }

    /// The codes PROTOCOL.md accepts for it, the one it requires first.
    pub(crate) fn codes(self) -> &'static [i32] {
        match self {
            BadFrame::Magic => &[4],
            BadFrame::Version => &[5],
            BadFrame::LongLength => &[3],
            BadFrame::ShortLength | BadFrame::TrailingPayload => &[1, 3],
            BadFrame::TruncatedString | BadFrame::InvalidUtf8 => &[1],
        }
    }

    fn what(self) -> &'static str {
        match self {
            BadFrame::Magic => "a frame with magic 0x4A",
            BadFrame::Version => "a frame with version 0x02",
            BadFrame::LongLength => "a payload length one larger than the bytes that follow",
            BadFrame::ShortLength => "a payload length one smaller than the bytes that follow",
            BadFrame::TrailingPayload => "a byte after HELLO's last field",
            BadFrame::TruncatedString => "a string length past the payload's end",
            BadFrame::InvalidUtf8 => "a string that is not valid UTF-8",
        }
    }
}

impl Checker {
    pub(crate) async fn v1_bad_frame(&self, bad: BadFrame) -> Checked {
        let mut probe = self.open_v1().await?;
        probe.send_bytes(bad.bytes()).await?;
        let (code, message) = probe
            .expect_error(bad.codes())
            .await
            .map_err(|wrong| format!("{}: {wrong}", bad.what()))?;
        probe.expect_close(1002).await.map_err(|wrong| {
            format!("after ERROR {code}: {wrong}; code {code} closes the session with 1002")
        })?;
        self.open_v1()
            .await?
            .echo(1, "others unaffected")
            .await
            .map_err(|wrong| format!("a new session after the bad frame: {wrong}"))?;
        Ok(format!("ERROR {code}: {message}"))
    }

    pub(crate) async fn v1_answers_before_error(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        for id in [1, 2] {
            probe
                .feed_bytes(v1::encode(&echo_request(id, "before the bad frame")))
                .await?;
        }
        probe.feed_bytes(BadFrame::Magic.bytes()).await?;
        probe
            .send_bytes(v1::encode(&echo_request(3, "after the bad frame")))
            .await?;
        for id in [1, 2] {
            let lost = |what: String| {
                format!(
                    "request {id}, sent before a bad frame in the same write: {what}; answer every frame before a bad one before the ERROR"
                )
            };
            let answer = probe.next_answer("ECHO_RESPONSE").await.map_err(lost)?;
            if let V1::Error { .. } = answer {
                return Err(lost(format!(
                    "{} came before its answer",
                    describe(&answer)
                )));
            }
            check_echo_answer(&answer, id, "before the bad frame")?;
        }
        probe.expect_error(BadFrame::Magic.codes()).await?;
        probe.expect_close(1002).await?;
        Ok(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_frame_is_refused_by_the_codec_with_the_code_it_requires() {
        let all = [
            BadFrame::Magic,
            BadFrame::Version,
            BadFrame::LongLength,
            BadFrame::ShortLength,
            BadFrame::TrailingPayload,
            BadFrame::TruncatedString,
            BadFrame::InvalidUtf8,
        ];
        for bad in all {
            let refused = v1::decode(&bad.bytes()).unwrap_err();
            assert_eq!(refused.code.number(), bad.codes()[0], "{bad:?}: {refused}");
        }
    }
}
