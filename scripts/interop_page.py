#!/usr/bin/env python3
"""Writes the interop run's page, `index.html` in the run's folder (scripts/interop.sh calls it).

    scripts/interop_page.py --out target/interop [--note TEXT] [--impls rust,go,...]

It reads what the run left: `verdicts.tsv` (every verdict, one a line), the suites' JSON reports
in `reports/`, `reasons.tsv` (why a pair failed) and `failures.txt` when they are there. It never
runs anything, so a page can be made again from an old run's folder.

The page has one matrix of pairs per dialect (servers in rows, clients in columns, one line per
transport in each cell), the conformance table (each suite run: ✅/❌ and `N passed, N failed`,
linking to the suite's HTML report and its log), and the failures as the run printed them. Every
verdict is a colour and words, for a person, and `data-` attributes, for tests: a pair is
`.pair[data-server][data-client][data-transport][data-dialect][data-verdict]`, a suite run is
`.suite[data-suite=server|client][data-server or data-client][data-transport][data-dialect]
[data-verdict]`, with `data-verdict` one of `pass`, `fail` and (a pair the run did not make)
`not-run`. The implementations are those verdicts.tsv names, whatever they are.

Self-contained: the styles are inline; no script, no font, nothing fetched. Every text from the
run goes through html.escape, and every link is relative to the page's folder.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# Shown first, in this order; other names follow in sorted order.
KNOWN_TRANSPORTS = ["ws", "wss"]
KNOWN_DIALECTS = ["json", "v1"]
SIDES = ["server", "client"]
# verdicts.tsv's words, as the page's.
PAIR_VERDICTS = {"ok": "pass", "FAIL": "fail"}
SUITE_VERDICTS = {"yes": "pass", "no": "fail"}

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 90rem;
  padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
.note, .legend { color: #57606a; }
.outcome { font-size: 1.1rem; font-weight: 700; }
.outcome.pass { color: #116329; } .outcome.fail { color: #a40e26; }
.summary { display: flex; gap: .6rem; flex-wrap: wrap; margin: 1rem 0; }
.badge { border-radius: .4rem; padding: .35rem .8rem; font-weight: 600; }
.badge.pass { background: #dafbe1; color: #116329; }
.badge.fail { background: #ffebe9; color: #a40e26; }
.badge.none { background: #eaeef2; color: #57606a; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem;
  border: 1px solid #d0d7de; }
th { background: #f6f8fa; }
th.corner { font-weight: 400; color: #57606a; white-space: nowrap; }
.pair { border-radius: .3rem; padding: .15rem .4rem; margin: .15rem 0; white-space: nowrap; }
.pair.pass, td.suite.pass { background: #dafbe1; color: #116329; }
.pair.fail, td.suite.fail { background: #ffebe9; color: #a40e26; }
.pair.not-run { background: #eaeef2; color: #57606a; }
.word { font-weight: 700; }
.transport { font-family: ui-monospace, monospace; display: inline-block; min-width: 2.2rem; }
.links { font-size: .85rem; }
.links a, .word a, td.suite a { color: inherit; }
.why { white-space: normal; font-size: .85rem; max-width: 22rem; }
td.suite .links { display: block; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
pre.failures { background: #fff8f7; border: 1px solid #ffcecb; padding: .8rem;
  white-space: pre-wrap; overflow-wrap: anywhere; }
"""


@dataclass
class Run:
    """What one run left in its folder."""

    out: Path
    # (server, client, transport, dialect) -> pass | fail
    pairs: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    # (side, implementation, transport, dialect) -> pass | fail
    suites: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    # (server, client, transport, dialect) -> why the pair failed
    reasons: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    failures: str = ""


