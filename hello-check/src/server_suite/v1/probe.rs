//! One v1 session of the checker with the server under test: frames out, frames in, and the
//! timers' frames (PING, TIME_NOTIFICATION, KISS_REQUEST) answered along the way as a good
//! client answers them.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_net::{Connection, Handshake, local_kiss_response};
use hello_protocol::v1::{self, Message as V1};
use hello_protocol::{GREETINGS, defaults};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

use crate::server_suite::human;
use crate::server_suite::probe::abbreviate;

/// What came from the server, as a v1 client sees it.
pub(crate) enum Incoming {
    Frame(V1),
    /// A binary message that is no valid frame, and why.
    Undecodable(v1::FrameError),
    /// A text message, which v1 never sends.
    Text(String),
    /// The server's Close, with its code.
    Closed(Option<u16>),
}

/// One v1 session of the checker with the server under test.
pub(crate) struct V1Probe {
    pub(crate) ws: Connection,
    pub(crate) handshake: Handshake,
    pub(crate) timeout: Duration,
}

impl V1Probe {
    pub(crate) async fn send(&mut self, message: &V1) -> Result<(), String> {
        self.send_bytes(v1::encode(message)).await
    }

    pub(crate) async fn send_bytes(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.ws
            .send(Message::Binary(frame.into()))
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    /// Queues frames to go out together with the next [`V1Probe::send_bytes`] or flush.
    pub(crate) async fn feed_bytes(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.ws
            .feed(Message::Binary(frame.into()))
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    pub(crate) async fn flush(&mut self) -> Result<(), String> {
        self.ws
            .flush()
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    /// The next thing the server sends before `deadline`, control frames skipped.
    pub(crate) async fn next_incoming(
        &mut self,
        deadline: Instant,
        what: &str,
    ) -> Result<Incoming, String> {
        loop {
            let message = match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(format!("no {what} came in time")),
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
            return Ok(match message {
                Message::Binary(frame) => match v1::decode(&frame) {
                    Ok(message) => Incoming::Frame(message),
                    Err(error) => Incoming::Undecodable(error),
                },
                Message::Text(text) => Incoming::Text(text.to_string()),
                Message::Close(frame) => Incoming::Closed(frame.map(|f| u16::from(f.code))),
                _ => continue,
            });
        }
    }

    /// The next frame before `deadline`; anything else is an error that says what came.
    pub(crate) async fn next_frame(&mut self, deadline: Instant, what: &str) -> Result<V1, String> {
        match self.next_incoming(deadline, what).await? {
            Incoming::Frame(message) => Ok(message),
            Incoming::Undecodable(error) => Err(format!(
                "the server sent a frame that does not decode while the client waited for the {what}: {error}"
            )),
            Incoming::Text(text) => Err(format!(
                "the server sent a text message on a v1 session while the client waited for the {what}: {}",
                abbreviate(&text)
            )),
            Incoming::Closed(code) => Err(format!(
                "the server closed the session ({code:?}) while the client waited for the {what}"
            )),
        }
    }

    /// Answers a timer's frame as a good client does: PONG for PING, KISS_RESPONSE for
    /// KISS_REQUEST. Returns whether `message` was one of the timers' frames.
    pub(crate) async fn answer_timer(&mut self, message: &V1) -> Result<bool, String> {
        match message {
            V1::Ping { timestamp_ms } => {
                let pong = V1::Pong {
                    timestamp_ms: *timestamp_ms,
                };
                self.send(&pong).await?;
            }
            V1::KissRequest { .. } => {
                self.send(&V1::from(&local_kiss_response())).await?;
            }
            V1::TimeNotification { .. } => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The next frame that answers the client, timers' frames answered and skipped.
    pub(crate) async fn next_answer(&mut self, what: &str) -> Result<V1, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.next_frame(deadline, what).await.map_err(|wrong| {
                if wrong.starts_with("no ") {
                    format!("no {what} came within {}", human(self.timeout))
                } else {
                    wrong
                }
            })?;
            if !self.answer_timer(&message).await? {
                return Ok(message);
            }
        }
    }

    /// Sends HELLO and expects BONJOUR with a server language.
    pub(crate) async fn hello(&mut self) -> Result<String, String> {
        self.send(&hello()).await?;
        match self.next_answer("BONJOUR").await? {
            V1::Bonjour { server_language } if !server_language.trim().is_empty() => {
                Ok(server_language)
            }
            V1::Bonjour { .. } => Err(
                "BONJOUR carries an empty server_language: send the server's language tag"
                    .to_owned(),
            ),
            other => Err(format!(
                "HELLO was answered with {}, not BONJOUR",
                describe(&other)
            )),
        }
    }

    /// Sends one ECHO_REQUEST and checks its answer (PROTOCOL.md, section 12.4): status 200, one
    /// result of type OK, `kv.id` the id in decimal and `kv.data` the data unchanged. What else
    /// differs from the rule (the result's `idx`, `kv.meta`, `kv.idx`) is returned as notes.
    pub(crate) async fn echo(&mut self, id: i64, data: &str) -> Result<Vec<String>, String> {
        self.send(&echo_request(id, data)).await?;
        let answer = self.next_answer("ECHO_RESPONSE").await?;
        check_echo_answer(&answer, id, data)
    }

    /// Expects ERROR with one of `codes`; returns the code that came and its message.
    pub(crate) async fn expect_error(&mut self, codes: &[i32]) -> Result<(i32, String), String> {
        let wanted = codes
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        match self.next_answer("ERROR").await? {
            V1::Error { code, message } if codes.contains(&code) => Ok((code, message)),
            V1::Error { code, message } => Err(format!(
                "ERROR came with code {code} ({message:?}), PROTOCOL.md section 11.4 says {wanted}"
            )),
            other => Err(format!(
                "answered with {} where ERROR code {wanted} was due",
                describe(&other)
            )),
        }
    }

    /// Expects the server's Close with `code`, skipping frames before it.
    pub(crate) async fn expect_close(&mut self, code: u16) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.next_incoming(deadline, "Close").await {
                Ok(Incoming::Closed(Some(came))) if came == code => return Ok(()),
                Ok(Incoming::Closed(came)) => {
                    return Err(format!("closed with {came:?} instead of {code}"));
                }
                Ok(Incoming::Frame(message)) => {
                    self.answer_timer(&message).await?;
                }
                Ok(_) => {}
                Err(wrong) if wrong.starts_with("no ") => {
                    return Err(format!("no Close {code} within {}", human(self.timeout)));
                }
                Err(_) => {
                    return Err(format!(
                        "the connection was dropped without a Close {code} frame"
                    ));
                }
            }
        }
    }
}

pub(crate) fn hello() -> V1 {
    V1::Hello {
        client_language: defaults::LANGUAGE_TAG.to_owned(),
    }
}

pub(crate) fn echo_request(id: i64, data: &str) -> V1 {
    V1::EchoRequest {
        id,
        meta: defaults::LANGUAGE_TAG.to_owned(),
        data: data.to_owned(),
    }
}

/// A greeting to echo, different for each id.
pub(crate) fn greeting(id: i64) -> String {
    let at = usize::try_from(id.unsigned_abs() % GREETINGS.len() as u64).unwrap_or(0);
    format!("{} #{id}", GREETINGS[at])
}

/// The rule an ECHO_RESPONSE to `id`, `data` is held to; see [`V1Probe::echo`].
pub(crate) fn check_echo_answer(answer: &V1, id: i64, data: &str) -> Result<Vec<String>, String> {
    let V1::EchoResponse { status, results } = answer else {
        return Err(format!(
            "ECHO_REQUEST {id} was answered with {}, not ECHO_RESPONSE",
            describe(answer)
        ));
    };
    if *status != 200 {
        return Err(format!(
            "ECHO_RESPONSE to {id} has status {status}, not 200"
        ));
    }
    let [result] = results.as_slice() else {
        return Err(format!(
            "ECHO_RESPONSE to {id} has {} results, not one",
            results.len()
        ));
    };
    if result.kind != v1::ResultKind::Ok {
        return Err(format!(
            "ECHO_RESPONSE to {id} has a result of type ERROR, not OK"
        ));
    }
    let value = |key: &str| {
        result
            .kv
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let id_text = id.to_string();
    match value("id") {
        Some(came) if came == id_text => {}
        Some(came) => {
            return Err(format!(
                "the answer to {id} has kv.id {:?}; it must be the request's id in decimal, which clients match answers by",
                abbreviate(came)
            ));
        }
        None => {
            return Err(format!(
                "the answer to {id} has no kv.id; put the request's id there in decimal, which clients match answers by"
            ));
        }
    }
    match value("data") {
        Some(came) if came == data => {}
        Some(came) => {
            return Err(format!(
                "the answer to {id} altered its data: sent {:?}, got {:?}",
                abbreviate(data),
                abbreviate(came)
            ));
        }
        None => return Err(format!("the answer to {id} has no kv.data")),
    }
    let mut notes = Vec::new();
    if result.idx != id {
        notes.push(format!("results[0].idx is {}, not the id", result.idx));
    }
    if value("idx") != Some(id_text.as_str()) {
        notes.push(format!(
            "kv.idx is {:?}, not the id",
            value("idx").map(abbreviate)
        ));
    }
    if value("meta").is_none_or(|meta| meta.trim().is_empty()) {
        notes.push("kv.meta is missing or empty, not the server's language tag".to_owned());
    }
    Ok(notes)
}

/// A frame as a verdict names it: its type, and its fields when they are short.
pub(crate) fn describe(message: &V1) -> String {
    let text = format!("{message:?}");
    format!("{} {}", message.type_name(), abbreviate(&text))
}
