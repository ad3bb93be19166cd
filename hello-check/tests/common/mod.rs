//! What the harness's tests, and the client's, share: the reference server on a free port, the accept loop of a
//! fake peer, and the bound on every wait. Not every test file uses every piece.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hello_check::{Report, Verdict};
use hello_server::{Endpoint, RunningServer, Server, ServerConfig};
use tokio::net::{TcpListener, TcpStream};

/// How long any one wait may take before the test fails: far longer than anything takes.
pub const WAIT: Duration = Duration::from_secs(20);

/// The reference server on 127.0.0.1, on a free port.
pub async fn reference_server(config: ServerConfig) -> RunningServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Server::new(config)
        .unwrap()
        .spawn(vec![Endpoint::Plain(listener)])
}

/// A fake server on 127.0.0.1, on a free port: `session` serves each connection, in a task of
/// its own.
pub async fn fake_server<F, Fut>(session: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(session(tcp));
        }
    });
    addr
}

/// Asserts that `report` failed exactly one case, saying `hint`: what a purpose-broken fake
/// (`broken`, for the message) must show.
pub fn assert_fails_once(report: &Report, broken: impl std::fmt::Debug, hint: &str) {
    let failed = failures(report);
    assert_eq!(failed.len(), 1, "{broken:?} must fail one case: {report:?}");
    assert!(
        failed[0].1.contains(hint),
        "{broken:?}: {:?} should say {hint:?}",
        failed[0].1
    );
}

/// The cases of `report` that failed, with what each said.
pub fn failures(report: &Report) -> Vec<(String, String)> {
    report
        .cases
        .iter()
        .filter(|case| case.verdict == Verdict::Fail)
        .map(|case| (case.case.clone(), case.detail.clone()))
        .collect()
}

/// An HTTP answer as a test reads it.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// The first header of that name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// `GET path` on `stream` with `Connection: close`, read to the end and parsed by httparse.
pub async fn http_get<S>(mut stream: S, host: &str, path: &str) -> HttpAnswer
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut bytes))
        .await
        .expect("the answer within the wait")
        .unwrap();
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_len) = response.parse(&bytes).unwrap() else {
        panic!(
            "an incomplete answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    };
    HttpAnswer {
        status: response.code.unwrap(),
        headers: response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: bytes[head_len..].to_vec(),
    }
}
