#!/usr/bin/env python3
"""Runs the benchmark of scripts/bench.sh (which builds first) and writes its results.

Every server is started by this script on free ports and stopped by it, also on failure. The
load is always `hello-client bench`, so every server sees the same client; the figures are
medians over interleaved rounds (A B C ... A B C ...), so a slow moment of the machine falls on
every server alike.
"""

from __future__ import annotations

import argparse
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


def markdown(results: dict, meta: dict) -> str:
    names = meta["servers"]
    lines = [
        (
            f"Measured on {meta['date']} at commit {meta['commit']} by `{meta['command']}` "
            f"({meta['rounds']} interleaved rounds of {meta['seconds']} s per cell; medians)."
        ),
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {key} | {value} |" for key, value in meta["versions"].items()]

    def load_table(title: str, cell_text) -> list[str]:
        header = (
            "| server | "
            + " | ".join(f"{config_name(c)} {t}" for t in TRANSPORTS for c in CONFIGS)
            + " |"
        )
        rows = [
            "",
            title,
            "",
            header,
            "|" + " --- |" * (1 + len(CONFIGS) * len(TRANSPORTS)),
        ]
        for name in names:
            cells = []
            for transport in TRANSPORTS:
                for config in CONFIGS:
                    cell = results["load"].get(
                        f"{name} {transport} {config_name(config)}"
                    )
                    cells.append(cell_text(cell) if cell else "–")
            rows.append(f"| **{name}** | " + " | ".join(cells) + " |")
        return rows

    lines += load_table(
        "### Throughput (answers per second, median; ⚠ = a round had errors)",
        lambda c: f"{c['msgs_per_sec']:,.0f}{'' if c['ok'] else ' ⚠'}",
    )
    lines += load_table(
        "### Latency (µs, p50 / p99, median over rounds)",
        lambda c: f"{c['p50_us']:.0f} / {c['p99_us']:.0f}",
    )
    lines += load_table(
        "### Server CPU per answer (µs of user + system time, median)",
        lambda c: f"{c['cpu_us']:.2f}",
    )
    lines += ["", "### TLS cost (wss throughput as a share of ws, same load)", ""]
    lines += [
        "| server | " + " | ".join(config_name(c) for c in CONFIGS) + " |",
        "|" + " --- |" * (1 + len(CONFIGS)),
    ]
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
        lines.append(f"| **{name}** | " + " | ".join(cells) + " |")
    if results["idle"]:
        lines += [
            "",
            (
                f"### {meta['sessions']:,} idle sessions held {meta['hold']} s "
                "(ping 10 s, Kiss 5 s)"
            ),
            "",
            (
                "| server | opened | RSS per session | RSS held | CPU | closed by server "
                "| Kiss answered | Pings seen |"
            ),
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, idle_report in results["idle"].items():
            lines.append(
                f"| **{name}** | {idle_report.get('opened', 0):,} "
                f"| {idle_report['bytes_per_session']:,} B "
                f"| {idle_report['held_rss_kib'] / 1024:,.0f} MiB "
                f"| {idle_report['cpu_percent']}% "
                f"| {idle_report.get('closed_by_server', '?')} "
                f"| {idle_report.get('kisses_answered', 0):,} "
                f"| {idle_report.get('pings_seen', 0):,} |"
            )
    lines += ["", "### Targets", ""] + targets(results, names)
    lines += [
        "",
        "![throughput](docs/bench/throughput.svg)",
        "",
        "![memory per session](docs/bench/memory.svg)",
    ]
    return "\n".join(lines) + "\n"


def dialect_markdown(dialects: dict, meta: dict) -> str:
    """The JSON-vs-v1 table, a row per server and load, with the commands that produced it."""
    cells = dialects["cells"]
    names = dialects["servers"]
    lines = [
        (
            f"Measured on {meta['date']} at commit {meta['commit']} by `{meta['command']}` "
            f"({meta['rounds']} rounds of {meta['seconds']} s per cell, JSON and v1 "
            "alternating on one process of each server; medians)."
        ),
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [
        f"| {key} | {value} |"
        for key, value in meta["versions"].items()
        if key == "machine" or key in names
    ]
    lines += [
        "",
        (
            "| server | load (ws) | JSON msgs/s | v1 msgs/s | v1 / JSON | v1 / JSON by round "
            "| JSON p50 / p99 µs | v1 p50 / p99 µs | JSON server CPU µs/answer "
            "| v1 server CPU µs/answer |"
        ),
        "|" + " --- |" * 10,
    ]
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
            lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        (
            "v1 / JSON is the ratio of the medians; by round, the median (and range) of "
            "each round's ratio of its two back-to-back runs. ⚠ = a round had errors. "
            "The commands, server by server (each server picks its port; `json` is the "
            "default dialect, so its runs name none):"
        ),
        "",
        "```",
    ]
    for index, name in enumerate(names):
        if index:
            lines.append("")
        lines.append(dialects["server_commands"][name])
        for config in CONFIGS:
            for dialect in DIALECTS:
                lines += cells.get(f"{name} {dialect} {config_name(config)}", {}).get(
                    "commands", []
                )
    lines += ["```"]
    return "\n".join(lines) + "\n"


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
                    f"- {config_name(config)} {transport}: Rust is {ratio:.2f}× the fastest "
                    f"peer ({fastest}); target 1.5×: {'met' if ratio >= 1.5 else 'MISSED'}"
                )
            if ceiling:
                share = rust / ceiling
                out.append(
                    f"- {config_name(config)} {transport}: Rust is {share:.0%} of the "
                    f"ceiling; target 90 %: {'met' if share >= 0.9 else 'MISSED'}"
                )
    for transport in TRANSPORTS:
        rust = load.get(f"rust {transport} 1×1")
        ceiling = load.get(f"ceiling {transport} 1×1")
        if rust and ceiling and ceiling["p99_us"]:
            over = rust["p99_us"] / ceiling["p99_us"] - 1
            out.append(
                f"- 1×1 {transport}: Rust p99 {rust['p99_us']:.0f} µs vs ceiling "
                f"{ceiling['p99_us']:.0f} µs ({over:+.0%}); target within 10 %: "
                f"{'met' if over <= 0.10 else 'MISSED'}"
            )
    rust_idle = results["idle"].get("rust")
    if rust_idle:
        per = rust_idle["bytes_per_session"]
        evicted = rust_idle.get("closed_by_server")
        out.append(
            f"- idle: Rust {per:,} B per session at {rust_idle.get('opened', 0):,} sessions; "
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
    """A grouped bar chart: one group per entry of `groups`, one bar per series."""
    colors = [
        "#b7410e",
        "#7f7f7f",
        "#00add8",
        "#3776ab",
        "#e76f00",
        "#43853d",
        "#6a5acd",
    ]
    width, height, left, bottom, top = 760, 340, 70, 40, 40
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max(values.values(), default=1) or 1
    group_w = plot_w / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="11">'
        ),
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
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
            f'text-anchor="middle">{group}</text>'
        )
        for s, name in enumerate(series):
            value = values.get((group, name), 0)
            h = plot_h * value / peak
            x = x0 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{colors[s % len(colors)]}">'
                f"<title>{name}: {value:,.0f}</title></rect>"
            )
    for s, name in enumerate(series):
        x = left + 10 + s * 95
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{colors[s % len(colors)]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{height - 5}">{name}</text>')
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


def write_outputs(results: dict, meta: dict, out: Path, update_docs: bool) -> None:
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
    charts = ROOT / "docs/bench" if update_docs else out
    charts.mkdir(parents=True, exist_ok=True)
    (charts / "throughput.svg").write_text(throughput)
    (charts / "memory.svg").write_text(memory)
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
        "--out", default=str(ROOT / "target/bench"), help="raw results and logs"
    )
    args = parser.parse_args()
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
    if failed:
        print(
            "some runs had errors: see target/bench/results.json and logs",
            file=sys.stderr,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
