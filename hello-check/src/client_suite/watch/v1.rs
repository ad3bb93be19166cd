//! Serving a v1 session (PROTOCOL.md, section 11): BONJOUR for each HELLO, Echo answers (in
//! reverse order when requests arrive together), a HASH_RESPONSE for each RANDOM_NUMBER, and on
//! the v1 timers, which start when the session became v1, PING, KISS_REQUEST and
//! TIME_NOTIFICATION. No WebSocket Pings. A bad frame draws ERROR with its code, then Close
//! 1002 where the code closes the session; DISCONNECT draws Close 1000.

use std::pin::pin;
use std::time::SystemTime;

use futures_util::{Sink, Stream, StreamExt};
use hello_net::host_kiss_request;
use hello_protocol::v1::{self, ErrorCode, FrameError, unix_ms};
use hello_protocol::{KissResponse, defaults};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{EchoQueue, Next, Record, Session, abbreviate, next_of};

/// What a client did in a v1 session, beyond what [`Record`] keeps for both dialects.
#[derive(Debug, Default)]
pub(in crate::client_suite) struct V1Record {
    /// When the first v1 frame came, which made the session v1.
    pub(in crate::client_suite) since: Option<Instant>,
    /// The first message, as it decoded.
    pub(in crate::client_suite) first: Option<Result<v1::Message, FrameError>>,
    /// The `client_language` of each HELLO.
    pub(in crate::client_suite) hellos: Vec<String>,
    /// Each PING's timestamp and when it was sent.
    pub(in crate::client_suite) pings_sent: Vec<(i64, Instant)>,
    /// Each PONG's timestamp and when it came.
    pub(in crate::client_suite) pongs: Vec<(i64, Instant)>,
    /// Each RANDOM_NUMBER's id and when it came; each was answered with a HASH_RESPONSE.
    pub(in crate::client_suite) random_numbers: Vec<(i64, Instant)>,
    /// The ERRORs the client sent: code and message.
    pub(in crate::client_suite) errors_received: Vec<(i32, String)>,
    /// The Close code the server ended the session with after a bad frame (1002).
    pub(in crate::client_suite) closed_after_error: Option<u16>,
    /// The DISCONNECT's reason, and when it came.
    pub(in crate::client_suite) disconnect: Option<(String, Instant)>,
}

/// What a message makes the server do next.
enum Step {
    Send(Vec<v1::Message>),
    /// Send these, then close with this code and wait for the client's answer.
    Close(Vec<v1::Message>, u16),
}

const PROTOCOL_ERROR: u16 = 1002;
const NORMAL: u16 = 1000;

impl Session<'_> {
    pub(super) async fn serve_v1<W, I>(
        &self,
        sink: &mut W,
        incoming: &mut I,
        first: Message,
        record: &mut Record,
    ) where
        W: Sink<Message, Error = WsError> + Unpin,
        I: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let timings = self.config.v1;
        let since = Instant::now();
        record.v1.since = Some(since);
        let kiss_request = kiss_request();
        let mut pings = interval_at(since + timings.ping_interval, timings.ping_interval);
        let mut kisses = interval_at(since + timings.kiss_interval, timings.kiss_interval);
        let mut times = interval_at(since + timings.time_interval, timings.time_interval);
        for timer in [&mut pings, &mut kisses, &mut times] {
            timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        }
        let mut echoes = EchoQueue::new(self.config.reorder_window);
        let mut last_ping = i64::MIN;
        let mut pending = Some(first);
        let mut end = pin!(sleep_until(self.deadline));
        loop {
            let step = if let Some(message) = pending.take() {
                v1_message(message, &mut echoes, record)
            } else {
                tokio::select! {
                    () = &mut end => return,
                    () = sleep_until(echoes.due().unwrap_or(self.deadline)), if echoes.due().is_some() => {
                        Step::Send(echoes.take(record).into_iter().map(echo_answer).collect())
                    }
                    _ = pings.tick() => {
                        // Strictly rising, so that each PONG names one PING.
                        let timestamp_ms = unix_ms(SystemTime::now()).max(last_ping + 1);
                        last_ping = timestamp_ms;
                        record.v1.pings_sent.push((timestamp_ms, Instant::now()));
                        Step::Send(vec![v1::Message::Ping { timestamp_ms }])
                    }
                    _ = kisses.tick() => {
                        record.kisses_sent.push(Instant::now());
                        Step::Send(vec![kiss_request.clone()])
                    }
                    _ = times.tick() => Step::Send(vec![v1::Message::time_notification(SystemTime::now())]),
                    item = incoming.next() => match next_of(item) {
                        Next::Data(message) => v1_message(message, &mut echoes, record),
                        Next::Pong | Next::Other => continue,
                        Next::Left(departure) => {
                            self.left(incoming, departure, record).await;
                            return;
                        }
                    },
                }
            };
            let (frames, close) = match step {
                Step::Send(frames) => (frames, None),
                Step::Close(frames, code) => (frames, Some(code)),
            };
            let outgoing = frames
                .iter()
                .map(|frame| Message::Binary(v1::encode(frame).into()))
                .collect();
            if !self.send(sink, outgoing, record).await {
                return;
            }
            if let Some(code) = close {
                self.close(sink, incoming, code, record).await;
                return;
            }
        }
    }
}

