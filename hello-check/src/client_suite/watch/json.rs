//! Serving a JSON session (PROTOCOL.md, sections 3 to 7): Echo answers (in reverse order when
//! requests arrive together), a 400 for anything else than an Echo request or Kiss response,
//! and on the JSON timers, which start when the session opened, WebSocket Pings and Kiss
//! requests.

use std::pin::pin;

use futures_util::{Sink, Stream, StreamExt};
use hello_net::host_kiss_request;
use hello_protocol::{
    ClientMessage, EchoRequest, EchoResponse, ErrorResponse, decode_client_message, defaults,
    encode,
};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use uuid::Uuid;

use super::{EchoQueue, Next, Record, Session, abbreviate, next_of};

impl Session<'_> {
    pub(super) async fn serve_json<W, I>(
        &self,
        sink: &mut W,
        incoming: &mut I,
        first: Option<Message>,
        record: &mut Record,
    ) where
        W: Sink<Message, Error = WsError> + Unpin,
        I: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let config = self.config;
        let kiss_request = encode(&host_kiss_request());
        let mut pings = interval_at(record.started + config.ping_interval, config.ping_interval);
        let mut kisses = interval_at(record.started + config.kiss_interval, config.kiss_interval);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        kisses.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut echoes = EchoQueue::new(config.reorder_window);
        let mut pending = first;
        let mut end = pin!(sleep_until(self.deadline));
        loop {
            let outgoing: Vec<Message> = if let Some(message) = pending.take() {
                json_message(message, &mut echoes, record)
            } else {
                tokio::select! {
                    () = &mut end => return,
                    () = sleep_until(echoes.due().unwrap_or(self.deadline)), if echoes.due().is_some() => {
                        echoes
                            .take(record)
                            .into_iter()
                            .map(|request| {
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
                    item = incoming.next() => match next_of(item) {
                        Next::Data(message) => json_message(message, &mut echoes, record),
                        Next::Pong => {
                            record.pongs.push(Instant::now());
                            continue;
                        }
                        Next::Other => continue,
                        Next::Left(departure) => {
                            self.left(incoming, departure, record).await;
                            return;
                        }
                    },
                }
            };
            if !self.send(sink, outgoing, record).await {
                return;
            }
        }
    }
}

/// Serves one JSON message: an Echo request waits in `echoes`, a Kiss response is noted,
/// anything else is answered with a 400.
fn json_message(
    message: Message,
    echoes: &mut EchoQueue<EchoRequest>,
    record: &mut Record,
) -> Vec<Message> {
    let bytes = match message {
        Message::Text(text) => Bytes::from(text),
        Message::Binary(bytes) => bytes,
        _ => return Vec::new(),
    };
    match decode_client_message(&bytes) {
        Ok(ClientMessage::Echo(request)) => {
            echoes.push(i128::from(request.id), request, record);
            Vec::new()
        }
        Ok(ClientMessage::Kiss(answer)) => {
            record.kiss_answers.push((Instant::now(), answer));
            Vec::new()
        }
        Err(error) => {
            let text = String::from_utf8_lossy(&bytes);
            record
                .malformed
                .push(format!("{} → {error}", abbreviate(&text)));
            vec![Message::Text(
                encode(&ErrorResponse::bad_request(error.to_string())).into(),
            )]
        }
    }
}
