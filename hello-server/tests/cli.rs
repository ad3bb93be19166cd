//! The `hello-server` binary as a user runs it: flags, the listening line, SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use common::WAIT;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn server(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hello-server"));
    command.args(args).env("RUST_LOG", "info");
    command
}

/// Starts the server and returns it with the URL from its `listening on` line, and the rest of
/// its output as it comes.
fn start(args: &[&str]) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = server(args).stdout(Stdio::piped()).spawn().unwrap();
    let (lines, output) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let url = loop {
        let line = output.recv_timeout(WAIT).expect("a listening line");
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    (child, url, output)
}

fn wait_for_line(output: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = output
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no line with {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

#[test]
fn nonsense_flags_are_refused_with_a_reason_and_status_2() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--ping-interval", "0s"],
            "ping interval must be longer than zero",
        ),
        (
            &["--ping-interval", "1s", "--pong-timeout", "2s"],
            "must not exceed the ping interval",
        ),
        (&["--kiss-interval", "soon"], "invalid value"),
        (
            &["--v1-ping-interval", "2s", "--v1-session-timeout", "1s"],
            "must be at least the v1 ping interval",
        ),
        (&["--dialect", "binary"], "known: auto, json, v1"),
    ];
    for (args, reason) in cases {
        let output = server(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

#[test]
fn check_refuses_what_it_would_ignore_and_lists_its_cases() {
    // The judge serves no batches and keeps no connection limit: such flags are refused, not
    // accepted and ignored.
    for flag in ["--batch-len", "--max-connections", "--read-buffer-size"] {
        let output = server(&["check", flag, "8"]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
    let unknown = server(&["check", "--only", "no-such-case"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no case named"));
    let list = server(&["check", "--list"]).output().unwrap();
    assert_eq!(list.status.code(), Some(0));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("whoami-sent") && listed.contains("closes-1000"),
        "{listed}"
    );
}

#[tokio::test]
async fn sigterm_closes_sessions_with_1001_and_exits_0() {
    let (mut child, url, output) = start(&["--port", "0", "--shutdown-timeout", "2s"]);
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/ws"),
        "{url}"
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    wait_for_line(&output, "session+");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let close = tokio::time::timeout(WAIT, async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Close(frame) = message {
                return frame;
            }
        }
        None
    })
    .await
    .unwrap()
    .expect("a close frame");
    assert_eq!(close.code, CloseCode::Away);
    wait_for_line(&output, "reason=shutdown");
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn sigterm_as_soon_as_it_listens_is_a_graceful_exit() {
    // The handlers are installed before the listening line is printed, so a SIGTERM sent on
    // reading it is a shutdown, never the default action that kills the process.
    let (mut child, _, output) = start(&["--port", "0"]);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_line(&output, "shutting down");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn an_address_in_use_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = server(&["--port", &port]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen on 127.0.0.1:"));
}

#[test]
fn certificates_are_made_once_and_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let certs_arg = certs.to_str().unwrap();
    let made = server(&["gen-certs", "--certs-dir", certs_arg, "--san", "hello.test"])
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&made.stdout).contains("certificate file written"));
    let ca = std::fs::read(certs.join("ca.crt")).unwrap();
    for restart in 0..2 {
        let (mut child, url, output) = start(&[
            "--port",
            "0",
            "--tls",
            "--tls-port",
            "0",
            "--certs-dir",
            certs_arg,
            "--san",
            "hello.test",
        ]);
        assert!(url.starts_with("ws://"), "{url}");
        let tls_line = wait_for_line(&output, "listening on wss://");
        assert!(tls_line.ends_with("/ws"), "restart {restart}: {tls_line}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            std::fs::read(certs.join("ca.crt")).unwrap(),
            ca,
            "restart {restart}"
        );
    }
}

#[tokio::test]
async fn a_name_from_the_network_is_cut_and_quoted_so_it_forges_no_field() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let (child, url, output) = start(&["--port", "0", "--close-timeout", "200ms"]);
    let _child = KillOnDrop(child);
    // A name that, written bare, would add a `reason=` of its choosing, then goes on to 127
    // bytes and a 2-byte character that straddles the 128-byte bound.
    let forging = "evil\" reason=pong timeout";
    let kept_raw = format!("{forging}{}", "x".repeat(127 - forging.len()));
    let forged = format!("{kept_raw}é-and-more");
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("WhoAmI", forged.as_str().parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let kept = kept_raw.replace('"', "\\\"");
    let opened = wait_for_line(&output, "session+");
    assert!(
        opened.contains(&format!(r#"name="{kept}" peer="#)),
        "the name is not cut at 127 bytes and quoted: {opened}"
    );
    ws.close(None).await.unwrap();
    let ended = wait_for_line(&output, "session-");
    assert!(
        ended.contains(&format!(
            r#"name="{kept}" reason=client closed code=1005 dialect=none"#
        )),
        "{ended}"
    );
    assert_eq!(ended.matches("reason=").count(), 2, "{ended}");
}

#[tokio::test]
async fn a_client_without_headers_is_named_by_its_query_and_its_close_code_is_logged() {
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    let (child, url, output) = start(&["--port", "0", "--close-timeout", "200ms"]);
    let _child = KillOnDrop(child);
    // As a browser connects: no WhoAmI, the name in the query, and Close 1001 when its page goes.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{url}?whoami=caf%C3%A9+page"))
        .await
        .unwrap();
    let opened = wait_for_line(&output, "session+");
    assert!(opened.contains(r#"name="café page" peer="#), "{opened}");
    let going_away = CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    };
    ws.close(Some(going_away)).await.unwrap();
    let ended = wait_for_line(&output, "session-");
    assert!(
        ended.contains(r#"name="café page" reason=client closed code=1001 dialect=none"#),
        "{ended}"
    );
}

#[tokio::test]
async fn only_the_servers_own_origins_and_allowed_ones_open_sessions() {
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let (child, url, output) = start(&["--port", "0", "--allow-origin", "https://App.example/"]);
    let _child = KillOnDrop(child);
    let port = url.rsplit(':').next().unwrap().trim_end_matches("/ws");
    let handshake = |origin: &str| {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    // The port really bound (--port 0) is the server's own.
    for accepted in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        "https://app.example".to_owned(),
    ] {
        let (mut ws, _) = handshake(&accepted)
            .await
            .unwrap_or_else(|error| panic!("{accepted}: {error}"));
        ws.close(None).await.unwrap();
    }
    for refused in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        match handshake(refused).await {
            Err(Error::Http(response)) => assert_eq!(response.status(), 403, "{refused}"),
            other => panic!("{refused}: not refused with 403: {other:?}"),
        }
        let line = wait_for_line(&output, "origin refused");
        assert!(
            line.contains(&format!(
                "origin={}",
                serde_json::to_string(refused).unwrap()
            )),
            "{line}"
        );
    }
}

/// A child process killed when the test ends, also when it fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
