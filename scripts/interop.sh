#!/usr/bin/env bash
# The interop matrix: every implementation judged by the conformance suites, and every client
# against every server, over ws and wss, in both dialects (JSON and the binary v1). The browser is
# one more client: the page of web/ in headless Chromium, served by the Rust server, judged like
# the others and by `hello-server check --browser`. Prints the matrix, writes it as Markdown
# (matrix.md), as one line per verdict (verdicts.tsv) and as a page (index.html: the matrix and
# the conformance tables, each cell linking to its report and logs), and exits 1 if any cell failed.
#
#   scripts/interop.sh                      # all five implementations and the browser
#   scripts/interop.sh --impls rust,go      # a subset (a new peer while you write it)
#   scripts/interop.sh --dialects v1        # one dialect
#   scripts/interop.sh --no-browser         # without the browser
#   scripts/interop.sh --update-readme      # also put the matrix into README.md
#
# Every process it starts runs on a free port and is stopped by PID when the script ends, also on
# failure or Ctrl-C. Logs, reports, the Markdown and the page are left in --out (default
# target/interop).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

impls=(rust go python java node)
transports=(ws wss)
dialects=(json v1)
out="$root/target/interop"
peers="$root/peers"
build=yes
update_readme=no
browser=yes

# The intervals every server runs with, and that the judges are told about: short, so the whole
# run takes minutes, and not so short that a JVM on a loaded two-core machine misses a Pong.
ping_interval=1s
pong_timeout=1s
kiss_interval=500ms
# The binary dialect's timers (PROTOCOL.md section 12.3), as short: a v1 session is evicted after
# 3 s without a matching PONG, so the suite's eviction cases take seconds.
v1_ping_interval=500ms
v1_session_timeout=3s
v1_time_interval=500ms
v1_kiss_interval=500ms
random_interval=500ms
# How long a client in a pair stays connected: more than one Kiss and one Ping round.
pair_duration=2s
# How long the client under `hello-server check` stays: a few Kiss and Ping rounds.
check_duration=3s
# Upper bounds, so that a hung process fails its cell instead of hanging the run.
start_timeout=60      # seconds for a server to print its listening lines
run_timeout=90        # seconds for one client or one suite to finish
log_timeout=10        # seconds for a server to log a session's end after its client exited

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --impls LIST        comma-separated, from: ${impls[*]}
  --transports LIST   ws, wss or both (default ws,wss)
  --dialects LIST     json, v1 or both (default json,v1)
  --peers-dir DIR     where the peers' folders are (default peers)
  --out DIR           where logs, reports, matrix.md and index.html go (default target/interop)
  --no-build          use what was built before
  --no-browser        leave the browser out (it needs Debian's chromium, installed when missing)
  --update-readme     replace the matrix between the interop markers in README.md
EOF
}

while (($#)); do
    case "$1" in
    --impls) IFS=, read -r -a impls <<<"$2" && shift ;;
    --transports) IFS=, read -r -a transports <<<"$2" && shift ;;
    --dialects) IFS=, read -r -a dialects <<<"$2" && shift ;;
    --peers-dir) peers="$(cd "$2" && pwd)" && shift ;;
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)" && shift ;;
    --no-build) build=no ;;
    --no-browser) browser=no ;;
    --update-readme) update_readme=yes ;;
    -h | --help) usage && exit 0 ;;
    *) echo "interop: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done
for impl in "${impls[@]}"; do
    [[ "$impl" == rust || -x "$peers/$impl/server" ]] ||
        { echo "interop: no implementation '$impl' ($peers/$impl/server is missing)" >&2 && exit 2; }
done
for transport in "${transports[@]}"; do
    [[ "$transport" == ws || "$transport" == wss ]] ||
        { echo "interop: transport must be ws or wss, not '$transport'" >&2 && exit 2; }
done
for dialect in "${dialects[@]}"; do
    [[ "$dialect" == json || "$dialect" == v1 ]] ||
        { echo "interop: dialect must be json or v1, not '$dialect'" >&2 && exit 2; }
done

hello_server="$root/target/debug/hello-server"
hello_client="$root/target/debug/hello-client"
server_of() { if [[ "$1" == rust ]]; then echo "$hello_server"; else echo "$peers/$1/server"; fi; }
client_of() { if [[ "$1" == rust ]]; then echo "$hello_client"; else echo "$peers/$1/client"; fi; }

# --- processes -----------------------------------------------------------------------------------

# shellcheck source=lib/processes.sh
source "$root/scripts/lib/processes.sh"

