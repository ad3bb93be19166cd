//! One connection, from the handshake to the closing frame: Echo answers, Kiss requests, Pings
//! and eviction (PROTOCOL.md, sections 2 to 7), in either dialect (section 12): the first data
//! message fixes which, and [`v1`] holds what a v1 session adds.
//!
//! Each session is one task running one loop: it reads a batch of the client's messages, answers
//! them into the WebSocket's buffer, writes the batch out with one flush, and drives the Ping,
//! pong-timeout and Kiss timers all along. While a batch cannot be written out (the client is not
//! reading), the loop reads nothing more from that client, so it cannot make the server hold more
//! than a batch of answers for it; the timers keep running and evict it once its Pongs stop.
//! Nothing is handed to another task, so serving a message wakes no other thread.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::SystemTime;

use std::future::poll_fn;

use futures_util::stream::FusedStream;
use futures_util::{FutureExt, SinkExt, StreamExt};
use hello_net::{Accepted, AcceptedStream, WholeHead, handshake, is_disconnect};
use hello_protocol::{
    ClientMessage, Dialect, ErrorResponse, OriginPolicy, decode_client_message, defaults, encode,
    encode_echo_answer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message, Utf8Bytes};
use uuid::Uuid;

use crate::config::Dialects;
use crate::page::{PageSite, serve_http};
use crate::registry::{EndReason, SessionGuard, SessionInfo};
use crate::shared::Shared;
use v1::{V1Answer, V1Due, V1Session};

mod v1;

/// Serves one accepted connection until it ends. Never fails: what goes wrong is logged.
///
/// The WebSocket handshake must be over by the connection's deadline. A wrong path is answered
/// 404, an `Origin` the policy refuses 403 (PROTOCOL.md, section 2.2), and then, when there is no
/// `permit` (the connection's place under the connection limit), 503.
///
/// The permit is held until the socket is closed, lingering close included.
pub(crate) async fn serve_connection<S: AcceptedStream>(
    accepted: Accepted<S>,
    permit: Option<OwnedSemaphorePermit>,
    origin_policy: Arc<OriginPolicy>,
    shared: Arc<Shared>,
) {
    let Accepted {
        stream,
        peer,
        transport,
        deadline,
    } = accepted;
    let id = Uuid::new_v4();
    let mut who_am_i = None;
    let at_capacity = permit.is_none();
    let path = shared.config.path.as_str();
    // The callback's signature is tungstenite's; its large error type is not ours to box.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, mut response: Response| {
        handshake::require_path(request, path)?;
        handshake::require_origin(request, &origin_policy, peer)?;
        if at_capacity {
            return Err(handshake::refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is at its connection limit",
            ));
        }
        who_am_i = handshake::client_name(request);
        handshake::add_server_headers(&mut response, id);
        Ok(response)
    };
    // The request's head is read whole, however finely the network sliced it; the deadline and
    // the head's size bound keep the handshake bounded. A request that is no WebSocket
    // handshake is plain HTTP: the browser client's page, under the same deadline.
    let mut stream = WholeHead::new(stream);
    let Some(head) = by_deadline(deadline, peer, stream.head()).await else {
        return;
    };
    if !handshake::asks_for_websocket(head) {
        let site = PageSite {
            websocket_path: path.to_owned(),
            at_capacity,
        };
        if timeout_at(deadline, serve_http(stream, site))
            .await
            .is_err()
        {
            tracing::info!(%peer, "plain HTTP request timed out");
        }
        return;
    }
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        callback,
        Some(shared.websocket_config),
    );
    let Some(ws) = by_deadline(deadline, peer, handshake).await else {
        return;
    };
    let name = who_am_i.unwrap_or_else(|| id.to_string());
    let guard = shared.registry.insert(SessionInfo {
        id,
        name,
        peer,
        transport,
        connected_at: SystemTime::now(),
        dialect: None,
        last_pong: None,
        pong_count: 0,
        last_kiss: None,
        kiss_count: 0,
    });
    run_session(ws, guard, shared).await;
    drop(permit);
}

