//! Serving the clients under judgement: each session is served as PROTOCOL.md says, Echo
//! requests that arrive together answered in reverse order, and everything the client does is
//! written down in a [`Record`] for the cases to judge.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::pin::pin;

use futures_util::{SinkExt, StreamExt};
use hello_net::handshake;
use hello_net::{host_kiss_request, is_disconnect};
use hello_protocol::{
    ClientMessage, EchoRequest, EchoResponse, ErrorResponse, KissResponse, decode_client_message,
    defaults, encode,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use uuid::Uuid;

use super::ClientSuiteConfig;

/// How a client left its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Departure {
    /// With a Close frame, and its code if it had one.
    Closed(Option<u16>),
    /// By dropping the connection without a Close.
    Vanished,
    /// By breaking the connection.
    Failed(String),
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
            Departure::StillOpen => {
                f.write_str("was still connected when the check's timeout ran out")
            }
        }
    }
}

/// Everything a client did in one session.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) who_am_i: Option<String>,
    pub(super) peer: SocketAddr,
    pub(super) started: Instant,
    pub(super) ended: Instant,
    pub(super) departure: Departure,
    pub(super) echo_requests: u64,
    pub(super) malformed: Vec<String>,
    pub(super) duplicate_ids: Vec<u64>,
    pub(super) answered_out_of_order: bool,
    pub(super) kisses_sent: Vec<Instant>,
    pub(super) kiss_answers: Vec<(Instant, KissResponse)>,
    pub(super) pings_sent: Vec<Instant>,
    pub(super) pongs: Vec<Instant>,
}

impl Record {
    pub(super) fn label(&self) -> String {
        self.who_am_i
            .clone()
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
    let mut who_am_i = None;
    let path = config.path.as_str();
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let callback = |request: &Request, mut response: Response| {
        handshake::require_path(request, path)?;
        who_am_i = handshake::who_am_i(request);
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
        peer,
        started,
        ended: started,
        departure: Departure::StillOpen,
        echo_requests: 0,
        malformed: Vec::new(),
        duplicate_ids: Vec::new(),
        answered_out_of_order: false,
        kisses_sent: Vec::new(),
        kiss_answers: Vec::new(),
        pings_sent: Vec::new(),
        pongs: Vec::new(),
    };
    watch_session(ws, config, deadline, &mut record).await;
    record.ended = Instant::now();
    Some(record)
}

async fn watch_session<S>(
    mut ws: WebSocketStream<S>,
    config: &ClientSuiteConfig,
    deadline: Instant,
    record: &mut Record,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let kiss_request = encode(&host_kiss_request());
    let mut pings = interval_at(record.started + config.ping_interval, config.ping_interval);
    let mut kisses = interval_at(record.started + config.kiss_interval, config.kiss_interval);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    kisses.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut in_flight: HashSet<u64> = HashSet::new();
    let mut batch: Vec<EchoRequest> = Vec::new();
    let mut batch_due: Option<Instant> = None;
    let mut end = pin!(sleep_until(deadline));
    loop {
        let due = batch_due.unwrap_or(deadline);
        let outgoing: Vec<Message> = tokio::select! {
            () = &mut end => return,
            () = sleep_until(due), if batch_due.is_some() => {
                batch_due = None;
                record.answered_out_of_order |= batch.len() > 1;
                batch
                    .drain(..)
                    .rev()
                    .map(|request| {
                        in_flight.remove(&request.id);
                        let answer = EchoResponse::answer(request, Uuid::new_v4(), defaults::LANGUAGE_TAG);
                        Message::Text(encode(&answer).into())
                    })
                    .collect()
            }
            _ = pings.tick() => {
                record.pings_sent.push(Instant::now());
                vec![Message::Ping(Bytes::new())]
            }
            _ = kisses.tick() => {
                record.kisses_sent.push(Instant::now());
                vec![Message::Text(kiss_request.clone().into())]
            }
            message = ws.next() => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => Bytes::from(text),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Pong(_))) => {
                        record.pongs.push(Instant::now());
                        continue;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        record.departure = Departure::Closed(frame.map(|frame| u16::from(frame.code)));
                        // Lets tungstenite send the answering Close.
                        let _ = timeout_at(Instant::now() + config.close_timeout, ws.next()).await;
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => {
                        record.departure = if is_disconnect(&error) {
                            Departure::Vanished
                        } else {
                            Departure::Failed(error.to_string())
                        };
                        return;
                    }
                    None => {
                        record.departure = Departure::Vanished;
                        return;
                    }
                };
                match decode_client_message(&bytes) {
                    Ok(ClientMessage::Echo(request)) => {
                        record.echo_requests += 1;
                        if !in_flight.insert(request.id) {
                            record.duplicate_ids.push(request.id);
                        }
                        batch.push(request);
                        batch_due.get_or_insert(Instant::now() + config.reorder_window);
                        continue;
                    }
                    Ok(ClientMessage::Kiss(answer)) => {
                        record.kiss_answers.push((Instant::now(), answer));
                        continue;
                    }
                    Err(error) => {
                        let text = String::from_utf8_lossy(&bytes);
                        record.malformed.push(format!("{} → {error}", abbreviate(&text)));
                        vec![Message::Text(encode(&ErrorResponse::bad_request(error.to_string())).into())]
                    }
                }
            }
        };
        for message in outgoing {
            if ws.feed(message).await.is_err() {
                break;
            }
        }
        if let Err(error) = ws.flush().await {
            record.departure = Departure::Failed(error.to_string());
            return;
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