def read_run(out: Path) -> Run:
    """Reads verdicts.tsv (which must be there), and reasons.tsv and failures.txt (which may).

    # Errors
    A line of verdicts.tsv that is not a pair's or a suite's verdict is a ValueError: the page
    must show every verdict, so one it cannot read stops it."""
    run = Run(out)
    verdicts = out / "verdicts.tsv"
    for number, line in enumerate(verdicts.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        kind, key, verdict = fields[0], tuple(fields[1:5]), fields[-1]
        if len(fields) == 6 and kind == "pair" and verdict in PAIR_VERDICTS:
            run.pairs[key] = PAIR_VERDICTS[verdict]
        elif (
            len(fields) == 6
            and kind == "suite"
            and key[0] in SIDES
            and verdict in SUITE_VERDICTS
        ):
            run.suites[key] = SUITE_VERDICTS[verdict]
        else:
            raise ValueError(f"{verdicts}:{number}: not a verdict: {line!r}")
    reasons = out / "reasons.tsv"
    if reasons.exists():
        for line in reasons.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t", 5)
            if len(fields) == 6 and fields[0] == "pair":
                run.reasons[tuple(fields[1:5])] = fields[5]
    failures = out / "failures.txt"
    if failures.exists():
        run.failures = failures.read_text(encoding="utf-8").strip()
    return run


def ordered(names: set[str], first: list[str]) -> list[str]:
    """`names`, those in `first` in its order, then the others sorted."""
    return [n for n in first if n in names] + sorted(names - set(first))


def suite_counts(report: Path) -> dict[str, int] | None:
    """The number of cases of each verdict in a suite's JSON report, or None without one."""
    try:
        cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
        return {
            verdict: sum(case["verdict"] == verdict for case in cases)
            for verdict in ("pass", "fail", "skip")
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def counts_text(counts: dict[str, int]) -> str:
    """`N passed, N failed`, and `, N skipped` when any were, as interop.sh prints it."""
    text = f"{counts['pass']} passed, {counts['fail']} failed"
    return text + (f", {counts['skip']} skipped" if counts["skip"] else "")


class Page:
    """Builds the page; every method returns escaped HTML."""

    def __init__(self, run: Run, impls: list[str], note: str):
        self.run, self.note = run, note
        pairs, suites = run.pairs, run.suites
        self.servers = ordered({k[0] for k in pairs}, impls)
        self.clients = ordered({k[1] for k in pairs}, impls)
        self.suite_impls = ordered({k[1] for k in suites}, impls)
        self.transports = ordered(
            {k[2] for k in pairs} | {k[2] for k in suites}, KNOWN_TRANSPORTS
        )
        self.dialects = ordered(
            {k[3] for k in pairs} | {k[3] for k in suites}, KNOWN_DIALECTS
        )
        self.sides = [s for s in SIDES if any(k[0] == s for k in suites)]

    def link(self, path: str, text: str) -> str:
        """A link to `path` (relative to the page) if the run left that file; else nothing."""
        if not (self.run.out / path).is_file():
            return ""
        return f'<a href="{html.escape(quote(path))}">{html.escape(text)}</a>'

    def links(self, *candidates: tuple[str, str]) -> str:
        found = [self.link(path, text) for path, text in candidates]
        found = [f for f in found if f]
        return f'<span class="links">{" · ".join(found)}</span>' if found else ""

    def pair(self, server: str, client: str, transport: str, dialect: str) -> str:
        key = (server, client, transport, dialect)
        verdict = self.run.pairs.get(key, "not-run")
        mark, word = {
            "pass": ("✅", "ok"),
            "fail": ("❌", "FAIL"),
            "not-run": ("–", "not run"),
        }[verdict]
        attributes = " ".join(
            f'data-{name}="{html.escape(value)}"'
            for name, value in [
                ("server", server),
                ("client", client),
                ("transport", transport),
                ("dialect", dialect),
                ("verdict", verdict),
            ]
        )
        why = self.run.reasons.get(key, "")
        log = f"logs/pair-{server}-{client}-{transport}-{dialect}.log"
        # A pair that never ran (a build failed) has no log of its own: its builds say why.
        builds = [] if (self.run.out / log).is_file() else [server, client]
        # The verdict itself links to the client's log, which says what the client saw.
        word = self.link(log, word) or word
        links = self.links(
            (f"logs/server-{server}.log", "server log"),
            # The browser's runner leaves a screenshot of the page beside its log.
            (log.removesuffix(".log") + ".png", "screenshot"),
            *[(f"logs/build-{name}.log", f"{name} build log") for name in builds],
        )
        return (
            f'<div class="pair {verdict}" {attributes}>'
            f'<span class="mark">{mark}</span> '
            f'<span class="transport">{html.escape(transport)}</span> '
            f'<span class="word">{word}</span> {links}'
            + (f'<div class="why">{html.escape(why)}</div>' if why else "")
            + "</div>"
        )

    def matrix(self, dialect: str) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.clients)
        rows = []
        for server in self.servers:
            cells = "".join(
                "<td>"
                + "".join(
                    self.pair(server, client, t, dialect) for t in self.transports
                )
                + "</td>"
                for client in self.clients
            )
            rows.append(f"<tr><th>{html.escape(server)}</th>{cells}</tr>")
        return (
            f'<h2 id="pairs-{html.escape(dialect)}">Pairs in {html.escape(dialect)}</h2>\n'
            '<p class="legend">Each cell is the client (column) against the server (row), '
            f"over {html.escape(' and '.join(self.transports))}. A pair passes when the "
            "client exits 0 and the server logs its session, its Kiss answer and its clean "
            "close under the client's name. A verdict links to the client's log.</p>\n"
            f'<table class="matrix" data-dialect="{html.escape(dialect)}">'
            f'<thead><tr><th class="corner">server \\ client</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def suite(self, side: str, impl: str, transport: str, dialect: str) -> str:
        key = (side, impl, transport, dialect)
        if key not in self.run.suites:
            return '<td class="none">–</td>'
        verdict = self.run.suites[key]
        name = f"{side}-{impl}-{transport}-{dialect}"
        counts = suite_counts(self.run.out / f"reports/{name}.json")
        text = counts_text(counts) if counts else "no report"
        report = self.link(f"reports/{name}.html", text) or html.escape(text)
        log = f"logs/check-{name}.log"
        links = self.links(
            (log, "suite log"),
            (f"logs/{name}.log", "client log"),
            (f"logs/{name}.png", "screenshot"),
            *(
                []
                if (self.run.out / log).is_file()
                else [(f"logs/build-{impl}.log", "build log")]
            ),
        )
        judged = "server" if side == "server" else "client"
        return (
            f'<td class="suite {verdict}" data-suite="{side}" '
            f'data-{judged}="{html.escape(impl)}" data-transport="{html.escape(transport)}" '
            f'data-dialect="{html.escape(dialect)}" data-verdict="{verdict}">'
            f'<span class="mark">{"✅" if verdict == "pass" else "❌"}</span> '
            f"{report} {links}</td>"
        )

    def conformance(self) -> str:
        """One table per suite: an implementation per row, a dialect and transport per column."""
        judges = {
            "server": "<code>hello-client check</code> judging each server",
            "client": "<code>hello-server check</code> judging each client",
        }
        tables = []
        for side in self.sides:
            keys = [k for k in self.run.suites if k[0] == side]
            columns = [
                (dialect, transport)
                for dialect in self.dialects
                for transport in self.transports
                if any(k[2:] == (transport, dialect) for k in keys)
            ]
            head = "".join(
                f"<th>{html.escape(dialect)}, {html.escape(transport)}</th>"
                for dialect, transport in columns
            )
            rows = "".join(
                f"<tr><th>{html.escape(impl)}</th>"
                + "".join(self.suite(side, impl, t, d) for d, t in columns)
                + "</tr>"
                for impl in self.suite_impls
                if any(k[1] == impl for k in keys)
            )
            tables.append(
                f"<h3>The {side} suite: {judges[side]}</h3>\n"
                f'<table class="conformance" data-suite="{side}"><thead><tr>'
                f'<th class="corner">{side}</th>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table>"
            )
        return (
            '<h2 id="conformance">Conformance</h2>\n'
            '<p class="legend">Each implementation judged by the suites, in each dialect and '
            "transport. Each count links to the suite's report.</p>\n"
            + "\n".join(tables)
        )

    def render(self) -> str:
        pairs, suites = self.run.pairs.values(), self.run.suites.values()
        pairs_failed = sum(v == "fail" for v in pairs)
        suites_failed = sum(v == "fail" for v in suites)
        passed = pairs_failed == 0 and suites_failed == 0
        outcome = "pass" if passed else "fail"
        headline = (
            "Passed: every pair and every suite run passed."
            if passed
            else f"Failed: {pairs_failed} of {len(pairs)} pairs and {suites_failed} of "
            f"{len(suites)} suite runs."
            + (' <a href="#failures">What failed</a>' if self.run.failures else "")
        )
        summary = "".join(
            f'<span class="badge {cls if count else "none"}">'
            f"{count} {what if count == 1 else what + 's'} {verb}</span>"
            for cls, count, what, verb in [
                ("pass", len(pairs) - pairs_failed, "pair", "passed"),
                ("fail", pairs_failed, "pair", "failed"),
                ("pass", len(suites) - suites_failed, "suite run", "passed"),
                ("fail", suites_failed, "suite run", "failed"),
            ]
        )
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>hello-websocket interop: {outcome}</title>",
            f"<style>{STYLE}</style></head>",
            f'<body data-outcome="{outcome}">',
            "<h1>hello-websocket interop</h1>",
            f'<p class="note">{html.escape(self.note)}</p>' if self.note else "",
            f'<p class="outcome {outcome}">{headline}</p>',
            f'<div class="summary">{summary}</div>',
        ]
        parts += [self.matrix(dialect) for dialect in self.dialects if self.servers]
        if self.run.suites:
            parts.append(self.conformance())
        if self.run.failures:
            parts += [
                '<h2 id="failures">What failed, as the run printed it</h2>',
                f'<pre class="failures">{html.escape(self.run.failures)}</pre>',
            ]
        other = self.links(
            ("matrix.md", "matrix.md"),
            ("verdicts.tsv", "verdicts.tsv"),
            ("logs/gen-certs.log", "gen-certs.log"),
        )
        parts += [f'<p class="note">Also in this folder: {other}</p>', "</body></html>"]
        return "\n".join(part for part in parts if part) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Write index.html for an interop run's folder (scripts/interop.sh)."
    )
    parser.add_argument(
        "--out", required=True, help="the run's folder, with verdicts.tsv"
    )
    parser.add_argument("--note", default="", help="a line under the title")
    parser.add_argument(
        "--impls",
        default="",
        help="comma-separated: the order of rows and columns (others follow, sorted)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    try:
        run = read_run(out)
    except (OSError, ValueError) as error:
        print(f"interop_page: {error}", file=sys.stderr)
        return 2
    impls = [name for name in args.impls.split(",") if name]
    (out / "index.html").write_text(
        Page(run, impls, args.note).render(), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
