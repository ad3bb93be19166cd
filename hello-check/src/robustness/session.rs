//! One connection of the suite to the server: a session in either dialect (HELLO first in v1),
//! its Echo round trips with the timers' frames answered along the way, how it ended, and the
//! raw stream under it for what is no WebSocket at all.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hello_net::{ClientStream, ConnectError, WholeHead, connect_over, local_kiss_response};
use hello_protocol::v1::{self, Message as V1};
use hello_protocol::{EchoRequest, ServerMessage, decode_server_message, defaults, encode};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_util::either::Either;

use super::{Robustness, human};
use crate::case::Dialect;
use crate::mutable::MutableStream;

/// One session of the suite with the server.
pub(super) struct Session {
    pub(super) ws: WebSocketStream<WholeHead<MutableStream<ClientStream>>>,
    /// Once set, nothing more the session writes reaches the wire: a frozen client.
    mute: Arc<AtomicBool>,
    pub(super) dialect: Dialect,
    timeout: Duration,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ending {
    /// The server's Close, with its code.
    Close(Option<u16>),
    /// A reset (or an abort) without a Close.
    Reset,
    /// The connection ended without a Close.
    Eof,
    /// Some other failure of the connection.
    Failed(String),
    /// Still open when the suite stopped looking.
    Open,
}

impl Ending {
    fn of_error(error: &WsError) -> Ending {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
        match error {
            WsError::Io(error) if matches!(error.kind(), ConnectionReset | ConnectionAborted) => {
                Ending::Reset
            }
            WsError::Io(error) if matches!(error.kind(), BrokenPipe | UnexpectedEof) => Ending::Eof,
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed => Ending::Eof,
            error => Ending::Failed(error.to_string()),
        }
    }

    /// Whether the session is over, whichever way.
    pub(super) fn ended(&self) -> bool {
        !matches!(self, Ending::Open | Ending::Failed(_))
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Close(Some(code)) => write!(f, "Close {code}"),
            Ending::Close(None) => f.write_str("Close without a code"),
            Ending::Reset => f.write_str("a reset"),
            Ending::Eof => f.write_str("an end without Close"),
            Ending::Failed(error) => write!(f, "a failure ({error})"),
            Ending::Open => f.write_str("nothing (still open)"),
        }
    }
}

impl Robustness {
    /// Opens a session in the run's dialect: the handshake, and in v1 HELLO answered by
    /// BONJOUR.
    pub(super) async fn open(&self) -> Result<Session, String> {
        self.open_in(self.config.dialect).await
    }

    pub(super) async fn open_in(&self, dialect: Dialect) -> Result<Session, String> {
        let mut session = self.handshake().await.map_err(|error| error.to_string())?;
        session.dialect = dialect;
        if dialect == Dialect::V1 {
            let hello = V1::Hello {
                client_language: defaults::LANGUAGE_TAG.to_owned(),
            };
            session
                .send(Message::Binary(v1::encode(&hello).into()))
                .await?;
            let deadline = Instant::now() + self.config.timeout;
            loop {
                match session.next_v1(deadline, "BONJOUR").await? {
                    V1::Bonjour { .. } => break,
                    other => session.answer_v1_timer(&other).await?,
                }
            }
        }
        Ok(session)
    }

    /// The WebSocket handshake alone, with no word of either dialect yet.
    pub(super) async fn handshake(&self) -> Result<Session, ConnectError> {
        let options = self
            .options()
            .map_err(|error| ConnectError::Failed(error.to_string()))?;
        let mute = Arc::new(AtomicBool::new(false));
        let (ws, handshake) = connect_over(&options, |stream| {
            MutableStream::new(stream, Arc::clone(&mute))
        })
        .await?;
        if let Some(svr) = handshake.svr() {
            *self.svr.lock().unwrap_or_else(|p| p.into_inner()) = Some(svr.to_owned());
        }
        Ok(Session {
            ws,
            mute,
            dialect: self.config.dialect,
            timeout: self.config.timeout,
        })
    }

    /// A session opened and one Echo answered: the server is still serving.
    pub(super) async fn normal_session(&self) -> Result<Duration, String> {
        let started = Instant::now();
        let mut session = self.open().await?;
        session.echo(1, "a normal session").await?;
        session.close().await;
        Ok(started.elapsed())
    }

