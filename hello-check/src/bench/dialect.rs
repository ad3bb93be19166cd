//! What the two dialects do differently on a bench session's wire, and nothing else: how a
//! session opens (v1 says HELLO and waits for BONJOUR), how an Echo request is written, what a
//! message from the server means, and what answers the server's requests (a Kiss answer; in
//! v1 also a PONG for each PING). The loops of the Echo load and of the idle sessions are the
//! same for both dialects and live in the module above.
//!
//! A v1 answer is matched by its kv `id`, not by `results[0].idx`: the ecosystem's clients match
//! by kv `id`, and some of its servers put their clock in `results[].idx` (PROTOCOL.md, section
//! 12.4), so matching by `idx` would make the load unusable against them. What an answer must
//! carry is what the server suite holds a v1 server to: status 200, one result of type OK, kv
//! `id` and kv `data` unchanged.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_net::{Connection, local_kiss_response};
use hello_protocol::v1::{self, Message as V1, ResultKind};
use hello_protocol::{
    Dialect, EchoRequest, ServerMessage, decode_server_message, defaults, encode,
};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::{self, Message};

/// One dialect as a bench session speaks it.
#[derive(Debug, Clone)]
pub(super) struct Wire {
    dialect: Dialect,
    /// The server sends every frame back unchanged (the ceiling server): an answer is the
    /// request itself, and in v1 the HELLO comes back instead of a BONJOUR.
    frame_echo: bool,
    /// The answer to a Kiss request, encoded once.
    kiss_answer: Message,
}

/// What one message from the server means to a bench session.
pub(super) enum Heard {
    /// The answer to the Echo request with this id, or what is wrong with it.
    Answer(u64, Result<(), String>),
    /// A request of the server, to be answered with the message given, if any (tungstenite
    /// answers WebSocket Pings itself).
    Prompt(Prompt, Option<Message>),
    /// v1's BONJOUR, the answer to HELLO.
    Bonjour,
    /// Nothing to act on: a control frame, a TIME_NOTIFICATION.
    Nothing,
    /// The server ended the session, or the connection failed.
    Closed(String),
    /// A message that makes the session useless: undecodable, unexpected, an error.
    Fatal(String),
}

/// The server's requests a session answers, counted by the idle sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prompt {
    Kiss,
    /// A WebSocket Ping (JSON), or a v1 PING.
    Ping,
}

type Received = Option<Result<Message, tungstenite::Error>>;

impl Wire {
    pub(super) fn new(dialect: Dialect, frame_echo: bool) -> Wire {
        let kiss = local_kiss_response();
        let kiss_answer = match dialect {
            Dialect::Json => Message::Text(encode(&kiss).into()),
            Dialect::V1 => Message::Binary(v1::encode(&V1::from(&kiss)).into()),
        };
        Wire {
            dialect,
            frame_echo,
            kiss_answer,
        }
    }

    /// What a session does once connected, before any load: nothing in JSON; in v1, HELLO, then
    /// the wait for BONJOUR (answering whatever the server asks meanwhile), up to `wait`.
    pub(super) async fn greet(&self, ws: &mut Connection, wait: Duration) -> Result<(), String> {
        if self.dialect == Dialect::Json {
            return Ok(());
        }
        let hello = V1::Hello {
            client_language: defaults::LANGUAGE_TAG.to_owned(),
        };
        let deadline = Instant::now() + wait;
        ws.send(Message::Binary(v1::encode(&hello).into()))
            .await
            .map_err(|error| format!("sending HELLO: {error}"))?;
        loop {
            let Ok(message) = timeout_at(deadline, ws.next()).await else {
                return Err(format!(
                    "no BONJOUR within {}",
                    humantime::format_duration(wait)
                ));
            };
            match self.hear(message, "") {
                Heard::Bonjour => return Ok(()),
                Heard::Prompt(_, Some(reply)) => ws
                    .send(reply)
                    .await
                    .map_err(|error| format!("answering before BONJOUR: {error}"))?,
                Heard::Prompt(_, None) | Heard::Nothing => {}
                Heard::Answer(id, _) => {
                    return Err(format!("an answer for id {id} before BONJOUR"));
                }
                Heard::Closed(error) | Heard::Fatal(error) => {
                    return Err(format!("waiting for BONJOUR: {error}"));
                }
            }
        }
    }

    /// Echo request `id`.
    pub(super) fn request(&self, id: u64, data: &str) -> Message {
        let meta = defaults::LANGUAGE_TAG;
        match self.dialect {
            Dialect::Json => Message::Text(
                encode(&EchoRequest {
                    id,
                    data: data.to_owned(),
                    meta: meta.to_owned(),
                })
                .into(),
            ),
            Dialect::V1 => Message::Binary(
                v1::encode(&V1::EchoRequest {
                    id: id as i64,
                    meta: meta.to_owned(),
                    data: data.to_owned(),
                })
                .into(),
            ),
        }
    }

    /// The last message of a session before its Close: v1's DISCONNECT.
    pub(super) fn goodbye(&self) -> Option<Message> {
        (self.dialect == Dialect::V1).then(|| {
            Message::Binary(
                v1::encode(&V1::Disconnect {
                    reason: String::new(),
                })
                .into(),
            )
        })
    }

