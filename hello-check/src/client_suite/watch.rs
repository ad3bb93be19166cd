//! Serving the clients under judgement: each session is served as PROTOCOL.md says, Echo
//! requests that arrive together answered in reverse order, and everything the client does is
//! written down in a [`Record`] for the cases to judge.
//!
//! The first data message fixes a session's dialect: a binary message starting with `0x48` makes
//! it v1, anything else JSON, and so does the JSON Kiss falling due before any message came.
//! Until then the judge sends nothing. A JSON session is served by [`json`], a v1 session by
//! [`v1`]; both hold Echo requests back in an [`echo_queue`].

mod echo_queue;
mod json;
mod v1;

use std::fmt;
use std::net::SocketAddr;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use hello_net::{handshake, is_disconnect};
use hello_protocol::KissResponse;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use uuid::Uuid;

use super::ClientSuiteConfig;
use crate::case::Dialect;
use echo_queue::EchoQueue;
pub(super) use v1::V1Record;

/// How a client left its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Departure {
    /// With a Close frame, and its code if it had one.
    Closed(Option<u16>),
    /// By dropping the connection without a Close.
    Vanished,
    /// By breaking the connection.
    Failed(String),
    /// The server closed the session and the client did not answer within the close timeout.
    Unanswered,
    /// It had not left when the judgement's timeout ran out.
    StillOpen,
}

impl fmt::Display for Departure {
    /// What the client did, as the verdicts say it: "the client closed with 1001".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Departure::Closed(Some(code)) => write!(f, "closed with {code}"),
            Departure::Closed(None) => f.write_str("closed with a Close frame carrying no code"),
            Departure::Vanished => f.write_str("dropped the connection without a Close frame"),
            Departure::Failed(error) => write!(f, "broke the connection ({error})"),
            Departure::Unanswered => {
                f.write_str("did not answer the server's Close within the close timeout")
            }
            Departure::StillOpen => {
                f.write_str("was still connected when the check's timeout ran out")
            }
        }
    }
}

/// Everything a client did in one session.
#[derive(Debug)]
pub(super) struct Record {
    /// The handshake's `WhoAmI` and `userId` headers, and its URL's `whoami` parameter.
    pub(super) who_am_i: Option<String>,
    pub(super) user_id: Option<String>,
    pub(super) query_name: Option<String>,
    pub(super) peer: SocketAddr,
    pub(super) started: Instant,
    pub(super) ended: Instant,
    pub(super) departure: Departure,
    /// The dialect the session was fixed in; `None` when it ended before either could be told.
    pub(super) dialect: Option<Dialect>,
    // In either dialect: Echo requests, the messages that drew an error, the Kiss exchange.
    pub(super) echo_requests: u64,
    pub(super) malformed: Vec<String>,
    /// Ids sent again while in flight (JSON's are u64, v1's i64).
    pub(super) duplicate_ids: Vec<i128>,
    pub(super) answered_out_of_order: bool,
    pub(super) kisses_sent: Vec<Instant>,
    pub(super) kiss_answers: Vec<(Instant, KissResponse)>,
    // JSON sessions only: WebSocket Pings and Pongs.
    pub(super) pings_sent: Vec<Instant>,
    pub(super) pongs: Vec<Instant>,
    /// v1 sessions only: the rest of what v1 asks of a client.
    pub(super) v1: V1Record,
}

impl Record {
    /// When the session took on its dialect: when it became v1, else when it opened.
    pub(super) fn since(&self) -> Instant {
        self.v1.since.unwrap_or(self.started)
    }

    /// When the client stopped taking part: its DISCONNECT, else the session's end. What was
    /// due by then is what the timed cases judge.
    pub(super) fn active_until(&self) -> Instant {
        self.v1
            .disconnect
            .as_ref()
            .map_or(self.ended, |(_, at)| *at)
    }

    pub(super) fn label(&self) -> String {
        self.who_am_i
            .clone()
            .or_else(|| self.user_id.clone())
            .or_else(|| self.query_name.clone())
            .unwrap_or_else(|| self.peer.to_string())
    }
}

