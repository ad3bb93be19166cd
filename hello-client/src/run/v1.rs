//! What a run does in the ecosystem's binary dialect v1 (PROTOCOL.md, sections 11 and 12): HELLO
//! and the Echo requests as frames, a RANDOM_NUMBER every `random_interval` with its
//! HASH_RESPONSE checked, a PONG for each PING, a KISS_RESPONSE for each KISS_REQUEST, and
//! DISCONNECT at the end.
//!
//! Answers are matched by their kv `id`, never by order nor by `results[0].idx`: some of the
//! ecosystem's servers put their clock in `idx` (PROTOCOL.md, section 12.4).

use std::collections::BTreeMap;

use hello_protocol::v1::{self, EchoResult, ErrorCode, FrameError, Message as V1, ResultKind};
use hello_protocol::{KissRequest, defaults};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use uuid::Uuid;

use super::{Closing, FAREWELL, InFlight, Session, SessionEnd, Shown};
use crate::ClientError;

/// What a v1 session keeps beside the Echo requests in flight.
pub(super) struct V1State {
    /// The next RANDOM_NUMBER's id; ids rise from 1 in each session.
    next_id: i64,
    /// When the next RANDOM_NUMBER is due.
    next_random: Instant,
    /// The RANDOM_NUMBERs awaiting their HASH_RESPONSE, by id: the number and when it was sent.
    awaiting_hash: BTreeMap<i64, (i64, Instant)>,
}

impl V1State {
    /// A session that opens now: its first RANDOM_NUMBER is due an interval from now, as a
    /// server's timers start an interval after the session does.
    pub(super) fn new(random_interval: std::time::Duration) -> Self {
        V1State {
            next_id: 1,
            next_random: Instant::now() + random_interval,
            awaiting_hash: BTreeMap::new(),
        }
    }

    /// When the next RANDOM_NUMBER is due.
    pub(super) fn next_random(&self) -> Instant {
        self.next_random
    }

    /// Whether every RANDOM_NUMBER has had its HASH_RESPONSE.
    pub(super) fn all_hashed(&self) -> bool {
        self.awaiting_hash.is_empty()
    }

    /// When the oldest RANDOM_NUMBER awaiting its HASH_RESPONSE was sent.
    pub(super) fn oldest_awaiting(&self) -> Option<Instant> {
        self.awaiting_hash
            .values()
            .map(|(_, sent_at)| *sent_at)
            .min()
    }

    /// The ids of the RANDOM_NUMBERs awaiting their HASH_RESPONSE, in order.
    pub(super) fn awaiting_ids(&self) -> Vec<i64> {
        self.awaiting_hash.keys().copied().collect()
    }
}

/// HELLO, then the Echo requests in flight, as the session's first frames.
pub(super) fn opening(waiting: &[&InFlight]) -> Vec<Message> {
    let hello = V1::Hello {
        client_language: defaults::LANGUAGE_TAG.to_owned(),
    };
    let requests = waiting.iter().map(|waiting| {
        let request = &waiting.request;
        frame(&V1::EchoRequest {
            id: i64::try_from(request.id).expect("request ids count from 1, far below i64::MAX"),
            meta: request.meta.clone(),
            data: request.data.clone(),
        })
    });
    std::iter::once(frame(&hello)).chain(requests).collect()
}

/// `message` as the binary WebSocket message that carries it.
fn frame(message: &V1) -> Message {
    Message::Binary(v1::encode(message).into())
}

/// A random i64 over the whole range, negative numbers included: the two halves of a v4 UUID
/// XORed, so that the bits each half fixes (version, variant) are random from the other half.
fn random_number() -> i64 {
    let (high, low) = Uuid::new_v4().as_u64_pair();
    i64::from_be_bytes((high ^ low).to_be_bytes())
}

