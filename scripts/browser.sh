#!/usr/bin/env bash
# One run of the page (web/) in headless Chromium against one server: the page at --page-url
# talks to --server-url, then web/test/run-page.mjs prints window.helloResult as one JSON line and
# exits 0 only when every Echo request and every Kiss request was answered and the page ended the
# session cleanly itself (JSON: Close 1000; v1: DISCONNECT, then the server's Close).
#
#   scripts/browser.sh --server-url ws://127.0.0.1:9898/ws --page-url http://127.0.0.1:9898/
#   scripts/browser.sh --server-url wss://localhost:9886/ws --page-url http://localhost:8000/ \
#                      --dialect v1 --whoami page-1 --count 5 --duration 3s --ca certs/ca.crt
#
# Installs what it needs when missing (scripts/lib/browser.sh: Debian's chromium, certutil and
# playwright-core). The server must accept the page's origin (PROTOCOL.md section 2.2): its own,
# or one given to it with --allow-origin. wss is verified against --ca, trusted through an NSS
# database; certificate errors are never ignored.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

server_url=""
page_url=""
dialect=json
whoami=""
count=3
duration=6s # longer than the default Kiss interval (5 s), so that a Kiss request comes
ca=""
random_interval=""
timeout=""
screenshot=""

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --server-url URL       the WebSocket URL the page talks to (required)
  --page-url URL         where the page is served (required)
  --dialect json|v1      default json
  --whoami NAME          the name the server logs (default: the page makes one, browser-XXXX)
  --count N              Echo requests, all in flight together (default 3)
  --duration D           how long the page stays before ending by itself (default 6s)
  --random-interval D    v1: how often the page sends a RANDOM_NUMBER (default 5s)
  --ca FILE              the CA to trust for wss:// (default certs/ca.crt)
  --timeout D            how long the whole run may take (default: duration + 30s)
  --screenshot FILE      a PNG of the page at the end
EOF
}

while (($#)); do
    case "$1" in
    --server-url) server_url="$2" && shift ;;
    --page-url) page_url="$2" && shift ;;
    --dialect) dialect="$2" && shift ;;
    --whoami) whoami="$2" && shift ;;
    --count) count="$2" && shift ;;
    --duration) duration="$2" && shift ;;
    --random-interval) random_interval="$2" && shift ;;
    --ca) ca="$2" && shift ;;
    --timeout) timeout="$2" && shift ;;
    --screenshot) screenshot="$2" && shift ;;
    -h | --help) usage && exit 0 ;;
    *) echo "browser: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ -n "$server_url" && -n "$page_url" ]] ||
    { echo "browser: --server-url and --page-url are required (try --help)" >&2 && exit 2; }
[[ "$dialect" == json || "$dialect" == v1 ]] ||
    { echo "browser: --dialect must be json or v1, not '$dialect'" >&2 && exit 2; }
[[ "$duration" =~ ^[0-9]+(ms|s|m)$ ]] ||
    { echo "browser: --duration must be like 6s, 500ms or 1m, not '$duration'" >&2 && exit 2; }
if [[ -z "$timeout" ]]; then
    case "$duration" in
    *ms) timeout="$(((${duration%ms} + 999) / 1000 + 30))s" ;;
    *s) timeout="$((${duration%s} + 30))s" ;;
    *m) timeout="$((${duration%m} * 60 + 30))s" ;;
    esac
fi

# shellcheck source=lib/browser.sh
source "$root/scripts/lib/browser.sh"
ensure_browser >&2

# The page's query: what the page is told to do (web/README.md).
page="$(node -e '
    const [pageUrl, ...pairs] = process.argv.slice(1);
    const url = new URL(pageUrl);
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i + 1] !== "") url.searchParams.set(pairs[i], pairs[i + 1]);
    console.log(url.href);
' "$page_url" url "$server_url" whoami "$whoami" count "$count" duration "$duration" \
    dialect "$dialect" random-interval "$random_interval")"
echo "browser: $page" >&2

runner=(node "$root/web/test/run-page.mjs" --page "$page" --timeout "$timeout")
# Like every client here, trust certs/ca.crt unless told another CA.
[[ -z "$ca" && -f "$root/certs/ca.crt" ]] && ca="$root/certs/ca.crt"
[[ -n "$ca" ]] && runner+=(--ca "$ca")
[[ -n "$screenshot" ]] && runner+=(--screenshot "$screenshot")
exec "${runner[@]}"
