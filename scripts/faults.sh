#!/usr/bin/env bash
# Faults on the wire: toxiproxy (Shopify/toxiproxy v2.5.0) between the Rust hello-client and the
# Rust hello-server, one fault per case, each judged by what the client saw AND what the server
# logged. Prints `PASS case (figures)` or `FAIL case (figures)` with the tails of the client's
# output and the server's log, then a summary with each case's time; exits 1 on any failure.
#
#   scripts/faults.sh                    # build, then every case
#   scripts/faults.sh --no-build         # the binaries built before (CI, after cargo test)
#   scripts/faults.sh --only slicer      # one case
#
# toxiproxy is installed from the Go module proxy into target/tools/ when it is not there. Every
# process runs on a free port (toxiproxy's API on one picked at random, retried when taken) and is
# stopped by PID when the script ends, also on failure or Ctrl-C. Logs are left in --out (default
# target/faults).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- timings: each one a variable, one edit each ------------------------------------------------

# The server's timers in every case but slow-link: short, so that an eviction comes in seconds.
ping_interval=1s
pong_timeout=1s
kiss_interval=500ms
close_timeout=2s
handshake_timeout=5s
# How late an eviction may be and still pass, in seconds (hello-check's CHECK_SLACK).
slack=1
# latency-below-timeout: a latency with jitter, each way, well below the pong timeout.
low_latency_ms=150
low_jitter_ms=50
low_duration=4s
# latency-above-timeout: a latency, each way, added mid-session, above the pong timeout.
high_latency_ms=2500
# latency-above-timeout and black-hole: how long the client's run would last if nothing evicted it;
# it must outlast the eviction, its Close crossing the latency, and the server's close timeout.
eviction_run=15s
# reset: the client's first pause before reconnecting, and how long its run lasts in all.
reset_backoff=1s
reset_duration=4s
# slicer: sessions one after another, each sliced into one-byte segments both ways, with timers
# short enough that each sees Kiss requests and a Ping; a run's duration counts from before it
# connects, and a loaded machine took 0.4 s to connect. How often a sliced handshake broke the
# binaries from before the head was read whole depended on the machine's load (1 in 25 to 1 in 3
# here), so twenty of them catch that regression only often; hello-net's whole_head tests, one
# byte per read, catch it every time.
slicer_sessions=20
slicer_duration=600ms
slicer_ping_interval=250ms
slicer_pong_timeout=250ms
slicer_kiss_interval=100ms
# slicer-too-slow: one byte every slow_slice_us microseconds, so that the client's request head
# (about 200 bytes) takes seconds, longer than this handshake timeout: it must still time out.
slow_slice_us=10000
slow_handshake_timeout=1s
# slow-link: a link of slow_rate_kbps KB/s (1 KB = 1000 bytes, toxiproxy's unit) each way, one
# Echo of slow_echo_bytes. A 256 KiB message takes 2.6 s to cross one way, so a Ping or a Pong
# queued behind it waits that long: the pong timeout must be longer (4 s), and the ping
# interval, which may not be shorter than the pong timeout, is shorter than the whole exchange
# (5.3 s), so the Ping at 4 s crosses behind the answer.
slow_rate_kbps=100
slow_echo_bytes=262144
slow_ping_interval=4s
slow_pong_timeout=4s
slow_kiss_interval=1s
slow_duration=6s
slow_client_timeout=15s
# Upper bounds, so that a hung process fails its case instead of hanging the run (seconds).
start_timeout=30 # for toxiproxy or a server to listen
run_timeout=60   # for one client run
log_timeout=10   # for an awaited log line beyond the time it is due

cases=(latency-below-timeout latency-above-timeout reset black-hole slicer slicer-wss slicer-too-slow
    slow-link)
toxiproxy_version=v2.5.0
toxiproxy_package=github.com/Shopify/toxiproxy/v2/cmd/server

out="$root/target/faults"
build=yes
only=""

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --only CASE    one case, of: ${cases[*]}
  --out DIR      where the logs go (default target/faults)
  --no-build     use the hello-server and hello-client built before
EOF
}

while (($#)); do
    case "$1" in
    --only) only="$2" && shift ;;
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)" && shift ;;
    --no-build) build=no ;;
    -h | --help) usage && exit 0 ;;
    *) echo "faults: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done
if [[ -n "$only" ]]; then
    [[ " ${cases[*]} " == *" $only "* ]] ||
        { echo "faults: no case '$only'; cases: ${cases[*]}" >&2 && exit 2; }
    cases=("$only")
