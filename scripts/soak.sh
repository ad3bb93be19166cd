#!/usr/bin/env bash
# A soak: a release hello-server (Ping every 10 s, Kiss every 5 s) holds S idle sessions
# (default 10,000), opened by K `hello-client bench --idle` processes, for M minutes (default
# 30). Every ~30 s the server's RSS (VmRSS) and CPU time (utime + stime) are sampled into
# target/soak/samples.csv. At the end it prints the RSS at the start of the hold, its min, max and
# last, its spread ((max - min) / start; target: within 5 %), the sessions wrongly evicted (the
# clients' sessions closed by the server during the hold, and the server's `reason=pong timeout`
# lines; target: 0 and 0), the server's CPU per session per minute, and the Pings and Kiss
# requests seen. Exits 1 on a missed target. Prints the command lines that produced the figures.
#
#   scripts/soak.sh                                      # 10,000 sessions, 30 minutes, 4 clients
#   scripts/soak.sh --sessions 1000 --minutes 2          # a smoke run
#
# The server runs with its usual logging (a session+ and a kiss line per Kiss answered, into
# target/soak/server.log): the cost of logging is part of what a session costs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sessions=10000
minutes=30
clients=4
sources=16
interval=30
max_spread=5
build=yes
out="$root/target/soak"

usage() {
    sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --sessions S        idle sessions (default 10000)
  --minutes M         how long they are held once all are open (default 30)
  --clients K         client processes they are split over (default 4)
  --sample-every N    seconds between samples (default 30)
  --max-spread P      the RSS target, in % of the RSS at the start of the hold (default 5)
  --sources N         spread the sessions over 127.0.0.1 to 127.0.0.N (default 16)
  --out DIR           where logs, samples and reports go (default target/soak)
  --no-build          use the release binaries built before
EOF
}

invocation="scripts/soak.sh${*:+ $*}"
while (($#)); do
    case "$1" in
    --sessions) sessions="$2" && shift ;;
    --minutes) minutes="$2" && shift ;;
    --clients) clients="$2" && shift ;;
    --sample-every) interval="$2" && shift ;;
    --max-spread) max_spread="$2" && shift ;;
    --sources) sources="$2" && shift ;;
    --out) out="$2" && shift ;;
    --no-build) build=no ;;
    -h | --help) usage && exit 0 ;;
    *) echo "soak: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done
for number in "$sessions" "$minutes" "$clients" "$interval"; do
    [[ "$number" =~ ^[1-9][0-9]*$ ]] ||
        { echo "soak: --sessions, --minutes, --clients and --sample-every take positive whole numbers" >&2 && exit 2; }
done

# shellcheck source=lib/processes.sh
source "$root/scripts/lib/processes.sh"
# shellcheck source=lib/idle-load.sh
source "$root/scripts/lib/idle-load.sh"

[[ "$build" == yes ]] && build_release
rm -rf "$out"
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
hold_seconds=$((minutes * 60))
ticks_per_second="$(getconf CLK_TCK)"

step "server"
start_server "$out/server.log" --ping-interval 10s --kiss-interval 5s \
    --max-connections "$((sessions > 20000 ? sessions : 20000))"
rss_before="$(rss_kib "$server_pid")"

step "open $sessions sessions over $clients client processes"
open_started=$SECONDS
# Each client holds a minute longer than the soak, so that none lets go of its sessions before
# the last sample, whichever opened first.
open_idle_sessions "$out" "$sessions" "$clients" "$((hold_seconds + 60))s" "$sources"
echo "    all open in $((SECONDS - open_started)) s"

