#!/usr/bin/env bash
# The benchmark page, as a person sees it: rendered from the published runs in
# scripts/bench-fixtures (no bench is run), opened in Debian's headless Chromium, and checked by
# web/test/check-pages.mjs: no console error, nothing fetched, every table with a row for each
# server measured, every chart drawn with its bars. Leaves the page and its screenshot in
# target/bench-page-test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/bench-page-test"
results="$root/scripts/bench-fixtures/results.json"

rm -rf "$out"
python3 "$root/scripts/bench.py" --page-only "$results" --out "$out" >/dev/null
# shellcheck source=lib/browser.sh
source "$root/scripts/lib/browser.sh"
ensure_browser
node "$root/web/test/check-pages.mjs" bench "$out/index.html" --results "$results" \
    --screenshot "$out/bench.png"
