#!/usr/bin/env bash
# Proves the interop matrix can fail, and fails only what it should: runs it over ws, in JSON and
# in v1, with the Rust pair and the browser beside two purposely broken implementations
# (scripts/interop-fixtures): `broken` (a server without Kiss, a client that lies under a forged
# name) and `broken-v1` (a server and a client broken in v1 alone). Every verdict of the run must be
# the one listed below, the browser's against the broken servers included, and the run as a whole
# must fail. Its page, opened in Chromium (web/test/check-pages.mjs), must show exactly those
# verdicts, in words and colour, and each suite's report its failing cases as failing; the page's
# screenshot is left in target/interop-selftest/screenshots.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/interop-selftest"

cargo build --locked --quiet -p hello-server -p hello-client
status=0
"$root/scripts/interop.sh" --impls rust,broken,broken-v1 --peers-dir "$root/scripts/interop-fixtures" \
    --transports ws --dialects json,v1 --no-build --out "$out" \
    >"$root/target/interop-selftest.log" 2>&1 || status=$?

# Every verdict the run must give: pairs as `pair SERVER CLIENT TRANSPORT DIALECT ok|FAIL`,
# suites as `suite server|client IMPL TRANSPORT DIALECT yes|no`.
expected() {
    local server client dialect verdict impl
    for dialect in json v1; do
        for server in rust broken broken-v1; do
            for client in rust broken broken-v1 browser; do
                verdict=ok
                [[ "$server" == broken || "$client" == broken ]] && verdict=FAIL
                [[ "$dialect" == v1 && ("$server" == broken-v1 || "$client" == broken-v1) ]] && verdict=FAIL
                printf 'pair\t%s\t%s\tws\t%s\t%s\n' "$server" "$client" "$dialect" "$verdict"
            done
        done
        for impl in rust broken broken-v1; do
            verdict=yes
            [[ "$impl" == broken || ("$impl" == broken-v1 && "$dialect" == v1) ]] && verdict=no
            printf 'suite\tserver\t%s\tws\t%s\t%s\n' "$impl" "$dialect" "$verdict"
            printf 'suite\tclient\t%s\tws\t%s\t%s\n' "$impl" "$dialect" "$verdict"
        done
        printf 'suite\tclient\tbrowser\tws\t%s\tyes\n' "$dialect"
    done
}

problems=()
[[ "$status" == 1 ]] || problems+=("interop.sh exited $status, not 1")
if ! differences="$(diff <(expected | sort) "$out/verdicts.tsv")"; then
    problems+=("verdicts differ from the expected ones (< expected, > the run's):"$'\n'"$differences")
fi
# The liar reached the server under its forged name, which the server logged quoted: the matrix
# failed it for what it did, not for never showing up.
grep -Eq 'session- .*name="interop-broken-ws-json-[0-9]+ reason=client closed" reason=client vanished' \
    "$out/logs/server-rust.log" ||
    problems+=("the lying client's forged name is not in the Rust server's log, quoted")
grep -q 'broken client → rust server over ws in json: the server did not log' "$root/target/interop-selftest.log" ||
    problems+=("the lying client was not caught by the server's log")

# What a person sees: the page and the suites' reports in Chromium, against the expected verdicts
# (not the run's, which may be wrong), and a report with failing cases as one.
expected | sort >"$out/expected.tsv"
pages_log="$root/target/interop-selftest-pages.log"
# shellcheck source=lib/browser.sh
source "$root/scripts/lib/browser.sh"
ensure_browser >"$pages_log" 2>&1 || problems+=("no browser to check the page with (see $pages_log)")
check_pages() { node "$root/web/test/check-pages.mjs" "$@" >>"$pages_log" 2>&1; }
if [[ ! -f "$out/index.html" ]]; then
    problems+=("the run wrote no page (index.html)")
elif ! check_pages interop "$out" --verdicts "$out/expected.tsv" --screenshot "$out/screenshots/index.png" ||
    ! check_pages report "$out/reports/server-broken-ws-json.html" \
        --screenshot "$out/screenshots/server-broken-ws-json.png"; then
    problems+=("the pages do not show what they should:"$'\n'"$(cat "$pages_log")")
fi

if ((${#problems[@]})); then
    printf 'interop self-test FAILED (output: target/interop-selftest.log):\n' >&2
    printf '  %s\n' "${problems[@]}" >&2
    sed -n '/==> matrix/,$p' "$root/target/interop-selftest.log" >&2
    exit 1
fi
echo "interop self-test: the matrix fails the broken servers and clients, in the dialects they break, and only them; its page and reports show it"
