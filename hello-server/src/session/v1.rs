//! What a v1 session adds to the loop (PROTOCOL.md, section 12): its answers to each frame, and
//! its own timers, PING, TIME_NOTIFICATION, KISS_REQUEST and the session timeout.
//!
//! Nothing here does I/O: the session loop hands each incoming message to [`V1Session::answer`]
//! and each timer tick to [`V1Session::on_timers`], and writes out what they return. Each says
//! what kind of message came and went, for the loop to count.

use std::collections::VecDeque;
use std::time::SystemTime;

use hello_protocol::v1::{self, ErrorCode, FrameError, Message, Timings};
use hello_protocol::{KissResponse, defaults};
use tokio::time::Instant;

use crate::metrics::{Malformed, Received, Sent};

/// What one incoming message of a v1 session was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum V1Input {
    /// A client's message, whether it matched anything or not.
    Message(Received),
    /// A frame refused with an ERROR.
    Refused(Malformed),
}

/// What the loop does with one incoming message of a v1 session.
pub(super) enum V1Answer {
    /// Send this frame, of this kind.
    Send(Vec<u8>, Sent),
    /// A KISS_RESPONSE, to record.
    Kiss(KissResponse),
    /// A PONG that matched a PING: the session lives on.
    Matched,
    /// Nothing to send: a PONG that matched no PING, the client's own ERROR.
    Nothing,
    /// Send this ERROR, then close with 1002; `what` says why.
    Fail { error: Vec<u8>, what: String },
    /// The client said DISCONNECT: close with 1000.
    Disconnect(String),
}

/// What the v1 timers asked for when they fired.
pub(super) enum V1Due {
    /// Frames to send, in order, each with its kind.
    Send(Vec<(Vec<u8>, Sent)>),
    /// No matching PONG for the session timeout: evict.
    Expired,
}

/// The state of one v1 session.
pub(super) struct V1Session {
    timings: Timings,
    next_ping: Instant,
    next_time: Instant,
    next_kiss: Instant,
    /// When the session is removed unless a matching PONG comes first.
    expires: Instant,
    /// The timestamps of PINGs not yet matched, oldest first, with when each was sent; at most
    /// [`Timings::outstanding_pings`].
    outstanding: VecDeque<(i64, Instant)>,
}

impl V1Session {
    /// A session that became v1 at `now`: its timers start here.
    pub(super) fn new(timings: Timings, now: Instant) -> V1Session {
        V1Session {
            timings,
            next_ping: now + timings.ping_interval,
            next_time: now + timings.time_interval,
            next_kiss: now + timings.kiss_interval,
            expires: now + timings.session_timeout,
            outstanding: VecDeque::with_capacity(timings.outstanding_pings().min(64)),
        }
    }

    /// When a timer next needs the loop.
    pub(super) fn next_due(&self) -> Instant {
        self.next_ping
            .min(self.next_time)
            .min(self.next_kiss)
            .min(self.expires)
    }

    /// Fires the timers that are due at `now`. A timer that fell behind (the loop was busy)
    /// fires once and is set an interval from now, never in a burst.
    pub(super) fn on_timers(&mut self, now: Instant, kiss_request: &[u8]) -> V1Due {
        if now >= self.expires {
            return V1Due::Expired;
        }
        let mut frames = Vec::new();
        if now >= self.next_ping {
            self.next_ping = now + self.timings.ping_interval;
            let timestamp_ms = v1::unix_ms(SystemTime::now());
            self.outstanding.retain(|(_, sent)| {
                now.saturating_duration_since(*sent) < self.timings.session_timeout
            });
            if self.outstanding.len() >= self.timings.outstanding_pings() {
                self.outstanding.pop_front();
            }
            self.outstanding.push_back((timestamp_ms, now));
            frames.push((v1::encode(&Message::Ping { timestamp_ms }), Sent::V1Ping));
        }
        if now >= self.next_time {
            self.next_time = now + self.timings.time_interval;
            let time = Message::time_notification(SystemTime::now());
            frames.push((v1::encode(&time), Sent::V1TimeNotification));
        }
        if now >= self.next_kiss {
            self.next_kiss = now + self.timings.kiss_interval;
            frames.push((kiss_request.to_vec(), Sent::V1KissRequest));
        }
        V1Due::Send(frames)
    }

