//! A client run: Echo requests in flight matched by id, every Kiss answered, Pings answered,
//! a silent server noticed, and a clean Close at the end (PROTOCOL.md, sections 3 to 7).

mod json;

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_protocol::{EchoRequest, KissRequest, KissResponse, defaults};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use hello_net::{ConnectOptions, Connection, Handshake, connect, local_kiss_response, tls_for_url};
use hello_protocol::GREETINGS;

use crate::ClientError;
use crate::config::ClientConfig;

/// What a successful run saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// The handshake of each session, one per (re)connection.
    pub handshakes: Vec<Handshake>,
    /// Echo requests answered correctly.
    pub echoes_answered: u64,
    /// Kiss requests answered.
    pub kisses_answered: u64,
    /// Pings seen.
    pub pings_seen: u64,
    /// Times the server was reported silent: no Ping for several ping intervals.
    pub silences: u64,
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

/// Runs the client until `config.duration` passes or `stop` completes, then closes with 1000.
///
/// # Errors
/// The server cannot be reached, an answer is missing, late or wrong, the server sends
/// something the client cannot use, or it goes away (unless `config.reconnect` is set); the
/// error says which. A run with a duration also fails when no Kiss request arrived.
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
            let data = GREETINGS[((id - 1) % GREETINGS.len() as u64) as usize];
            let request = EchoRequest {
                id,
                data: data.to_owned(),
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
    let mut backoff = config.reconnect.map(|backoff| backoff.initial);
    loop {
        let options = ConnectOptions {
            url: &config.url,
            name: Some(&config.name),
            headers: &config.headers,
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
    tracing::info!(
        echoes = report.echoes_answered,
        kisses = report.kisses_answered,
        pings = report.pings_seen,
        "run complete"
    );
    Ok(report)
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
}

impl<'a> Session<'a> {
    fn new(
        ws: Connection,
        config: &'a ClientConfig,
        in_flight: &'a mut HashMap<u64, InFlight>,
        report: &'a mut RunReport,
    ) -> Self {
        Session {
            ws,
            config,
            in_flight,
            report,
            silence: SilenceWatch::new(config.ping_interval),
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
        let opening = json::requests(&waiting);
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
            let answer_due = self
                .in_flight
                .values()
                .map(|waiting| waiting.sent_at + self.config.timeout)
                .min();
            let finished =
                end_at.is_some_and(|end| Instant::now() >= end) && self.in_flight.is_empty();
            if finished {
                return self.close().await;
            }
            let silent_at = self.silence.deadline();
            tokio::select! {
                () = stop.as_mut() => return self.close().await,
                () = sleep_until_optional(end_at), if self.in_flight.is_empty() => return self.close().await,
                () = sleep_until_optional(answer_due) => {
                    let mut late: Vec<u64> = self.in_flight.keys().copied().collect();
                    late.sort_unstable();
                    return Err(ClientError::Misbehaved(format!(
                        "no answer to Echo request(s) {late:?} within {}",
                        humantime::format_duration(self.config.timeout)
                    )));
                }
                () = sleep_until_optional(silent_at) => {
                    self.silence.warn();
                    self.report.silences += 1;
                }
                message = self.ws.next() => match message {
                    Some(Ok(Message::Text(text))) => self.handle_json(text.as_bytes()).await?,
                    Some(Ok(Message::Binary(bytes))) => self.handle_json(&bytes).await?,
                    Some(Ok(Message::Ping(_))) => {
                        self.silence.heard();
                        self.report.pings_seen += 1;
                        tracing::debug!("ping");
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => return Ok(self.server_closed(frame).await),
                    Some(Err(error)) => return Ok(SessionEnd::Lost(format!("the connection failed: {error}"))),
                    None => return Ok(SessionEnd::Lost("the connection ended without a Close".to_owned())),
                },
            }
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
            reason: Utf8Bytes::from_static("bye"),
        };
        if self.ws.send(Message::Close(Some(frame))).await.is_ok() {
            let answered = timeout(self.config.timeout, async {
                while let Some(Ok(_)) = self.ws.next().await {}
            })
            .await;
            if answered.is_err() {
                tracing::warn!(
                    "the server did not answer the Close within {}",
                    humantime::format_duration(self.config.timeout)
                );
            }
        }
        Ok(SessionEnd::Finished)
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
