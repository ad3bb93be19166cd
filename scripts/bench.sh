#!/usr/bin/env bash
# The benchmark: the same load against the Rust server, the four peer servers and a ceiling (a
# frame-echo tokio-tungstenite server with no JSON work), in interleaved rounds, then 10,000 idle
# sessions held against each server, and the JSON and v1 dialects of every server but the
# ceiling side by side (alternating on one process of each server). Writes the tables and charts
# into BENCHMARKS.md, and all of them on one page, target/bench/index.html.
#
#   scripts/bench.sh                    # the full run (about 27 minutes on two cores); updates BENCHMARKS.md
#   scripts/bench.sh --quick            # a short run to try the script; writes only target/bench/
#   scripts/bench.sh --dialects-only    # only JSON vs v1 (about 7 minutes); updates only that section
#   scripts/bench.sh --dialects-only --servers rust,go    # the same for a subset of the servers
#   scripts/bench.sh --page-only target/bench/results.json   # only the page, from a run's results
#   scripts/bench.sh --help             # every option
#
# It builds what it runs (release Rust binaries, the chosen peers) unless --no-build or
# --page-only is given.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build=yes
servers=rust,ceiling,go,python,java,node
previous=
for arg in "$@"; do
    if [[ "$previous" == --servers ]]; then servers="$arg"; fi
    case "$arg" in
    --no-build | --page-only | --page-only=*) build=no ;;
    --servers=*) servers="${arg#--servers=}" ;;
    -h | --help) exec python3 "$root/scripts/bench.py" --help ;;
    esac
    previous="$arg"
done
peers=()
for peer in go python java node; do
    if [[ ",$servers," == *",$peer,"* ]]; then peers+=("$peer"); fi
done

if [[ "$build" == yes ]]; then
    echo "==> build (release Rust binaries, the ceiling${peers[*]:+, the peers: ${peers[*]}})"
    cargo build --release --locked --quiet -p hello-server -p hello-client --bins --examples
    for peer in "${peers[@]}"; do
        "$root/peers/$peer/build" >/dev/null
    done
fi

# Ten thousand sessions need ten thousand descriptors in each of the server and the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

args=()
for arg in "$@"; do [[ "$arg" == --no-build ]] || args+=("$arg"); done
exec python3 "$root/scripts/bench.py" "${args[@]}"
