#!/usr/bin/env bash
# A graceful shutdown at scale: a release hello-server with --shutdown-timeout T holds S idle
# sessions (default 10,000) opened by K `hello-client bench --idle` processes; once all are open
# it gets SIGTERM. Measured: the sessions that received Close 1001 (must be all), the time from
# SIGTERM to the last Close received (must be at most T), the server's exit status (must be 0)
# and how long it took to exit. Prints the command lines and the figures; exits 1 on a miss.
#
#   scripts/shutdown-at-scale.sh                              # 10,000 sessions, 4 clients, T = 5s
#   scripts/shutdown-at-scale.sh --sessions 1000 --clients 2  # a smoke run
#   scripts/shutdown-at-scale.sh --max                        # as many as one server's files allow
#
# --max opens as many sessions as the server's open-files limit leaves room for: the limit less
# the files it holds before any session (standard streams, listener, epoll, signal pipe...) less
# --spare (default 0). Its --max-connections is raised to the limit, since the default
# (10,000) would answer the rest 503. Sessions come from 127.0.0.1 to 127.0.0.N (--sources),
# so that the local ports of one address do not run short. Logs, reports and figures are left in
# --out (default target/shutdown).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sessions=10000
clients=4
shutdown_timeout=5s
sources=16
max=no
spare=0
build=yes
out="$root/target/shutdown"

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --sessions S          idle sessions (default 10000)
  --clients K           client processes they are split over (default 4)
  --shutdown-timeout T  the server's --shutdown-timeout, and the bound on the last Close (default 5s)
  --max                 as many sessions as the server's open-files limit leaves room for
  --spare N             with --max, leave N more files free (default 0)
  --sources N           spread the sessions over 127.0.0.1 to 127.0.0.N (default 16)
  --out DIR             where logs and reports go (default target/shutdown)
  --no-build            use the release binaries built before
EOF
}

invocation="scripts/shutdown-at-scale.sh${*:+ $*}"
while (($#)); do
    case "$1" in
    --sessions) sessions="$2" && shift ;;
    --clients) clients="$2" && shift ;;
    --shutdown-timeout) shutdown_timeout="$2" && shift ;;
    --max) max=yes ;;
    --spare) spare="$2" && shift ;;
    --sources) sources="$2" && shift ;;
    --out) out="$2" && shift ;;
    --no-build) build=no ;;
    -h | --help) usage && exit 0 ;;
    *) echo "shutdown-at-scale: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ "$sessions" =~ ^[1-9][0-9]*$ && "$clients" =~ ^[1-9][0-9]*$ && "$spare" =~ ^[0-9]+$ ]] ||
    { echo "shutdown-at-scale: --sessions and --clients must be positive numbers" >&2 && exit 2; }
# The bound in milliseconds, from what the server is given (ms or s only, so that both agree).
case "$shutdown_timeout" in
*ms) timeout_ms="${shutdown_timeout%ms}" ;;
*s) timeout_ms=$((${shutdown_timeout%s} * 1000)) ;;
*) echo "shutdown-at-scale: --shutdown-timeout in s or ms, such as 5s" >&2 && exit 2 ;;
esac

# shellcheck source=lib/processes.sh
source "$root/scripts/lib/processes.sh"
# shellcheck source=lib/idle-load.sh
source "$root/scripts/lib/idle-load.sh"

[[ "$build" == yes ]] && build_release
rm -rf "$out"
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
files_limit="$(ulimit -n)"

step "server"
# Every session is admitted: beyond the open-files limit, not the connection limit, is where
# one server stops.
max_connections=$((sessions > files_limit ? sessions : files_limit))
start_server "$out/server.log" --shutdown-timeout "$shutdown_timeout" \
    --max-connections "$max_connections" --ping-interval 10s --kiss-interval 5s
base_fds="$(open_fds "$server_pid")"
if [[ "$max" == yes ]]; then
    sessions=$((files_limit - base_fds - spare))
    echo "    --max: $files_limit files allowed, $base_fds held before any session, $spare spare: $sessions sessions"
fi

step "open $sessions sessions over $clients client processes"
open_started=$SECONDS
# The sessions are held far longer than the run; the server's Close ends them.
open_idle_sessions "$out" "$sessions" "$clients" 1h "$sources"
echo "    all open in $((SECONDS - open_started)) s; the server holds $(open_fds "$server_pid") files, RSS $(rss_kib "$server_pid") KiB, load average $(load_average)"

step "SIGTERM"
sigterm_ms="$(now_ms)"
kill -TERM "$server_pid"
wait_exit "$server_pid" $((timeout_ms / 1000 + 60))
server_status="$exit_status"
exited_ms="$(now_ms)"
echo "    the server exited with status $server_status, $((exited_ms - sigterm_ms)) ms after SIGTERM"
client_statuses=()
for pid in "${client_pids[@]}"; do
    wait_exit "$pid" 60
    client_statuses+=("$exit_status")
done
echo "    client exit statuses: ${client_statuses[*]} (1 is expected: their sessions were closed by the server)"

step "figures"
client_reports "$out" "$clients" >"$out/clients.json"
read -r opened got_1001 ended first_ms last_ms < <(jq -r '[
        (map(.opened) | add),
        (map(.server_closes["1001"] // 0) | add),
        (map(.closed_by_server) | add),
        (map(.first_server_close_unix_ms // empty) | min // 0),
        (map(.last_server_close_unix_ms // empty) | max // 0)
    ] | @tsv' "$out/clients.json")
endings="$(jq -c 'map(.server_closes) | reduce .[] as $m ({}; reduce ($m | to_entries[]) as $e
    (.; .[$e.key] += $e.value))' "$out/clients.json")"
last_after=$((last_ms - sigterm_ms))
first_after=$((first_ms - sigterm_ms))
shutdown_line="$(grep -m1 'shutting down' "$out/server.log" | sed 's/^.*INFO //' || true)"
timed_out="$(grep -c 'shutdown timeout: dropping' "$out/server.log" || true)"

misses=()
((opened == sessions)) || misses+=("only $opened of $sessions sessions opened")
((got_1001 == sessions)) || misses+=("$got_1001 of $sessions sessions received Close 1001 (endings: $endings)")
((last_ms > 0 && last_after <= timeout_ms)) ||
    misses+=("the last Close came $last_after ms after SIGTERM, over the shutdown timeout ($timeout_ms ms)")
[[ "$server_status" == 0 ]] || misses+=("the server's exit status was $server_status, not 0")
((timed_out == 0)) || misses+=("the server logged its shutdown timeout: sessions still closing were dropped")

cat <<EOF | tee "$out/figures.txt"
Shutdown at scale, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)
  produced by:  $invocation
  server:       ${server_cmd[*]#"$root/"}
  clients:      ${client_cmds[0]#"$root/"}  (x$clients, the sessions split between them)
  machine:      $(nproc) cores, load average $(load_average), open-files limit $files_limit

  sessions open at SIGTERM:       $opened of $sessions (server's files before any session: $base_fds)
  server's own count:             ${shutdown_line:-no 'shutting down' line}
  received Close 1001:            $got_1001 (server ended $ended; endings $endings)
  first Close after SIGTERM:      $first_after ms
  last Close after SIGTERM:       $last_after ms (bound: shutdown timeout $timeout_ms ms)
  server exit status:             $server_status
  server exited after SIGTERM:    $((exited_ms - sigterm_ms)) ms
EOF
if ((${#misses[@]})); then
    printf '  MISSED: %s\n' "${misses[@]}" | tee -a "$out/figures.txt"
    exit 1
fi
echo "  every target met" | tee -a "$out/figures.txt"
