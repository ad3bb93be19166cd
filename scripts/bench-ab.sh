#!/usr/bin/env bash
# Two builds of hello-server side by side, in one run: the same Echo load (hello-client bench)
# against A and against B in alternating rounds (A B A B ...), so that a slow moment of the machine
# falls on both alike. Prints each round and the medians, with the commands that made them.
#
#   scripts/bench-ab.sh OLD/hello-server NEW/hello-server
#   scripts/bench-ab.sh --rounds 5 --requests 400000 --load 50x8 A B
#
# For a before/after claim about the server: build the old commit into one folder and the new one
# into another (cargo build --release; cp target/release/hello-server ...), then run this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

rounds=3
requests=200000
loads=(1x64 50x8)
client="$root/target/release/hello-client"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case "$1" in
    --rounds) rounds="$2" && shift 2 ;;
    --requests) requests="$2" && shift 2 ;;
    --load) IFS=, read -r -a loads <<<"$2" && shift 2 ;;
    --client) client="$2" && shift 2 ;;
    -h | --help) usage && exit 0 ;;
    *) break ;;
    esac
done
(($# == 2)) || { usage >&2 && exit 2; }
builds=("$1" "$2")
for binary in "${builds[@]}" "$client"; do
    [[ -x "$binary" ]] || { echo "bench-ab: $binary is not an executable" >&2 && exit 2; }
done

# shellcheck source=lib/processes.sh
source "$root/scripts/lib/processes.sh"
work="$(mktemp -d)"
trap 'stop_started; rm -rf "$work"' EXIT

# One round: a fresh server from BINARY, LOAD (CxP) for the requests, msgs/s on stdout.
round() { # round BINARY LOAD
    local binary="$1" connections="${2%x*}" in_flight="${2#*x}" log pid rate
    log="$(mktemp "$work/server-XXXX.log")"
    "$binary" --port 0 >"$log" 2>&1 &
    pid=$!
    started+=("$pid")
    wait_for_line "$log" 'listening on ws://[^ ]+/' 30 "$pid" ||
        { echo "bench-ab: $binary did not start" >&2 && return 1; }
    rate="$("$client" bench --url "$(listening_url "$log" ws)" --connections "$connections" \
        --in-flight "$in_flight" --requests "$requests" --json |
        python3 -c 'import json, sys; print(round(json.load(sys.stdin)["msgs_per_sec"]))')"
    stop "$pid"
    echo "$rate"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "A: ${builds[0]}"
echo "B: ${builds[1]}"
echo "load: $client bench --url URL --connections C --in-flight P --requests $requests --json"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for load in "${loads[@]}"; do
    declare -a a_rates=() b_rates=()
    for ((r = 1; r <= rounds; r++)); do
        a="$(round "${builds[0]}" "$load")"
        b="$(round "${builds[1]}" "$load")"
        a_rates+=("$a")
        b_rates+=("$b")
        printf '  %s round %d: A %s msgs/s, B %s msgs/s\n' "$load" "$r" "$a" "$b"
    done
    a_median="$(median "${a_rates[@]}")"
    b_median="$(median "${b_rates[@]}")"
    printf '%s: median A %s msgs/s, B %s msgs/s, B/A %s\n' "$load" "$a_median" "$b_median" \
        "$(python3 -c "print(f'{$b_median / $a_median:.3f}')")"
    unset a_rates b_rates
done
echo "machine after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
