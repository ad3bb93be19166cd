#!/usr/bin/env bash
# Refreshes the README's screenshots, docs/screenshots/{report,matrix,bench}.png, in Debian's
# headless Chromium driven by playwright-core. Each page is checked first (web/test/check-pages.mjs),
# so a screenshot never shows a page that fails its checks:
#
#   report.png  a suite report with a failure: the server suite judging the purposely broken server
#               of the interop self-test (target/interop-selftest)
#   matrix.png  the interop page of the last matrix run (target/interop)
#   bench.png   the benchmark page of the last full bench run (target/bench/results.json), or of
#               the published runs in scripts/bench-fixtures when there is none
#
#   scripts/screenshots.sh                       # from the runs already in target/, running what is missing
#   scripts/screenshots.sh --run                 # run the interop self-test and matrix afresh first
#   scripts/screenshots.sh --interop DIR         # the matrix of another run's folder
#   scripts/screenshots.sh --bench RESULTS.json  # the bench page of another run's results
#
# A missing self-test is run (scripts/interop-selftest.sh, a few minutes); a missing matrix is run
# with every implementation (scripts/interop.sh, which builds them all). It prints what it wrote.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

selftest="$root/target/interop-selftest"
interop="$root/target/interop"
bench=""
run=no
usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case "$1" in
    --run) run=yes ;;
    --interop) interop="$(cd "$2" && pwd)" && shift ;;
    --bench) bench="$(realpath "$2")" && shift ;;
    -h | --help) usage && exit 0 ;;
    *) echo "screenshots: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done

shots="$root/docs/screenshots"
work="$root/target/screenshots"
rm -rf "$work"
mkdir -p "$shots" "$work"

# shellcheck source=lib/browser.sh
source "$root/scripts/lib/browser.sh"
ensure_browser
# The pages say ✅ and ❌; without a colour emoji font Chromium draws empty boxes.
if ! fc-list | grep -qi 'color emoji'; then
    if ((EUID != 0)); then
        echo "screenshots: no colour emoji font; install it as root (apt-get install fonts-noto-color-emoji)" >&2
        exit 1
    fi
    echo "screenshots: apt-get install fonts-noto-color-emoji"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-color-emoji >/dev/null
fi

# The runs, when asked for or missing. Both exit 1 by design when a cell fails (the self-test
# when the matrix is *not* failed as it should be): the pages say which, and are checked below.
if [[ "$run" == yes || ! -f "$selftest/index.html" ]]; then
    echo "==> scripts/interop-selftest.sh"
    scripts/interop-selftest.sh || echo "screenshots: the self-test failed; see target/interop-selftest.log" >&2
fi
if [[ "$run" == yes || ! -f "$interop/index.html" ]]; then
    echo "==> scripts/interop.sh"
    scripts/interop.sh --out "$interop" >"$work/interop.log" 2>&1 ||
        echo "screenshots: some cells of the matrix failed (target/screenshots/interop.log)"
fi
if [[ -z "$bench" ]]; then
    bench="$root/target/bench/results.json"
    [[ -f "$bench" ]] || bench="$root/scripts/bench-fixtures/results.json"
fi
python3 scripts/bench.py --page-only "$bench" --out "$work/bench" >/dev/null

check() { node "$root/web/test/check-pages.mjs" "$@"; }
check report "$selftest/reports/server-broken-ws-json.html" \
    --screenshot "$shots/report.png" --clip-to 'table'
check interop "$interop" --screenshot "$shots/matrix.png" --clip-to 'table.conformance[data-suite=client]'
check bench "$work/bench/index.html" --results "$bench" \
    --screenshot "$shots/bench.png" --clip-to 'section[data-section=load] table.results'

echo
echo "wrote, from ${selftest#"$root"/}, ${interop#"$root"/} and ${bench#"$root"/}:"
for name in report matrix bench; do
    python3 - "docs/screenshots/$name.png" <<'PY'
import struct
import sys

with open(sys.argv[1], "rb") as png:
    width, height = struct.unpack(">II", png.read(24)[16:24])
print(f"  {sys.argv[1]}: {width}×{height}")
PY
done
