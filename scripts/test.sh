#!/usr/bin/env bash
# Every test of the project, as CI runs it on a fresh machine: formatting, lints, the Rust test
# suites (unit, real-socket integration, and the binaries as a user runs them), then the peers
# (built, format-checked), the interop matrix of all five implementations, and the docker images
# built and run with podman.
#
#   scripts/test.sh              # everything (about 25 minutes on a fresh two-core machine)
#   scripts/test.sh --rust-only  # only the Rust workspace
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rust_only=no
case "${1:-}" in
"") ;;
--rust-only) rust_only=yes ;;
*) echo "usage: scripts/test.sh [--rust-only]" >&2 && exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

[[ "$rust_only" == yes ]] && exit 0

for peer in go python java node; do
    step "peers/$peer: build and check-format"
    "peers/$peer/build"
    "peers/$peer/check-format"
done

step "scripts/bench.py: ruff format --check"
peers/python/.venv/bin/ruff format --check --quiet scripts/bench.py

step "interop self-test (the matrix must fail broken peers)"
scripts/interop-selftest.sh

step "interop matrix"
scripts/interop.sh --no-build

step "docker images, built and run with podman (scripts/docker-smoke.sh)"
bash scripts/docker-smoke.sh
