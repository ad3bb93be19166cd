//! What a binary sets up around its work: logging, the signal that stops it, and its exit
//! status. Both binaries use these, so that every command behaves the same way.

use std::io::IsTerminal;
use std::process::ExitCode;

/// Logs to standard output at `default_level`, or as `RUST_LOG` says.
pub fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: a signal that comes before then would otherwise meet the default
/// action, which ends the process without a Close to anyone. Call it before listening or
/// connecting.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Why a command did not succeed; [`exit_status`] turns it into the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The command line or a setting makes no sense: exit status 2.
    Usage(String),
    /// Something went wrong that the command has not said yet: exit status 1.
    Error(String),
    /// The command ran and failed, and has said how (a failed case, a logged error): exit
    /// status 1.
    Said,
}

/// The one place a command's result becomes its exit status: 0 on success, 1 when it failed,
/// 2 for a usage error. What has not been said yet goes to standard error, after `program`.
pub fn exit_status(program: &str, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(error)) => {
            eprintln!("{program}: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Error(error)) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
        Err(Failure::Said) => ExitCode::FAILURE,
    }
}