# --- build ---------------------------------------------------------------------------------------

step() { printf '\n==> %s\n' "$*"; }

rm -rf "$out"
mkdir -p "$out/logs" "$out/reports"
declare -A broken=() # implementation -> why it could not be built
if [[ "$build" == yes ]]; then
    step "build"
    cargo build --locked --quiet -p hello-server -p hello-client
    for impl in "${impls[@]}"; do
        [[ "$impl" == rust ]] && continue
        printf '%s ' "$impl"
        if ! "$peers/$impl/build" >"$out/logs/build-$impl.log" 2>&1; then
            broken[$impl]="build failed, see logs/build-$impl.log"
            echo "(build FAILED, see $out/logs/build-$impl.log)"
        fi
    done
    echo
fi

certs="$out/certs"
"$hello_server" gen-certs --certs-dir "$certs" >"$out/logs/gen-certs.log" 2>&1
intervals=(--ping-interval "$ping_interval" --pong-timeout "$pong_timeout" --kiss-interval "$kiss_interval"
    --v1-ping-interval "$v1_ping_interval" --v1-session-timeout "$v1_session_timeout"
    --v1-time-interval "$v1_time_interval" --v1-kiss-interval "$v1_kiss_interval")
# The clients of the pairs: every implementation's, and the browser's.
clients=("${impls[@]}")
[[ "$browser" == yes ]] && clients+=(browser)

# The browser's page comes from a Rust server of its own, over http and https; every server under
# test allows those two origins (PROTOCOL.md section 2.2), since the page is not its own.
declare -A page_url=() # ws|wss -> the page's URL, http:// or https://
allow_page=()
if [[ "$browser" == yes ]]; then
    step "browser"
    # shellcheck source=lib/browser.sh
    source "$root/scripts/lib/browser.sh"
    ensure_browser
    page_log="$out/logs/page-server.log"
    "$hello_server" --port 0 --tls --tls-port 0 --certs-dir "$certs" >"$page_log" 2>&1 &
    started+=("$!")
    wait_for_line "$page_log" 'listening on wss://' "$start_timeout" "$!" ||
        { echo "interop: the page's server did not start (log: $page_log)" >&2 && exit 1; }
    page_url[ws]="$(listening_url "$page_log" ws | sed -E 's#^ws://#http://#; s#/ws$#/#')"
    page_url[wss]="$(listening_url "$page_log" wss | sed -E 's#^wss://#https://#; s#/ws$#/#')"
    allow_page=(--allow-origin "${page_url[ws]%/}" --allow-origin "${page_url[wss]%/}")
    echo "the page: ${page_url[ws]} and ${page_url[wss]}"
fi

# Runs the browser's page against URL and prints its verdict on stderr; exits as the runner does.
run_browser() { # run_browser URL TRANSPORT DIALECT NAME DURATION LOG
    "$root/scripts/browser.sh" --server-url "$1" --page-url "${page_url[$2]}" --dialect "$3" \
        --whoami "$4" --count 5 --duration "$5" --random-interval "$random_interval" \
        --ca "$certs/ca.crt" --timeout "${run_timeout}s" --screenshot "${6%.log}.png" >"$6" 2>&1
}

# What a client is told of the dialect it speaks.
dialect_flags() { # dialect_flags DIALECT
    if [[ "$1" == v1 ]]; then echo --dialect v1 --random-interval "$random_interval"; fi
}

# --- results -------------------------------------------------------------------------------------

declare -A cell=()      # "server client transport dialect" -> ok | FAIL
declare -A suite=()     # "server|client impl transport dialect" -> summary line of the suite
declare -A suite_ok=()  # same key -> yes | no
declare -A cell_why=()  # a failed cell's key -> why, for the page
failures=()             # one line per failed cell, with its reason
failed=0

fail() {
    failures+=("$1")
    failed=1
}

# Judges a finished suite run: its exit status, summary line and FAIL lines.
record_suite() {
    local key="$1" status="$2" report="$3" log="$4" what="$5" verdict summary
    verdict="$(read_report "$report" || true)"
    summary="$(head -n1 <<<"$verdict")"
    suite[$key]="${summary:-no report}"
    if [[ "$status" == 0 && -n "$summary" ]]; then
        suite_ok[$key]=yes
    else
        suite_ok[$key]=no
        local reasons
        reasons="$(tail -n +2 <<<"$verdict" | sed 's/^/    /')"
        fail "$what: ${summary:-exit status $status, no report} (log: ${log#"$out"/})${reasons:+$'\n'$reasons}"
    fi
}

