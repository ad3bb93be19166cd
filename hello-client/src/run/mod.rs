//! A client run: Echo requests in flight matched by id, every Kiss answered, Pings answered,
//! a silent server noticed, and a clean Close at the end (PROTOCOL.md, sections 3 to 7), in
//! either dialect. What each says on the wire is in [`json`] and [`v1`]; the rest, here, is the
//! same for both.

mod json;
mod v1;

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_protocol::{Dialect, EchoRequest, KissRequest, KissResponse, defaults};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use hello_net::{ConnectOptions, Connection, Handshake, connect, local_kiss_response, tls_for_url};

use crate::ClientError;
use crate::config::{ClientConfig, echo_data};
use v1::V1State;

/// The reason of the client's Close, and of its DISCONNECT in v1.
const FAREWELL: &str = "bye";

/// What a successful run saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// The handshake of each session, one per (re)connection.
    pub handshakes: Vec<Handshake>,
    /// Echo requests answered correctly.
    pub echoes_answered: u64,
    /// Kiss requests answered.
    pub kisses_answered: u64,
    /// Pings seen: WebSocket Pings in JSON, PINGs in v1.
    pub pings_seen: u64,
    /// v1: PINGs answered with a PONG echoing their timestamp.
    pub pongs_sent: u64,
    /// v1: HASH_RESPONSEs that matched the client's own hash of its RANDOM_NUMBER.
    pub hashes_verified: u64,
    /// v1: TIME_NOTIFICATIONs seen.
    pub time_notifications_seen: u64,
    /// Times the server was reported silent: no Ping for several ping intervals.
    pub silences: u64,
    /// How the client ended its last session; `None` when the run ended otherwise.
    pub closing: Option<Closing>,
}

/// How the client's ending of a session went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// The client sent Close 1000 (in v1, when DISCONNECT drew no Close within the timeout);
    /// `answered` says whether the server's Close came back within the timeout.
    ByClient { answered: bool },
    /// v1: after DISCONNECT the server closed, with this code and reason, and the client
    /// answered.
    ByServer { code: u16, reason: String },
}

/// A request waiting for its answer.
struct InFlight {
    request: EchoRequest,
    sent_at: Instant,
}

/// How one connection ended, when it ended without a fault.
enum SessionEnd {
    /// The run is over: stopped, or its duration passed with every answer in.
    Finished,
    /// The server went away; the text says how.
    Lost(String),
}

/// Runs the client until `config.duration` passes or `stop` completes, then closes with 1000
/// (in v1, says DISCONNECT first).
///
/// # Errors
/// The server cannot be reached, an answer is missing, late or wrong (in v1 a HASH_RESPONSE
/// too), the server sends something the client cannot use or (in v1) an ERROR, or it goes away
/// (unless `config.reconnect` is set); the error says which. A run with a duration also fails
/// when no Kiss request arrived.
pub async fn run(
    config: &ClientConfig,
    stop: impl Future<Output = ()>,
) -> Result<RunReport, ClientError> {
    let started = Instant::now();
    let mut stop = pin!(stop);
    let end_at = config.duration.map(|duration| started + duration);
    let mut report = RunReport::default();
    let mut in_flight: HashMap<u64, InFlight> = (1..=config.count)
        .map(|id| {
            let request = EchoRequest {
                id,
                data: echo_data(id, config.echo_bytes),
                meta: defaults::LANGUAGE_TAG.to_owned(),
            };
            (
                id,
                InFlight {
                    request,
                    sent_at: started,
                },
            )
        })
        .collect();
    let tls = tls_for_url(&config.url, &config.tls)?;
    let headers = handshake_headers(config);
    let mut backoff = config.reconnect.map(|backoff| backoff.initial);
    loop {
        let options = ConnectOptions {
            url: &config.url,
            name: Some(&config.name),
            headers: &headers,
            timeout: config.timeout,
            max_message_size: config.max_message_size,
            tls: tls.clone(),
            local_addr: None,
        };
        let connected = match connect(&options).await {
            Ok(connected) => Ok(connected),
            Err(error) if report.handshakes.is_empty() => return Err(error.into()),
            Err(error) => Err(error.to_string()),
        };
        let end = match connected {
            Ok((ws, handshake)) => {
                print_handshake(&handshake);
                report.handshakes.push(handshake);
                backoff = config.reconnect.map(|backoff| backoff.initial);
                let mut session = Session::new(ws, config, &mut in_flight, &mut report);
                session.run(end_at, stop.as_mut()).await?
            }
            Err(error) => SessionEnd::Lost(error),
        };
        let reason = match end {
            SessionEnd::Finished => break,
            SessionEnd::Lost(reason) => reason,
        };
        let Some(pause) = backoff else {
            return Err(ClientError::ServerGone(reason));
        };
        tracing::warn!(
            "{reason}; reconnecting in {}",
            humantime::format_duration(pause)
        );
        let resume = tokio::select! {
            () = sleep(pause) => true,
            () = sleep_until_optional(end_at) => false,
            () = stop.as_mut() => false,
        };
        if !resume {
            return Err(ClientError::ServerGone(reason));
        }
        let max = config.reconnect.map_or(pause, |backoff| backoff.max);
        backoff = Some((pause * 2).min(max));
    }
    if config.duration.is_some() && report.kisses_answered == 0 {
        return Err(ClientError::Misbehaved(format!(
            "no Kiss request arrived in {}",
            humantime::format_duration(config.duration.unwrap_or_default())
        )));
    }
    match config.dialect {
        Dialect::Json => tracing::info!(
            echoes = report.echoes_answered,
            kisses = report.kisses_answered,
            pings = report.pings_seen,
            "run complete"
        ),
        Dialect::V1 => tracing::info!(
            echoes = report.echoes_answered,
            hashes = report.hashes_verified,
            kisses = report.kisses_answered,
            pings = report.pings_seen,
            pongs = report.pongs_sent,
            times = report.time_notifications_seen,
            "run complete"
        ),
    }
    Ok(report)
}

