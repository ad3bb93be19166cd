# Sourced by the scripts that start servers and clients (interop.sh, robustness.sh): every process
# they start is recorded in `started` and stopped by PID when the script ends, also on failure or
# Ctrl-C; and a script waits for a log line rather than for a time.

started=()
stop() { # stop PID: SIGTERM, then SIGKILL if it is still there after five seconds
    local pid="$1" waited=0
    # Only a process this shell started: once one has ended, its PID may be another program's
    # (PIDs wrap, and a browser run alone starts dozens of processes).
    [[ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$BASHPID" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
stop_started() {
    local pid
    for pid in "${started[@]}"; do stop "$pid"; done
}
trap stop_started EXIT
trap 'exit 130' INT TERM

# Waits until FILE has a line matching the extended regex PATTERN; fails after SECONDS or as soon
# as PID (if given) is gone.
wait_for_line() {
    local file="$1" pattern="$2" seconds="$3" pid="${4:-}" tenths=0
    until grep -Eq -- "$pattern" "$file" 2>/dev/null; do
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        ((tenths < seconds * 10)) || return 1
        sleep 0.1
        tenths=$((tenths + 1))
    done
}

# The URL a log's "listening on ws://..." or "listening on wss://..." line names.
listening_url() { # listening_url LOG ws|wss
    grep -Eo -m1 "listening on $2://[^ ]+" "$1" | sed 's/^listening on //'
}
