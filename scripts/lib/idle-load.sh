# Sourced by the scripts that hold thousands of idle sessions on one release hello-server
# (soak.sh, shutdown-at-scale.sh): building, steps stamped with the time, the server, and the
# idle load split over several `hello-client bench --idle` processes. Needs lib/processes.sh
# first (every process started is in `started`, stopped by PID when the script ends).

bin_dir="${CARGO_TARGET_DIR:-$root/target}/release"
hello_server="$bin_dir/hello-server"
hello_client="$bin_dir/hello-client"

step() { # step TEXT: a step's heading, with the wall-clock time it starts at
    printf '\n==> %s  %s\n' "$(date -u '+%H:%M:%S')" "$*"
}

build_release() {
    step "build (release)"
    cargo build --release --locked --quiet -p hello-server -p hello-client
}

# Now in milliseconds since the Unix epoch, as the idle report stamps a session's end.
now_ms() { date '+%s%3N'; }

# The server's resident set (VmRSS, KiB) and its CPU time (utime + stime, clock ticks).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { # the fields after the ")" that ends the command name: utime is 14th, stime 15th
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
open_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# start_server LOG ARGS...: a release hello-server on a free port, its stdout and stderr in LOG;
# sets server_pid and server_url, or fails.
start_server() {
    local log="$1"
    shift
    server_cmd=("$hello_server" --port 0 "$@")
    "${server_cmd[@]}" >"$log" 2>&1 &
    server_pid=$!
    started+=("$server_pid")
    if ! wait_for_line "$log" 'listening on ws://' 30 "$server_pid"; then
        echo "the server did not start: $(head -n3 "$log")" >&2
        return 1
    fi
    server_url="$(listening_url "$log" ws)"
    echo "    server pid $server_pid at $server_url: $(open_fds "$server_pid") open files, RSS $(rss_kib "$server_pid") KiB"
}

# open_idle_sessions DIR SESSIONS CLIENTS HOLD SOURCES: SESSIONS idle sessions on server_url, split
# over CLIENTS processes (the first ones take one more when it does not divide), each holding
# its sessions for HOLD once they are open. Client i writes DIR/client-i.json (its report) and
# DIR/client-i.err, and is client_pids[i]; client_cmds[i] is its command line. Waits until every
# client has opened all of its sessions (fails after OPEN_TIMEOUT seconds, default 600, or when
# one could not open them all).
open_idle_sessions() {
    local dir="$1" sessions="$2" clients="$3" hold="$4" sources="$5" i share opened
    client_pids=()
    client_cmds=()
    for ((i = 0; i < clients; i++)); do
        share=$((sessions / clients + (i < sessions % clients ? 1 : 0)))
        local cmd=("$hello_client" bench --url "$server_url" --idle "$share" --hold "$hold"
            --sources "$sources" --name "idle$i" --json)
        client_cmds+=("${cmd[*]}")
        "${cmd[@]}" >"$dir/client-$i.json" 2>"$dir/client-$i.err" &
        client_pids+=($!)
        started+=($!)
    done
    for ((i = 0; i < clients; i++)); do
        if ! wait_for_line "$dir/client-$i.err" '^opened [0-9]+/[0-9]+ sessions' \
            "${OPEN_TIMEOUT:-600}" "${client_pids[$i]}"; then
            echo "client $i did not open its sessions: $(tail -n3 "$dir/client-$i.err")" >&2
            return 1
        fi
        opened="$(grep -Eo -m1 '^opened [0-9]+/[0-9]+ sessions in [0-9.]+ s' "$dir/client-$i.err")"
        echo "    client $i: $opened"
        if ! [[ "$opened" =~ ^opened\ ([0-9]+)/([0-9]+) ]] ||
            [[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]]; then
            echo "client $i could not open every session ($opened); its errors follow its report in $dir/client-$i.err" >&2
            return 1
        fi
    done
}

# wait_exit PID SECONDS: waits for PID (a child of this shell) to end, for at most SECONDS; sets
# exit_status to its exit status, or to "timeout" when it is still running. (Not for $(...): a
# subshell cannot wait for its parent's children.)
wait_exit() {
    local pid="$1" seconds="$2" tenths=0
    exit_status=0
    while kill -0 "$pid" 2>/dev/null; do
        if ((tenths >= seconds * 10)); then
            exit_status=timeout
            return
        fi
        sleep 0.1
        tenths=$((tenths + 1))
    done
    wait "$pid" 2>/dev/null || exit_status=$?
}

# The clients' reports, each the JSON object on its standard output, as one JSON array.
client_reports() { # client_reports DIR CLIENTS
    local i
    for ((i = 0; i < $2; i++)); do
        sed -n '/^{$/,/^}$/p' "$1/client-$i.json"
    done | jq -s '.'
}
