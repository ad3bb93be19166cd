//! The benchmark ceiling: the least a tokio-tungstenite server can do per message. It sends every
//! text or binary frame back unchanged, with no JSON work, no timers and no registry, and
//! batches its writes the way `hello-server` does. `scripts/bench.sh` runs the same load against
//! it and the real servers, so their distance from it is the cost of the protocol.
//!
//!   cargo run --release -p hello-server --example echo_ceiling -- --port 0 --tls --tls-port 0
//!
//! Load it with `hello-client bench --frame-echo`, which takes each echoed request as its answer.

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use futures_util::{FutureExt, SinkExt, StreamExt};
use hello_net::{Accepted, AcceptedStream, Endpoint, Serve, accept_loop, process::shutdown_signal};
use hello_tls::{CertFiles, ClientAuth, Identity};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a handshake, TLS and WebSocket, may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A frame-echo WebSocket server, the ceiling for benchmarks.
#[derive(Debug, Parser)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Plain ws:// port; 0 picks a free one.
    #[arg(long, default_value_t = 9899)]
    port: u16,
    /// Also serve wss:// on --tls-port, with the certificates in --certs-dir.
    #[arg(long)]
    tls: bool,
    /// The wss:// port; 0 picks a free one.
    #[arg(long, default_value_t = 9887)]
    tls_port: u16,
    /// Where ca.crt, server.crt and server.key are, or are made.
    #[arg(long, default_value = "certs")]
    certs_dir: PathBuf,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let shutdown = shutdown_signal();
    let plain = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let mut endpoints = vec![Endpoint::Plain(plain)];
    if args.tls {
        let files = CertFiles::new(&args.certs_dir);
        hello_tls::ensure_certs(&files, &[], false)?;
        let identity = Identity {
            cert: files.server_cert(),
            key: files.server_key(),
        };
        let acceptor = TlsAcceptor::from(hello_tls::server_config(&identity, &ClientAuth::None)?);
        let secure = TcpListener::bind((args.host.as_str(), args.tls_port)).await?;
        endpoints.push(Endpoint::Tls(secure, acceptor));
    }
    let tasks = TaskTracker::new();
    let stop = CancellationToken::new();
    for endpoint in endpoints {
        if let Some(url) = endpoint.url("/ws") {
            println!("listening on {url}");
        }
        tasks.spawn(accept_loop(
            endpoint,
            HANDSHAKE_TIMEOUT,
            tasks.clone(),
            stop.clone(),
            EchoFrames,
        ));
    }
    shutdown.await;
    stop.cancel();
    Ok(())
}

/// Serves each connection with [`echo_frames`].
struct EchoFrames;

impl Serve for EchoFrames {
    fn serve<S: AcceptedStream>(
        &self,
        accepted: Accepted<S>,
    ) -> impl Future<Output = ()> + Send + 'static {
        echo_frames(accepted)
    }
}

/// Sends every data frame back, flushing once per batch of frames that are already read.
async fn echo_frames<S: AsyncRead + AsyncWrite + Unpin>(accepted: Accepted<S>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(accepted.stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        let mut batch = vec![message];
        while let Some(Some(Ok(message))) = ws.next().now_or_never() {
            batch.push(message);
        }
        for message in batch {
            if matches!(message, Message::Text(_) | Message::Binary(_))
                && ws.feed(message).await.is_err()
            {
                return;
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}