    /// Answers one binary message of the client, and says what it was.
    pub(super) fn answer(&mut self, frame: &[u8], now: Instant) -> (V1Input, V1Answer) {
        let message = match v1::decode(frame) {
            Ok(message) => message,
            Err(error) => return refuse(&error),
        };
        if !message.client_sends() {
            return refuse(&FrameError {
                code: ErrorCode::UnknownType,
                what: format!("{} is sent by a server, not to one", message.type_name()),
            });
        }
        let (received, answer) = match message {
            Message::Hello { .. } => (
                Received::V1Hello,
                V1Answer::Send(
                    v1::encode(&Message::Bonjour {
                        server_language: defaults::LANGUAGE_TAG.to_owned(),
                    }),
                    Sent::V1Bonjour,
                ),
            ),
            Message::EchoRequest { id, data, .. } => (
                Received::V1EchoRequest,
                V1Answer::Send(
                    v1::encode(&v1::echo_answer(id, data, defaults::LANGUAGE_TAG)),
                    Sent::V1EchoResponse,
                ),
            ),
            Message::KissResponse {
                language,
                encoding,
                time_zone,
            } => (
                Received::V1KissResponse,
                V1Answer::Kiss(KissResponse {
                    language,
                    encoding,
                    time_zone,
                }),
            ),
            Message::Pong { timestamp_ms } => (Received::V1Pong, self.pong(timestamp_ms, now)),
            Message::RandomNumber { id, number } => (
                Received::V1RandomNumber,
                V1Answer::Send(
                    v1::encode(&Message::hash_response(id, number)),
                    Sent::V1HashResponse,
                ),
            ),
            Message::Disconnect { reason } => {
                (Received::V1Disconnect, V1Answer::Disconnect(reason))
            }
            Message::Error { code, message } => {
                tracing::debug!(code, %message, "the client sent ERROR");
                (Received::V1Error, V1Answer::Nothing)
            }
            _ => unreachable!("client_sends() is true only of the messages above"),
        };
        (V1Input::Message(received), answer)
    }

    /// A text message, which a v1 session does not take: a decode error.
    pub(super) fn text() -> (V1Input, V1Answer) {
        refuse(&FrameError {
            code: ErrorCode::Decode,
            what: "a text message on a v1 session; v1 frames are binary messages".to_owned(),
        })
    }

    fn pong(&mut self, timestamp_ms: i64, now: Instant) -> V1Answer {
        let timeout = self.timings.session_timeout;
        let matched = self.outstanding.iter().position(|(sent_ms, sent)| {
            *sent_ms == timestamp_ms && now.saturating_duration_since(*sent) < timeout
        });
        match matched {
            Some(at) => {
                self.outstanding.remove(at);
                self.expires = now + timeout;
                V1Answer::Matched
            }
            None => {
                tracing::debug!(timestamp_ms, "a PONG that matches no outstanding PING");
                V1Answer::Nothing
            }
        }
    }
}

/// The ERROR for `error`, and whether the session goes on after it.
fn refuse(error: &FrameError) -> (V1Input, V1Answer) {
    let frame = v1::encode(&Message::Error {
        code: error.code.number(),
        message: error.what.clone(),
    });
    let answer = if error.code.closes_session() {
        V1Answer::Fail {
            error: frame,
            what: error.to_string(),
        }
    } else {
        V1Answer::Send(frame, Sent::V1Error)
    };
    (V1Input::Refused(Malformed::of_v1(error.code)), answer)
}