    /// A TCP connection to the server, with TLS for `wss://`, and nothing said on it yet.
    pub(super) async fn raw_stream(&self) -> Result<ClientStream, String> {
        let request = self
            .config
            .url
            .as_str()
            .into_client_request()
            .map_err(|error| error.to_string())?;
        let uri = request.uri();
        let secure = uri.scheme_str() == Some("wss");
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let opening = async {
            let tcp = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|error| error.to_string())?;
            let _ = tcp.set_nodelay(true);
            if !secure {
                return Ok(Either::Left(tcp));
            }
            let tls = self
                .tls
                .clone()?
                .ok_or_else(|| "a wss:// URL needs a TLS configuration".to_owned())?;
            let name = ServerName::try_from(host.clone())
                .map_err(|_| format!("{host:?} is not a valid TLS server name"))?;
            let stream = TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(|error| hello_tls::explain_handshake_error(&error))?;
            Ok(Either::Right(stream))
        };
        timeout(self.config.timeout, opening)
            .await
            .map_err(|_| format!("no connection within {}", human(self.config.timeout)))?
    }
}

impl Session {
    pub(super) async fn send(&mut self, message: Message) -> Result<(), String> {
        self.ws
            .send(message)
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    /// An Echo request in the session's dialect.
    pub(super) fn request(&self, id: u64, data: &str) -> Message {
        match self.dialect {
            Dialect::Json => Message::Text(request_text(id, data).into()),
            Dialect::V1 => Message::Binary(request_frame(id, data).into()),
        }
    }

    /// Stops the session's writes from reaching the wire, for good: what tungstenite would
    /// write (answers to old Pings, a Close) is dropped, so the server sees a frozen client.
    pub(super) fn freeze(&self) {
        self.mute.store(true, Ordering::Relaxed);
    }

    /// Sends one Echo request and waits for its answer; how long the round trip took.
    pub(super) async fn echo(&mut self, id: u64, data: &str) -> Result<Duration, String> {
        let started = Instant::now();
        self.send(self.request(id, data)).await?;
        self.answer(id, data).await?;
        Ok(started.elapsed())
    }

    /// Waits for the answer to request `id`, which must carry `data`, answering the server's
    /// Kiss requests and v1 PINGs on the way.
    pub(super) async fn answer(&mut self, id: u64, data: &str) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.next_data(deadline, "answer").await?;
            match self.dialect {
                Dialect::Json => match decode_server_message(&message) {
                    Ok(ServerMessage::Echo(response)) => {
                        let result = response.result();
                        if result.id != id {
                            return Err(format!("the answer to id {id} carried id {}", result.id));
                        }
                        if result.kv.data != data {
                            return Err(format!("the answer to id {id} altered its data"));
                        }
                        return Ok(());
                    }
                    Ok(ServerMessage::Kiss(_)) => {
                        let kiss = encode(&local_kiss_response());
                        self.send(Message::Text(kiss.into())).await?;
                    }
                    Ok(ServerMessage::Error(error)) => {
                        return Err(format!(
                            "an Echo request was answered with status {}: {}",
                            error.status, error.error
                        ));
                    }
                    Err(error) => {
                        return Err(format!("the server sent something unusable: {error}"));
                    }
                },
                Dialect::V1 => match v1::decode(&message) {
                    Ok(V1::EchoResponse { results, .. }) => {
                        let kv = |key: &str| {
                            results.first().and_then(|result| {
                                result
                                    .kv
                                    .iter()
                                    .find(|(k, _)| k == key)
                                    .map(|(_, v)| v.clone())
                            })
                        };
                        if kv("id") != Some(id.to_string()) {
                            return Err(format!(
                                "the answer to id {id} carried kv.id {:?}",
                                kv("id")
                            ));
                        }
                        if kv("data").as_deref() != Some(data) {
                            return Err(format!("the answer to id {id} altered its data"));
                        }
                        return Ok(());
                    }
                    Ok(V1::Error { code, message }) => {
                        return Err(format!(
                            "an ECHO_REQUEST was answered with ERROR {code}: {message}"
                        ));
                    }
                    Ok(other) => self.answer_v1_timer(&other).await?,
                    Err(error) => return Err(format!("the server sent a bad frame: {error}")),
                },
            }
        }
    }

    /// Reads until `until`, answering what a live client answers (Pings by tungstenite, Kiss
    /// requests, v1 PINGs); an error says how the session ended if it did.
    pub(super) async fn stay_alive(&mut self, until: Instant) -> Result<(), String> {
        loop {
            let message = match timeout_at(until, self.ws.next()).await {
                Err(_) => return Ok(()),
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(error))) => {
                    return Err(format!("it ended with {}", Ending::of_error(&error)));
                }
                Ok(None) => return Err("it ended without Close".to_owned()),
            };
            match message {
                Message::Close(frame) => {
                    return Err(format!(
                        "it was closed with {}",
                        Ending::Close(frame.map(|f| u16::from(f.code)))
                    ));
                }
                Message::Text(text) => {
                    if let Ok(ServerMessage::Kiss(_)) = decode_server_message(text.as_bytes()) {
                        let kiss = encode(&local_kiss_response());
                        self.send(Message::Text(kiss.into())).await?;
                    }
                }
                Message::Binary(bytes) => {
                    if let Ok(frame) = v1::decode(&bytes) {
                        self.answer_v1_timer(&frame).await?;
                    }
                }
                _ => {}
            }
        }
    }

    /// Reads, answering nothing, until the connection ends or `deadline` passes: how it ended.
    pub(super) async fn ending(&mut self, deadline: Instant) -> Ending {
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Ending::Open,
                Ok(None) => return Ending::Eof,
                Ok(Some(Err(error))) => return Ending::of_error(&error),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Ending::Close(frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Ends the session with Close 1000, waiting briefly for the server's answer.
    pub(super) async fn close(mut self) {
        let _ = timeout(self.timeout, self.ws.close(None)).await;
        let deadline = Instant::now() + self.timeout.min(Duration::from_secs(2));
        let _ = self.ending(deadline).await;
    }

    async fn next_data(&mut self, deadline: Instant, what: &str) -> Result<Bytes, String> {
        loop {
            let message = match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(format!("no {what} came within {}", human(self.timeout))),
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(error))) => {
                    return Err(format!(
                        "the session ended with {} while the client waited for the {what}",
                        Ending::of_error(&error)
                    ));
                }
                Ok(None) => {
                    return Err(format!(
                        "the session ended while the client waited for the {what}"
                    ));
                }
            };
            match message {
                Message::Text(text) => return Ok(Bytes::from(text)),
                Message::Binary(bytes) => return Ok(bytes),
                Message::Close(frame) => {
                    return Err(format!(
                        "the server closed the session ({}) while the client waited for the {what}",
                        Ending::Close(frame.map(|f| u16::from(f.code)))
                    ));
                }
                _ => {}
            }
        }
    }

    async fn next_v1(&mut self, deadline: Instant, what: &str) -> Result<V1, String> {
        let bytes = self.next_data(deadline, what).await?;
        v1::decode(&bytes).map_err(|error| {
            format!("the server sent a bad frame while the client waited for the {what}: {error}")
        })
    }

    /// Answers a v1 timer's frame as a good client does: PONG for PING, KISS_RESPONSE for
    /// KISS_REQUEST; the rest is let pass.
    async fn answer_v1_timer(&mut self, message: &V1) -> Result<(), String> {
        let answer = match message {
            V1::Ping { timestamp_ms } => V1::Pong {
                timestamp_ms: *timestamp_ms,
            },
            V1::KissRequest { .. } => V1::from(&local_kiss_response()),
            _ => return Ok(()),
        };
        self.send(Message::Binary(v1::encode(&answer).into())).await
    }
}

