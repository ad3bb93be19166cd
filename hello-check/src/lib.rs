//! The Hello WebSocket harness: what judges other implementations, and what loads them.
//!
//! It reaches and serves peers through `hello-net` only, never through the reference server's
//! or client's session code, so that its verdicts are independent of the implementation it
//! ships beside.
//!
//! # Layout
//! - [`server_suite`]: judges a server (`hello-client check`), one file per group of cases.
//! - [`client_suite`]: judges clients (`hello-server check`), one file per group of cases.
//! - [`case`]: what a case is ([`Case`]), the dialect a run speaks, which cases a run selects.
//! - [`report`]: what a run reports: lines, `N passed, N failed`, JSON, JUnit XML.
//! - [`cli`]: the command-line flow both suites share: `--list`, `--only`, `--skip`,
//!   `--dialect`, `--report`, `--junit`, and the verdict as the exit status.
//! - [`robustness`]: judges whether a server survives hostile clients (`hello-client
//!   robustness`), one file per group of cases.
//! - [`bench`]: the load generator (`hello-client bench`).

pub mod bench;
pub mod case;
pub mod cli;
pub mod client_suite;
mod mutable;
pub mod report;
pub mod robustness;
pub mod server_suite;

pub use case::{Case, Dialect, select};
pub use client_suite::{ClientCase, ClientSuiteConfig, run_client_suite};
pub use report::{CaseResult, Finding, Report, Verdict};
pub use robustness::{RobustnessCase, RobustnessConfig, run_robustness_suite};
pub use server_suite::{ServerCase, ServerSuiteConfig, run_server_suite};
