# shellcheck shell=bash
# Sourced by the scripts that run the page in a headless browser (browser.sh, interop.sh):
# `ensure_browser` installs, on a fresh machine, what web/test/run-page.mjs needs, and only what is
# missing: Debian's chromium (no browser download of playwright's own, which this network cannot
# reach) and libnss3-tools (certutil, to trust the generated CA without ignoring certificate
# errors), then playwright-core (and prettier, for web/'s formatting) from web/test/package-lock.json.

browser_web_test="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../web/test" && pwd)"

ensure_browser() {
    local since=$SECONDS missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v certutil >/dev/null || missing+=(libnss3-tools)
    if ((${#missing[@]})); then
        if ((EUID != 0)); then
            echo "ensure_browser: ${missing[*]} missing; install them as root (apt-get install ${missing[*]})" >&2
            return 1
        fi
        echo "ensure_browser: apt-get install ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # npm keeps a copy of the lock it installed from in node_modules: reinstall when it is older.
    if [[ ! "$browser_web_test/node_modules/.package-lock.json" -nt "$browser_web_test/package-lock.json" ]]; then
        echo "ensure_browser: npm ci in web/test"
        (cd "$browser_web_test" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    printf 'ensure_browser: %ds (%s, playwright-core %s)\n' "$((SECONDS - since))" \
        "$(chromium --version 2>/dev/null || echo 'chromium not found')" \
        "$(node -p 'require(process.argv[1]).version' "$browser_web_test/node_modules/playwright-core/package.json")"
}
