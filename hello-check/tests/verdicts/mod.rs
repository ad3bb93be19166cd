//! What the client suite's tests read of a report: the cases that did not pass, and the one case
//! a fake that breaks one rule must fail.
#![allow(dead_code)]

use std::fmt::Debug;

use hello_check::{Report, Verdict};

/// The cases that did not pass: name, verdict, detail.
pub fn verdicts(report: &Report) -> Vec<(&str, Verdict, &str)> {
    report
        .cases
        .iter()
        .filter(|case| case.verdict != Verdict::Pass)
        .map(|case| (case.case.as_str(), case.verdict, case.detail.as_str()))
        .collect()
}

/// `report`, of a client with `fault`, fails exactly `case`, saying `hint` (other cases may be
/// skipped).
pub fn fails_only(report: &Report, fault: impl Debug, case: &str, hint: &str) {
    let mut failed = verdicts(report);
    failed.retain(|(_, verdict, _)| *verdict == Verdict::Fail);
    assert_eq!(failed.len(), 1, "{fault:?}: {failed:?}");
    let (name, verdict, detail) = failed[0];
    assert_eq!((name, verdict), (case, Verdict::Fail), "{fault:?}");
    assert!(
        detail.contains(hint),
        "{fault:?}: {detail:?} should say {hint:?}"
    );
}