impl Session<'_> {
    fn v1_state(&mut self) -> &mut V1State {
        self.v1.as_mut().expect("a v1 session has its state")
    }

    /// Takes in one data message of a v1 session.
    pub(super) async fn handle_v1(&mut self, message: Message) -> Result<(), ClientError> {
        let decoded = match &message {
            Message::Binary(bytes) => v1::decode(bytes),
            _ => Err(FrameError {
                code: ErrorCode::Decode,
                what: "a text message on a v1 session, where every message is a binary frame"
                    .into(),
            }),
        };
        let message = match decoded {
            Ok(message) if message.server_sends() => message,
            Ok(message) => {
                let what = format!(
                    "{} is a client's message, not a server's",
                    message.type_name()
                );
                return self
                    .refuse(FrameError {
                        code: ErrorCode::UnknownType,
                        what,
                    })
                    .await;
            }
            Err(error) => return self.refuse(error).await,
        };
        match message {
            V1::Bonjour { server_language } => {
                tracing::info!(%server_language, "bonjour");
                Ok(())
            }
            V1::EchoResponse { status, results } => self.take_echo_response(status, &results),
            V1::KissRequest {
                os_name,
                os_version,
                os_release,
                os_architecture,
            } => {
                let kiss = KissRequest {
                    os_name,
                    os_version,
                    os_release,
                    os_architecture,
                };
                self.answer_kiss(&kiss, |answer| frame(&V1::from(answer)))
                    .await
            }
            V1::Ping { timestamp_ms } => {
                self.silence.heard();
                self.report.pings_seen += 1;
                tracing::debug!(timestamp_ms, "ping");
                self.send_now(frame(&V1::Pong { timestamp_ms })).await?;
                self.report.pongs_sent += 1;
                Ok(())
            }
            V1::TimeNotification {
                timestamp_ms,
                iso8601,
            } => {
                self.report.time_notifications_seen += 1;
                tracing::info!(timestamp_ms, %iso8601, "time");
                Ok(())
            }
            V1::HashResponse { id, hash_hex } => self.check_hash(id, &hash_hex),
            V1::Error { code, message } => Err(ClientError::Misbehaved(format!(
                "the server sent ERROR code {code}: {message}"
            ))),
            client_message => unreachable!(
                "{} is a client's message, refused above",
                client_message.type_name()
            ),
        }
    }

    /// Answers a frame the client cannot use as the protocol says: ERROR with the frame's code,
    /// then, for a code that closes the session, Close 1002 and a failed run. An unknown type
    /// (code 2) is told to the server and the session goes on.
    async fn refuse(&mut self, error: FrameError) -> Result<(), ClientError> {
        let answer = frame(&V1::Error {
            code: error.code.number(),
            message: error.what.clone(),
        });
        if !error.code.closes_session() {
            tracing::warn!("the server sent a frame the client cannot use: {error}");
            return self.send_now(answer).await;
        }
        let close = CloseFrame {
            code: CloseCode::Protocol,
            reason: "malformed v1 frame".into(),
        };
        // The run fails whether or not these reach the server.
        let _ = self.send_now(answer).await;
        let _ = self.send_now(Message::Close(Some(close))).await;
        Err(ClientError::Misbehaved(format!(
            "the server sent a frame the client cannot decode: {error}"
        )))
    }

    /// Matches an ECHO_RESPONSE to its request by the kv `id`, and holds it to what every v1
    /// server must say: status 200, one result of type OK, the data unchanged.
    fn take_echo_response(
        &mut self,
        status: i32,
        results: &[EchoResult],
    ) -> Result<(), ClientError> {
        let [result] = results else {
            return Err(ClientError::Misbehaved(format!(
                "an ECHO_RESPONSE with {} results, where one is due",
                results.len()
            )));
        };
        let kv = |key: &str| {
            result
                .kv
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        let Some(id) = kv("id").and_then(|id| id.parse::<u64>().ok()) else {
            return Err(ClientError::Misbehaved(format!(
                "an ECHO_RESPONSE whose kv names no request by its id: {:?}",
                result.kv
            )));
        };
        if status != 200 || result.kind != ResultKind::Ok {
            return Err(ClientError::Misbehaved(format!(
                "the answer to Echo request {id} has status {status} and a result of type {:?}, \
                 where 200 and Ok are due",
                result.kind
            )));
        }
        let Some(data) = kv("data") else {
            return Err(ClientError::Misbehaved(format!(
                "the answer to Echo request {id} has no data in its kv: {:?}",
                result.kv
            )));
        };
        let waiting = self.take_answered(id, data)?;
        tracing::info!(
            id,
            data = %Shown(data),
            meta = %kv("meta").unwrap_or("(none)"),
            idx = result.idx,
            latency = ?waiting.sent_at.elapsed(),
            "echo"
        );
        Ok(())
    }

    /// Sends the RANDOM_NUMBER that is due, and sets the next one an interval from now.
    pub(super) async fn send_random_number(&mut self) -> Result<(), ClientError> {
        let interval = self.config.random_interval;
        let state = self.v1_state();
        let (id, number, now) = (state.next_id, random_number(), Instant::now());
        state.next_id += 1;
        state.next_random = now + interval;
        state.awaiting_hash.insert(id, (number, now));
        tracing::debug!(id, number, "random number");
        self.send_now(frame(&V1::RandomNumber { id, number })).await
    }

    /// Checks a HASH_RESPONSE against the client's own hash of the number it answers.
    fn check_hash(&mut self, id: i64, hash_hex: &str) -> Result<(), ClientError> {
        let Some((number, sent_at)) = self.v1_state().awaiting_hash.remove(&id) else {
            return Err(ClientError::Misbehaved(format!(
                "a HASH_RESPONSE for RANDOM_NUMBER {id}, which awaits none"
            )));
        };
        let expected = v1::hash_hex(number);
        if hash_hex != expected {
            return Err(ClientError::Misbehaved(format!(
                "the HASH_RESPONSE to RANDOM_NUMBER {id} ({number}) says {hash_hex:?}, where \
                 SHA-256 gives {expected:?}"
            )));
        }
        self.report.hashes_verified += 1;
        tracing::info!(id, number, hash = %hash_hex, latency = ?sent_at.elapsed(), "hash");
        Ok(())
    }

    /// Ends a v1 session: DISCONNECT, then the server's Close, which tungstenite answers; when
    /// none comes within the timeout, Close 1000 from the client.
    pub(super) async fn disconnect(&mut self) -> Result<SessionEnd, ClientError> {
        let disconnect = frame(&V1::Disconnect {
            reason: FAREWELL.to_owned(),
        });
        if self.send_now(disconnect).await.is_ok() {
            if let Some(close) = self.await_close().await {
                let (code, reason) = close.map_or((CloseCode::Status, String::new()), |close| {
                    (close.code, close.reason.to_string())
                });
                if code != CloseCode::Normal {
                    tracing::warn!(
                        "the server answered DISCONNECT with Close {} {reason}, not 1000",
                        u16::from(code)
                    );
                }
                self.report.closing = Some(Closing::ByServer {
                    code: code.into(),
                    reason,
                });
                return Ok(SessionEnd::Finished);
            }
            tracing::warn!(
                "the server's Close did not come within {} of DISCONNECT; closing with 1000",
                humantime::format_duration(self.config.timeout)
            );
        }
        self.close().await
    }
}
