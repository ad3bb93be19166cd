//! The server's timers: Kiss requests and Pings arriving on time, a deaf client evicted, a live
//! one kept (PROTOCOL.md sections 4 and 5). These wait for the server, so they run side by side.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use hello_net::{connect_over, local_kiss_response};
use hello_protocol::encode;
use tokio::time::{Instant, sleep, timeout_at};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::human;
use crate::mutable::MutableStream;

use super::{Checked, Checker};

impl Checker {
    pub(super) async fn kiss_arrives(&self) -> Checked {
        let mut probe = self.open().await?;
        let interval = self.config.kiss_interval;
        let mut last = Instant::now();
        for nth in ["first", "second"] {
            let deadline = last + interval + self.config.slack;
            probe.next_kiss(deadline).await.map_err(|wrong| {
                format!(
                    "the {nth} Kiss request: {wrong}; send one every Kiss interval ({})",
                    human(interval)
                )
            })?;
            last = Instant::now();
            let answer = local_kiss_response();
            probe.send_text(&encode(&answer)).await?;
        }
        probe.echo(1, "after the Kiss").await.map_err(|wrong| {
            format!("after the Kiss response: {wrong} (a valid Kiss response gets no answer)")
        })?;
        Ok(String::new())
    }

    pub(super) async fn pings_arrive(&self) -> Checked {
        let mut probe = self.open().await?;
        let mut last = Instant::now();
        for nth in ["first", "second"] {
            let deadline = last + self.config.ping_interval + self.config.slack;
            probe.next_ping(deadline).await.map_err(|wrong| {
                format!(
                    "the {nth} Ping: {wrong}; send one every ping interval ({})",
                    human(self.config.ping_interval)
                )
            })?;
            last = Instant::now();
        }
        Ok(String::new())
    }

    pub(super) async fn eviction(&self) -> Checked {
        // A client that has gone deaf and mute: it reads nothing until the bound, and what it
        // would write afterwards (tungstenite's answers to old Pings) never reaches the wire,
        // so the server's Close is not lost to a reset provoked by a late Pong.
        let mute = Arc::new(AtomicBool::new(false));
        let options = self.options(&self.config.url)?;
        let (mut ws, _) = connect_over(&options, |stream| MutableStream::new(stream, mute.clone()))
            .await
            .map_err(|error| error.to_string())?;
        mute.store(true, Ordering::Relaxed);
        let bound = self.config.ping_interval + self.config.pong_timeout + self.config.slack;
        sleep(bound).await;
        // The Close is due by the bound; it may be as late as the slack allows.
        let deadline = Instant::now() + self.config.slack;
        loop {
            match timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) if frame.code == CloseCode::Policy => {
                    return Ok(format!("closed with 1008 {:?}", frame.reason.as_str()));
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!(
                        "evicted, but with Close {:?}; PROTOCOL.md section 5 says 1008 \"pong timeout\"",
                        frame.map(|f| u16::from(f.code))
                    ));
                }
                Ok(Some(Ok(_))) => {}
                // A server may abort a client that does not take its Close (PROTOCOL.md
                // section 5): a reset after the deadline is an eviction too.
                Ok(Some(Err(WsError::Io(error))))
                    if error.kind() == std::io::ErrorKind::ConnectionReset =>
                {
                    return Ok(format!(
                        "reset, not closed with 1008, by {}: the server aborted a client that did not read its Close",
                        human(bound + self.config.slack)
                    ));
                }
                Ok(Some(Err(_)) | None) => {
                    return Err("the connection was dropped without a Close 1008 frame or a reset; send Close 1008 \"pong timeout\", and abort (reset) a client that does not take it".to_owned());
                }
                Err(_) => {
                    return Err(format!(
                        "a client that answered no Ping was still connected after {}; evict sessions whose Pong does not come within the pong timeout",
                        human(bound)
                    ));
                }
            }
        }
    }

    pub(super) async fn live_not_evicted(&self) -> Checked {
        let mut probe = self.open().await?;
        let until = Instant::now()
            + self.config.ping_interval
            + self.config.pong_timeout
            + self.config.slack;
        let mut pings = 0;
        loop {
            match timeout_at(until, probe.ws.next()).await {
                Err(_) => break,
                Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!(
                        "a client answering every Ping was closed ({:?}); the pong timeout must run from a Ping, and any Pong answers it",
                        frame.map(|f| u16::from(f.code))
                    ));
                }
                Ok(Some(Ok(message))) => probe.answer_kiss(&message).await?,
                Ok(Some(Err(error))) => return Err(format!("the connection failed: {error}")),
                Ok(None) => return Err("a client answering every Ping was disconnected".to_owned()),
            }
        }
        if pings == 0 {
            return Err(
                "no Ping arrived, so a live client's eviction could not be judged".to_owned(),
            );
        }
        probe.echo(1, "still alive").await?;
        Ok(format!("{pings} Pings answered"))
    }
}
