#!/usr/bin/env bash
# Proves the interop matrix can fail: runs it over ws with the Rust pair beside a purposely broken
# server (no Kiss) and client (exits 0 without connecting), and checks that exactly the cells that
# involve them fail, and that the run as a whole fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/interop-selftest"

cargo build --locked --quiet -p hello-server -p hello-client
status=0
"$root/scripts/interop.sh" --impls rust,broken --peers-dir "$root/scripts/interop-fixtures" \
    --transports ws --no-build --out "$out" >"$root/target/interop-selftest.log" 2>&1 || status=$?

problems=()
expect() { # expect LINE: the matrix must hold this exact line
    grep -qxF -- "$1" "$out/matrix.md" || problems+=("matrix lacks: $1")
}
[[ "$status" == 1 ]] || problems+=("interop.sh exited $status, not 1")
expect '| **rust** | ✅ ws | ❌ ws |'
expect '| **broken** | ❌ ws | ❌ ws |'
expect '| **rust** | ✅ 27 passed, 0 failed | ✅ 9 passed, 0 failed |'
grep -qE '^\| \*\*broken\*\* \| ❌ [0-9]+ passed, [1-9][0-9]* failed .*\| ❌ ' "$out/matrix.md" ||
    problems+=("the broken server's suite or the broken client's suite did not fail")
grep -q 'broken client → rust server over ws: the server did not log' "$root/target/interop-selftest.log" ||
    problems+=("the lying client was not caught by the server's log")

if ((${#problems[@]})); then
    printf 'interop self-test FAILED (output: target/interop-selftest.log):\n' >&2
    printf '  %s\n' "${problems[@]}" >&2
    sed -n '/==> matrix/,$p' "$root/target/interop-selftest.log" >&2
    exit 1
fi
echo "interop self-test: the matrix fails the broken server and client, and only them"