/// A JSON Echo request.
pub(super) fn request_text(id: u64, data: &str) -> String {
    encode(&EchoRequest {
        id,
        data: data.to_owned(),
        meta: defaults::LANGUAGE_TAG.to_owned(),
    })
}

/// A v1 ECHO_REQUEST frame.
pub(super) fn request_frame(id: u64, data: &str) -> Vec<u8> {
    v1::encode(&V1::EchoRequest {
        id: id as i64,
        meta: defaults::LANGUAGE_TAG.to_owned(),
        data: data.to_owned(),
    })
}

/// Random bytes, from the system's randomness through UUIDs v4 (122 random bits each).
pub(super) fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 16);
    while bytes.len() < len {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A session kept alive by a task of its own (reading, answering Pings, Kiss requests and v1
/// PINGs) until it is released.
pub(super) struct Held {
    release: tokio::sync::oneshot::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Held {
    /// Keeps `session` alive until [`Held::release`].
    pub(super) fn new(mut session: Session) -> Held {
        let (release, released) = tokio::sync::oneshot::channel::<bool>();
        let task = tokio::spawn(async move {
            let far = Instant::now() + Duration::from_secs(24 * 3600);
            let echo = tokio::select! {
                echo = released => echo.unwrap_or(false),
                result = session.stay_alive(far) => return result,
            };
            if echo {
                session.echo(1, "still served").await?;
            }
            session.close().await;
            Ok(())
        });
        Held { release, task }
    }

    /// Ends the session with Close 1000, after an Echo round trip when `echo`: an error says
    /// how the session had ended before, or why the Echo failed.
    pub(super) async fn release(self, echo: bool) -> Result<(), String> {
        let _ = self.release.send(echo);
        self.task
            .await
            .unwrap_or_else(|error| Err(format!("the session's task failed: {error}")))
    }
}
