//! What a run does in PROTOCOL.md's JSON dialect: the Echo requests as text, and what each
//! message from the server means.

use hello_protocol::{ServerMessage, decode_server_message, encode};
use tokio_tungstenite::tungstenite::Message;

use super::{InFlight, Session, Shown};
use crate::ClientError;

/// The Echo requests in flight, as JSON text.
pub(super) fn requests(waiting: &[&InFlight]) -> Vec<Message> {
    waiting
        .iter()
        .map(|waiting| Message::Text(encode(&waiting.request).into()))
        .collect()
}

impl Session<'_> {
    /// Takes in one data message of a JSON session.
    pub(super) async fn handle_json(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        match decode_server_message(bytes) {
            Ok(ServerMessage::Echo(response)) => {
                let result = response.result();
                let waiting = self.take_answered(result.id, &result.kv.data)?;
                tracing::info!(
                    id = result.id,
                    data = %Shown(&result.kv.data),
                    meta = %result.kv.meta,
                    response_id = %result.kv.id,
                    latency = ?waiting.sent_at.elapsed(),
                    "echo"
                );
                Ok(())
            }
            Ok(ServerMessage::Kiss(kiss)) => {
                self.answer_kiss(&kiss, |answer| Message::Text(encode(answer).into()))
                    .await
            }
            Ok(ServerMessage::Error(error)) => Err(ClientError::Misbehaved(format!(
                "the server answered a well-formed request with status {}: {}",
                error.status, error.error
            ))),
            Err(error) => Err(ClientError::Misbehaved(format!(
                "the server sent a message the client cannot use: {error}"
            ))),
        }
    }
}