/// Serves one data message of a v1 session.
fn v1_message(
    message: Message,
    echoes: &mut EchoQueue<(i64, String)>,
    record: &mut Record,
) -> Step {
    let decoded = match &message {
        Message::Binary(bytes) => v1::decode(bytes),
        _ => Err(FrameError {
            code: ErrorCode::Decode,
            what: "a text message on a v1 session, where every message is a binary frame".into(),
        }),
    };
    if record.v1.first.is_none() {
        record.v1.first = Some(decoded.clone());
    }
    let now = Instant::now();
    let frame = match decoded {
        Ok(frame) => frame,
        Err(error) => return refuse(&message, error, echoes, record),
    };
    let answers = match frame {
        v1::Message::Hello { client_language } => {
            record.v1.hellos.push(client_language);
            vec![v1::Message::Bonjour {
                server_language: defaults::LANGUAGE_TAG.to_owned(),
            }]
        }
        v1::Message::EchoRequest { id, data, .. } => {
            echoes.push(i128::from(id), (id, data), record);
            Vec::new()
        }
        v1::Message::KissResponse {
            language,
            encoding,
            time_zone,
        } => {
            let answer = KissResponse {
                language,
                encoding,
                time_zone,
            };
            record.kiss_answers.push((now, answer));
            Vec::new()
        }
        v1::Message::Pong { timestamp_ms } => {
            record.v1.pongs.push((timestamp_ms, now));
            Vec::new()
        }
        v1::Message::RandomNumber { id, number } => {
            record.v1.random_numbers.push((id, now));
            vec![v1::Message::hash_response(id, number)]
        }
        v1::Message::Disconnect { reason } => {
            record.v1.disconnect = Some((reason, now));
            return Step::Close(Vec::new(), NORMAL);
        }
        v1::Message::Error { code, message } => {
            record.v1.errors_received.push((code, message));
            Vec::new()
        }
        server @ (v1::Message::Bonjour { .. }
        | v1::Message::EchoResponse { .. }
        | v1::Message::KissRequest { .. }
        | v1::Message::Ping { .. }
        | v1::Message::TimeNotification { .. }
        | v1::Message::HashResponse { .. }) => {
            let error = FrameError {
                code: ErrorCode::UnknownType,
                what: format!(
                    "{} is a server's message, not a client's",
                    server.type_name()
                ),
            };
            return refuse(&message, error, echoes, record);
        }
    };
    Step::Send(answers)
}

/// Answers a bad frame: the Echo answers still waiting go out first, then ERROR, then Close
/// 1002 where the code closes the session.
fn refuse(
    message: &Message,
    error: FrameError,
    echoes: &mut EchoQueue<(i64, String)>,
    record: &mut Record,
) -> Step {
    record
        .malformed
        .push(format!("{} → ERROR: {error}", describe(message)));
    let mut frames: Vec<v1::Message> = echoes.take(record).into_iter().map(echo_answer).collect();
    frames.push(v1::Message::Error {
        code: error.code.number(),
        message: error.what,
    });
    if error.code.closes_session() {
        record.v1.closed_after_error = Some(PROTOCOL_ERROR);
        Step::Close(frames, PROTOCOL_ERROR)
    } else {
        Step::Send(frames)
    }
}

/// A message as a verdict quotes it: its first bytes in hex, or its first characters.
fn describe(message: &Message) -> String {
    match message {
        Message::Binary(bytes) => {
            let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let more = if bytes.len() > 16 { " …" } else { "" };
            format!("frame {}{more}", hex.join(" "))
        }
        Message::Text(text) => format!("text {}", abbreviate(text)),
        _ => String::new(),
    }
}

/// The ECHO_RESPONSE to request `id`, as PROTOCOL.md section 12.4 has it.
fn echo_answer((id, data): (i64, String)) -> v1::Message {
    v1::echo_answer(id, data, defaults::LANGUAGE_TAG)
}

/// The KISS_REQUEST, with this host's facts.
fn kiss_request() -> v1::Message {
    v1::Message::from(&host_kiss_request())
}
