//! `hello-client`: parses the command line ([`cli`]), then runs the client, the server suite, the
//! robustness suite or the load generator; [`exit_status`] turns the result into the exit status.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use hello_check::bench::{self, bench_echo, bench_idle, progress_bar};
use hello_check::{RobustnessCase, ServerCase, run_robustness_suite, run_server_suite};
use hello_net::process::{Failure, exit_status, init_logging, shutdown_signal};
use serde::Serialize;

use cli::{BenchArgs, BenchPlan, CheckArgs, Cli, Command, RobustnessArgs, RunArgs};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => exit_status("hello-client check", check(args).await),
        Some(Command::Bench(args)) => exit_status("hello-client bench", bench(args).await),
        Some(Command::Robustness(args)) => {
            exit_status("hello-client robustness", robustness(args).await)
        }
        None => exit_status("hello-client", run(cli.run).await),
    }
}

async fn run(args: RunArgs) -> Result<(), Failure> {
    let config = args.client_config()?;
    init_logging("info");
    // Before connecting: a Ctrl-C or SIGTERM from then on ends the run with Close 1000.
    let stop = shutdown_signal();
    tracing::info!(url = %config.url, name = %config.name, "connecting");
    match hello_client::run(&config, stop).await {
        Ok(_) => Ok(()),
        Err(error) => {
            tracing::error!("{error}");
            Err(Failure::Said)
        }
    }
}

async fn check(args: CheckArgs) -> Result<(), Failure> {
    if args.suite.list {
        print!("{}", args.suite.list::<ServerCase>());
        return Ok(());
    }
    let cases = args.suite.cases::<ServerCase>()?;
    let config = args.suite_config()?;
    // The report is the output; logs only say what goes wrong inside the checker itself.
    init_logging("warn");
    println!(
        "checking the server at {} ({} cases)",
        config.url,
        cases.len()
    );
    let report = run_server_suite(&config, &cases, |result| println!("{}", result.line())).await;
    args.suite.finish(&report)
}

async fn robustness(args: RobustnessArgs) -> Result<(), Failure> {
    if args.suite.list {
        print!("{}", args.suite.list::<RobustnessCase>());
        return Ok(());
    }
    let cases = args.suite.cases::<RobustnessCase>()?;
    let config = args.suite_config()?;
    init_logging("warn");
    let open_files = bench::raise_open_files_limit();
    println!(
        "judging how the server at {} survives hostile clients ({} cases, {} open files allowed)",
        config.url,
        cases.len(),
        open_files
    );
    let report =
        run_robustness_suite(&config, &cases, |result| println!("{}", result.line())).await;
    args.suite.finish(&report)
}

async fn bench(args: BenchArgs) -> Result<(), Failure> {
    let (target, plan) = args.plan()?;
    init_logging("warn");
    let open_files = bench::raise_open_files_limit();
    let sessions = match &plan {
        BenchPlan::Echo(load) => load.connections,
        BenchPlan::Idle(load) => load.sessions,
    } as u64;
    if sessions + 64 > open_files {
        eprintln!(
            "hello-client bench: warning: {sessions} sessions but only {open_files} open files \
             allowed (raise the hard limit: ulimit -Hn)"
        );
    }
    let unusable = |error: hello_net::ConnectError| Failure::Error(error.to_string());
    let (clean, errors) = match plan {
        BenchPlan::Echo(load) => {
            let progress = match load.stop {
                bench::Stop::Requests(requests) => progress_bar(requests, "answers"),
                bench::Stop::Duration(_) => progress_bar(0, "answers"),
            };
            let report = bench_echo(&target, &load, &progress)
                .await
                .map_err(unusable)?;
            print_report(&report, args.json());
            (report.clean(), report.error_samples)
        }
        BenchPlan::Idle(load) => {
            let progress = progress_bar(load.sessions as u64, "sessions");
            let announce = |report: &bench::IdleReport| {
                eprintln!(
                    "opened {}/{} sessions in {:.1} s; holding them for {}",
                    report.opened,
                    report.sessions,
                    report.open_seconds,
                    humantime::format_duration(load.hold)
                );
            };
            let report = bench_idle(&target, &load, &progress, announce)
                .await
                .map_err(unusable)?;
            print_report(&report, args.json());
            (report.clean(), report.error_samples)
        }
    };
    for error in &errors {
        eprintln!("error: {error}");
    }
    if clean { Ok(()) } else { Err(Failure::Said) }
}

/// A bench report on standard output, as JSON or as text.
fn print_report(report: &(impl Serialize + std::fmt::Display), json: bool) {
    if json {
        let text = serde_json::to_string_pretty(report).expect("a report always serializes");
        println!("{text}");
    } else {
        println!("{report}");
    }
}
