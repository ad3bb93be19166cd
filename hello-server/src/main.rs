//! `hello-server`: parses the command line ([`cli`]), then serves, makes certificates, or
//! judges clients; [`exit_status`] turns the result into the exit status.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use hello_check::{ClientCase, run_client_suite};
use hello_net::process::{Failure, exit_status, init_logging, shutdown_signal};
use hello_server::Server;

use cli::{CheckArgs, Cli, Command, ServeArgs, make_certs};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::GenCerts(args)) => {
            init_logging("info");
            let made = make_certs(&args.certs, args.force).map(drop);
            exit_status("hello-server", made.map_err(Failure::Error))
        }
        Some(Command::Check(args)) => exit_status("hello-server check", check(*args).await),
        None => {
            init_logging("info");
            exit_status("hello-server", serve(cli.serve).await)
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Failure> {
    // Before anything listens: a SIGTERM from then on is a graceful shutdown.
    let shutdown = shutdown_signal();
    let server = Server::new(args.server_config()).map_err(|e| Failure::Usage(e.to_string()))?;
    let endpoints = args.listen.endpoints().await?;
    for endpoint in &endpoints {
        if let Some(url) = endpoint.url(&args.protocol.path) {
            tracing::info!("listening on {url}");
        }
    }
    server.serve(endpoints, shutdown).await;
    Ok(())
}

async fn check(args: CheckArgs) -> Result<(), Failure> {
    if args.suite.list {
        print!("{}", args.suite.list::<ClientCase>());
        return Ok(());
    }
    let cases = args.suite.cases::<ClientCase>()?;
    let config = args.suite_config()?;
    // The report is the output; logs only say what goes wrong inside the judge itself.
    init_logging("warn");
    let endpoints = args.listen.endpoints().await?;
    for endpoint in &endpoints {
        if let Some(url) = endpoint.url(args.path()) {
            println!("listening on {url}");
        }
    }
    println!(
        "judging the next {} client session(s), for at most {}",
        config.clients,
        humantime::format_duration(config.timeout)
    );
    let report = run_client_suite(endpoints, config, &cases, |result| {
        println!("{}", result.line())
    })
    .await;
    args.suite.finish(&report)
}
