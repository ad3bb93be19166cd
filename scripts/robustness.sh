#!/usr/bin/env bash
# The robustness table: each server judged by `hello-client robustness` (PROTOCOL.md section 13)
# in JSON and in v1, its memory measured by its PID, each verdict compared with
# scripts/robustness-expected.json. Exits 1 on any difference from the expectations, in either
# direction: an unexpected pass must be recorded there too.
#
#   scripts/robustness.sh --ci                  # the reduced scale, the Rust server
#   scripts/robustness.sh --impls rust,go       # the full scale, two servers
#   scripts/robustness.sh --ci --update-readme  # also put the table into README.md
#
# Every server runs on a free port, a fresh one for each dialect, and is stopped by PID when its
# run ends, also on failure or Ctrl-C. Logs, reports and table.md are left in --out (default
# target/robustness).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

impls=(rust)
dialects=(json v1)
out="$root/target/robustness"
peers="$root/peers"
expected="$root/scripts/robustness-expected.json"
build=yes
update_readme=no
scale=full

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --impls LIST        comma-separated servers: rust, or a peer with peers/<lang>/server (default rust)
  --dialects LIST     json, v1 or both (default json,v1)
  --ci                the reduced scale, which still proves each case
  --peers-dir DIR     where the peers' folders are (default peers)
  --out DIR           where logs, reports and table.md go (default target/robustness)
  --no-build          use what was built before
  --update-readme     replace the table between the robustness markers in README.md
EOF
}

while (($#)); do
    case "$1" in
    --impls) IFS=, read -r -a impls <<<"$2" && shift ;;
    --dialects) IFS=, read -r -a dialects <<<"$2" && shift ;;
    --ci) scale=ci ;;
    --peers-dir) peers="$(cd "$2" && pwd)" && shift ;;
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)" && shift ;;
    --no-build) build=no ;;
    --update-readme) update_readme=yes ;;
    -h | --help) usage && exit 0 ;;
    *) echo "robustness: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done
for impl in "${impls[@]}"; do
    [[ "$impl" == rust || -x "$peers/$impl/server" ]] ||
        { echo "robustness: no server '$impl' ($peers/$impl/server is missing)" >&2 && exit 2; }
done
for dialect in "${dialects[@]}"; do
    [[ "$dialect" == json || "$dialect" == v1 ]] ||
        { echo "robustness: dialect must be json or v1, not '$dialect'" >&2 && exit 2; }
done

# The servers' settings, told to the suite as they are given to the server. The reduced scale
# keeps every case (a few clients of each kind), with short timers so that the evictions come
# in seconds; the full scale is the suite's defaults.
if [[ "$scale" == ci ]]; then
    settings=(--ping-interval 2s --pong-timeout 2s --handshake-timeout 2s --max-connections 300
        --max-message-size 1048576)
    counts=(--oversize-clients 4 --slowloris-connections 100 --non-readers 20
        --non-reader-requests 20000 --write-time 5s --ping-flood 10000 --frozen-sessions 50
        --frozen-stopped 10 --garbage-connections 5)
    run_timeout=300
else
    settings=(--ping-interval 5s --pong-timeout 5s --handshake-timeout 5s --max-connections 2000
        --max-message-size 1048576)
    counts=()
    run_timeout=1200
fi
kiss=(--kiss-interval 500ms)
# The v1 timers every server takes (peers/README.md), short so that v1 evictions come in seconds.
v1_timers=(--v1-ping-interval 500ms --v1-session-timeout 2s)
start_timeout=60 # seconds for a server to print its listening line

target="${CARGO_TARGET_DIR:-$root/target}"
hello_server="$target/debug/hello-server"
hello_client="$target/debug/hello-client"
server_of() { if [[ "$1" == rust ]]; then echo "$hello_server"; else echo "$peers/$1/server"; fi; }

# --- processes -----------------------------------------------------------------------------------

# shellcheck source=lib/processes.sh
source "$root/scripts/lib/processes.sh"

step_started=$SECONDS
step() {
    printf '\n==> %s\n' "$*"
    step_started=$SECONDS
}
took() { echo "    ($((SECONDS - step_started)) s)"; }

# --- build ---------------------------------------------------------------------------------------

rm -rf "$out"
mkdir -p "$out/logs" "$out/reports"
SECONDS=0
declare -A broken=() # implementation -> why it could not be built
if [[ "$build" == yes ]]; then
    step "build"
    cargo build --locked --quiet -p hello-server -p hello-client
    for impl in "${impls[@]}"; do
        [[ "$impl" == rust ]] && continue
        if ! "$peers/$impl/build" >"$out/logs/build-$impl.log" 2>&1; then
            broken[$impl]="build failed, see logs/build-$impl.log"
            echo "$impl: build FAILED, see $out/logs/build-$impl.log"
        fi
    done
    took
fi
certs="$out/certs"
"$hello_server" gen-certs --certs-dir "$certs" >"$out/logs/gen-certs.log" 2>&1
# The suite and the servers hold thousands of connections.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- runs ----------------------------------------------------------------------------------------

