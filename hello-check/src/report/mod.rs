//! What a conformance run reports, in every form a person or a CI system reads it: one line per
//! case, a closing `N passed, N failed` line, JSON, JUnit XML, and a page ([`html`]). Both suites write it: the
//! server suite (`hello-client check`) and the client suite (`hello-server check`).

mod html;

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

/// A case's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// The case could not be exercised (say, a session too short for a Kiss); the detail says
    /// why. It neither passes nor fails the run.
    Skip,
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case's name, e.g. `echo-round-trip`, or `client 2: closes-1000`.
    pub case: String,
    pub verdict: Verdict,
    /// On failure, what was wrong and what to fix; otherwise what was seen.
    pub detail: String,
    /// How long the case took, in milliseconds.
    pub duration_ms: u64,
}

impl CaseResult {
    pub fn new(case: impl Into<String>, finding: Finding, duration: Duration) -> Self {
        CaseResult {
            case: case.into(),
            verdict: finding.verdict,
            detail: finding.detail,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// `PASS  handshake (3 ms): SVR GO` — the line printed for the case.
    pub fn line(&self) -> String {
        let verdict = match self.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        };
        let mut line = format!("{verdict}  {} ({} ms)", self.case, self.duration_ms);
        if !self.detail.is_empty() {
            line.push_str(": ");
            line.push_str(&self.detail);
        }
        line
    }
}

/// What a case found, before it is timed and named: its verdict, and what was seen (on a pass
/// or a skip) or what is wrong and what to fix (on a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub verdict: Verdict,
    pub detail: String,
}

impl Finding {
    pub fn pass(detail: impl Into<String>) -> Self {
        Finding {
            verdict: Verdict::Pass,
            detail: detail.into(),
        }
    }

    pub fn fail(detail: impl Into<String>) -> Self {
        Finding {
            verdict: Verdict::Fail,
            detail: detail.into(),
        }
    }

    pub fn skip(detail: impl Into<String>) -> Self {
        Finding {
            verdict: Verdict::Skip,
            detail: detail.into(),
        }
    }
}

impl From<Result<String, String>> for Finding {
    /// What was seen passes; what is wrong fails.
    fn from(checked: Result<String, String>) -> Self {
        match checked {
            Ok(seen) => Finding::pass(seen),
            Err(wrong) => Finding::fail(wrong),
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `server` when a server was judged, `client` when clients were.
    pub suite: String,
    /// What was judged: the server's URL, or the address clients connected to.
    pub target: String,
    /// The server's `SVR` header, when a server was judged and sent one.
    pub svr: Option<String>,
    pub cases: Vec<CaseResult>,
}

impl Report {
    fn count(&self, verdict: Verdict) -> usize {
        self.cases
            .iter()
            .filter(|case| case.verdict == verdict)
            .count()
    }

    /// Whether no case failed.
    pub fn passed(&self) -> bool {
        self.count(Verdict::Fail) == 0
    }

    /// `N passed, N failed`, and `, N skipped` when any were.
    pub fn summary_line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed",
            self.count(Verdict::Pass),
            self.count(Verdict::Fail)
        );
        let skipped = self.count(Verdict::Skip);
        if skipped > 0 {
            line.push_str(&format!(", {skipped} skipped"));
        }
        line
    }

    /// The report as JSON: suite, target, svr, and each case's verdict, detail and duration.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The report as JUnit XML, one test case per case, for CI systems.
    pub fn to_junit(&self) -> String {
        let name = format!("hello-websocket {} conformance", self.suite);
        let mut suite = TestSuite::new(name.clone());
        let mut total = Duration::ZERO;
        for case in &self.cases {
            let status = match case.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::Skip => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(case.detail.clone());
                    status
                }
                Verdict::Fail => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(case.detail.clone());
                    status
                }
            };
            let mut test_case = TestCase::new(case.case.clone(), status);
            let duration = Duration::from_millis(case.duration_ms);
            total += duration;
            test_case
                .set_classname(format!("{}.{}", self.suite, self.target))
                .set_time(duration);
            suite.add_test_case(test_case);
        }
        suite.set_time(total);
        let mut report = JunitReport::new(name);
        report.add_test_suite(suite).set_time(total);
        report
            .to_string()
            .expect("a JUnit report always serializes")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn report() -> Report {
        Report {
            suite: "server".into(),
            target: "ws://127.0.0.1:1/ws".into(),
            svr: Some("GO".into()),
            cases: vec![
                CaseResult::new(
                    "handshake",
                    Finding::pass("SVR GO"),
                    Duration::from_millis(3),
                ),
                CaseResult::new(
                    "echo-round-trip",
                    Finding::fail("`kv.data` was \"HELLO\" <not> \"Hello\""),
                    Duration::from_millis(5),
                ),
                CaseResult::new("kiss-arrives", Finding::skip("no time"), Duration::ZERO),
            ],
        }
    }

    #[test]
    fn summary_and_lines_read_as_documented() {
        let report = report();
        assert!(!report.passed());
        assert_eq!(report.summary_line(), "1 passed, 1 failed, 1 skipped");
        assert_eq!(report.cases[0].line(), "PASS  handshake (3 ms): SVR GO");
        assert!(
            report.cases[1]
                .line()
                .starts_with("FAIL  echo-round-trip (5 ms): ")
        );
    }

    #[test]
    fn json_and_junit_carry_every_case() {
        let report = report();
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["svr"], "GO");
        assert_eq!(json["cases"][1]["verdict"], "fail");
        assert_eq!(json["cases"][1]["duration_ms"], 5);
        let junit = report.to_junit();
        assert!(junit.contains(r#"tests="3""#), "{junit}");
        assert!(junit.contains(r#"failures="1""#), "{junit}");
        assert!(junit.contains(r#"skipped="1""#), "{junit}");
        assert!(
            junit.contains("&lt;not&gt;"),
            "messages are escaped: {junit}"
        );
    }
}