step "hold for $minutes min, a sample every $interval s"
csv="$out/samples.csv"
echo "unix_time,elapsed_s,rss_kib,cpu_ticks,open_files,load_1m,load_5m,load_15m" >"$csv"
sample() { # sample ELAPSED: one line of the CSV, and the figures kept for the summary
    local load
    load="$(load_average | tr ' ' ',')"
    last_rss="$(rss_kib "$server_pid")"
    last_ticks="$(cpu_ticks "$server_pid")"
    echo "$(date '+%s'),$1,$last_rss,$last_ticks,$(open_fds "$server_pid"),$load" >>"$csv"
}
hold_start=$SECONDS
evicted_before="$(grep -c 'reason=pong timeout' "$out/server.log" || true)"
sample 0
start_rss="$last_rss" start_ticks="$last_ticks" load_start="$(load_average)"
next=$interval
while ((next <= hold_seconds)); do
    while ((SECONDS - hold_start < next)); do
        kill -0 "$server_pid" 2>/dev/null || { echo "the server is gone: $(tail -n3 "$out/server.log")" >&2 && exit 1; }
        sleep 1
    done
    sample "$next"
    if ((next % 300 == 0)); then
        echo "    $(date -u '+%H:%M:%S') ${next}s: RSS $last_rss KiB, load average $(load_average)"
    fi
    next=$((next + interval))
done
end_ticks="$last_ticks" load_end="$(load_average)"
evicted_server=$(($(grep -c 'reason=pong timeout' "$out/server.log" || true) - evicted_before))

step "the clients part"
for pid in "${client_pids[@]}"; do
    wait_exit "$pid" 300
    [[ "$exit_status" == 0 ]] || echo "    a client's exit status: $exit_status"
done
client_reports "$out" "$clients" >"$out/clients.json"
stop "$server_pid"

step "figures"
# Pings and Kiss requests are counted over each client's whole hold, a minute longer than the soak.
read -r opened evicted_clients pings kisses session_seconds < <(jq -r '[(map(.opened) | add),
    (map(.closed_by_server) | add), (map(.pings_seen) | add), (map(.kisses_answered) | add),
    (map(.opened * .hold_seconds) | add | floor)] | @tsv' "$out/clients.json")
read -r min_rss max_rss < <(awk -F, 'NR > 1 { if (min == "" || $3 < min) min = $3;
    if ($3 > max) max = $3 } END { print min, max }' "$csv")
spread="$(awk -v a="$min_rss" -v b="$max_rss" -v s="$start_rss" 'BEGIN { printf "%.2f", (b - a) * 100 / s }')"
cpu_seconds="$(awk -v t=$((end_ticks - start_ticks)) -v hz="$ticks_per_second" 'BEGIN { printf "%.2f", t / hz }')"
cpu_per="$(awk -v c="$cpu_seconds" -v s="$opened" -v m="$minutes" 'BEGIN { printf "%.1f", c * 1e6 / s / m }')"
cpu_share="$(awk -v c="$cpu_seconds" -v h="$hold_seconds" 'BEGIN { printf "%.1f", c * 100 / h }')"

misses=()
((opened == sessions)) || misses+=("only $opened of $sessions sessions opened")
awk -v s="$spread" -v m="$max_spread" 'BEGIN { exit !(s <= m) }' ||
    misses+=("the RSS spread was $spread %, over $max_spread %")
((evicted_clients == 0)) || misses+=("$evicted_clients sessions were closed by the server (clients' count)")
((evicted_server == 0)) || misses+=("the server logged $evicted_server pong timeouts")

cat <<EOF | tee "$out/figures.txt"
Soak, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)
  produced by:  $invocation
  server:       ${server_cmd[*]#"$root/"}
  clients:      ${client_cmds[0]#"$root/"}  (x$clients, the sessions split between them)
  machine:      $(nproc) cores; load average $load_start at the start of the hold, $load_end at its end

  sessions held:                  $opened of $sessions, for $minutes min
  RSS before the sessions:        $rss_before KiB
  RSS at the start of the hold:   $start_rss KiB
  RSS min / max / last:           $min_rss / $max_rss / $last_rss KiB
  RSS spread (max - min)/start:   $spread % (target: within $max_spread %)
  evicted, clients' count:        $evicted_clients (target 0)
  evicted, server's log:          $evicted_server 'reason=pong timeout' lines (target 0)
  server CPU over the hold:       $cpu_seconds s ($cpu_share % of one core)
  CPU per session per minute:     $cpu_per us
  Pings seen / Kiss answered:     $pings / $kisses (about $((session_seconds / 10)) / $((session_seconds / 5)) expected over the clients' holds)
  samples:                        $csv
EOF
if ((${#misses[@]})); then
    printf '  MISSED: %s\n' "${misses[@]}" | tee -a "$out/figures.txt"
    exit 1
fi
echo "  every target met" | tee -a "$out/figures.txt"
