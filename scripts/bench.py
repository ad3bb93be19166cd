#!/usr/bin/env python3
"""Runs the benchmark of scripts/bench.sh (which builds first) and writes its results.

Every server is started by this script on free ports and stopped by it, also on failure. The
load is always `hello-client bench`, so every server sees the same client; the figures are
medians over interleaved rounds (A B C ... A B C ...), so a slow moment of the machine falls on
every server alike.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "target/release/hello-client"
CONFIGS = [(1, 1), (1, 64), (50, 8)]  # (connections, in flight per connection)
TRANSPORTS = ["ws", "wss"]
PEERS = ["go", "python", "java", "node"]
DIALECTS = ["json", "v1"]
# Each server's colour in the charts; the last one is for a server not named here.
SERVER_COLORS = {
    "rust": "#b7410e",
    "ceiling": "#7f7f7f",
    "go": "#00add8",
    "python": "#3776ab",
    "java": "#e76f00",
    "node": "#43853d",
    "": "#6a5acd",
}


@dataclass
class Server:
    """One implementation under test, and how to start it."""

    name: str
    command: list[str]
    frame_echo: bool = False
    extra: list[str] = field(default_factory=list)


def servers() -> list[Server]:
    found = [
        Server(
            "rust",
            [str(ROOT / "target/release/hello-server")],
            extra=["--max-connections", "20000"],
        ),
        Server(
            "ceiling",
            [str(ROOT / "target/release/examples/echo_ceiling")],
            frame_echo=True,
        ),
    ]
    # Every peer's default limit (10,000) is below the idle test's sessions.
    for peer in PEERS:
        found.append(
            Server(
                peer,
                [str(ROOT / f"peers/{peer}/server")],
                extra=["--max-connections", "20000"],
            )
        )
    return found


class Running:
    """A started server: its process, log and URLs."""

    def __init__(self, server: Server, certs: Path, log_dir: Path):
        self.server = server
        self.log_path = log_dir / f"server-{server.name}.log"
        # Open for as long as the server runs; closed by stop().
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.command = (
            server.command
            + ["--port", "0", "--tls", "--tls-port", "0", "--certs-dir", str(certs)]
            + server.extra
        )
        self.process = subprocess.Popen(
            self.command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.urls: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while len(self.urls) < 2:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{server.name} did not start; see {self.log_path}")
            text = self.log_path.read_text(errors="replace")
            for scheme in TRANSPORTS:
                match = re.search(rf"listening on ({scheme}://\S+)", text)
                if match:
                    self.urls[scheme] = match.group(1)
            time.sleep(0.1)

    def rss_kib(self) -> int:
        """Resident memory of the server and its children (the peers' wrappers exec, so this is
        the server itself)."""
        return read_status(self.process.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        fields = (
            Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        )
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def read_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for pid {pid}")


def shown(command: list[str]) -> str:
    """A command line as a reader would type it from the repository's root."""
    return " ".join(
        os.path.relpath(part, ROOT) if part.startswith(str(ROOT)) else part
        for part in command
    )


def bench(
    running: Running,
    transport: str,
    connections: int,
    in_flight: int,
    seconds: float,
    ca: Path,
    dialect: str = "json",
) -> dict:
    command = [
        str(CLIENT),
        "bench",
        "--url",
        running.urls[transport],
        "--connections",
        str(connections),
        "--in-flight",
        str(in_flight),
        "--duration",
        f"{seconds}s",
        "--json",
    ]
    if transport == "wss":
        command += ["--ca", str(ca)]
    if dialect != "json":
        command += ["--dialect", dialect]
    if running.server.frame_echo:
        command.append("--frame-echo")
    cpu_before = running.cpu_seconds()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    cpu_used = running.cpu_seconds() - cpu_before
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {
            "msgs_per_sec": 0,
            "errors": 1,
            "error_samples": [done.stderr.strip()[-300:]],
        }
    report["exit_status"] = done.returncode
    report["command"] = shown(command)
    answers = report.get("answers", 0)
    report["server_cpu_us_per_answer"] = cpu_used * 1e6 / answers if answers else 0.0
    return report


