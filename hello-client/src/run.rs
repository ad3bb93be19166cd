//! A client run: Echo requests in flight matched by id, every Kiss answered, Pings answered,
//! a silent server noticed, and a clean Close at the end (PROTOCOL.md, sections 3 to 7).

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;

use futures_util::{SinkExt, StreamExt};
use hello_protocol::{EchoRequest, ServerMessage, decode_server_message, defaults, encode};
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
                let mut session = Session {
                    ws,
                    config,
                    in_flight: &mut in_flight,
                    report: &mut report,
                };
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

struct Session<'a> {
    ws: Connection,
    config: &'a ClientConfig,
    in_flight: &'a mut HashMap<u64, InFlight>,
    report: &'a mut RunReport,
}

impl Session<'_> {
    async fn run(
        &mut self,
        end_at: Option<Instant>,
        mut stop: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<SessionEnd, ClientError> {
        let now = Instant::now();
        let mut requests: Vec<&InFlight> = self.in_flight.values().collect();
        requests.sort_by_key(|waiting| waiting.request.id);
        let requests: Vec<Message> = requests
            .iter()
            .map(|waiting| Message::Text(encode(&waiting.request).into()))
            .collect();
        for waiting in self.in_flight.values_mut() {
            waiting.sent_at = now;
        }
        for request in requests {
            if let Err(error) = self.ws.feed(request).await {
                return Ok(SessionEnd::Lost(format!("sending failed: {error}")));
            }
        }
        if let Err(error) = self.ws.flush().await {
            return Ok(SessionEnd::Lost(format!("sending failed: {error}")));
        }
        let silence_limit = self.config.ping_interval * defaults::SILENT_SERVER_INTERVALS;
        let mut last_ping = Instant::now();
        let mut warned_silent = false;
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
                () = sleep_until(last_ping + silence_limit), if !warned_silent => {
                    warned_silent = true;
                    self.report.silences += 1;
                    tracing::warn!(
                        "the server has sent no Ping for {}: it may be silent",
                        humantime::format_duration(silence_limit)
                    );
                }
                message = self.ws.next() => match message {
                    Some(Ok(Message::Text(text))) => self.handle(text.as_bytes()).await?,
                    Some(Ok(Message::Binary(bytes))) => self.handle(&bytes).await?,
                    Some(Ok(Message::Ping(_))) => {
                        last_ping = Instant::now();
                        warned_silent = false;
                        self.report.pings_seen += 1;
                        tracing::debug!("ping");
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        let why = match frame {
                            Some(frame) => format!("the server closed the session ({} {})", u16::from(frame.code), frame.reason),
                            None => "the server closed the session".to_owned(),
                        };
                        // Let tungstenite send its answering Close.
                        let _ = timeout(self.config.timeout, self.ws.next()).await;
                        return Ok(SessionEnd::Lost(why));
                    }
                    Some(Err(error)) => return Ok(SessionEnd::Lost(format!("the connection failed: {error}"))),
                    None => return Ok(SessionEnd::Lost("the connection ended without a Close".to_owned())),
                },
            }
        }
    }

    async fn handle(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        match decode_server_message(bytes) {
            Ok(ServerMessage::Echo(response)) => {
                let result = response.result();
                let Some(waiting) = self.in_flight.remove(&result.id) else {
                    return Err(ClientError::Misbehaved(format!(
                        "an Echo response for id {}, which is not in flight",
                        result.id
                    )));
                };
                if result.kv.data != waiting.request.data {
                    return Err(ClientError::Misbehaved(format!(
                        "the answer to Echo request {} altered its data: sent {:?}, got {:?}",
                        result.id, waiting.request.data, result.kv.data
                    )));
                }
                self.report.echoes_answered += 1;
                tracing::info!(
                    id = result.id,
                    data = %result.kv.data,
                    meta = %result.kv.meta,
                    response_id = %result.kv.id,
                    latency = ?waiting.sent_at.elapsed(),
                    "echo"
                );
                Ok(())
            }
            Ok(ServerMessage::Kiss(kiss)) => {
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
                self.ws
                    .send(Message::Text(encode(&answer).into()))
                    .await
                    .map_err(|error| ClientError::ServerGone(format!("sending failed: {error}")))?;
                self.report.kisses_answered += 1;
                Ok(())
            }
            Ok(ServerMessage::Error(error)) => Err(ClientError::Misbehaved(format!(
                "the server answered a well-formed request with status {}: {}",
                error.status, error.error
            ))),
            Err(error) => Err(ClientError::Misbehaved(format!(
                "the server sent a message the client cannot use: {error}"
            ))),
        }
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