# A suite's verdict, read from the JSON it wrote with --report (not from its text): the line
# 'N passed, N failed' (', N skipped' when any were), then 'FAIL case: detail' for each failure.
# Prints nothing, and fails, when there is no readable report.
read_report() {
    python3 - "$1" <<'PY'
import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as file:
        cases = json.load(file)["cases"]
except (OSError, ValueError, KeyError):
    sys.exit(1)
count = {verdict: sum(c["verdict"] == verdict for c in cases) for verdict in ("pass", "fail", "skip")}
line = f"{count['pass']} passed, {count['fail']} failed"
if count["skip"]:
    line += f", {count['skip']} skipped"
print(line)
for case in cases:
    if case["verdict"] == "fail":
        print(f"FAIL {case['case']}: {case['detail']}")
PY
}

# --- servers: the server suite and every client ---------------------------------------------------

# Marks every cell of a server that cannot be judged as failed, with the reason.
server_unusable() {
    local server="$1" summary="$2" why="$3" transport dialect client
    for dialect in "${dialects[@]}"; do
        for transport in "${transports[@]}"; do
            suite["server $server $transport $dialect"]="$summary"
            suite_ok["server $server $transport $dialect"]=no
            for client in "${clients[@]}"; do
                cell["$server $client $transport $dialect"]=FAIL
                cell_why["$server $client $transport $dialect"]="server $server: $why"
            done
        done
    done
    fail "server $server: $why"
}

judge_server() {
    local server="$1" pid client transport dialect url
    local log="$out/logs/server-$server.log"
    step "server $server"
    if [[ -n "${broken[$server]:-}" ]]; then
        server_unusable "$server" "${broken[$server]}" "${broken[$server]}"
        return
    fi
    "$(server_of "$server")" --port 0 --tls --tls-port 0 --certs-dir "$certs" "${intervals[@]}" \
        "${allow_page[@]}" >"$log" 2>&1 &
    pid=$!
    started+=("$pid")
    if ! wait_for_line "$log" 'listening on wss://' "$start_timeout" "$pid" ||
        ! wait_for_line "$log" 'listening on ws://' 1 "$pid"; then
        server_unusable "$server" "did not start" \
            "did not start within ${start_timeout}s (log: logs/server-$server.log)"
        stop "$pid"
        return
    fi

    for dialect in "${dialects[@]}"; do
        for transport in "${transports[@]}"; do
            url="$(listening_url "$log" "$transport")"
            local name="server-$server-$transport-$dialect" status=0
            printf '  %-4s %-4s hello-client check ... ' "$dialect" "$transport"
            rm -f "$out/reports/$name".{json,xml,html}
            timeout --kill-after=5 "$run_timeout" "$hello_client" check --url "$url" \
                --ca "$certs/ca.crt" "${intervals[@]}" --dialect "$dialect" \
                --report "$out/reports/$name.json" --junit "$out/reports/$name.xml" \
                --html "$out/reports/$name.html" >"$out/logs/check-$name.log" 2>&1 || status=$?
            record_suite "server $server $transport $dialect" "$status" "$out/reports/$name.json" \
                "$out/logs/check-$name.log" \
                "hello-client check --dialect $dialect against the $server server over $transport"
            echo "${suite["server $server $transport $dialect"]}"

            for client in "${clients[@]}"; do
                judge_pair "$server" "$client" "$transport" "$dialect" "$url" "$log"
            done
        done
    done
    stop "$pid"
}