/// The handshake's extra headers: the configured ones, and in v1 `userId` with the client's
/// name unless one is configured.
fn handshake_headers(config: &ClientConfig) -> Vec<(String, String)> {
    let mut headers = config.headers.clone();
    let has_user_id = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(defaults::USER_ID_HEADER));
    if config.dialect == Dialect::V1 && !has_user_id {
        headers.push((defaults::USER_ID_HEADER.to_owned(), config.name.clone()));
    }
    headers
}

async fn sleep_until_optional(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn print_handshake(handshake: &Handshake) {
    tracing::info!(
        svr = handshake.svr().unwrap_or("(none)"),
        session_id = handshake.session_id().unwrap_or("(none)"),
        "connected"
    );
    for (name, value) in &handshake.headers {
        tracing::info!("response header {name}: {value}");
    }
}

/// One connection of a run: the requests in flight sent, the server's messages taken in, a
/// silent server noticed, until the run ends or the connection does.
struct Session<'a> {
    ws: Connection,
    config: &'a ClientConfig,
    in_flight: &'a mut HashMap<u64, InFlight>,
    report: &'a mut RunReport,
    silence: SilenceWatch,
    /// The v1 session's state when the run speaks v1; JSON needs none.
    v1: Option<V1State>,
}

impl<'a> Session<'a> {
    fn new(
        ws: Connection,
        config: &'a ClientConfig,
        in_flight: &'a mut HashMap<u64, InFlight>,
        report: &'a mut RunReport,
    ) -> Self {
        let (ping_interval, v1) = match config.dialect {
            Dialect::Json => (config.ping_interval, None),
            Dialect::V1 => (
                config.v1_ping_interval,
                Some(V1State::new(config.random_interval)),
            ),
        };
        Session {
            ws,
            config,
            in_flight,
            report,
            silence: SilenceWatch::new(ping_interval),
            v1,
        }
    }

