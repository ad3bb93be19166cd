#!/usr/bin/env bash
# Every test of the project, as CI runs it on a fresh machine: formatting, lints, and the Rust
# test suites (unit, real-socket integration, and the binaries as a user runs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked
