//! Opening a session: the TCP connection, TLS for `wss://`, the WebSocket handshake with
//! `WhoAmI` and the extra headers, and what the server said in its answer.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hello_protocol::defaults;
use hello_tls::{Identity, ServerTrust};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream, lookup_host};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use tokio_util::either::Either;

use crate::whole_head::WholeHead;

/// Why a session could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The URL is unusable, the server cannot be reached, or TLS failed; the text says which.
    #[error("cannot connect to {0}")]
    Failed(String),
    /// The server answered the handshake with an HTTP status instead of upgrading.
    #[error("{url} refused the WebSocket handshake with HTTP {status}")]
    Refused { url: String, status: u16 },
}

/// TLS for `wss://`: which servers to trust, and the client's own certificate for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub trust: ServerTrust,
    pub identity: Option<Identity>,
}

impl Default for TlsSettings {
    /// Trust the CA the project generates, `certs/ca.crt`; no client certificate.
    fn default() -> Self {
        TlsSettings {
            trust: ServerTrust::Ca(PathBuf::from("certs").join("ca.crt")),
            identity: None,
        }
    }
}

/// The rustls configuration for `url`: `None` for `ws://`, made from `tls` for `wss://`. Loud
/// about `--insecure`.
///
/// # Errors
/// Certificate or key files that cannot be used.
pub fn tls_for_url(
    url: &str,
    tls: &TlsSettings,
) -> Result<Option<Arc<tokio_rustls::rustls::ClientConfig>>, ConnectError> {
    if !url.starts_with("wss://") {
        return Ok(None);
    }
    if tls.trust == ServerTrust::Insecure {
        tracing::warn!(
            "--insecure: the server's certificate is NOT verified; anyone on the path can \
             impersonate it. For testing only."
        );
    }
    hello_tls::client_config(&tls.trust, tls.identity.as_ref())
        .map(Some)
        .map_err(|error| ConnectError::Failed(format!("{url}: TLS: {error}")))
}

/// The stream a client session runs over: plain TCP for `ws://`, TLS for `wss://`.
pub type ClientStream = Either<TcpStream, TlsStream<TcpStream>>;

/// An open WebSocket session to a server.
pub type Connection = WebSocketStream<WholeHead<ClientStream>>;

/// What the server said in its `101 Switching Protocols` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Every response header, in order, values as text.
    pub headers: Vec<(String, String)>,
}

impl Handshake {
    /// The first header of this name, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The server's language tag.
    pub fn svr(&self) -> Option<&str> {
        self.header(defaults::SVR_HEADER)
    }

    /// The session id the server gave.
    pub fn session_id(&self) -> Option<&str> {
        self.header(defaults::SESSION_ID_HEADER)
    }
}

/// What to connect to and what to say in the handshake.
#[derive(Debug, Clone)]
pub struct ConnectOptions<'a> {
    pub url: &'a str,
    /// Sent as `WhoAmI` when present.
    pub name: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub timeout: Duration,
    pub max_message_size: usize,
    /// The TLS configuration for `wss://` URLs.
    pub tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// The local address to connect from; the system's choice when `None`. Spreading many
    /// sessions over several loopback addresses keeps them from running out of ports.
    pub local_addr: Option<IpAddr>,
}

/// Connects and completes the handshake, within `options.timeout`.
///
/// # Errors
/// [`ConnectError`] when the URL is unusable, the server cannot be reached, or refuses the
/// handshake.
pub async fn connect(
    options: &ConnectOptions<'_>,
) -> Result<(Connection, Handshake), ConnectError> {
    connect_over(options, |stream| stream).await
}

/// [`connect`], with the connected stream wrapped by `wrap` before the WebSocket handshake: a
/// checker uses it to watch or hold back what goes over the wire. The server's answer is read
/// whole ([`WholeHead`]), however finely the network sliced it.
///
/// # Errors
/// As [`connect`].
pub async fn connect_over<S>(
    options: &ConnectOptions<'_>,
    wrap: impl FnOnce(ClientStream) -> S,
) -> Result<(WebSocketStream<WholeHead<S>>, Handshake), ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let fail = |what: String| ConnectError::Failed(format!("{}: {what}", options.url));
    let mut request = options
        .url
        .into_client_request()
        .map_err(|error| fail(error.to_string()))?;
    let headers = request.headers_mut();
    if let Some(name) = options.name {
        let value = HeaderValue::from_str(name).map_err(|_| fail(format!("bad name {name:?}")))?;
        headers.insert(defaults::WHO_AM_I_HEADER, value);
    }
    for (name, value) in options.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| fail(format!("bad header name {name:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| fail(format!("bad header value {value:?}")))?;
        headers.append(header, value);
    }
    let uri = request.uri();
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => return Err(fail("the URL must start with ws:// or wss://".to_owned())),
    };
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let config = WebSocketConfig::default()
        .read_buffer_size(defaults::READ_BUFFER_SIZE)
        .max_message_size(Some(options.max_message_size))
        .max_frame_size(Some(options.max_message_size));
    let opening = async {
        let tcp = connect_tcp(&host, port, options.local_addr)
            .await
            .map_err(|error| fail(error.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let stream = if secure {
            let tls = options
                .tls
                .clone()
                .ok_or_else(|| fail("a wss:// URL needs a TLS configuration".to_owned()))?;
            let name = ServerName::try_from(host.clone())
                .map_err(|_| fail(format!("{host:?} is not a valid TLS server name")))?;
            let stream = TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(|error| fail(hello_tls::explain_handshake_error(&error)))?;
            Either::Right(stream)
        } else {
            Either::Left(tcp)
        };
        client_async_with_config(request, WholeHead::new(wrap(stream)), Some(config))
            .await
            .map_err(|error| match error {
                tokio_tungstenite::tungstenite::Error::Http(response) => ConnectError::Refused {
                    url: options.url.to_owned(),
                    status: response.status().as_u16(),
                },
                error => fail(error.to_string()),
            })
    };
    let (ws, response) = tokio::time::timeout(options.timeout, opening)
        .await
        .map_err(|_| {
            fail(format!(
                "no connection within {}",
                humantime::format_duration(options.timeout)
            ))
        })??;
    Ok((ws, handshake_of(&response)))
}

async fn connect_tcp(
    host: &str,
    port: u16,
    local_addr: Option<IpAddr>,
) -> std::io::Result<TcpStream> {
    let Some(local) = local_addr else {
        return TcpStream::connect((host, port)).await;
    };
    let mut last_error = None;
    for remote in lookup_host((host, port)).await? {
        if remote.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.bind(SocketAddr::new(local, 0))?;
        match socket.connect(remote).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::other(format!(
            "{host} has no address of the same family as {local}"
        ))
    }))
}

fn handshake_of<T>(response: &Response<T>) -> Handshake {
    Handshake {
        headers: response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
    }
}
