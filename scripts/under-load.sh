#!/usr/bin/env bash
# Runs a command while another process keeps one core busy, as CI's machine may be: a test that
# passes only on an idle machine is racing the scheduler.
#
#   scripts/under-load.sh scripts/test.sh --rust-only
#   scripts/under-load.sh --runs 3 scripts/test.sh --rust-only   # stop at the first failure
#   scripts/under-load.sh scripts/interop.sh
#
# The load is `stress-ng --cpu 1` where it is installed (Debian's stress-ng), else a shell busy
# loop; either is stopped when the command ends, however it ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=1
if [[ "${1:-}" == --runs ]]; then
    runs="$2"
    shift 2
fi
if (($# == 0)); then
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

if command -v stress-ng >/dev/null; then
    stress-ng --cpu 1 --quiet &
else
    bash -c 'while :; do :; done' &
fi
load=$!
trap 'kill "$load" 2>/dev/null; wait "$load" 2>/dev/null || true' EXIT

for ((run = 1; run <= runs; run++)); do
    printf '\n==> under load, run %d of %d: %s\n' "$run" "$runs" "$*"
    started=$SECONDS
    "$@"
    printf '==> run %d passed in %ds\n' "$run" "$((SECONDS - started))"
done
