//! One session of the checker with the server under test, and the stream that lets the
//! eviction case go deaf and mute.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_net::{Connection, Handshake, local_kiss_response};
use hello_protocol::{
    EchoRequest, EchoResponse, ServerMessage, decode_server_message, defaults, encode,
};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::human;

/// One session of the checker with the server under test.
pub(super) struct Probe {
    pub(super) ws: Connection,
    pub(super) handshake: Handshake,
    pub(super) timeout: Duration,
}

impl Probe {
    pub(super) async fn send(&mut self, message: Message) -> Result<(), String> {
        self.ws
            .send(message)
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    pub(super) async fn send_text(&mut self, text: &str) -> Result<(), String> {
        self.send(Message::Text(text.into())).await
    }

    pub(super) async fn feed(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .feed(Message::Text(text.into()))
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    pub(super) async fn flush(&mut self) -> Result<(), String> {
        self.ws
            .flush()
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    /// The next application message, answering Kiss requests and skipping control frames.
    pub(super) async fn next_answer(&mut self) -> Result<ServerMessage, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.next_message(deadline, "answer").await?;
            match message {
                ServerMessage::Kiss(_) => self.send_text(&encode(&local_kiss_response())).await?,
                answer => return Ok(answer),
            }
        }
    }

    pub(super) async fn next_message(
        &mut self,
        deadline: Instant,
        what: &str,
    ) -> Result<ServerMessage, String> {
        // Whole milliseconds, for the message.
        let allowed =
            deadline.saturating_duration_since(Instant::now()) + Duration::from_micros(500);
        let allowed = Duration::from_millis(allowed.as_millis() as u64);
        loop {
            let message = match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(format!("no {what} came within {}", human(allowed))),
                Ok(None) => {
                    return Err(format!("the connection ended while waiting for the {what}"));
                }
                Ok(Some(Err(error))) => {
                    return Err(format!(
                        "the connection failed while waiting for the {what}: {error}"
                    ));
                }
                Ok(Some(Ok(message))) => message,
            };
            let bytes = match &message {
                Message::Text(text) => text.as_bytes(),
                Message::Binary(bytes) => bytes,
                Message::Close(frame) => {
                    return Err(format!(
                        "the server closed the session ({:?}) while the client waited for the {what}",
                        frame
                            .as_ref()
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                    ));
                }
                _ => continue,
            };
            return decode_server_message(bytes)
                .map_err(|error| format!("the server sent something unusable: {error}"));
        }
    }

    pub(super) async fn answer_kiss(&mut self, message: &Message) -> Result<(), String> {
        if let Message::Text(text) = message
            && let Ok(ServerMessage::Kiss(_)) = decode_server_message(text.as_bytes())
        {
            self.send_text(&encode(&local_kiss_response())).await?;
        }
        Ok(())
    }

    pub(super) async fn next_kiss(&mut self, deadline: Instant) -> Result<(), String> {
        match self.next_message(deadline, "Kiss request").await? {
            ServerMessage::Kiss(_) => Ok(()),
            other => Err(format!("got {other:?} where a Kiss request was due")),
        }
    }

    pub(super) async fn next_ping(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err("it did not arrive in time".to_owned()),
                Ok(Some(Ok(Message::Ping(_)))) => return Ok(()),
                Ok(Some(Ok(message))) => self.answer_kiss(&message).await?,
                Ok(Some(Err(error))) => return Err(format!("the connection failed: {error}")),
                Ok(None) => return Err("the connection ended".to_owned()),
            }
        }
    }

    pub(super) async fn echo_response(&mut self) -> Result<EchoResponse, String> {
        match self.next_answer().await? {
            ServerMessage::Echo(response) => Ok(response),
            ServerMessage::Error(error) => Err(format!(
                "a valid Echo request was answered with status {}: {}",
                error.status, error.error
            )),
            ServerMessage::Kiss(_) => unreachable!("next_answer skips Kiss requests"),
        }
    }

    pub(super) async fn expect_echo(
        &mut self,
        id: u64,
        data: &str,
    ) -> Result<EchoResponse, String> {
        let response = self.echo_response().await?;
        let result = response.result();
        if result.id != id {
            return Err(format!("the answer to id {id} carried id {}", result.id));
        }
        if result.kv.data != data {
            return Err(format!(
                "the answer to id {id} altered its data: sent {:?}, got {:?}",
                abbreviate(data),
                abbreviate(&result.kv.data)
            ));
        }
        if result.kv.meta.trim().is_empty() {
            return Err("`kv.meta` is empty: put the server's language tag there".to_owned());
        }
        Ok(response)
    }

    /// Sends one Echo request and checks its answer field by field.
    pub(super) async fn echo(&mut self, id: u64, data: &str) -> Result<EchoResponse, String> {
        self.send_text(&request_text(id, data)).await?;
        self.expect_echo(id, data).await
    }

    pub(super) async fn expect_close(
        &mut self,
        code: CloseCode,
        which: &str,
    ) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) if frame.code == code => return Ok(()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!(
                        "closed with {:?} instead of {which}",
                        frame.map(|f| u16::from(f.code))
                    ));
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(ServerMessage::Error(error)) = decode_server_message(text.as_bytes())
                    {
                        return Err(format!(
                            "answered status {} instead of Close {which}: {}",
                            error.status, error.error
                        ));
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => {
                    return Err(format!(
                        "the connection was dropped without a Close {which} frame"
                    ));
                }
                Err(_) => {
                    return Err(format!("no Close {which} within {}", human(self.timeout)));
                }
            }
        }
    }
}

pub(super) fn request_text(id: u64, data: &str) -> String {
    encode(&EchoRequest {
        id,
        data: data.to_owned(),
        meta: defaults::LANGUAGE_TAG.to_owned(),
    })
}

pub(super) fn abbreviate(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_owned()
    } else {
        format!(
            "{}… ({} bytes)",
            text.chars().take(40).collect::<String>(),
            text.len()
        )
    }
}