# Judges IMPL's server in DIALECT: a fresh server, the suite told its settings and PID.
judge() {
    local impl="$1" dialect="$2" pid url status=0
    local name="$impl-$dialect" log="$out/logs/server-$impl-$dialect.log"
    step "$impl server, $dialect"
    if [[ -n "${broken[$impl]:-}" ]]; then
        echo "    ${broken[$impl]}"
        return
    fi
    "$(server_of "$impl")" --port 0 --tls --tls-port 0 --certs-dir "$certs" "${settings[@]}" \
        "${kiss[@]}" "${v1_timers[@]}" >"$log" 2>&1 &
    pid=$!
    started+=("$pid")
    if ! wait_for_line "$log" 'listening on ws://' "$start_timeout" "$pid"; then
        if kill -0 "$pid" 2>/dev/null; then
            echo "    did not start within ${start_timeout}s (log: logs/server-$impl-$dialect.log)"
        else
            echo "    exited before listening: $(head -n1 "$log") (log: logs/server-$impl-$dialect.log)"
        fi
        stop "$pid"
        return
    fi
    url="$(listening_url "$log" ws)"
    timeout --kill-after=5 "$run_timeout" "$hello_client" robustness --url "$url" \
        --dialect "$dialect" --server-pid "$pid" "${settings[@]}" "${v1_timers[@]}" "${counts[@]}" \
        --report "$out/reports/$name.json" --junit "$out/reports/$name.xml" \
        >"$out/logs/robustness-$name.log" 2>&1 || status=$?
    sed 's/^/    /' "$out/logs/robustness-$name.log" | cut -c1-240
    [[ -f "$out/reports/$name.json" ]] || echo "    no report (exit status $status)"
    stop "$pid"
    took
}

started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
for impl in "${impls[@]}"; do
    for dialect in "${dialects[@]}"; do judge "$impl" "$dialect"; done
done

# --- the table and the expectations --------------------------------------------------------------
# scripts/robustness-expected.json: { "<impl>": { "<case>[ v1]": {"verdict": "fail", "why": "...",
# "scale": "full"} } }, where "scale" is optional; a case absent is expected to pass.

step "table"
status=0
python3 - "$out" "$expected" "$scale" "$started_at" "$SECONDS" "${impls[*]}" "${dialects[*]}" <<'PY' || status=$?
import json
import sys
from pathlib import Path

out, expected_path, scale, started_at, seconds = sys.argv[1:6]
impls, dialects = sys.argv[6].split(), sys.argv[7].split()
# An entry may hold for one scale only ("scale": "ci" or "full"); without one it holds for both.
expected = {
    impl: {
        label: entry
        for label, entry in entries.items()
        if entry.get("scale", scale) == scale
    }
    for impl, entries in json.loads(Path(expected_path).read_text(encoding="utf-8")).items()
}

# Each implementation's verdicts, by label: "case" for JSON, "case v1" for v1.
verdicts = {}
cases = []
for impl in impls:
    verdicts[impl] = {}
    for dialect in dialects:
        path = Path(out) / "reports" / f"{impl}-{dialect}.json"
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verdicts[impl][f"(no {dialect} report)"] = ("fail", "the run wrote no report")
            continue
        for case in report["cases"]:
            label = case["case"].replace(" [v1]", " v1")
            verdicts[impl][label] = (case["verdict"], case["detail"])
            if label not in cases:
                cases.append(label)

differences = []
def mark(impl, label):
    verdict, detail = verdicts[impl].get(label, ("missing", ""))
    want = expected.get(impl, {}).get(label, {}).get("verdict", "pass")
    if verdict == want or (verdict == "skip" and want == "pass"):
        return {"pass": "✅", "skip": "➖"}.get(verdict, "expected ❌")
    if verdict == "pass":
        differences.append(f"{impl} {label}: passed, but robustness-expected.json expects a failure; remove the entry")
        return "✅ (expected ❌)"
    differences.append(f"{impl} {label}: {verdict}: {detail}")
    return "❌"

for impl in impls:
    for label in expected.get(impl, {}):
        dialect = "v1" if label.endswith(" v1") else "json"
        if dialect in dialects and label not in cases:
            differences.append(f"{impl} {label}: expected in robustness-expected.json, but not run")
extra = [label for impl in impls for label in verdicts[impl] if label.startswith("(no ")]
rows = cases + sorted(set(extra))
lines = [
    "| case | " + " | ".join(impls) + " |",
    "| --- |" + " --- |" * len(impls),
]
for label in rows:
    lines.append(f"| `{label}` | " + " | ".join(mark(impl, label) for impl in impls) + " |")
lines.append("")
lines.append(
    f"Run by `scripts/robustness.sh{' --ci' if scale == 'ci' else ''}` on {started_at} in {seconds}s "
    "(✅ passed, ❌ failed against the expectations, expected ❌ a failure recorded in "
    "`scripts/robustness-expected.json`, ➖ skipped)."
)
table = "\n".join(lines) + "\n"
Path(out, "table.md").write_text(table, encoding="utf-8")
print(table)
if differences:
    print("Differences from scripts/robustness-expected.json:")
    for line in differences:
        print(f"  {line}")
    sys.exit(1)
PY
took

if [[ "$update_readme" == yes ]]; then
    readme="$root/README.md"
    begin='<!-- robustness:begin -->'
    end='<!-- robustness:end -->'
    if grep -qF "$begin" "$readme" && grep -qF "$end" "$readme"; then
        awk -v begin="$begin" -v end="$end" -v table="$out/table.md" '
            $0 == begin { print; while ((getline line < table) > 0) print line; skip = 1; next }
            $0 == end { skip = 0 }
            !skip { print }
        ' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
        echo "README.md updated"
    else
        echo "robustness: README.md has no '$begin' / '$end' markers; not updated" >&2
    fi
fi

echo
echo "logs, reports and table.md: ${out#"$root"/} (${SECONDS}s in all)"
exit "$status"