    async fn run(
        &mut self,
        end_at: Option<Instant>,
        mut stop: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<SessionEnd, ClientError> {
        let now = Instant::now();
        let mut waiting: Vec<&InFlight> = self.in_flight.values().collect();
        waiting.sort_by_key(|waiting| waiting.request.id);
        let opening = match self.v1 {
            None => json::requests(&waiting),
            Some(_) => v1::opening(&waiting),
        };
        for waiting in self.in_flight.values_mut() {
            waiting.sent_at = now;
        }
        for message in opening {
            if let Err(error) = self.ws.feed(message).await {
                return Ok(SessionEnd::Lost(format!("sending failed: {error}")));
            }
        }
        if let Err(error) = self.ws.flush().await {
            return Ok(SessionEnd::Lost(format!("sending failed: {error}")));
        }
        self.silence.heard();
        loop {
            let past_end = end_at.is_some_and(|end| Instant::now() >= end);
            if past_end && self.all_answered() {
                return self.end().await;
            }
            let answer_due = self
                .oldest_unanswered()
                .map(|sent_at| sent_at + self.config.timeout);
            let silent_at = self.silence.deadline();
            // No new RANDOM_NUMBER once the run is over and only waits for its answers.
            let random_due = self
                .v1
                .as_ref()
                .filter(|_| !past_end)
                .map(V1State::next_random);
            tokio::select! {
                () = stop.as_mut() => return self.end().await,
                () = sleep_until_optional(end_at), if self.all_answered() => return self.end().await,
                () = sleep_until_optional(answer_due) => return Err(self.late()),
                () = sleep_until_optional(silent_at) => {
                    self.silence.warn();
                    self.report.silences += 1;
                }
                () = sleep_until_optional(random_due) => self.send_random_number().await?,
                message = self.ws.next() => match message {
                    Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => self.handle(message).await?,
                    // v1 servers have PINGs of their own; a WebSocket Ping says nothing there.
                    Some(Ok(Message::Ping(_))) if self.v1.is_none() => {
                        self.silence.heard();
                        self.report.pings_seen += 1;
                        tracing::debug!("ping");
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => return Ok(self.server_closed(frame).await),
                    Some(Err(error)) => return Ok(SessionEnd::Lost(format!("the connection failed: {error}"))),
                    None => return Ok(SessionEnd::Lost("the connection ended without a Close".to_owned())),
                },
            }
        }
    }

    /// Takes in one data message, in the session's dialect.
    async fn handle(&mut self, message: Message) -> Result<(), ClientError> {
        if self.v1.is_some() {
            return self.handle_v1(message).await;
        }
        match message {
            Message::Text(text) => self.handle_json(text.as_bytes()).await,
            Message::Binary(bytes) => self.handle_json(&bytes).await,
            _ => Ok(()),
        }
    }

    /// Whether every Echo request (and in v1 every RANDOM_NUMBER) has had its answer.
    fn all_answered(&self) -> bool {
        self.in_flight.is_empty() && self.v1.as_ref().is_none_or(V1State::all_hashed)
    }

    /// When the oldest request still awaiting its answer was sent.
    fn oldest_unanswered(&self) -> Option<Instant> {
        let echo = self.in_flight.values().map(|waiting| waiting.sent_at).min();
        let hash = self.v1.as_ref().and_then(V1State::oldest_awaiting);
        echo.into_iter().chain(hash).min()
    }

    /// The error for answers that did not come within the timeout.
    fn late(&self) -> ClientError {
        let within = humantime::format_duration(self.config.timeout);
        if !self.in_flight.is_empty() {
            let mut late: Vec<u64> = self.in_flight.keys().copied().collect();
            late.sort_unstable();
            return ClientError::Misbehaved(format!(
                "no answer to Echo request(s) {late:?} within {within}"
            ));
        }
        let late = self
            .v1
            .as_ref()
            .map(V1State::awaiting_ids)
            .unwrap_or_default();
        ClientError::Misbehaved(format!(
            "no HASH_RESPONSE to RANDOM_NUMBER(s) {late:?} within {within}"
        ))
    }

    /// Ends the session as its dialect says.
    async fn end(&mut self) -> Result<SessionEnd, ClientError> {
        match self.v1 {
            None => self.close().await,
            Some(_) => self.disconnect().await,
        }
    }

    /// Takes the request `id` out of flight, now that its answer came with `data`.
    ///
    /// # Errors
    /// No request `id` is in flight, or the answer altered its data.
    fn take_answered(&mut self, id: u64, data: &str) -> Result<InFlight, ClientError> {
        let Some(waiting) = self.in_flight.remove(&id) else {
            return Err(ClientError::Misbehaved(format!(
                "an Echo response for id {id}, which is not in flight"
            )));
        };
        if data != waiting.request.data {
            return Err(ClientError::Misbehaved(format!(
                "the answer to Echo request {id} altered its data: sent {:?}, got {data:?}",
                waiting.request.data
            )));
        }
        self.report.echoes_answered += 1;
        Ok(waiting)
    }

    /// Answers a Kiss request with this host's facts, written by `encode`.
    async fn answer_kiss(
        &mut self,
        kiss: &KissRequest,
        encode: impl FnOnce(&KissResponse) -> Message,
    ) -> Result<(), ClientError> {
        let answer = local_kiss_response();
        tracing::info!(
            os_name = %kiss.os_name,
            os_version = %kiss.os_version,
            os_release = %kiss.os_release,
            os_architecture = %kiss.os_architecture,
            language = %answer.language,
            encoding = %answer.encoding,
            time_zone = %answer.time_zone,
            "kiss"
        );
        self.send_now(encode(&answer)).await?;
        self.report.kisses_answered += 1;
        Ok(())
    }

    /// Sends one message now.
    async fn send_now(&mut self, message: Message) -> Result<(), ClientError> {
        self.ws
            .send(message)
            .await
            .map_err(|error| ClientError::ServerGone(format!("sending failed: {error}")))
    }

    /// The server closed the session in the middle of the run: answers its Close.
    async fn server_closed(&mut self, frame: Option<CloseFrame>) -> SessionEnd {
        let why = match frame {
            Some(frame) => format!(
                "the server closed the session ({} {})",
                u16::from(frame.code),
                frame.reason
            ),
            None => "the server closed the session".to_owned(),
        };
        // Let tungstenite send its answering Close.
        let _ = timeout(self.config.timeout, self.ws.next()).await;
        SessionEnd::Lost(why)
    }

    /// Sends Close 1000 and waits, up to the timeout, for the server's answering Close.
    async fn close(&mut self) -> Result<SessionEnd, ClientError> {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: Utf8Bytes::from_static(FAREWELL),
        };
        let answered = self.ws.send(Message::Close(Some(frame))).await.is_ok()
            && self.await_close().await.is_some();
        if !answered {
            tracing::warn!(
                "the server did not answer the Close within {}",
                humantime::format_duration(self.config.timeout)
            );
        }
        self.report.closing = Some(Closing::ByClient { answered });
        Ok(SessionEnd::Finished)
    }

    /// Reads, up to the timeout, until the connection ends: what comes is dropped, but for the
    /// server's Close, which tungstenite answers, and which is returned if it came.
    async fn await_close(&mut self) -> Option<Option<CloseFrame>> {
        let mut close = None;
        let _ = timeout(self.config.timeout, async {
            while let Some(Ok(message)) = self.ws.next().await {
                if let Message::Close(frame) = message {
                    close = Some(frame);
                }
            }
        })
        .await;
        close
    }
}

/// Echo data as the log shows it: whole when short, else its start and its size, so that a
/// large Echo makes no line of hundreds of kilobytes.
struct Shown<'a>(&'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const WHOLE: usize = 64;
        let data = self.0;
        if data.len() <= WHOLE {
            return f.write_str(data);
        }
        let mut end = WHOLE;
        while !data.is_char_boundary(end) {
            end -= 1;
        }
        write!(f, "{}… ({} bytes)", &data[..end], data.len())
    }
}

/// Notices a server that stopped pinging: no Ping for
/// [`defaults::SILENT_SERVER_INTERVALS`] of its ping intervals is reported once, until the
/// next Ping.
struct SilenceWatch {
    limit: Duration,
    last_ping: Instant,
    warned: bool,
}

impl SilenceWatch {
    fn new(ping_interval: Duration) -> Self {
        SilenceWatch {
            limit: ping_interval * defaults::SILENT_SERVER_INTERVALS,
            last_ping: Instant::now(),
            warned: false,
        }
    }

    /// A Ping came (or the session began).
    fn heard(&mut self) {
        self.last_ping = Instant::now();
        self.warned = false;
    }

    /// When the server will have been silent too long, unless that was reported already.
    fn deadline(&self) -> Option<Instant> {
        (!self.warned).then(|| self.last_ping + self.limit)
    }

    fn warn(&mut self) {
        self.warned = true;
        tracing::warn!(
            "the server has sent no Ping for {}: it may be silent",
            humantime::format_duration(self.limit)
        );
    }
}
