//! What the server's tests share. Not every test file uses every piece.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use hello_server::{Endpoint, RunningServer, Server, ServerConfig, SessionRegistry};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::Response;
use tokio_tungstenite::{WebSocketStream, client_async};

/// How long any one wait may take before the test fails: far longer than anything takes.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<TcpStream>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub registry: SessionRegistry,
    pub running: RunningServer,
}

impl TestServer {
    /// Intervals long enough that nothing periodic happens unless a test asks for it.
    pub fn quiet() -> ServerConfig {
        ServerConfig {
            ping_interval: Duration::from_secs(60),
            pong_timeout: Duration::from_secs(60),
            kiss_interval: Duration::from_secs(60),
            // Test clients rarely answer the server's Close; don't wait long for them.
            close_timeout: Duration::from_millis(200),
            ..ServerConfig::default()
        }
    }

    pub async fn start(config: ServerConfig) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = Server::new(config)
            .unwrap()
            .spawn(vec![Endpoint::Plain(listener)]);
        TestServer {
            addr: running.addr(),
            registry: running.registry().clone(),
            running,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub async fn open(&self, who_am_i: Option<&str>) -> (Ws, Response<Option<Vec<u8>>>) {
        let mut request = self.url("/ws").into_client_request().unwrap();
        if let Some(name) = who_am_i {
            request
                .headers_mut()
                .insert("WhoAmI", name.parse().unwrap());
        }
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        timeout(WAIT, client_async(request, tcp))
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn session(&self) -> Ws {
        self.open(Some("tester")).await.0
    }

    pub async fn shutdown(self) {
        timeout(WAIT, self.running.shutdown()).await.unwrap();
    }
}
