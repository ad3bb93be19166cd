#!/usr/bin/env bash
# Every test of the project, as CI runs it on a fresh machine: formatting, lints, the Rust test
# suites (unit, real-socket integration, and the binaries as a user runs them), the fuzz targets
# (corpus replayed, 30 s each), then the peers
# (built, format-checked, their own unit tests), the browser client's tests, the robustness suite
# against all five servers at its reduced scale, faults on the wire through toxiproxy, the interop
# matrix of all five implementations and the browser in both dialects, and the docker images
# built and run with podman.
#
#   scripts/test.sh              # everything (about 30 minutes on a fresh two-core machine)
#   scripts/test.sh --rust-only  # only the Rust workspace
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rust_only=no
case "${1:-}" in
"") ;;
--rust-only) rust_only=yes ;;
*) echo "usage: scripts/test.sh [--rust-only]" >&2 && exit 2 ;;
esac

# shellcheck source=lib/steps.sh
source scripts/lib/steps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

[[ "$rust_only" == yes ]] && exit 0

step "fuzz targets: each corpus replayed, then 30 s of fuzzing each (scripts/fuzz.sh --ci)"
scripts/fuzz.sh --ci

for peer in go python java node; do
    step "peers/$peer: build, check-format and test"
    "peers/$peer/build"
    "peers/$peer/check-format"
    "peers/$peer/test"
done

step "web: the browser client's v1 codec (node:test), its format (prettier), and Chromium"
# shellcheck source=lib/browser.sh
source scripts/lib/browser.sh
ensure_browser
node --test web/test/v1.test.mjs
(cd web/test && npm run --silent check-format)

step "scripts/bench.py: ruff format --check"
peers/python/.venv/bin/ruff format --check --quiet scripts/bench.py scripts/interop_page.py

step "the benchmark page in Chromium (scripts/bench-page-test.sh)"
scripts/bench-page-test.sh

step "robustness suite against every server, reduced scale (scripts/robustness.sh --ci)"
scripts/robustness.sh --ci --no-build --impls rust,go,python,java,node

step "faults on the wire: toxiproxy between hello-client and hello-server (scripts/faults.sh)"
scripts/faults.sh --no-build

step "interop self-test (the matrix must fail broken peers)"
scripts/interop-selftest.sh

step "interop matrix"
scripts/interop.sh --no-build

step "docker images, built and run with podman (scripts/docker-smoke.sh)"
bash scripts/docker-smoke.sh

# The release binaries the docker step built: 1,000 sessions, SIGTERM, every one Close 1001.
step "shutdown at scale, at CI's scale (scripts/shutdown-at-scale.sh --sessions 1000)"
scripts/shutdown-at-scale.sh --sessions 1000 --clients 2 --no-build