# A pair passes when the client exits 0 and the server logged the session's start, a Kiss answer
# and the client's clean close under the client's name. Names are logged as JSON strings
# (PROTOCOL.md section 2.1), so only the name itself, quoted, matches: a client that calls itself
# 'NAME reason=client closed' cannot forge the verdict. The browser's clean close is one the page
# made itself: in JSON its Close 1000 (a browser closes with 1001 by itself when a page goes), in
# v1 its DISCONNECT, after which the line has no code (PROTOCOL.md section 7).
judge_pair() {
    local server="$1" client="$2" transport="$3" dialect="$4" url="$5" server_log="$6" status=0
    local name="interop-$client-$transport-$dialect-$RANDOM"
    local log="$out/logs/pair-$server-$client-$transport-$dialect.log"
    local key="$server $client $transport $dialect"
    printf '  %-4s %-4s %-7s client ... ' "$dialect" "$transport" "$client"
    if [[ -n "${broken[$client]:-}" ]]; then
        cell[$key]=FAIL
        cell_why[$key]="$client client: ${broken[$client]}"
        fail "$client client → $server server over $transport in $dialect: ${broken[$client]}"
        echo FAIL
        return
    fi
    local closed="reason=client closed"
    if [[ "$client" == browser ]]; then
        [[ "$dialect" == json ]] && closed+=" code=1000" || closed+=" dialect=v1"
        run_browser "$url" "$transport" "$dialect" "$name" "$pair_duration" "$log" || status=$?
    else
        # shellcheck disable=SC2046 # dialect_flags prints separate words on purpose
        timeout --kill-after=5 "$run_timeout" "$(client_of "$client")" --url "$url" \
            --ca "$certs/ca.crt" --count 5 --duration "$pair_duration" --name "$name" \
            $(dialect_flags "$dialect") >"$log" 2>&1 || status=$?
    fi
    local why=""
    if [[ "$status" != 0 ]]; then
        why="client exited with status $status (log: ${log#"$out"/})"
    elif ! wait_for_line "$server_log" "session- .*name=\"$name\" $closed" "$log_timeout"; then
        why="the server did not log 'session- name=\"$name\" $closed'"
    elif ! grep -Eq "session\+ .*name=\"$name\" " "$server_log"; then
        why="the server did not log 'session+ name=\"$name\"'"
    elif ! grep -Eq "kiss .*name=\"$name\" " "$server_log"; then
        why="the server did not log a Kiss answer from \"$name\""
    fi
    if [[ -z "$why" ]]; then
        cell[$key]=ok
        echo ok
    else
        cell[$key]=FAIL
        cell_why[$key]="$why"
        fail "$client client → $server server over $transport in $dialect: $why"
        echo "FAIL: $why"
    fi
}

# --- clients: the client suite -------------------------------------------------------------------

judge_client() {
    local client="$1" transport dialect pid status url judged_as=()
    # A browser cannot set handshake headers: it is judged by its whoami query parameter instead.
    [[ "$client" == browser ]] && judged_as=(--browser)
    step "client $client"
    for dialect in "${dialects[@]}"; do
        for transport in "${transports[@]}"; do
            local key="client $client $transport $dialect" name="client-$client-$transport-$dialect"
            local log="$out/logs/check-$name.log"
            printf '  %-4s %-4s hello-server check ... ' "$dialect" "$transport"
            if [[ -n "${broken[$client]:-}" ]]; then
                suite[$key]="${broken[$client]}"
                suite_ok[$key]=no
                fail "client $client: ${broken[$client]}"
                echo "${suite[$key]}"
                continue
            fi
            rm -f "$out/reports/$name".{json,xml,html}
            timeout --kill-after=5 "$run_timeout" "$hello_server" check --port 0 --tls --tls-port 0 \
                --certs-dir "$certs" "${intervals[@]}" --dialect "$dialect" \
                --random-interval "$random_interval" --clients 1 --timeout 30s "${judged_as[@]}" \
                --report "$out/reports/$name.json" --junit "$out/reports/$name.xml" \
                --html "$out/reports/$name.html" >"$log" 2>&1 &
            pid=$!
            started+=("$pid")
            if wait_for_line "$log" "listening on $transport://" "$start_timeout" "$pid"; then
                url="$(listening_url "$log" "$transport")"
                if [[ "$client" == browser ]]; then
                    run_browser "$url" "$transport" "$dialect" "$name" "$check_duration" \
                        "$out/logs/$name.log" || true
                else
                    # shellcheck disable=SC2046 # dialect_flags prints separate words on purpose
                    timeout --kill-after=5 "$run_timeout" "$(client_of "$client")" --url "$url" \
                        --ca "$certs/ca.crt" --count 5 --duration "$check_duration" --name "$name" \
                        $(dialect_flags "$dialect") >"$out/logs/$name.log" 2>&1 || true
                fi
            fi
            status=0
            wait "$pid" || status=$?
            record_suite "$key" "$status" "$out/reports/$name.json" "$log" \
                "hello-server check --dialect $dialect of the $client client over $transport"
            echo "${suite[$key]}"
        done
    done
}

# --- the run -------------------------------------------------------------------------------------

started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
SECONDS=0
for impl in "${impls[@]}"; do judge_server "$impl"; done
for impl in "${clients[@]}"; do judge_client "$impl"; done

# --- the matrix ----------------------------------------------------------------------------------