fi

target="${CARGO_TARGET_DIR:-$root/target}"
hello_server="$target/debug/hello-server"
hello_client="$target/debug/hello-client"
tools="$root/target/tools"
toxiproxy="$tools/toxiproxy-server"

# shellcheck source=lib/processes.sh
source "$root/scripts/lib/processes.sh"

step_started=$SECONDS
step() {
    printf '\n==> %s\n' "$*"
    step_started=$SECONDS
}
took() { echo "    ($((SECONDS - step_started)) s)"; }

# --- arithmetic on times -------------------------------------------------------------------------

now() { date +%s.%N; }
# A duration as the binaries take it (500ms, 2s) in seconds.
seconds() {
    case "$1" in
    *ms) awk -v v="${1%ms}" 'BEGIN { print v / 1000 }' ;;
    *s) echo "${1%s}" ;;
    *) echo "faults: cannot read the duration '$1'" >&2 && return 1 ;;
    esac
}
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
holds() { awk "BEGIN { exit !($1) }"; }
# Whole seconds, rounded up, for wait_for_line.
ceil() { awk -v v="$1" 'BEGIN { c = int(v); if (c < v) c++; print c }'; }
# When the COUNT-th line (default the last) of FILE matching PATTERN was logged, in seconds since
# the epoch: the log's lines start with an RFC 3339 time.
logged_at() {
    local file="$1" pattern="$2" count="${3:-}" line
    if [[ -n "$count" ]]; then
        line="$(grep -E -- "$pattern" "$file" | sed -n "${count}p")"
    else
        line="$(grep -E -- "$pattern" "$file" | tail -n1)"
    fi
    [[ -n "$line" ]] || return 1
    date -d "${line%% *}" +%s.%N
}
count_of() { grep -Ec -- "$2" "$1" || true; }
# wait_for_count FILE PATTERN COUNT SECONDS: until FILE has COUNT lines matching PATTERN; fails
# after SECONDS.
wait_for_count() {
    local tenths=0
    until (($(count_of "$1" "$2") >= $3)); do
        ((tenths < $4 * 10)) || return 1
        sleep 0.1
        tenths=$((tenths + 1))
    done
}
# A field of the client's `run complete echoes=N kisses=N pings=N` line, or -1 without one.
run_figure() {
    local value
    value="$(grep -Eo "run complete .*" "$1" | grep -Eo "$2=[0-9]+" | cut -d= -f2 || true)"
    echo "${value:--1}"
}
# The largest `latency=` of the client's echo lines, in seconds (Rust's Debug form: 1.2s,
# 151.3ms, 80µs), or -1 without one.
max_echo_latency() {
    grep -Eo 'echo id=.* latency=[0-9.]+(ns|µs|ms|s)' "$1" | sed 's/.*latency=//' | awk '
        /ns$/ { v = $0 / 1e9 } /µs$/ { v = $0 / 1e6 } /ms$/ { v = $0 / 1e3 }
        /[0-9]s$/ { v = $0 + 0 }
        { if (v > max) max = v; seen = 1 }
        END { printf "%.2f", seen ? max : -1 }'
}

# --- toxiproxy -----------------------------------------------------------------------------------

# Installs toxiproxy from the Go module proxy, unless the binary there is already that version.
install_toxiproxy() {
    if [[ -x "$toxiproxy" ]] && go version -m "$toxiproxy" 2>/dev/null |
        grep -Eq "^\s+mod\s+github.com/Shopify/toxiproxy/v2\s+$toxiproxy_version\s"; then
        echo "    $toxiproxy: $toxiproxy_version, already installed"
        return
    fi
    local staging="$tools/.toxiproxy-install"
    rm -rf "$staging"
    mkdir -p "$staging"
    GOBIN="$staging" go install "$toxiproxy_package@$toxiproxy_version"
    mv "$staging/server" "$toxiproxy"
    rm -rf "$staging"
    echo "    installed $toxiproxy ($toxiproxy_version)"
}