    /// What `message` means; an Echo answer is checked against `expected_data`.
    pub(super) fn hear(&self, message: Received, expected_data: &str) -> Heard {
        let bytes = match message {
            None => return Heard::Closed("the server closed the connection".to_owned()),
            Some(Err(error)) => return Heard::Closed(format!("the connection failed: {error}")),
            Some(Ok(Message::Close(frame))) => {
                return Heard::Closed(format!("the server closed the session: {frame:?}"));
            }
            Some(Ok(Message::Ping(_))) if self.dialect == Dialect::Json => {
                return Heard::Prompt(Prompt::Ping, None);
            }
            Some(Ok(Message::Text(text))) if self.dialect == Dialect::V1 => {
                return Heard::Fatal(format!("a text message on a v1 session: {text:?}"));
            }
            Some(Ok(Message::Text(text))) => text.into(),
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(_)) => return Heard::Nothing,
        };
        match self.dialect {
            Dialect::Json => self.hear_json(&bytes, expected_data),
            Dialect::V1 => match v1::decode(&bytes) {
                Ok(message) => self.hear_v1(message, expected_data),
                Err(error) => Heard::Fatal(format!("a frame that is not v1: {error}")),
            },
        }
    }

    fn hear_json(&self, bytes: &[u8], expected_data: &str) -> Heard {
        if self.frame_echo {
            return match serde_json::from_slice::<EchoRequest>(bytes) {
                Ok(echoed) => answer(echoed.id, same_data(&echoed.data, expected_data)),
                Err(error) => Heard::Fatal(format!("not an echoed request: {error}")),
            };
        }
        match decode_server_message(bytes) {
            Ok(ServerMessage::Echo(response)) => {
                let result = response.result();
                let verdict = if result.kv.idx != result.id.to_string() {
                    Err(format!("idx {:?}", result.kv.idx))
                } else {
                    same_data(&result.kv.data, expected_data)
                };
                answer(result.id, verdict)
            }
            Ok(ServerMessage::Kiss(_)) => {
                Heard::Prompt(Prompt::Kiss, Some(self.kiss_answer.clone()))
            }
            Ok(ServerMessage::Error(error)) => Heard::Fatal(format!(
                "the server answered with an error: {}",
                error.error
            )),
            Err(error) => Heard::Fatal(format!("a message that is not an answer: {error}")),
        }
    }

    fn hear_v1(&self, message: V1, expected_data: &str) -> Heard {
        match message {
            V1::EchoResponse { status, results } if !self.frame_echo => {
                echo_verdict(status, &results, expected_data)
            }
            V1::EchoRequest { id, data, .. } if self.frame_echo => match u64::try_from(id) {
                Ok(id) => answer(id, same_data(&data, expected_data)),
                Err(_) => Heard::Fatal(format!("an echoed request with id {id}, never sent")),
            },
            V1::Bonjour { .. } => Heard::Bonjour,
            V1::Hello { .. } if self.frame_echo => Heard::Bonjour,
            V1::Ping { timestamp_ms } => Heard::Prompt(
                Prompt::Ping,
                Some(Message::Binary(
                    v1::encode(&V1::Pong { timestamp_ms }).into(),
                )),
            ),
            V1::KissRequest { .. } => Heard::Prompt(Prompt::Kiss, Some(self.kiss_answer.clone())),
            V1::TimeNotification { .. } => Heard::Nothing,
            V1::Error { code, message } => {
                Heard::Fatal(format!("the server answered with ERROR {code}: {message}"))
            }
            other => Heard::Fatal(format!("an unexpected {}", other.type_name())),
        }
    }
}

/// The verdict on a v1 ECHO_RESPONSE: matched by its kv `id`, held to status 200, one OK
/// result and the data sent.
fn echo_verdict(status: i32, results: &[v1::EchoResult], expected_data: &str) -> Heard {
    let [result] = results else {
        return Heard::Fatal(format!(
            "an ECHO_RESPONSE with {} results, not one",
            results.len()
        ));
    };
    let kv = |key: &str| {
        result
            .kv
            .iter()
            .find_map(|(k, value)| (k == key).then_some(value.as_str()))
    };
    let Some(id) = kv("id").and_then(|id| id.parse::<u64>().ok()) else {
        return Heard::Fatal(format!(
            "an ECHO_RESPONSE without a request's id in kv: {:?}",
            result.kv
        ));
    };
    let verdict = if status != 200 {
        Err(format!("status {status}"))
    } else if result.kind != ResultKind::Ok {
        Err("a result of type ERROR".to_owned())
    } else {
        match kv("data") {
            Some(data) => same_data(data, expected_data),
            None => Err("no data in kv".to_owned()),
        }
    };
    answer(id, verdict)
}

/// The answer to request `id`; what is wrong with it names the id.
fn answer(id: u64, verdict: Result<(), String>) -> Heard {
    Heard::Answer(id, verdict.map_err(|wrong| format!("id {id}: {wrong}")))
}

fn same_data(data: &str, expected: &str) -> Result<(), String> {
    if data == expected {
        Ok(())
    } else {
        Err(format!("data {data:?} came back"))
    }
}
