//! The command-line flow both suites share, written once: which cases (`--list`, `--only`,
//! `--skip`), in which dialect (`--dialect`), where the report goes (`--report`, `--junit`,
//! `--html`), and the verdict as the exit status. Each binary flattens [`SuiteArgs`] into its
//! `check` subcommand.

use std::path::PathBuf;

use hello_net::process::Failure;

use crate::case::{Case, Dialect, select};
use crate::report::Report;

/// How a suite is run and reported.
#[derive(Debug, Clone, clap::Args)]
pub struct SuiteArgs {
    /// Run only these cases (comma-separated, or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CASE")]
    pub only: Vec<String>,
    /// Run all cases but these (comma-separated, or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CASE")]
    pub skip: Vec<String>,
    /// The dialect to speak.
    #[arg(long, default_value = "json")]
    pub dialect: Dialect,
    /// List the cases and what each checks, then exit.
    #[arg(long)]
    pub list: bool,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the report as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the report as one self-contained HTML page to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl SuiteArgs {
    /// The cases to run.
    ///
    /// # Errors
    /// A usage error for a name that is no case of the suite.
    pub fn cases<C: Case>(&self) -> Result<Vec<C>, Failure> {
        select(&self.only, &self.skip, self.dialect).map_err(Failure::Usage)
    }

    /// Every case of the suite in the chosen dialect and what it checks, one a line.
    pub fn list<C: Case>(&self) -> String {
        let cases: Vec<C> = C::ALL
            .iter()
            .copied()
            .filter(|case| case.dialects().contains(&self.dialect))
            .collect();
        let width = cases
            .iter()
            .map(|case| case.name().len())
            .max()
            .unwrap_or(0)
            + 2;
        cases
            .iter()
            .map(|case| format!("{:<width$}{}\n", case.name(), case.checks()))
            .collect()
    }

    /// Prints the report's closing lines, writes the JSON and JUnit files asked for, and gives
    /// the verdict: `Ok` when no case failed.
    ///
    /// # Errors
    /// [`Failure::Said`] when a case failed (each was printed as it ended), [`Failure::Error`]
    /// when a report file cannot be written.
    pub fn finish(&self, report: &Report) -> Result<(), Failure> {
        if let Some(svr) = &report.svr {
            println!("server language (SVR): {svr}");
        }
        println!("{}", report.summary_line());
        let writes = [
            (&self.report, report.to_json()),
            (&self.junit, report.to_junit()),
            (&self.html, report.to_html()),
        ];
        for (path, contents) in writes {
            if let Some(path) = path {
                std::fs::write(path, contents).map_err(|error| {
                    Failure::Error(format!("cannot write {}: {error}", path.display()))
                })?;
            }
        }
        if report.passed() {
            Ok(())
        } else {
            Err(Failure::Said)
        }
    }
}