api=""
# Starts toxiproxy with its API on a free port: one picked at random below the ephemeral range,
# another if that one is taken. Listening is proven by the socket's owner, not by a time.
start_toxiproxy() {
    local try port pid log="$out/logs/toxiproxy.log" tenths
    for try in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 12000))
        "$toxiproxy" -host 127.0.0.1 -port "$port" >"$log" 2>&1 &
        pid=$!
        started+=("$pid")
        tenths=0
        while kill -0 "$pid" 2>/dev/null && ((tenths < start_timeout * 10)); do
            if ss -ltnpH "sport = :$port" | grep -q "pid=$pid,"; then
                api="http://127.0.0.1:$port"
                echo "    toxiproxy $toxiproxy_version, API on $api (try $try, pid $pid)"
                return
            fi
            sleep 0.1
            tenths=$((tenths + 1))
        done
        stop "$pid"
        forget "$pid"
        echo "    toxiproxy could not listen on port $port: $(tail -n1 "$log")"
    done
    echo "faults: toxiproxy did not start" >&2
    return 1
}

# api_call METHOD PATH [JSON]: the answer's body; fails on an HTTP error, saying it.
api_call() {
    local answer
    if ! answer="$(curl -sS --max-time 10 --fail-with-body -X "$1" -H 'Content-Type: application/json' \
        ${3:+--data "$3"} "$api$2")"; then
        echo "toxiproxy: $1 $2 failed: $answer" >&2
        return 1
    fi
    printf '%s' "$answer"
}

# new_proxy NAME UPSTREAM_PORT: a proxy listening on 127.0.0.1, port 0; prints the port toxiproxy
# chose, read from its answer, and fails if the answer names none.
new_proxy() {
    local answer port
    answer="$(api_call POST /proxies \
        "{\"name\": \"$1\", \"listen\": \"127.0.0.1:0\", \"upstream\": \"127.0.0.1:$2\"}")" || return 1
    port="$(jq -r '.listen' <<<"$answer" | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p')"
    if [[ -z "$port" || "$port" == 0 ]]; then
        echo "toxiproxy: the new proxy's answer names no real port: $answer" >&2
        return 1
    fi
    echo "$port"
}

# add_toxic PROXY TYPE STREAM ATTRIBUTES: a toxic named TYPE-STREAM, on every connection of PROXY.
add_toxic() {
    api_call POST "/proxies/$1/toxics" "{\"name\": \"$2-$3\", \"type\": \"$2\", \"stream\": \"$3\", \
\"toxicity\": 1.0, \"attributes\": $4}" >/dev/null
}
add_toxic_both_ways() {
    add_toxic "$1" "$2" downstream "$3" && add_toxic "$1" "$2" upstream "$3"
}
remove_toxic() { api_call DELETE "/proxies/$1/toxics/$2" >/dev/null; }

# --- the server and the client -------------------------------------------------------------------

server_pid=""
server_port=""
server_tls_port=""
server_log=""
# start_server CASE [PING_INTERVAL PONG_TIMEOUT KISS_INTERVAL HANDSHAKE_TIMEOUT]: a fresh server on
# free ports, ws and wss, with the short timers unless others are given.
start_server() {
    local name="$1"
    server_log="$out/logs/$name-server.log"
    "$hello_server" --port 0 --tls --tls-port 0 --certs-dir "$out/certs" \
        --ping-interval "${2:-$ping_interval}" --pong-timeout "${3:-$pong_timeout}" \
        --kiss-interval "${4:-$kiss_interval}" --close-timeout "$close_timeout" \
        --handshake-timeout "${5:-$handshake_timeout}" >"$server_log" 2>&1 &
    server_pid=$!
    started+=("$server_pid")
    if ! wait_for_line "$server_log" 'listening on ws://' "$start_timeout" "$server_pid" ||
        ! wait_for_line "$server_log" 'listening on wss://' "$start_timeout" "$server_pid"; then
        echo "    the server did not start: $(tail -n2 "$server_log")"
        return 1
    fi
    server_port="$(listening_url "$server_log" ws | sed -E 's#^ws://[^:]+:([0-9]+)/.*#\1#')"
    server_tls_port="$(listening_url "$server_log" wss | sed -E 's#^wss://[^:]+:([0-9]+)/.*#\1#')"
}

client_pid=""
# client_in_background LOG ARGS...: hello-client, killed if it outlives the run timeout.
client_in_background() {
    local log="$1"
    shift
    RUST_LOG=info timeout --kill-after=5 "$run_timeout" "$hello_client" "$@" >"$log" 2>&1 &
    client_pid=$!
    started+=("$client_pid")
}
# wait_client: waits for the background client to exit (the run timeout bounds it), and sets
# `status` to its exit status. Not in a subshell: only this shell can wait for its child.
wait_client() {
    status=0
    wait "$client_pid" || status=$?
    forget "$client_pid"
    client_pid=""
}
# forget PID: a process this script has waited for is not stopped again at the end: its PID may
# belong to another process by then (PIDs wrap at 32768 here, on a busy machine in minutes).
forget() {
    local kept=() pid
    for pid in "${started[@]}"; do [[ "$pid" == "$1" ]] || kept+=("$pid"); done
    started=("${kept[@]}")
}