def idle(running: Running, sessions: int, hold: float, ca: Path, log_dir: Path) -> dict:
    """Holds `sessions` idle sessions against a fresh server; samples its memory and CPU."""
    time.sleep(1)
    base_kib = running.rss_kib()
    err_path = log_dir / f"idle-{running.server.name}.err"
    with open(err_path, "w") as err:
        client = subprocess.Popen(
            [
                str(CLIENT),
                "bench",
                "--url",
                running.urls["ws"],
                "--ca",
                str(ca),
                "--idle",
                str(sessions),
                "--hold",
                f"{hold}s",
                "--sources",
                "16",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        deadline = time.monotonic() + 300
        while "holding" not in err_path.read_text():
            if client.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        cpu_start, wall_start = running.cpu_seconds(), time.monotonic()
        samples = []
        # Sample through the hold, after the first Kiss round, until the client finishes.
        while client.poll() is None and time.monotonic() - wall_start < hold + 60:
            time.sleep(2)
            if (
                time.monotonic() - wall_start >= min(6.0, hold / 2)
                and time.monotonic() - wall_start <= hold
            ):
                samples.append(running.rss_kib())
        if client.poll() is None:
            client.kill()
        cpu_end = running.cpu_seconds()
        wall = min(time.monotonic() - wall_start, hold)
        output, _ = client.communicate(timeout=30)
    try:
        report = json.loads(output)
    except json.JSONDecodeError:
        report = {
            "opened": 0,
            "closed_by_server": -1,
            "error_samples": [err_path.read_text()[-300:]],
        }
    report["exit_status"] = client.returncode
    held_kib = max(samples) if samples else 0
    opened = report.get("opened", 0) or 1
    report["base_rss_kib"] = base_kib
    report["held_rss_kib"] = held_kib
    report["bytes_per_session"] = round((held_kib - base_kib) * 1024 / opened)
    report["cpu_percent"] = (
        round(100 * (cpu_end - cpu_start) / wall, 1) if wall > 0 else 0.0
    )
    return report


def run_cell(
    runs: dict[str, list[dict]],
    key: str,
    round_no: int,
    running: Running,
    transport: str,
    config: tuple[int, int],
    seconds: float,
    ca: Path,
    dialect: str = "json",
) -> None:
    """Runs one cell of one round, keeps its report in `runs[key]`, and prints its figure and
    the command that measured it."""
    report = bench(running, transport, *config, seconds, ca, dialect)
    runs.setdefault(key, []).append(report)
    flag = (
        ""
        if report.get("errors", 1) == 0
        else f"  ERRORS: {report.get('error_samples')}"
    )
    print(
        f"round {round_no} {key:<22} {report.get('msgs_per_sec', 0):>10,.0f} msgs/s{flag}\n"
        f"   $ {report['command']}",
        flush=True,
    )


def summarize(runs: dict[str, list[dict]]) -> tuple[dict, bool]:
    """Each cell's medians over its rounds, and whether every round of every cell was clean."""
    cells, failed = {}, False
    for key, reports in runs.items():
        ok = all(r.get("errors", 1) == 0 and r["exit_status"] == 0 for r in reports)
        failed |= not ok
        cells[key] = {
            "msgs_per_sec": median([r.get("msgs_per_sec", 0) for r in reports]),
            "p50_us": median([r.get("latency", {}).get("p50_us", 0) for r in reports]),
            "p99_us": median([r.get("latency", {}).get("p99_us", 0) for r in reports]),
            "cpu_us": median([r["server_cpu_us_per_answer"] for r in reports]),
            "rounds": [r.get("msgs_per_sec", 0) for r in reports],
            "commands": sorted({r["command"] for r in reports}),
            "ok": ok,
        }
    return cells, failed


def compare_dialects(
    chosen: list[Server], rounds: int, seconds: float, certs: Path, ca: Path, logs: Path
) -> tuple[dict, bool]:
    """JSON and v1 against one process of each server that speaks the protocol, over ws,
    alternating cell by cell (and which dialect goes first, round by round), so both dialects
    see the same server process and the same moment of the machine. The servers run side by
    side and take turns within each round, as in the load tables."""
    chosen = [server for server in chosen if not server.frame_echo]
    names = [server.name for server in chosen]
    print(
        f"==> dialects: {rounds} rounds × {len(CONFIGS)} loads × {DIALECTS} × "
        f"{seconds} s against one process each of {', '.join(names)}",
        flush=True,
    )
    started: list[Running] = []
    runs: dict[str, list[dict]] = {}
    try:
        for server in chosen:
            started.append(Running(server, certs, logs))
            print(f"   server: {shown(started[-1].command)}", flush=True)
        for running in started:  # warm-up, not counted (the JVM compiles its hot paths)
            for dialect in DIALECTS:
                bench(running, "ws", 1, 64, 1, ca, dialect)
        for round_no in range(1, rounds + 1):
            order = DIALECTS if round_no % 2 else DIALECTS[::-1]
            for config in CONFIGS:
                for running in started:
                    for dialect in order:
                        key = f"{running.server.name} {dialect} {config_name(config)}"
                        run_cell(
                            runs,
                            key,
                            round_no,
                            running,
                            "ws",
                            config,
                            seconds,
                            ca,
                            dialect,
                        )
    finally:
        for running in started:
            running.stop()
    cells, failed = summarize(runs)
    return {
        "servers": names,
        "server_commands": {r.server.name: shown(r.command) for r in started},
        "cells": cells,
    }, failed


def versions() -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            out = subprocess.run(
                command, capture_output=True, text=True, timeout=30, check=False
            )
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not found"

    def grep(path: str, pattern: str) -> str:
        text = (ROOT / path).read_text()
        match = re.search(pattern, text, re.DOTALL)
        return match.group(1) if match else "?"

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, "
        f"{round(read_meminfo() / 1024 / 1024)} GiB, Linux {platform.release()}",
        "rust": f"{run('rustc', '--version')}; tokio-tungstenite "
        + grep("Cargo.lock", r'name = "tokio-tungstenite"\nversion = "([^"]+)"'),
        "go": f"{run('go', 'version')}; gorilla/websocket "
        + grep("peers/go/go.mod", r"gorilla/websocket (v[\d.]+)"),
        "python": f"{run('python3', '--version')}; websockets "
        + grep("peers/python/requirements.txt", r"websockets==([\d.]+)"),
        "java": f"{run('java', '-version')}; Java-WebSocket "
        + grep(
            "peers/java/pom.xml",
            r"<artifactId>Java-WebSocket</artifactId>\s*<version>([^<]+)",
        ),
        "node": f"Node.js {run('node', '--version')}; ws "
        + grep(
            "peers/node/package-lock.json",
            r'"node_modules/ws": \{\s*"version": "([^"]+)"',
        ),
    }


def read_meminfo() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


# --- output ----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def config_name(config: tuple[int, int]) -> str:
    return f"{config[0]}×{config[1]}"


# A document is a list of blocks, written once and rendered twice: as Markdown for BENCHMARKS.md
# and as HTML for the page (target/bench/index.html), so the two always say the same. Text in a
# block may hold **bold** and `code`, and nothing else that is markup.


@dataclass
class Paragraph:
    text: str


@dataclass
class Heading:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Items:
    items: list[str]


@dataclass
class Code:
    lines: list[str]


@dataclass
class Chart:
    """One of the charts of `charts()`, by name: a link in Markdown, the SVG itself on the page."""

    name: str
    alt: str


Block = Paragraph | Heading | Table | Items | Code | Chart


def versions_table(meta: dict, keep=lambda key: True) -> Table:
    return Table(
        ["", ""],
        [[key, value] for key, value in meta["versions"].items() if keep(key)],
    )


def bench_blocks(results: dict, meta: dict) -> list[Block]:
    """The load tables, the idle sessions, the targets and the charts."""
    names = meta["servers"]
    blocks: list[Block] = [
        Paragraph(
            f"Measured on {meta['date']} at commit {meta['commit']} by `{meta['command']}` "
            f"({meta['rounds']} interleaved rounds of {meta['seconds']} s per cell; medians)."
        ),
        versions_table(meta),
    ]

    def load_table(title: str, cell_text) -> list[Block]:
        header = ["server"] + [
            f"{config_name(c)} {t}" for t in TRANSPORTS for c in CONFIGS
        ]
        rows = []
        for name in names:
            cells = []
            for transport in TRANSPORTS:
                for config in CONFIGS:
                    cell = results["load"].get(
                        f"{name} {transport} {config_name(config)}"
                    )
                    cells.append(cell_text(cell) if cell else "–")
            rows.append([f"**{name}**"] + cells)
        return [Heading(title), Table(header, rows)]

    blocks += load_table(
        "Throughput (answers per second, median; ⚠ = a round had errors)",
        lambda c: f"{c['msgs_per_sec']:,.0f}{'' if c['ok'] else ' ⚠'}",
    )
    blocks += load_table(
        "Latency (µs, p50 / p99, median over rounds)",
        lambda c: f"{c['p50_us']:.0f} / {c['p99_us']:.0f}",
    )
    blocks += load_table(
        "Server CPU per answer (µs of user + system time, median)",
        lambda c: f"{c['cpu_us']:.2f}",
    )
    tls_rows = []
    for name in names:
        cells = []
        for config in CONFIGS:
            ws = results["load"].get(f"{name} ws {config_name(config)}")
            wss = results["load"].get(f"{name} wss {config_name(config)}")
            cells.append(
                f"{wss['msgs_per_sec'] / ws['msgs_per_sec']:.0%}"
                if ws and wss and ws["msgs_per_sec"]
                else "–"
            )
        tls_rows.append([f"**{name}**"] + cells)
    blocks += [
        Heading("TLS cost (wss throughput as a share of ws, same load)"),
        Table(["server"] + [config_name(c) for c in CONFIGS], tls_rows),
    ]
    if results["idle"]:
        rows = [
            [
                f"**{name}**",
                f"{idle_report.get('opened', 0):,}",
                f"{idle_report['bytes_per_session']:,} B",
                f"{idle_report['held_rss_kib'] / 1024:,.0f} MiB",
                f"{idle_report['cpu_percent']}%",
                f"{idle_report.get('closed_by_server', '?')}",
                f"{idle_report.get('kisses_answered', 0):,}",
                f"{idle_report.get('pings_seen', 0):,}",
            ]
            for name, idle_report in results["idle"].items()
        ]
        blocks += [
            Heading(
                f"{meta['sessions']:,} idle sessions held {meta['hold']} s "
                "(ping 10 s, Kiss 5 s)"
            ),
            Table(
                [
                    "server",
                    "opened",
                    "RSS per session",
                    "RSS held",
                    "CPU",
                    "closed by server",
                    "Kiss answered",
                    "Pings seen",
                ],
                rows,
            ),
        ]
    blocks += [
        Heading("Targets"),
        Items(targets(results, names)),
        Chart("throughput", "throughput"),
        Chart("memory", "memory per session"),
    ]
    return blocks


def dialect_blocks(dialects: dict, meta: dict) -> list[Block]:
    """The JSON-vs-v1 table, a row per server and load, with the commands that produced it."""
    cells = dialects["cells"]
    names = dialects["servers"]
    blocks: list[Block] = [
        Paragraph(
            f"Measured on {meta['date']} at commit {meta['commit']} by `{meta['command']}` "
            f"({meta['rounds']} rounds of {meta['seconds']} s per cell, JSON and v1 "
            "alternating on one process of each server; medians)."
        ),
        versions_table(meta, lambda key: key == "machine" or key in names),
    ]
    rows = []
    for name in names:
        for config in CONFIGS:
            json_cell = cells.get(f"{name} json {config_name(config)}")
            v1_cell = cells.get(f"{name} v1 {config_name(config)}")
            if not json_cell or not v1_cell:
                continue
            ratio = (
                f"{v1_cell['msgs_per_sec'] / json_cell['msgs_per_sec']:.2f}×"
                if json_cell["msgs_per_sec"]
                else "–"
            )
            row = [f"**{name}**", config_name(config)]
            row += [
                f"{c['msgs_per_sec']:,.0f}{'' if c['ok'] else ' ⚠'}"
                for c in (json_cell, v1_cell)
            ]
            row.append(ratio)
            # The two runs of a round went back to back: their ratio is what the machine's
            # slow and quick moments disturb least.
            paired = [
                v1_rate / json_rate
                for json_rate, v1_rate in zip(json_cell["rounds"], v1_cell["rounds"])
                if json_rate
            ]
            row.append(
                f"{median(paired):.2f}× ({min(paired):.2f}–{max(paired):.2f})"
                if paired
                else "–"
            )
            row += [
                f"{c['p50_us']:.0f} / {c['p99_us']:.0f}" for c in (json_cell, v1_cell)
            ]
            row += [f"{c['cpu_us']:.2f}" for c in (json_cell, v1_cell)]
            rows.append(row)
    header = [
        "server",
        "load (ws)",
        "JSON msgs/s",
        "v1 msgs/s",
        "v1 / JSON",
        "v1 / JSON by round",
        "JSON p50 / p99 µs",
        "v1 p50 / p99 µs",
        "JSON server CPU µs/answer",
        "v1 server CPU µs/answer",
    ]
    commands: list[str] = []
    for index, name in enumerate(names):
        if index:
            commands.append("")
        commands.append(dialects["server_commands"][name])
        for config in CONFIGS:
            for dialect in DIALECTS:
                commands += cells.get(
                    f"{name} {dialect} {config_name(config)}", {}
                ).get("commands", [])
    return blocks + [
        Table(header, rows),
        Paragraph(
            "v1 / JSON is the ratio of the medians; by round, the median (and range) of "
            "each round's ratio of its two back-to-back runs. ⚠ = a round had errors. "
            "The commands, server by server (each server picks its port; `json` is the "
            "default dialect, so its runs name none):"
        ),
        Code(commands),
    ]


def to_markdown(blocks: list[Block]) -> str:
    """The blocks as Markdown, one blank line between two."""

    def row(cells: list[str]) -> str:
        return "|" + "".join(f" {cell} |" if cell else " |" for cell in cells)

    parts = []
    for block in blocks:
        match block:
            case Paragraph(text):
                parts.append(text)
            case Heading(text):
                parts.append(f"### {text}")
            case Table(header, rows):
                lines = [row(header), "|" + " --- |" * len(header)]
                parts.append("\n".join(lines + [row(cells) for cells in rows]))
            case Items(items) if items:
                parts.append("\n".join(f"- {item}" for item in items))
            case Code(lines):
                parts.append("\n".join(["```", *lines, "```"]))
            case Chart(name, alt):
                parts.append(f"![{alt}](docs/bench/{name}.svg)")
    return "\n\n".join(parts) + "\n"


def markdown(results: dict, meta: dict) -> str:
    return to_markdown(bench_blocks(results, meta))


def dialect_markdown(dialects: dict, meta: dict) -> str:
    return to_markdown(dialect_blocks(dialects, meta))


def replace_section(name: str, text: str) -> None:
    """Puts `text` between BENCHMARKS.md's `<!-- NAME:begin -->` and `<!-- NAME:end -->`."""
    doc = ROOT / "BENCHMARKS.md"
    whole = doc.read_text()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in whole or end not in whole:
        raise RuntimeError(f"BENCHMARKS.md lacks the {begin} / {end} markers")
    head, rest = whole.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(head + begin + "\n" + text + end + tail)


def targets(results: dict, names: list[str]) -> list[str]:
    """Each target of the issue, met or MISSED, as one line."""
    load = results["load"]
    out = []

    def rate(name: str, transport: str, config: tuple[int, int]) -> float:
        cell = load.get(f"{name} {transport} {config_name(config)}")
        return cell["msgs_per_sec"] if cell else 0.0

    peers = [n for n in names if n in PEERS]
    for config in [(1, 64), (50, 8)]:
        for transport in TRANSPORTS:
            rust = rate("rust", transport, config)
            fastest = max(peers, key=lambda n: rate(n, transport, config), default=None)
            peer_rate = rate(fastest, transport, config) if fastest else 0.0
            ceiling = rate("ceiling", transport, config)
            if peer_rate:
                ratio = rust / peer_rate
                out.append(
                    f"{config_name(config)} {transport}: Rust is {ratio:.2f}× the fastest "
                    f"peer ({fastest}); target 1.5×: {'met' if ratio >= 1.5 else 'MISSED'}"
                )
            if ceiling:
                share = rust / ceiling
                out.append(
                    f"{config_name(config)} {transport}: Rust is {share:.0%} of the "
                    f"ceiling; target 90 %: {'met' if share >= 0.9 else 'MISSED'}"
                )
    for transport in TRANSPORTS:
        rust = load.get(f"rust {transport} 1×1")
        ceiling = load.get(f"ceiling {transport} 1×1")
        if rust and ceiling and ceiling["p99_us"]:
            over = rust["p99_us"] / ceiling["p99_us"] - 1
            out.append(
                f"1×1 {transport}: Rust p99 {rust['p99_us']:.0f} µs vs ceiling "
                f"{ceiling['p99_us']:.0f} µs ({over:+.0%}); target within 10 %: "
                f"{'met' if over <= 0.10 else 'MISSED'}"
            )
    rust_idle = results["idle"].get("rust")
    if rust_idle:
        per = rust_idle["bytes_per_session"]
        evicted = rust_idle.get("closed_by_server")
        out.append(
            f"idle: Rust {per:,} B per session at {rust_idle.get('opened', 0):,} sessions; "
            f"target ≤ 8,192 B: {'met' if per <= 8192 else 'MISSED'}; live sessions "
            f"closed by the server: {evicted}"
        )
    return out


def svg_bars(
    title: str,
    unit: str,
    groups: list[str],
    series: list[str],
    values: dict[tuple[str, str], float],
) -> str:
    """A grouped bar chart: one group per entry of `groups`, one bar per series. A server
    keeps its colour from chart to chart (the memory chart has no ceiling)."""
    spare = [color for name, color in SERVER_COLORS.items() if name not in series]
    colors = [
        SERVER_COLORS.get(name) or (spare.pop() if spare else SERVER_COLORS[""])
        for name in series
    ]
    width, height, left, bottom, top = 760, 340, 70, 40, 40
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max(values.values(), default=1) or 1
    group_w = plot_w / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" '
            f'font-family="sans-serif" font-size="11">'
        ),
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
        (
            f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            'stroke="black"/>'
        ),
    ]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{value:,.0f}</text>'
        )
        parts.append(
            f'<line x1="{left}" y1="{y}" x2="{left + plot_w}" y2="{y}" stroke="#ddd"/>'
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 '
        f'{top + plot_h / 2})" text-anchor="middle">{unit}</text>'
    )
    for g, group in enumerate(groups):
        x0 = left + g * group_w + group_w * 0.1
        parts.append(
            f'<text x="{left + g * group_w + group_w / 2}" y="{top + plot_h + 16}" '
            f'text-anchor="middle">{html.escape(group)}</text>'
        )
        for s, name in enumerate(series):
            value = values.get((group, name), 0)
            h = plot_h * value / peak
            x = x0 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{colors[s]}">'
                f"<title>{html.escape(name)}: {value:,.0f}</title></rect>"
            )
    for s, name in enumerate(series):
        x = left + 10 + s * 95
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{colors[s]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{height - 5}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def publish(
    out: Path, raw: tuple[str, dict], table: tuple[str, str], update_docs: bool
) -> None:
    """Writes the raw results and the table into `out` (as NAME.json and NAME.md), the table
    into its section of BENCHMARKS.md too when `update_docs`, and prints it."""
    (raw_name, raw_data), (section, text) = raw, table
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{raw_name}.json").write_text(json.dumps(raw_data, indent=2))
    (out / f"{section.replace(':', '-')}.md").write_text(text)
    if update_docs:
        replace_section(section, text)
    print(text)


def charts(results: dict, meta: dict) -> dict[str, str]:
    """The charts of a run's results, by name, as SVG."""
    names = meta["servers"]
    throughput = svg_bars(
        "Echo answers per second over ws (median)",
        "msgs/s",
        [config_name(c) for c in CONFIGS],
        names,
        {
            (config_name(c), n): results["load"][f"{n} ws {config_name(c)}"][
                "msgs_per_sec"
            ]
            for c in CONFIGS
            for n in names
            if f"{n} ws {config_name(c)}" in results["load"]
        },
    )
    memory = svg_bars(
        f"Server RSS per idle session, {meta['sessions']:,} sessions",
        "bytes",
        ["RSS per session"],
        list(results["idle"]),
        {
            ("RSS per session", n): r["bytes_per_session"]
            for n, r in results["idle"].items()
        },
    )
    return {"throughput": throughput, "memory": memory}


def write_outputs(results: dict, meta: dict, out: Path, update_docs: bool) -> None:
    chart_dir = ROOT / "docs/bench" if update_docs else out
    chart_dir.mkdir(parents=True, exist_ok=True)
    for name, svg in charts(results, meta).items():
        (chart_dir / f"{name}.svg").write_text(svg)
    publish(
        out,
        ("results", {"meta": meta, "results": results}),
        ("bench", markdown(results, meta)),
        update_docs,
    )


def write_dialects(dialects: dict, meta: dict, out: Path, update_docs: bool) -> None:
    publish(
        out,
        ("dialects", {"meta": meta, "dialects": dialects}),
        ("bench:dialects", dialect_markdown(dialects, meta)),
        update_docs,
    )


# --- the page ----------------------------------------------------------------------------------

PAGE_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 78rem;
  padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
.lead, nav { color: #57606a; }
table { border-collapse: collapse; margin: .4rem 0 1rem; }
th, td { text-align: right; padding: .3rem .6rem; border: 1px solid #d0d7de; }
th { background: #f6f8fa; }
th:first-child, td:first-child { text-align: left; }
table.facts td:last-child { text-align: left; }
code, pre { font-family: ui-monospace, monospace; font-size: .88rem; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; }
li.missed { color: #a40e26; } li.met { color: #116329; }
.charts { display: flex; flex-wrap: wrap; gap: 0 1.5rem; }
figure.chart { flex: 1 1 30rem; max-width: 48rem; margin: .8rem 0; }
figure.chart svg { width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: .9rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0 2.5rem; align-items: flex-start; }
.cards > .wide { flex-basis: 100%; }
"""


def inline(text: str) -> str:
    """A block's text as HTML: escaped, then its **bold** and `code`."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def block_html(block: Block, svgs: dict[str, str]) -> str:
    """One block as HTML, a chart's SVG inline."""
    match block:
        case Paragraph(text):
            return f"<p>{inline(text)}</p>"
        case Heading(text):
            return f"<h3>{inline(text)}</h3>"
        case Table(header, rows):
            # A table with an empty header (the machine's facts) is a list of pairs.
            named = any(header)
            body = "".join(
                "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in cells) + "</tr>"
                for cells in rows
            )
            head = (
                "<thead><tr>"
                + "".join(f"<th>{inline(cell)}</th>" for cell in header)
                + "</tr></thead>"
                if named
                else ""
            )
            kind = "results" if named else "facts"
            return f'<table class="{kind}">{head}<tbody>{body}</tbody></table>'
        case Items(items):
            return (
                "<ul>"
                + "".join(
                    f'<li class="{"missed" if "MISSED" in item else "met"}">'
                    f"{inline(item)}</li>"
                    for item in items
                )
                + "</ul>"
            )
        case Code(lines):
            return f"<pre><code>{html.escape(chr(10).join(lines))}</code></pre>"
        case Chart(name, alt) if name in svgs:
            return (
                f'<figure class="chart" data-chart="{html.escape(name)}">'
                f"{svgs[name]}<figcaption>{html.escape(alt)}</figcaption></figure>"
            )
    return ""


def to_html(blocks: list[Block], svgs: dict[str, str]) -> str:
    """The blocks as HTML for a screen: the charts first, side by side; then each table (or
    list) with its heading as a card, the cards side by side where they fit; paragraphs and
    code across the page."""
    charts = "".join(block_html(b, svgs) for b in blocks if isinstance(b, Chart))
    cards = []
    rest = [block for block in blocks if not isinstance(block, Chart)]
    index = 0
    while index < len(rest):
        block = rest[index]
        following = rest[index + 1] if index + 1 < len(rest) else None
        if isinstance(block, Paragraph | Code):
            cards.append(f'<div class="wide">{block_html(block, svgs)}</div>')
        elif isinstance(block, Heading) and isinstance(following, Table | Items):
            cards.append(
                f'<div class="card">{block_html(block, svgs)}'
                f"{block_html(following, svgs)}</div>"
            )
            index += 1
        else:
            cards.append(f'<div class="card">{block_html(block, svgs)}</div>')
        index += 1
    return (
        (f'<div class="charts">{charts}</div>\n' if charts else "")
        + '<div class="cards">\n'
        + "\n".join(cards)
        + "\n</div>"
    )


def page(run: dict | None, dialects: dict | None, files: list[str]) -> str:
    """The benchmark's page: the load tables, the idle sessions, the targets and the charts of
    `run` (results.json), the JSON-vs-v1 table of `dialects` (dialects.json), whichever are
    there, and links to `files` (beside the page). Self-contained: no script, nothing fetched."""
    sections, nav = [], []
    if run:
        results, meta = run["results"], run["meta"]
        sections.append(
            '<section id="load" data-section="load">'
            "<h2>Load, idle sessions and targets</h2>\n"
            + to_html(bench_blocks(results, meta), charts(results, meta))
            + "</section>"
        )
        nav.append('<a href="#load">load, idle sessions and targets</a>')
    if dialects:
        sections.append(
            '<section id="dialects" data-section="dialects">'
            "<h2>JSON and v1, server by server</h2>\n"
            + to_html(dialect_blocks(dialects["dialects"], dialects["meta"]), {})
            + "</section>"
        )
        nav.append('<a href="#dialects">JSON and v1</a>')
    links = " · ".join(
        f'<a href="{html.escape(name)}">{html.escape(name)}</a>' for name in files
    )
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                "<title>hello-websocket benchmark</title>",
                f"<style>{PAGE_STYLE}</style></head>",
                "<body>",
                "<h1>hello-websocket benchmark</h1>",
                (
                    '<p class="lead">One load, <code>hello-client bench</code>, against the '
                    "Rust server, the peers and a ceiling (a frame-echo server with no JSON "
                    "work), in interleaved rounds on one machine; BENCHMARKS.md says how, and "
                    "what the figures mean.</p>"
                ),
                f"<nav>{' · '.join(nav)}</nav>",
                *sections,
                f'<p class="lead">Raw results: {links}</p>' if links else "",
                "</body></html>",
            ]
        )
        + "\n"
    )


def write_page(source: Path, out: Path) -> Path:
    """Writes `out`/index.html from the results in `source` (a folder, or one of its
    results.json and dialects.json, the other read too when it is beside it).

    # Errors
    OSError or ValueError when neither file is there or one cannot be read."""
    folder = source if source.is_dir() else source.parent
    found = {}
    for name in ("results.json", "dialects.json"):
        path = folder / name
        if path.exists() or path == source:
            found[name] = json.loads(path.read_text())
    if not found:
        raise ValueError(f"no results.json or dialects.json in {folder}")
    out.mkdir(parents=True, exist_ok=True)
    beside = [
        name for name in found if (out / name).resolve() == (folder / name).resolve()
    ]
    target = out / "index.html"
    target.write_text(
        page(found.get("results.json"), found.get("dialects.json"), beside)
    )
    return target


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the Rust server against the peers and the ceiling "
        "(run through scripts/bench.sh, which builds first)."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 round of 2 s, 1,000 idle sessions for 12 s; writes target/bench only",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds (default 3)"
    )
    parser.add_argument(
        "--seconds", type=float, default=4, help="seconds per cell (default 4)"
    )
    parser.add_argument(
        "--sessions", type=int, default=10_000, help="idle sessions (default 10000)"
    )
    parser.add_argument(
        "--hold", type=float, default=60, help="seconds to hold them (default 60)"
    )
    parser.add_argument(
        "--servers",
        default="rust,ceiling," + ",".join(PEERS),
        help="comma-separated subset of rust,ceiling,go,python,java,node",
    )
    parser.add_argument("--skip-idle", action="store_true", help="only the load tables")
    parser.add_argument(
        "--skip-load", action="store_true", help="only the idle sessions"
    )
    parser.add_argument(
        "--dialects-only",
        action="store_true",
        help="only the JSON-vs-v1 table of every chosen server but the ceiling (about 7 "
        "minutes at the defaults for all five); updates only its section of BENCHMARKS.md "
        "and keeps the other results in --out",
    )
    parser.add_argument(
        "--out",
        default=str(ROOT / "target/bench"),
        help="raw results, logs and the page (index.html)",
    )
    parser.add_argument(
        "--page-only",
        metavar="RESULTS",
        type=Path,
        help="run nothing: write --out/index.html from a run's results.json or "
        "dialects.json (the other is read too when it is beside it)",
    )
    args = parser.parse_args()
    if args.page_only:
        try:
            print(f"page: {shown([str(write_page(args.page_only, Path(args.out)))])}")
        except (OSError, ValueError, KeyError) as error:
            print(f"bench: no page from {args.page_only}: {error!r}", file=sys.stderr)
            return 2
        return 0
    if args.quick:
        args.rounds, args.seconds, args.sessions, args.hold = 1, 2, 1000, 12
    if args.dialects_only:
        args.skip_load = args.skip_idle = True
    wanted = args.servers.split(",")
    unknown = sorted(set(wanted) - {s.name for s in servers()})
    if unknown:
        parser.error(f"unknown servers: {', '.join(unknown)}")
    chosen = [s for s in servers() if s.name in wanted]
    speaking = [s for s in chosen if not s.frame_echo]
    if args.dialects_only and not speaking:
        parser.error("--dialects-only needs a server that speaks the protocol")
    out = Path(args.out)
    if args.dialects_only:
        logs = out / "logs-dialects"
        shutil.rmtree(logs, ignore_errors=True)
    else:
        shutil.rmtree(out, ignore_errors=True)
        logs = out / "logs"
    logs.mkdir(parents=True)
    certs = Path(tempfile.mkdtemp(prefix="hello-bench-certs-"))
    subprocess.run(
        [
            str(ROOT / "target/release/hello-server"),
            "gen-certs",
            "--certs-dir",
            str(certs),
        ],
        check=True,
        capture_output=True,
    )
    ca = certs / "ca.crt"
    command = "scripts/bench.sh " + " ".join(sys.argv[1:])
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit or "unknown",
        "command": command.strip(),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "sessions": args.sessions,
        "hold": args.hold,
        "servers": [s.name for s in chosen],
        "versions": versions(),
    }
    results: dict = {"load": {}, "idle": {}}
    dialects: dict = {}
    runs: dict[str, list[dict]] = {}
    started: list[Running] = []
    failed = False
    try:
        if not args.skip_load:
            print(
                f"==> load: {args.rounds} rounds × {len(chosen)} servers × "
                f"{len(CONFIGS) * len(TRANSPORTS)} cells × {args.seconds} s",
                flush=True,
            )
            for server in chosen:
                started.append(Running(server, certs, logs))
            for (
                running
            ) in started:  # warm-up, not counted (the JVM compiles its hot paths)
                for transport in TRANSPORTS:
                    bench(running, transport, 1, 64, 1, ca)
            for round_no in range(1, args.rounds + 1):
                for transport in TRANSPORTS:
                    for config in CONFIGS:
                        for running in started:
                            key = f"{running.server.name} {transport} {config_name(config)}"
                            run_cell(
                                runs,
                                key,
                                round_no,
                                running,
                                transport,
                                config,
                                args.seconds,
                                ca,
                            )
            for running in started:
                running.stop()
            started.clear()
            results["load"], load_failed = summarize(runs)
            failed |= load_failed
        if speaking and (args.dialects_only or not args.skip_load):
            dialects, dialects_failed = compare_dialects(
                speaking, args.rounds, args.seconds, certs, ca, logs
            )
            failed |= dialects_failed
        if not args.skip_idle:
            for server in chosen:
                if server.frame_echo:
                    continue  # the ceiling has no Pings or Kiss to hold sessions with
                print(
                    f"==> idle: {args.sessions} sessions against {server.name} for "
                    f"{args.hold} s",
                    flush=True,
                )
                running = Running(server, certs, logs)
                started.append(running)
                report = idle(running, args.sessions, args.hold, ca, logs)
                running.stop()
                started.remove(running)
                results["idle"][server.name] = report
                print(
                    f"   opened {report.get('opened')}, {report['bytes_per_session']} B/session, "
                    f"CPU {report['cpu_percent']}%, closed by server "
                    f"{report.get('closed_by_server')}",
                    flush=True,
                )
                failed |= report.get("exit_status") != 0
    finally:
        for running in started:
            running.stop()
        shutil.rmtree(certs, ignore_errors=True)
    if not args.dialects_only:
        write_outputs(results, meta, out, update_docs=not args.quick)
    if dialects:
        write_dialects(dialects, meta, out, update_docs=not args.quick)
    print(f"page: {shown([str(write_page(out, out))])}")
    if failed:
        print(
            "some runs had errors: see target/bench/results.json and logs",
            file=sys.stderr,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