pub(super) async fn judge_connection<S>(
    stream: S,
    peer: SocketAddr,
    config: &ClientSuiteConfig,
    handshake_deadline: Instant,
    deadline: Instant,
) -> Option<Record>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut who_am_i, mut user_id, mut query_name) = (None, None, None);
    let path = config.path.as_str();
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let callback = |request: &Request, mut response: Response| {
        handshake::require_path(request, path)?;
        who_am_i = handshake::who_am_i(request);
        user_id = handshake::user_id(request);
        query_name = handshake::query_name(request);
        handshake::add_server_headers(&mut response, Uuid::new_v4());
        Ok(response)
    };
    let websocket_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size));
    let upgrade =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(websocket_config));
    let ws = timeout_at(handshake_deadline, upgrade).await.ok()?.ok()?;
    let started = Instant::now();
    let mut record = Record {
        who_am_i,
        user_id,
        query_name,
        peer,
        started,
        ended: started,
        departure: Departure::StillOpen,
        dialect: None,
        echo_requests: 0,
        malformed: Vec::new(),
        duplicate_ids: Vec::new(),
        answered_out_of_order: false,
        kisses_sent: Vec::new(),
        kiss_answers: Vec::new(),
        pings_sent: Vec::new(),
        pongs: Vec::new(),
        v1: V1Record::default(),
    };
    let (mut sink, mut incoming) = ws.split();
    let session = Session { config, deadline };
    if let Some((dialect, first)) = session.await_dialect(&mut incoming, &mut record).await {
        record.dialect = Some(dialect);
        match dialect {
            Dialect::Json => {
                session
                    .serve_json(&mut sink, &mut incoming, first, &mut record)
                    .await;
            }
            Dialect::V1 => {
                let first = first.expect("only a message makes a session v1");
                session
                    .serve_v1(&mut sink, &mut incoming, first, &mut record)
                    .await;
            }
        }
    }
    record.ended = Instant::now();
    Some(record)
}

/// What one session is served with.
struct Session<'a> {
    config: &'a ClientSuiteConfig,
    /// When the whole judgement ends.
    deadline: Instant,
}

/// What the client sent next, as a session cares.
enum Next {
    Data(Message),
    Pong,
    /// A Ping (tungstenite answers it) or a raw frame.
    Other,
    Left(Departure),
}

fn next_of(item: Option<Result<Message, WsError>>) -> Next {
    match item {
        Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => Next::Data(message),
        Some(Ok(Message::Pong(_))) => Next::Pong,
        Some(Ok(Message::Close(frame))) => {
            Next::Left(Departure::Closed(frame.map(|frame| u16::from(frame.code))))
        }
        Some(Ok(_)) => Next::Other,
        Some(Err(error)) if is_disconnect(&error) => Next::Left(Departure::Vanished),
        Some(Err(error)) => Next::Left(Departure::Failed(error.to_string())),
        None => Next::Left(Departure::Vanished),
    }
}

impl Session<'_> {
    /// Waits for what fixes the dialect: the first data message (returned, to be served), or
    /// the JSON Kiss falling due. `None` when the client left first, or the judgement ended.
    async fn await_dialect<I>(
        &self,
        incoming: &mut I,
        record: &mut Record,
    ) -> Option<(Dialect, Option<Message>)>
    where
        I: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let kiss_due = record.started + self.config.kiss_interval;
        loop {
            tokio::select! {
                () = sleep_until(self.deadline) => return None,
                () = sleep_until(kiss_due) => return Some((Dialect::Json, None)),
                item = incoming.next() => match next_of(item) {
                    Next::Data(Message::Binary(bytes)) if hello_protocol::v1::is_v1(&bytes) => {
                        return Some((Dialect::V1, Some(Message::Binary(bytes))));
                    }
                    Next::Data(message) => return Some((Dialect::Json, Some(message))),
                    Next::Pong | Next::Other => {}
                    Next::Left(departure) => {
                        self.left(incoming, departure, record).await;
                        return None;
                    }
                },
            }
        }
    }

    /// Notes how the client left; after its Close, reads on so that tungstenite sends the
    /// answering Close.
    async fn left<I>(&self, incoming: &mut I, departure: Departure, record: &mut Record)
    where
        I: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let closed = matches!(departure, Departure::Closed(_));
        record.departure = departure;
        if closed {
            let _ = timeout_at(Instant::now() + self.config.close_timeout, incoming.next()).await;
        }
    }

    /// Closes the session with `code` and waits, within the close timeout, for the client's
    /// answering Close: how it answers is how it left.
    async fn close<W, I>(&self, sink: &mut W, incoming: &mut I, code: u16, record: &mut Record)
    where
        W: Sink<Message, Error = WsError> + Unpin,
        I: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let frame = CloseFrame {
            code: code.into(),
            reason: "".into(),
        };
        if let Err(error) = sink.send(Message::Close(Some(frame))).await {
            record.departure = Departure::Failed(error.to_string());
            return;
        }
        let answer = async {
            loop {
                if let Next::Left(departure) = next_of(incoming.next().await) {
                    return departure;
                }
            }
        };
        record.departure = timeout_at(Instant::now() + self.config.close_timeout, answer)
            .await
            .unwrap_or(Departure::Unanswered);
    }

    /// Sends `outgoing`; `false` (with the departure noted) when the connection broke.
    async fn send<W>(&self, sink: &mut W, outgoing: Vec<Message>, record: &mut Record) -> bool
    where
        W: Sink<Message, Error = WsError> + Unpin,
    {
        for message in outgoing {
            if sink.feed(message).await.is_err() {
                break;
            }
        }
        match sink.flush().await {
            Ok(()) => true,
            Err(error) => {
                record.departure = Departure::Failed(error.to_string());
                false
            }
        }
    }
}

fn abbreviate(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(60).collect::<String>())
    }
}