/// A step of the handshake, by the connection's deadline: what it gave, or `None` (logged) when
/// it failed or timed out.
async fn by_deadline<T, E: std::fmt::Display>(
    deadline: Instant,
    peer: SocketAddr,
    step: impl Future<Output = Result<T, E>>,
) -> Option<T> {
    match timeout_at(deadline, step).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::info!(%peer, %error, "WebSocket handshake refused or failed");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "WebSocket handshake timed out");
            None
        }
    }
}

/// How the session loop ended, and what to tell the client.
enum LoopExit {
    /// The client sent Close, with this code; tungstenite answers it.
    ClientClosed(u16),
    /// The connection ended without a Close.
    Vanished,
    /// The server closes with this frame.
    ServerCloses(EndReason, CloseCode, &'static str),
    /// The connection failed; nothing more can be said on it.
    Broken(String),
}

async fn run_session<S: AcceptedStream>(
    ws: WebSocketStream<S>,
    guard: SessionGuard,
    shared: Arc<Shared>,
) {
    let mut session = SessionLoop {
        id: guard.id(),
        guard,
        ws,
        unflushed: false,
        held: None,
        v1: None,
        shared: &shared,
    };
    let exit = session.run().await;
    let guard = &mut session.guard;
    let farewell = match exit {
        LoopExit::ClientClosed(code) => {
            guard.end(EndReason::ClientClosed { code: Some(code) });
            None
        }
        LoopExit::ServerCloses(reason, code, text) => {
            guard.end(reason);
            Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(text),
            })
        }
        LoopExit::Vanished => return guard.end(EndReason::ClientVanished),
        LoopExit::Broken(error) => return guard.end(EndReason::Error(error)),
    };
    session.close(farewell).await;
}

/// What woke the session loop.
enum Event {
    Shutdown,
    PongOverdue,
    PingDue(Instant),
    KissDue,
    V1Due,
    Input(Option<Result<Message, WsError>>),
    Flushed(Result<(), WsError>),
}

/// One session's loop. Answers are written into the WebSocket's buffer as they are made and
/// written out once per batch; while a batch cannot be written out (the client is not reading),
/// the client's input is not read, so a session holds at most one batch of answers. There is no
/// queue and no second task: nothing is handed between tasks, so nothing wakes another thread.
struct SessionLoop<'a, S> {
    id: Uuid,
    /// Keeps the session in the registry; ended when the loop ends.
    guard: SessionGuard,
    ws: WebSocketStream<S>,
    /// Messages are buffered that a flush has not yet written out.
    unflushed: bool,
    /// An answer the buffer could not take (a flush it had to start, for a Pong, found the client
    /// not reading); it goes out first once the buffer is written out, and until then no input is
    /// read, so no answer is ever dropped.
    held: Option<Message>,
    /// The v1 session's state, once the session is v1; its timers replace the JSON ones.
    v1: Option<V1Session>,
    shared: &'a Shared,
}

