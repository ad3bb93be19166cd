//! The server's plain HTTP side: what it answers a request that is not a WebSocket handshake.
//! `GET /` is the browser client's page (the files of `web/`, built into the binary), so that
//! opening the server's address in a browser is the demo; the WebSocket path without an upgrade
//! is answered 426, anything else 404.
//!
//! hyper serves these requests, one per connection: a page is a handful of small files, and the
//! connection stays under the handshake's deadline and the connection limit like any other.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// A file of the page: where it is served, its media type, its bytes.
struct Asset {
    path: &'static str,
    media_type: &'static str,
    body: &'static str,
}

/// The browser client's files, as `web/` holds them.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        media_type: "text/html; charset=utf-8",
        body: include_str!("../../web/index.html"),
    },
    Asset {
        path: "/hello.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/hello.js"),
    },
    Asset {
        path: "/v1.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/v1.js"),
    },
    Asset {
        path: "/hello.css",
        media_type: "text/css; charset=utf-8",
        body: include_str!("../../web/hello.css"),
    },
];

/// The page loads its own files only (and `data:` for the empty icon that keeps a browser from
/// asking for `/favicon.ico`), and may open WebSockets anywhere: its `url` parameter points it
/// at any server.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; \
                      base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the plain HTTP side knows of its server.
#[derive(Debug, Clone)]
pub(crate) struct PageSite {
    /// The WebSocket path, answered 426 to a request without an upgrade.
    pub(crate) websocket_path: String,
    /// Whether the server is at its connection limit: then every request is answered 503.
    pub(crate) at_capacity: bool,
}

/// Answers the one HTTP request of `stream`, then closes it. Failures (a head that is not
/// HTTP, a peer that leaves) are hyper's to answer and are logged at debug level.
pub(crate) async fn serve_http<S>(stream: S, site: PageSite)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let response = answer(&request, &site);
        async move { Ok::<_, Infallible>(response) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(error) = served {
        tracing::debug!(%error, "plain HTTP request failed");
    }
}

fn answer(request: &Request<Incoming>, site: &PageSite) -> Response<Full<Bytes>> {
    if site.at_capacity {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is at its connection limit",
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served",
        );
    }
    let path = request.uri().path();
    if path == site.websocket_path {
        return text(
            StatusCode::UPGRADE_REQUIRED,
            "this is the WebSocket endpoint: connect with a WebSocket client",
        );
    }
    let path = if path == "/index.html" { "/" } else { path };
    match ASSETS.iter().find(|asset| asset.path == path) {
        Some(asset) => {
            let mut response = Response::new(Full::new(Bytes::from_static(asset.body.as_bytes())));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.media_type));
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        None => text(StatusCode::NOT_FOUND, "nothing here: the page is at /"),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
