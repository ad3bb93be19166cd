//! A report as one self-contained HTML page (`--html FILE`): what a person opens to see a run.
//! A summary, then each case in its colour with its verdict written out, its time, and what was
//! seen or what is wrong; the failures are listed first, each linking to its case. No script, no
//! file or font from elsewhere: the page reads the same from a CI artifact, a mail or a disk.
//!
//! maud writes the HTML and escapes every string, so a detail quoting what a peer sent cannot
//! become markup.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Report, Verdict};

/// The page's styles: the verdicts' colours, with the verdict also written in words.
const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
.target { color: #57606a; margin-top: 0; }
.summary { display: flex; gap: .6rem; flex-wrap: wrap; margin: 1rem 0; }
.badge { border-radius: .4rem; padding: .35rem .8rem; font-weight: 600; }
.badge.pass, tr.pass td.verdict { background: #dafbe1; color: #116329; }
.badge.fail, tr.fail td.verdict { background: #ffebe9; color: #a40e26; }
.badge.skip, tr.skip td.verdict { background: #fff8c5; color: #7d4e00; }
.badge.time { background: #eaeef2; }
.outcome { font-size: 1.1rem; font-weight: 700; }
.outcome.pass { color: #116329; } .outcome.fail { color: #a40e26; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; }
td.verdict { font-weight: 700; width: 4.5rem; }
td.time { white-space: nowrap; text-align: right; width: 5rem; }
td.name { white-space: nowrap; font-family: ui-monospace, monospace; }
td.detail { white-space: pre-wrap; overflow-wrap: anywhere; }
tr.fail td.detail { color: #a40e26; }
ul.failures a { font-family: ui-monospace, monospace; }
";

impl Report {
    /// The report as a self-contained HTML page.
    pub fn to_html(&self) -> String {
        let failures: Vec<_> = self
            .cases
            .iter()
            .enumerate()
            .filter(|(_, case)| case.verdict == Verdict::Fail)
            .collect();
        let total_ms: u64 = self.cases.iter().map(|case| case.duration_ms).sum();
        let title = format!("hello-websocket {} conformance", self.suite);
        let outcome = if self.passed() { "pass" } else { "fail" };
        let page: Markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) ": " (self.target) }
                    style { (PreEscaped(STYLE)) }
                }
                body data-outcome=(outcome) {
                    h1 { (title) }
                    p.target {
                        (self.target)
                        @if let Some(svr) = &self.svr { " · server language (SVR) " strong { (svr) } }
                    }
                    p.outcome.(outcome) {
                        @if self.passed() { "Passed: no case failed." }
                        @else { "Failed: " (failures.len()) " of " (self.cases.len()) " cases." }
                    }
                    div.summary {
                        span.badge.pass { (self.count(Verdict::Pass)) " passed" }
                        span.badge.fail { (self.count(Verdict::Fail)) " failed" }
                        span.badge.skip { (self.count(Verdict::Skip)) " skipped" }
                        span.badge.time { (total_ms) " ms in all" }
                    }
                    @if !failures.is_empty() {
                        h2 { "What failed" }
                        ul.failures {
                            @for (index, case) in &failures {
                                li { a href=(format!("#case-{index}")) { (case.case) } }
                            }
                        }
                    }
                    h2 { "Cases" }
                    table {
                        thead { tr { th { "Verdict" } th { "Case" } th { "Time" } th { "What was seen, or what is wrong" } } }
                        tbody {
                            @for (index, case) in self.cases.iter().enumerate() {
                                @let verdict = verdict_name(case.verdict);
                                tr.case.(verdict) id=(format!("case-{index}")) data-case=(case.case) data-verdict=(verdict) {
                                    td.verdict { (verdict.to_uppercase()) }
                                    td.name { (case.case) }
                                    td.time { (case.duration_ms) " ms" }
                                    td.detail { (case.detail) }
                                }
                            }
                        }
                    }
                }
            }
        };
        page.into_string()
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Skip => "skip",
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::report;

    #[test]
    fn every_case_is_on_the_page_in_its_colour_and_details_are_escaped() {
        let page = report().to_html();
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains(r#"<body data-outcome="fail">"#));
        assert_eq!(page.matches(r#"<tr class="case "#).count(), 3);
        assert!(page.contains(r#"data-case="echo-round-trip" data-verdict="fail""#));
        assert!(page.contains(r##"<li><a href="#case-1">echo-round-trip</a></li>"##));
        assert!(page.contains("&lt;not&gt;"), "a detail is escaped: {page}");
        assert!(!page.contains("<not>"));
        assert!(
            page.contains("1 passed") && page.contains("1 failed") && page.contains("1 skipped")
        );
        for external in ["src=", "href=\"http", "<script"] {
            assert!(!page.contains(external), "self-contained: {external}");
        }
    }
}