impl<S: AcceptedStream> SessionLoop<'_, S> {
    async fn run(&mut self) -> LoopExit {
        let config = &self.shared.config;
        let start = Instant::now();
        let mut pings = interval_at(start + config.ping_interval, config.ping_interval);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut kisses = interval_at(start + config.kiss_interval, config.kiss_interval);
        kisses.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Set when a Ping is due, cleared by any Pong: the timeout runs from a Ping, never from
        // the start of the session.
        let mut pong_deadline: Option<Instant> = None;
        match config.dialects {
            Dialects::Auto => {}
            Dialects::Json => self.fix_dialect(Dialect::Json, &mut pong_deadline),
            Dialects::V1 => self.fix_dialect(Dialect::V1, &mut pong_deadline),
        }
        let mut shutdown = pin!(self.shared.shutdown.cancelled());
        loop {
            let far = start + config.ping_interval * 1000;
            let deadline = pong_deadline.unwrap_or(far);
            let v1_due = self.v1.as_ref().map(V1Session::next_due);
            let json_timers = v1_due.is_none();
            let unflushed = self.unflushed;
            let ws = &mut self.ws;
            let event = tokio::select! {
                biased;
                () = &mut shutdown => Event::Shutdown,
                () = sleep_until(deadline), if pong_deadline.is_some() => Event::PongOverdue,
                tick = pings.tick(), if json_timers => Event::PingDue(tick),
                _ = kisses.tick(), if json_timers => Event::KissDue,
                () = sleep_until(v1_due.unwrap_or(far)), if v1_due.is_some() => Event::V1Due,
                // Either the batch goes out, or the next message comes in: never both, so a
                // client that does not read cannot make the server buffer more.
                event = async move {
                    if unflushed {
                        Event::Flushed(ws.flush().await)
                    } else {
                        Event::Input(ws.next().await)
                    }
                } => event,
            };
            let outcome = match event {
                Event::Shutdown => {
                    return LoopExit::ServerCloses(
                        EndReason::Shutdown,
                        CloseCode::Away,
                        "server shutting down",
                    );
                }
                Event::PongOverdue => {
                    return LoopExit::ServerCloses(
                        EndReason::PongTimeout,
                        CloseCode::Policy,
                        defaults::PONG_TIMEOUT_REASON,
                    );
                }
                Event::PingDue(tick) => {
                    if pong_deadline.is_some() {
                        continue;
                    }
                    pong_deadline = Some(tick + config.pong_timeout);
                    // A client that is not reading has its Ping skipped, and the deadline runs
                    // on as it would for a Ping it never read.
                    self.send(Message::Ping(Bytes::new())).map(|_| ())
                }
                Event::KissDue => {
                    // A session that has said nothing by its first Kiss is a JSON session.
                    if self.guard.dialect().is_none() {
                        self.fix_dialect(Dialect::Json, &mut pong_deadline);
                    }
                    let kiss = Message::Text(self.shared.kiss_request.clone());
                    self.send(kiss).map(|refused| {
                        if refused.is_some() {
                            tracing::debug!(id = %self.id, "the client is not reading; Kiss skipped");
                        }
                    })
                }
                Event::V1Due => match self.v1_timers() {
                    Ok(()) => Ok(()),
                    Err(exit) => return exit,
                },
                Event::Flushed(Ok(())) => {
                    self.unflushed = false;
                    match self.held.take() {
                        Some(answer) => self.hold_unless_sent(answer),
                        None => Ok(()),
                    }
                }
                Event::Flushed(Err(error)) => return exit_for(error),
                Event::Input(message) => match self.take_batch(message, &mut pong_deadline) {
                    Ok(()) => Ok(()),
                    Err(exit) => return exit,
                },
            };
            if let Err(error) = outcome {
                return exit_for(error);
            }
        }
    }

    /// Handles `first` and whatever else has already arrived, up to a batch, answering each
    /// into the WebSocket's buffer; the next turn of the loop writes them out.
    fn take_batch(
        &mut self,
        first: Option<Result<Message, WsError>>,
        pong_deadline: &mut Option<Instant>,
    ) -> Result<(), LoopExit> {
        let batch_len = self.shared.config.batch_len;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(message) = next.take() {
            match message {
                Some(Ok(Message::Text(text))) => {
                    self.take_data(text.as_bytes(), true, pong_deadline)?;
                }
                Some(Ok(Message::Binary(bytes))) => self.take_data(&bytes, false, pong_deadline)?,
                Some(Ok(Message::Pong(_))) => {
                    *pong_deadline = None;
                    self.shared.registry.record_pong(&self.id);
                }
                Some(Ok(Message::Ping(_) | Message::Frame(_))) => {
                    // tungstenite queued the Pong; the next flush writes it out.
                    self.unflushed = true;
                }
                Some(Ok(Message::Close(frame))) => {
                    // RFC 6455 §7.1.5: a Close without a code is reported as 1005.
                    let code = frame.map_or(CloseCode::Status, |frame| frame.code);
                    return Err(LoopExit::ClientClosed(code.into()));
                }
                Some(Err(error)) => return Err(exit_for(error)),
                None => return Err(LoopExit::Vanished),
            }
            taken += 1;
            if taken < batch_len && self.held.is_none() {
                next = self.ws.next().now_or_never();
            }
        }
        Ok(())
    }

    /// Fixes the session's dialect. A v1 session's timers start now, and the JSON ones stop.
    fn fix_dialect(&mut self, dialect: Dialect, pong_deadline: &mut Option<Instant>) {
        self.guard.set_dialect(dialect);
        if dialect == Dialect::V1 {
            self.v1 = Some(V1Session::new(self.shared.config.v1, Instant::now()));
            *pong_deadline = None;
        }
    }

    /// Answers one data message in the session's dialect, which the first one fixes: v1 for a
    /// binary message starting with `0x48`, JSON for anything else.
    fn take_data(
        &mut self,
        bytes: &[u8],
        is_text: bool,
        pong_deadline: &mut Option<Instant>,
    ) -> Result<(), LoopExit> {
        let dialect = match self.guard.dialect() {
            Some(dialect) => dialect,
            None => {
                let dialect = if is_text {
                    Dialect::Json
                } else {
                    Dialect::of_first_message(bytes)
                };
                self.fix_dialect(dialect, pong_deadline);
                dialect
            }
        };
        match dialect {
            Dialect::Json => self.answer(bytes),
            Dialect::V1 => self.answer_v1(bytes, is_text),
        }
    }

    /// Answers one message of a v1 session (PROTOCOL.md, section 12).
    fn answer_v1(&mut self, bytes: &[u8], is_text: bool) -> Result<(), LoopExit> {
        let v1 = self.v1.as_mut().expect("a v1 session has its state");
        let answer = if is_text {
            V1Session::text()
        } else {
            v1.answer(bytes, Instant::now())
        };
        let reply = match answer {
            V1Answer::Send(frame) => frame,
            V1Answer::Kiss(kiss) => {
                self.shared.registry.record_kiss(&self.id, kiss);
                return Ok(());
            }
            V1Answer::Matched => {
                self.shared.registry.record_pong(&self.id);
                return Ok(());
            }
            V1Answer::Nothing => return Ok(()),
            V1Answer::Fail { error, what } => {
                tracing::debug!(id = %self.id, %what, "malformed v1 frame");
                // The answers already made go out first, then the ERROR, then the Close.
                self.hold_unless_sent(Message::Binary(error.into()))
                    .map_err(exit_for)?;
                return Err(LoopExit::ServerCloses(
                    EndReason::Error(what),
                    CloseCode::Protocol,
                    "malformed v1 frame",
                ));
            }
            V1Answer::Disconnect(reason) => {
                tracing::debug!(id = %self.id, %reason, "DISCONNECT");
                return Err(LoopExit::ServerCloses(
                    EndReason::ClientClosed { code: None },
                    CloseCode::Normal,
                    "disconnect",
                ));
            }
        };
        self.hold_unless_sent(Message::Binary(reply.into()))
            .map_err(exit_for)
    }

    /// Fires the v1 timers that are due: PING, TIME_NOTIFICATION, KISS_REQUEST, or eviction.
    /// A client that is not reading has them skipped, as JSON's Kiss is.
    fn v1_timers(&mut self) -> Result<(), LoopExit> {
        let v1 = self.v1.as_mut().expect("a v1 session has its state");
        match v1.on_timers(Instant::now(), &self.shared.v1_kiss_request) {
            V1Due::Expired => Err(LoopExit::ServerCloses(
                EndReason::PongTimeout,
                CloseCode::Policy,
                defaults::PONG_TIMEOUT_REASON,
            )),
            V1Due::Send(frames) => {
                for frame in frames {
                    match self.send(Message::Binary(frame.into())) {
                        Ok(None) => {}
                        Ok(Some(_)) => {
                            tracing::debug!(id = %self.id, "the client is not reading; v1 timer frame skipped");
                        }
                        Err(error) => return Err(exit_for(error)),
                    }
                }
                Ok(())
            }
        }
    }

    /// Answers one message from the client: an Echo response, nothing for a Kiss response, an
    /// Error response for anything else.
    fn answer(&mut self, bytes: &[u8]) -> Result<(), LoopExit> {
        let reply = match decode_client_message(bytes) {
            Ok(ClientMessage::Echo(request)) => {
                encode_echo_answer(&request, Uuid::new_v4(), defaults::LANGUAGE_TAG)
            }
            Ok(ClientMessage::Kiss(kiss)) => {
                self.shared.registry.record_kiss(&self.id, kiss);
                return Ok(());
            }
            Err(error) => {
                tracing::debug!(id = %self.id, %error, "malformed input");
                encode(&ErrorResponse::bad_request(error.to_string()))
            }
        };
        self.hold_unless_sent(Message::Text(reply.into()))
            .map_err(exit_for)
    }

    /// Sends an answer, or holds it until the buffer has been written out.
    fn hold_unless_sent(&mut self, answer: Message) -> Result<(), WsError> {
        if let Some(refused) = self.send(answer)? {
            self.held = Some(refused);
            self.unflushed = true;
        }
        Ok(())
    }

    /// Puts `message` into the WebSocket's buffer if it can take it now, or gives it back when
    /// the buffer is still waiting to be written out to a client that is not reading.
    fn send(&mut self, message: Message) -> Result<Option<Message>, WsError> {
        let ws = &mut self.ws;
        match poll_fn(|cx| ws.poll_ready_unpin(cx)).now_or_never() {
            None => Ok(Some(message)),
            Some(Err(error)) => Err(error),
            Some(Ok(())) => {
                self.ws.start_send_unpin(message)?;
                self.unflushed = true;
                Ok(None)
            }
        }
    }

    /// Ends the session (PROTOCOL.md, section 7): sends `frame`, if any, after the answers
    /// already made, then lingers until the client's side is over. A connection that is not
    /// over within the close timeout, or whose client sends more than the linger limit, is
    /// aborted with a reset, which also frees at once what the kernel still held to send to a
    /// client that does not read (section 5).
    async fn close(mut self, frame: Option<CloseFrame>) {
        let config = &self.shared.config;
        let over = timeout(
            config.close_timeout,
            self.finish(frame, config.linger_bytes),
        )
        .await;
        if over != Ok(true) {
            tracing::debug!(id = %self.id, "the client did not finish closing; connection reset");
            self.ws.get_ref().abort_on_close();
        }
    }

    /// Writes out what is left and the Close, then reads on, throwing away what comes, until the
    /// client's Close or the end of its stream: `true` then, `false` when the connection failed
    /// or the client sent more than `linger_bytes`.
    async fn finish(&mut self, frame: Option<CloseFrame>, linger_bytes: usize) -> bool {
        if let Some(answer) = self.held.take()
            && self.ws.feed(answer).await.is_err()
        {
            return false;
        }
        let written = match frame {
            Some(frame) => self.ws.close(Some(frame)).await,
            None => self.ws.flush().await,
        };
        if written.is_err() {
            return false;
        }
        let mut lingered = 0;
        // While tungstenite still reads, it answers or recognises the client's Close; the
        // stream ends there.
        while !self.ws.is_terminated() {
            match self.ws.next().await {
                None => return true,
                Some(Ok(message)) => lingered += message.len(),
                Some(Err(_)) => break,
            }
            if lingered > linger_bytes {
                return false;
            }
        }
        // After an error (a message over the limit, bad UTF-8, a protocol violation) tungstenite
        // reads no more, but the client may still be writing: half-close, so that a client
        // that has read the Close ends its side, and read the rest away.
        let stream = self.ws.get_mut();
        let _ = stream.shutdown().await;
        let mut discard = [0; 4096];
        loop {
            match stream.read(&mut discard).await {
                Ok(0) => return true,
                Ok(read) => lingered += read,
                Err(_) => return false,
            }
            if lingered > linger_bytes {
                return false;
            }
        }
    }
}

/// What a read error means for the session (PROTOCOL.md, section 6).
fn exit_for(error: WsError) -> LoopExit {
    match error {
        error if is_disconnect(&error) => LoopExit::Vanished,
        WsError::Utf8(_) => LoopExit::ServerCloses(
            EndReason::Error("text message was not valid UTF-8".into()),
            CloseCode::Invalid,
            "text message was not valid UTF-8",
        ),
        WsError::Capacity(capacity) => LoopExit::ServerCloses(
            EndReason::Error(capacity.to_string()),
            CloseCode::Size,
            "message too big",
        ),
        WsError::Protocol(violation) => LoopExit::ServerCloses(
            EndReason::Error(format!("protocol violation: {violation}")),
            CloseCode::Protocol,
            "protocol violation",
        ),
        other => LoopExit::Broken(other.to_string()),
    }
}