# --- verdicts ------------------------------------------------------------------------------------

problems=()  # what the current case found wrong
figures=""   # what the current case measured
client_logs=() # the current case's client outputs, tailed on failure
expect() { # expect WHAT COMMAND...: WHAT is recorded as a problem unless COMMAND succeeds
    local what="$1"
    shift
    "$@" || problems+=("$what")
}
declare -A verdict=() case_time=()
failed=0

# run_case CASE: a fresh toxiproxy state, server and proxy for the case, its verdict printed.
run_case() {
    local name="$1" started_at=$SECONDS log
    step "$name"
    problems=()
    figures=""
    client_logs=()
    server_log=""
    api_call POST /reset >/dev/null
    if ! "case_${name//-/_}" "$name"; then
        problems+=("the case could not be run to its end (see above)")
    fi
    api_call DELETE "/proxies/$name" >/dev/null 2>&1 || true
    if [[ -n "$client_pid" ]]; then stop "$client_pid" && forget "$client_pid"; fi
    if [[ -n "$server_pid" ]]; then stop "$server_pid" && forget "$server_pid"; fi
    client_pid=""
    server_pid=""
    case_time[$name]=$((SECONDS - started_at))
    if ((${#problems[@]} == 0)); then
        verdict[$name]=PASS
        echo "PASS $name ($figures)"
    else
        verdict[$name]=FAIL
        failed=1
        echo "FAIL $name ($figures)"
        printf '    - %s\n' "${problems[@]}"
        for log in "${client_logs[@]}"; do
            echo "    --- the last lines of ${log#"$out"/}"
            tail -n 15 "$log" 2>/dev/null | cut -c1-240 | sed 's/^/    /'
        done
        if [[ -n "$server_log" ]]; then
            echo "    --- the last lines of ${server_log#"$out"/}"
            tail -n 15 "$server_log" 2>/dev/null | cut -c1-240 | sed 's/^/    /'
        fi
    fi
    took
}

# Patterns of the server's log lines about the session named $1.
opened() { echo "session\\+ .*name=\"$1\""; }
ended() { echo "session- .*name=\"$1\""; }
kissed() { echo "kiss .*name=\"$1\""; }

# --- the cases -----------------------------------------------------------------------------------

# A latency with jitter below the pong timeout: the run lasts its duration, everything answered,
# no eviction.
case_latency_below_timeout() {
    local name="$1" port status log="$out/logs/$1-client.log" opened_at ended_at session latency
    start_server "$name" || return 1
    port="$(new_proxy "$name" "$server_port")" || return 1
    add_toxic_both_ways "$name" latency "{\"latency\": $low_latency_ms, \"jitter\": $low_jitter_ms}" ||
        return 1
    client_logs=("$log")
    client_in_background "$log" --url "ws://127.0.0.1:$port/ws" --name "$name" --count 7 \
        --duration "$low_duration" --ping-interval "$ping_interval"
    wait_client
    wait_for_line "$server_log" "$(ended "$name")" "$log_timeout" || true
    opened_at="$(logged_at "$server_log" "$(opened "$name")" || echo none)"
    ended_at="$(logged_at "$server_log" "$(ended "$name")" || echo none)"
    session=none
    if [[ "$opened_at" != none && "$ended_at" != none ]]; then
        session="$(calc "$ended_at - $opened_at")"
    fi
    # The run's own length: from the client's first line (before it connects) to its last.
    local run_began run_ended run_length=none
    run_began="$(logged_at "$log" ' connecting ' 1 || echo none)"
    run_ended="$(logged_at "$log" 'run complete' || echo none)"
    if [[ "$run_began" != none && "$run_ended" != none ]]; then
        run_length="$(calc "$run_ended - $run_began")"
    fi
    latency="$(max_echo_latency "$log")"
    figures="run ${run_length} s for --duration ${low_duration}, session ${session} s in the server's log, echoes $(run_figure "$log" echoes), \
kisses $(run_figure "$log" kisses), pings $(run_figure "$log" pings), slowest echo ${latency} s, \
server kiss lines $(count_of "$server_log" "$(kissed "$name")")"
    expect "the client exited $status, not 0" test "$status" = 0
    expect "the client's run did not answer all 7 Echo requests" test "$(run_figure "$log" echoes)" = 7
    expect "the client answered no Kiss" test "$(run_figure "$log" kisses)" -ge 1
    expect "the client saw fewer than 2 Pings" test "$(run_figure "$log" pings)" -ge 2
    expect "the client connected more than once" test "$(count_of "$log" ' connected ')" = 1
    # Without an answer there is no latency to measure (-1); the checks above say so.
    expect "the latency was not in effect: slowest echo ${latency} s, under 2 x $((low_latency_ms - low_jitter_ms)) ms" \
        holds "$latency < 0 || $latency >= 2 * ($low_latency_ms - $low_jitter_ms) / 1000"
    expect "the server logged no start and end of the session" test "$session" != none
    expect "the client's run did not complete" test "$run_length" != none
    if [[ "$run_length" != none ]]; then
        expect "the client's run lasted ${run_length} s, less than its --duration ${low_duration}" \
            holds "$run_length >= $(seconds "$low_duration")"
    fi
    expect "the server logged no kiss from the client" test "$(count_of "$server_log" "$(kissed "$name")")" -ge 1
    expect "the server logged a pong timeout" test "$(count_of "$server_log" 'pong timeout')" = 0
    expect "the server did not log the session's end as 'reason=client closed'" \
        grep -Eq "$(ended "$name").*reason=client closed" "$server_log"
}

# Waits for the session named $1 to be up, its Kiss answered: the server logged it.
session_up() {
    wait_for_line "$server_log" "$(kissed "$1")" "$log_timeout" "$server_pid" || {
        echo "    the session '$1' did not come up"
        return 1
    }
}

# Adds TYPE with ATTRIBUTES both ways mid-session and expects the server to evict the session
# within ping interval + pong timeout + slack of it; the client's log must show CLIENT_SAW.
eviction_case() {
    local name="$1" type="$2" attributes="$3" client_saw="$4" port status
    local log="$out/logs/$name-client.log" added evicted after bound client_ended
    start_server "$name" || return 1
    port="$(new_proxy "$name" "$server_port")" || return 1
    client_logs=("$log")
    client_in_background "$log" --url "ws://127.0.0.1:$port/ws" --name "$name" \
        --duration "$eviction_run" --ping-interval "$ping_interval"
    session_up "$name" || return 1
    added="$(now)"
    add_toxic_both_ways "$name" "$type" "$attributes" || return 1
    bound="$(calc "$(seconds "$ping_interval") + $(seconds "$pong_timeout") + $slack")"
    wait_for_line "$server_log" "$(ended "$name")" "$(ceil "$bound + $log_timeout")" "$server_pid" || true
    wait_client
    client_ended="$(calc "$(now) - $added")"
    evicted="$(logged_at "$server_log" "$(ended "$name").*reason=pong timeout" || echo none)"
    if [[ "$evicted" == none ]]; then
        after=none
        figures="no eviction logged (bound ${bound} s)"
    else
        after="$(calc "$evicted - $added")"
        figures="eviction ${after} s after the toxic (bound ${bound} s)"
    fi
    figures+=", the client gone ${client_ended} s after the toxic, exit status $status"
    expect "the server did not log the session's end as 'reason=pong timeout'" test "$after" != none
    if [[ "$after" != none ]]; then
        expect "the eviction came ${after} s after the toxic, before it" holds "$after > 0"
        expect "the eviction came ${after} s after the toxic, later than ${bound} s" holds "$after <= $bound"
    fi
    expect "the server logged more than one session's end" test "$(count_of "$server_log" 'session-')" = 1
    expect "the client exited $status, not 1 (the server went away)" test "$status" = 1
    expect "the client's output does not say '$client_saw'" grep -Eq -- "$client_saw" "$log"
}

# A latency above the pong timeout, added mid-session: eviction on time; the Close 1008 still
# reaches the client, late.
case_latency_above_timeout() {
    eviction_case "$1" latency "{\"latency\": $high_latency_ms, \"jitter\": 0}" \
        'the server closed the session \(1008 pong timeout\)'
}

# A black hole, mid-session: toxiproxy's timeout toxic with timeout 0 drops everything and never
# closes. Eviction on time; the Close is swallowed, and the client learns of the end only when the
# server resets the connection after its close timeout.
case_black_hole() {
    eviction_case "$1" timeout '{"timeout": 0}' \
        'the server went away: the connection (ended without a Close|failed)'
}

# A reset mid-session: the server logs the client as vanished; once the toxic is gone the client
# (--reconnect) is back under the same name, and ends its run cleanly. toxiproxy v2.5.0 sets
# SO_LINGER 0 only on connections opened after a reset_peer toxic exists, and such a toxic swallows
# the first data (the handshake), so one added mid-session cuts the connection on the next data
# from the server: the client's side is closed under it, and the server reads an end of stream.
case_reset() {
    local name="$1" port status log="$out/logs/$1-client.log" added vanished removed back
    local gone_after back_after
    start_server "$name" || return 1
    port="$(new_proxy "$name" "$server_port")" || return 1
    client_logs=("$log")
    client_in_background "$log" --url "ws://127.0.0.1:$port/ws" --name "$name" --reconnect \
        --backoff-initial "$reset_backoff" --duration "$reset_duration" --ping-interval "$ping_interval"
    session_up "$name" || return 1
    added="$(now)"
    add_toxic "$name" reset_peer downstream '{"timeout": 0}' || return 1
    if ! wait_for_line "$server_log" "$(ended "$name")" "$(ceil "$(seconds "$ping_interval") + $log_timeout")" \
        "$server_pid"; then
        problems+=("the server logged no end of the session after the reset")
        return 0
    fi
    remove_toxic "$name" reset_peer-downstream || return 1
    removed="$(now)"
    # The second session+ of the name: the client is back.
    wait_for_count "$server_log" "$(opened "$name")" 2 \
        "$(ceil "$(seconds "$reset_backoff") + $log_timeout")" || true
    wait_client
    wait_for_line "$server_log" "$(ended "$name").*reason=client closed" "$log_timeout" || true
    vanished="$(logged_at "$server_log" "$(ended "$name")" 1)"
    back="$(logged_at "$server_log" "$(opened "$name")" 2 || echo none)"
    gone_after="$(calc "$vanished - $added")"
    if [[ "$back" == none ]]; then back_after=none; else back_after="$(calc "$back - $removed")"; fi
    figures="vanished ${gone_after} s after the toxic, back ${back_after} s after its removal \
(backoff ${reset_backoff}), server sessions $(count_of "$server_log" "$(opened "$name")"), \
client connections $(count_of "$log" ' connected '), echoes $(run_figure "$log" echoes), \
kisses $(run_figure "$log" kisses), exit status $status"
    expect "the first session ended ${gone_after} s after the toxic, not within the kiss interval + ${slack} s" \
        holds "$gone_after > 0 && $gone_after <= $(seconds "$kiss_interval") + $slack"
    expect "the server did not log the first session's end as 'reason=client vanished without a Close'" \
        bash -c "grep -E '$(ended "$name")' '$server_log' | head -n1 | grep -q 'reason=client vanished without a Close'"
    expect "the client did not see the connection lost and reconnect" grep -q 'reconnecting in' "$log"
    expect "the server did not log exactly two sessions of '$name'" \
        test "$(count_of "$server_log" "$(opened "$name")")" = 2
    expect "the client did not connect exactly twice" test "$(count_of "$log" ' connected ')" = 2
    if [[ "$back" != none ]]; then
        expect "the second session began before the toxic was removed" holds "$back > $removed"
    fi
    expect "the client exited $status, not 0" test "$status" = 0
    expect "the client's run did not answer its 3 Echo requests" test "$(run_figure "$log" echoes)" = 3
    expect "the server did not log the second session's end as 'reason=client closed'" \
        bash -c "grep -E '$(ended "$name")' '$server_log' | sed -n 2p | grep -q 'reason=client closed'"
}

# Every byte in its own segment, both ways, from before the handshake: the handshakes succeed,
# every Echo and Kiss is answered, Pings cross, every session closes cleanly. SCHEME is ws or wss.
# The sessions run one after another: a handshake alone on the machine is read in the most pieces.
sliced_case() {
    local name="$1" scheme="$2" upstream port n log status
    start_server "$name" "$slicer_ping_interval" "$slicer_pong_timeout" "$slicer_kiss_interval" ||
        return 1
    if [[ "$scheme" == wss ]]; then upstream="$server_tls_port"; else upstream="$server_port"; fi
    port="$(new_proxy "$name" "$upstream")" || return 1
    add_toxic_both_ways "$name" slicer '{"average_size": 1, "size_variation": 0, "delay": 0}' || return 1
    local failed_runs=0 clean=0 echoes=0 kisses=0 pings=0 first_failure=""
    for ((n = 1; n <= slicer_sessions; n++)); do
        log="$out/logs/$name-client-$n.log"
        client_in_background "$log" --url "$scheme://127.0.0.1:$port/ws" --ca "$out/certs/ca.crt" \
            --name "$name-$n" --count 7 --duration "$slicer_duration" --ping-interval "$slicer_ping_interval"
        wait_client
        wait_for_line "$server_log" "$(ended "$name-$n")" "$log_timeout" || true
        local run_echoes run_kisses run_pings
        run_echoes="$(run_figure "$log" echoes)"
        run_kisses="$(run_figure "$log" kisses)"
        run_pings="$(run_figure "$log" pings)"
        # A run that did not complete counts nothing (its figures are -1).
        echoes=$((echoes + (run_echoes > 0 ? run_echoes : 0)))
        kisses=$((kisses + (run_kisses > 0 ? run_kisses : 0)))
        pings=$((pings + (run_pings > 0 ? run_pings : 0)))
        if grep -Eq "$(ended "$name-$n").*reason=client closed" "$server_log"; then
            clean=$((clean + 1))
        fi
        if [[ "$status" != 0 || "$run_echoes" != 7 ]] || ((run_kisses < 1)) ||
            grep -q 'did not answer the Close' "$log" ||
            ! grep -Eq "$(ended "$name-$n").*reason=client closed" "$server_log"; then
            failed_runs=$((failed_runs + 1))
            [[ -n "$first_failure" ]] || first_failure="session $n: exit status $status, echoes \
$run_echoes, kisses $run_kisses, its end: $(grep -E "$(ended "$name-$n")" "$server_log" |
                grep -Eo 'reason=.*' || echo 'not logged')"
            ((${#client_logs[@]} >= 3)) || client_logs+=("$log")
        fi
    done
    client_pid=""
    figures="$scheme, $slicer_sessions sessions one after another: failed $failed_runs, echoes $echoes, \
kisses $kisses, pings $pings, clean closes $clean, handshakes refused \
$(count_of "$server_log" 'handshake refused or failed|handshake timed out')"
    expect "$failed_runs of $slicer_sessions sessions failed (exit status, 7 echoes, a Kiss, a Close \
answered, 'reason=client closed' in the server's log); the first: $first_failure" test "$failed_runs" = 0
    expect "no Ping crossed the sliced link" test "$pings" -ge 1
    # That the slicing bites is shown by the binaries from before the head was read whole (commit
    # d929db6), which fail this case; this proves the toxics were in place through the whole run.
    expect "the proxy did not have its two one-byte slicers at the end of the run" test "$(api_call GET \
        "/proxies/$name/toxics" | jq '[.[] | select(.type == "slicer" and .attributes.average_size == 1
        and .attributes.size_variation == 0 and .attributes.delay == 0)] | length')" = 2
    expect "the server refused or timed out a handshake" \
        test "$(count_of "$server_log" 'handshake refused or failed|handshake timed out')" = 0
    expect "the server logged an error or a pong timeout" \
        test "$(count_of "$server_log" 'reason=(error|pong timeout)')" = 0
}
case_slicer() { sliced_case "$1" ws; }
case_slicer_wss() { sliced_case "$1" wss; }

# Slices so slow that the handshake as a whole takes longer than the handshake timeout: reading the
# head whole must not have lifted that bound. The server drops the connection at its timeout, and
# the client cannot connect.
case_slicer_too_slow() {
    local name="$1" port log="$out/logs/$1-client.log" began timed_out after bound
    start_server "$name" "$ping_interval" "$pong_timeout" "$kiss_interval" "$slow_handshake_timeout" ||
        return 1
    port="$(new_proxy "$name" "$server_port")" || return 1
    add_toxic "$name" slicer upstream \
        "{\"average_size\": 1, \"size_variation\": 0, \"delay\": $slow_slice_us}" || return 1
    client_logs=("$log")
    began="$(now)"
    client_in_background "$log" --url "ws://127.0.0.1:$port/ws" --name "$name" --duration 1s
    wait_client
    timed_out="$(logged_at "$server_log" 'WebSocket handshake timed out' || echo none)"
    bound="$(calc "$(seconds "$slow_handshake_timeout") + $slack")"
    if [[ "$timed_out" == none ]]; then after=none; else after="$(calc "$timed_out - $began")"; fi
    figures="one byte every $((slow_slice_us / 1000)) ms: the server timed the handshake out ${after} s \
after the client started (bound ${bound} s), client exit status $status"
    expect "the server did not log 'WebSocket handshake timed out'" test "$after" != none
    if [[ "$after" != none ]]; then
        expect "the handshake timed out ${after} s after the client started, not between \
${slow_handshake_timeout} and ${bound} s" \
            holds "$after >= $(seconds "$slow_handshake_timeout") && $after <= $bound"
    fi
    expect "the server opened a session" test "$(count_of "$server_log" 'session\+')" = 0
    expect "the client exited $status, not 1" test "$status" = 1
    expect "the client did not say it cannot connect" grep -q "cannot connect to" "$log"
}

# A slow link both ways and one large Echo: the answer arrives whole, late, and no timer fires:
# the pong timeout is longer than one message's crossing.
case_slow_link() {
    local name="$1" port status log="$out/logs/$1-client.log" latency least
    start_server "$name" "$slow_ping_interval" "$slow_pong_timeout" "$slow_kiss_interval" || return 1
    port="$(new_proxy "$name" "$server_port")" || return 1
    add_toxic_both_ways "$name" bandwidth "{\"rate\": $slow_rate_kbps}" || return 1
    client_logs=("$log")
    client_in_background "$log" --url "ws://127.0.0.1:$port/ws" --name "$name" --count 1 \
        --echo-bytes "$slow_echo_bytes" --duration "$slow_duration" --timeout "$slow_client_timeout" \
        --ping-interval "$slow_ping_interval"
    wait_client
    wait_for_line "$server_log" "$(ended "$name")" "$log_timeout" || true
    latency="$(max_echo_latency "$log")"
    # The request one way and the answer the other, at the link's rate.
    least="$(calc "2 * $slow_echo_bytes / ($slow_rate_kbps * 1000)")"
    figures="echo of $slow_echo_bytes bytes answered in ${latency} s (the link's rate alone takes ${least} s), \
echoes $(run_figure "$log" echoes), pings $(run_figure "$log" pings), kisses $(run_figure "$log" kisses), \
exit status $status"
    expect "the client exited $status, not 0" test "$status" = 0
    expect "the client's run did not answer its Echo request" test "$(run_figure "$log" echoes)" = 1
    expect "the client did not log an answer of $slow_echo_bytes bytes" \
        grep -q "echo id=1 .*($slow_echo_bytes bytes)" "$log"
    expect "the bandwidth was not in effect: the echo took ${latency} s, under 90 % of ${least} s" \
        holds "$latency < 0 || $latency >= 0.9 * $least"
    expect "the client saw no Ping" test "$(run_figure "$log" pings)" -ge 1
    expect "the client answered no Kiss" test "$(run_figure "$log" kisses)" -ge 1
    expect "the server logged a pong timeout" test "$(count_of "$server_log" 'pong timeout')" = 0
    expect "the server did not log the session's end as 'reason=client closed'" \
        grep -Eq "$(ended "$name").*reason=client closed" "$server_log"
}

# --- the run -------------------------------------------------------------------------------------

SECONDS=0
rm -rf "$out"
mkdir -p "$out/logs"
if [[ "$build" == yes ]]; then
    step "build hello-server and hello-client"
    cargo build --locked --quiet -p hello-server -p hello-client
    took
fi
for binary in "$hello_server" "$hello_client"; do
    [[ -x "$binary" ]] || { echo "faults: $binary is missing; run without --no-build" >&2 && exit 2; }
done

step "toxiproxy $toxiproxy_version"
mkdir -p "$tools"
install_toxiproxy
start_toxiproxy
"$hello_server" gen-certs --certs-dir "$out/certs" >"$out/logs/gen-certs.log" 2>&1
took

for name in "${cases[@]}"; do run_case "$name"; done

step "summary"
passed=0
for name in "${cases[@]}"; do
    printf '    %-4s %-22s %3d s\n' "${verdict[$name]}" "$name" "${case_time[$name]}"
    [[ "${verdict[$name]}" == PASS ]] && passed=$((passed + 1))
done
echo "faults: $passed passed, $((${#cases[@]} - passed)) failed"
echo "    (${SECONDS} s in all; logs in ${out#"$root"/})"
exit "$failed"