mark() { if [[ "$1" == ok || "$1" == yes ]]; then echo "✅"; else echo "❌"; fi; }

matrix="$out/matrix.md"
run_line="Run by \`scripts/interop.sh\` on $started_at in ${SECONDS}s (intervals: ping $ping_interval, pong timeout $pong_timeout, Kiss $kiss_interval; v1: PING $v1_ping_interval, session timeout $v1_session_timeout, TIME and KISS $v1_time_interval, RANDOM_NUMBER $random_interval)."
verdicts="$out/verdicts.tsv"
{
    for key in "${!cell[@]}"; do printf 'pair\t%s\t%s\n' "${key// /$'\t'}" "${cell[$key]}"; done
    for key in "${!suite_ok[@]}"; do printf 'suite\t%s\t%s\n' "${key// /$'\t'}" "${suite_ok[$key]}"; done
} | sort >"$verdicts"
{
    for dialect in "${dialects[@]}"; do
        echo "Pairs in $dialect: each cell is the client (column) against the server (row), over $(
            IFS=/
            echo "${transports[*]}"
        ). A pair passes when the client exits 0 and the server logs its session, its Kiss answer and its clean close."
        echo
        printf '| server ＼ client (%s) |' "$dialect"
        for client in "${clients[@]}"; do printf ' %s |' "$client"; done
        printf '\n| --- |'
        for _ in "${clients[@]}"; do printf ' --- |'; done
        echo
        for server in "${impls[@]}"; do
            printf '| **%s** |' "$server"
            for client in "${clients[@]}"; do
                printf ' '
                for transport in "${transports[@]}"; do
                    printf '%s %s ' "$(mark "${cell["$server $client $transport $dialect"]:-FAIL}")" "$transport"
                done
                printf '|'
            done
            echo
        done
        echo
    done
    echo "Conformance: \`hello-client check\` judging each server, \`hello-server check\` judging each client, in each dialect."
    echo
    printf '| implementation |'
    for side in server client; do
        for dialect in "${dialects[@]}"; do
            for transport in "${transports[@]}"; do printf ' %s suite, %s, %s |' "$side" "$dialect" "$transport"; done
        done
    done
    printf '\n| --- |'
    for _ in server client; do
        for _ in "${dialects[@]}"; do
            for _ in "${transports[@]}"; do printf ' --- |'; done
        done
    done
    echo
    for impl in "${clients[@]}"; do
        printf '| **%s** |' "$impl"
        for side in server client; do
            for dialect in "${dialects[@]}"; do
                for transport in "${transports[@]}"; do
                    key="$side $impl $transport $dialect"
                    if [[ "$impl" == browser && "$side" == server ]]; then
                        printf ' (a client only) |'
                        continue
                    fi
                    printf ' %s %s |' "$(mark "${suite_ok[$key]:-no}")" "${suite[$key]:-not run}"
                done
            done
        done
        echo
    done
    echo
    echo "$run_line"
} >"$matrix"

step "matrix"
cat "$matrix"
if ((${#failures[@]})); then
    step "failures"
    printf '%s\n' "${failures[@]}"
fi

if [[ "$update_readme" == yes ]]; then
    readme="$root/README.md"
    begin='<!-- interop:begin -->'
    end='<!-- interop:end -->'
    if grep -qF "$begin" "$readme" && grep -qF "$end" "$readme"; then
        awk -v begin="$begin" -v end="$end" -v matrix="$matrix" '
            $0 == begin { print; while ((getline line < matrix) > 0) print line; skip = 1; next }
            $0 == end { skip = 0 }
            !skip { print }
        ' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
        echo "README.md updated"
    else
        echo "interop: README.md has no '$begin' / '$end' markers; not updated" >&2
    fi
fi

# The page: verdicts.tsv and the reports, with why each failed pair failed and the failures as
# printed above.
for key in "${!cell_why[@]}"; do
    printf 'pair\t%s\t%s\n' "${key// /$'\t'}" "${cell_why[$key]}"
done | sort >"$out/reasons.tsv"
printf '%s\n' "${failures[@]}" >"$out/failures.txt"
if ! python3 "$root/scripts/interop_page.py" --out "$out" --note "${run_line//\`/}" \
    --impls "$(
        IFS=,
        echo "${impls[*]}"
    )"; then
    echo "interop: the page (index.html) could not be written" >&2
    failed=1
fi

echo
echo "logs, reports, matrix.md and verdicts.tsv: ${out#"$root"/}"
echo "the page: ${out#"$root"/}/index.html"
exit "$failed"
