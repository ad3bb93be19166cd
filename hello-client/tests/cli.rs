//! The `hello-client` binary as a user runs it, against the real server.

// The harness's test helpers serve the client's tests as they are.
#[path = "../../hello-check/tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Duration;

use common::reference_server;
use hello_server::ServerConfig;

fn client(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hello-client"));
    command.args(args).env("RUST_LOG", "info");
    command
}

/// The client's output once it exits; a client that has not exited within a minute is killed
/// and fails the test.
async fn output_of(command: Command) -> std::process::Output {
    let mut command = tokio::process::Command::from(command);
    command.kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the client exits by itself")
        .unwrap()
}

#[tokio::test]
async fn a_clean_run_prints_the_exchange_and_exits_0() {
    // Kiss requests well within the run; no Ping is needed, so none can be answered late.
    let server = reference_server(ServerConfig {
        kiss_interval: Duration::from_millis(100),
        ..ServerConfig::default()
    })
    .await;
    let port = server.addr().port().to_string();
    let mut command = client(&[
        "--count",
        "7",
        "--duration",
        "1s",
        "--name",
        "cli",
        "-H",
        "X-Trace: 1",
    ]);
    // The URL from its parts, as when --url is absent.
    command
        .env("WS_SERVER", "127.0.0.1")
        .env("WS_PORT", &port)
        .env("WS_PATH", "/ws");
    let output = output_of(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for expected in [
        "svr=\"RUST\"",
        "response header x-session-id: ",
        "echo id=1 data=Hello",
        "echo id=4 data=こんにちは",
        "echo id=7 data=你好",
        "kiss os_name=",
        "run complete echoes=7",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_clean_v1_run_exits_0() {
    // A KISS_REQUEST well within the run; PINGs not before its end, so none is answered late.
    let server = reference_server(ServerConfig {
        v1: hello_protocol::v1::Timings {
            kiss_interval: Duration::from_millis(100),
            ping_interval: Duration::from_secs(30),
            ..Default::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let url = format!("ws://{}/ws", server.addr());
    let mut command = client(&[
        "--url",
        &url,
        "--dialect",
        "v1",
        "--duration",
        "1s",
        "--v1-ping-interval",
        "30s",
    ]);
    command.env("WS_RANDOM_INTERVAL", "100ms");
    let output = output_of(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for expected in [
        "bonjour server_language=RUST",
        "echo id=1 data=Hello",
        "kiss os_name=",
        "hash id=1 number=",
        "run complete echoes=3 hashes=",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn echo_bytes_sends_large_data_and_logs_its_size() {
    let server = reference_server(ServerConfig {
        kiss_interval: Duration::from_millis(100),
        ..ServerConfig::default()
    })
    .await;
    let url = format!("ws://{}/ws", server.addr());
    let output = output_of(client(&[
        "--url",
        &url,
        "--count",
        "2",
        "--echo-bytes",
        "300000",
        "--duration",
        "500ms",
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for expected in [
        "echo id=1 data=Hello Bonjour Hola",
        "(300000 bytes)",
        "echo id=2 data=Bonjour Hola",
        "run complete echoes=2",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    // The log shows the data's start, not 300,000 bytes of it.
    assert!(stdout.lines().all(|line| line.len() < 1000), "{stdout}");
    server.shutdown().await;
    let output = output_of(client(&["--url", &url, "--echo-bytes", "0"])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--echo-bytes must be at least 1"));
}

#[tokio::test]
async fn an_unknown_dialect_is_a_usage_error() {
    let output = output_of(client(&["--dialect", "v2"])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no dialect \"v2\"; known: json, v1"));
}

#[tokio::test]
async fn an_unreachable_server_exits_1_with_the_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    drop(listener);
    let output = output_of(client(&["--url", &url, "--timeout", "2s"])).await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cannot connect to"), "{stdout}");
}

#[tokio::test]
async fn a_malformed_header_is_a_usage_error() {
    let output = output_of(client(&["-H", "no colon here"])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected 'Name: value'"));
}

#[tokio::test]
async fn bench_prints_json_and_its_exit_status_tells_errors() {
    let server = reference_server(ServerConfig::default()).await;
    let url = format!("ws://{}/ws", server.addr());
    let output = output_of(client(&[
        "bench",
        "--url",
        &url,
        "--connections",
        "2",
        "--in-flight",
        "4",
        "--requests",
        "500",
        "--json",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["answers"], 500);
    assert_eq!(report["errors"], 0);
    // The ceiling's flag against a real server: every answer is wrong, and the run says so.
    let output = output_of(client(&[
        "bench",
        "--url",
        &url,
        "--requests",
        "5",
        "--frame-echo",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not an echoed request"));
    server.shutdown().await;
}

#[tokio::test]
async fn check_dialect_v1_takes_the_servers_v1_timers_and_writes_its_report() {
    let server = reference_server(ServerConfig {
        v1: hello_protocol::v1::Timings {
            ping_interval: Duration::from_millis(200),
            session_timeout: Duration::from_secs(1),
            time_interval: Duration::from_millis(200),
            kiss_interval: Duration::from_millis(200),
        },
        ..ServerConfig::default()
    })
    .await;
    let url = format!("ws://{}/ws", server.addr());
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("v1.json");
    let output = output_of(client(&[
        "check",
        "--url",
        &url,
        "--dialect",
        "v1",
        "--v1-ping-interval",
        "200ms",
        "--v1-session-timeout",
        "1s",
        "--v1-time-interval",
        "200ms",
        "--v1-kiss-interval",
        "200ms",
        "--report",
        report_path.to_str().unwrap(),
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS") && stdout.contains("hash [v1]"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    assert!(cases.len() > 20, "{report}");
    assert!(
        cases.iter().all(|case| case["verdict"] == "pass"),
        "{report}"
    );
    server.shutdown().await;
}
