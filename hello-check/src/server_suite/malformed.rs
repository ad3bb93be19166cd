//! Bad input: a 400 for what is not a valid message, Close 1007 and 1009 for what breaks the
//! session, and the session or the server still working afterwards (PROTOCOL.md section 6).

use hello_protocol::ServerMessage;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message};

use super::probe::request_text;

use super::{Checked, Checker};

impl Checker {
    pub(super) async fn malformed(&self, input: &str) -> Checked {
        let mut probe = self.open().await?;
        probe.send_text(input).await?;
        let error = match probe.next_answer().await? {
            ServerMessage::Error(error) => error,
            ServerMessage::Echo(_) => {
                return Err(format!(
                    "{input} was answered 200 as if it were a valid Echo request; answer 400"
                ));
            }
            ServerMessage::Kiss(_) => unreachable!("next_answer skips Kiss requests"),
        };
        if error.status != 400 {
            return Err(format!(
                "answered status {}, PROTOCOL.md section 6 says 400",
                error.status
            ));
        }
        if !error.results.is_empty() {
            return Err("the 400 answer's `results` must be an empty array".to_owned());
        }
        probe
            .echo(2, "still usable")
            .await
            .map_err(|wrong| format!("after the 400 the session no longer works: {wrong}"))?;
        Ok(format!("400: {}", error.error))
    }

    pub(super) async fn invalid_utf8(&self) -> Checked {
        let mut probe = self.open().await?;
        let bad = Bytes::from_static(b"{\"id\": 1, \"data\": \"\xc3\x28\", \"meta\": \"RUST\"}");
        probe
            .send(Message::Frame(Frame::message(
                bad,
                OpCode::Data(Data::Text),
                true,
            )))
            .await?;
        probe.expect_close(CloseCode::Invalid, "1007").await?;
        self.open().await?.echo(1, "others unaffected").await?;
        Ok(String::new())
    }

    pub(super) async fn over_limit(&self) -> Checked {
        let mut probe = self.open().await?;
        let envelope = request_text(1, "").len();
        let data = "x".repeat(self.config.max_message_size + 1 - envelope);
        // The server may close before the whole message is written.
        let _ = probe.send_text(&request_text(1, &data)).await;
        probe.expect_close(CloseCode::Size, "1009").await?;
        self.open().await?.echo(1, "others unaffected").await?;
        Ok(String::new())
    }
}
