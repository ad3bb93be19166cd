//! The server's plain HTTP side, on the WebSocket's own port: the browser client's page at `/`,
//! 426 for the WebSocket path without an upgrade, 404 elsewhere, and sessions served alongside.

#[path = "../../hello-check/tests/common/mod.rs"]
mod common;

use common::{http_get, reference_server};
use futures_util::{SinkExt, StreamExt};
use hello_server::ServerConfig;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_page_and_its_files_are_served_at_the_root_with_their_types() {
    let server = reference_server(ServerConfig::default()).await;
    let addr = server.addr();
    let files = [
        ("/", "text/html", include_str!("../../web/index.html")),
        (
            "/index.html",
            "text/html",
            include_str!("../../web/index.html"),
        ),
        (
            "/hello.js",
            "text/javascript",
            include_str!("../../web/hello.js"),
        ),
        ("/v1.js", "text/javascript", include_str!("../../web/v1.js")),
        (
            "/hello.css",
            "text/css",
            include_str!("../../web/hello.css"),
        ),
    ];
    for (path, media_type, body) in files {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let answer = http_get(tcp, &addr.to_string(), path).await;
        assert_eq!(answer.status, 200, "{path}");
        let content_type = answer.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with(media_type),
            "{path}: {content_type}"
        );
        assert!(
            answer
                .header("content-security-policy")
                .is_some_and(|policy| policy.contains("default-src 'self'")),
            "{path}"
        );
        assert_eq!(answer.body, body.as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn other_paths_are_404_and_the_websocket_path_without_upgrade_is_426() {
    let server = reference_server(ServerConfig::default()).await;
    let addr = server.addr();
    for (path, status) in [("/nothing-here", 404), ("/ws", 426), ("/ws?whoami=x", 426)] {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let answer = http_get(tcp, &addr.to_string(), path).await;
        assert_eq!(answer.status, status, "{path}");
    }
}

#[tokio::test]
async fn sessions_are_served_on_the_same_port_before_and_after_a_page() {
    let server = reference_server(ServerConfig::default()).await;
    let addr = server.addr();
    let url = format!("ws://{addr}/ws");
    let (mut before, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    assert_eq!(http_get(tcp, &addr.to_string(), "/").await.status, 200);
    let (mut after, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    for ws in [&mut before, &mut after] {
        ws.send(Message::text(
            r#"{"id":7,"data":"still here","meta":"TEST"}"#,
        ))
        .await
        .unwrap();
        let answer = tokio::time::timeout(common::WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(answer.to_text().unwrap().contains("still here"), "{answer}");
    }
}
