#!/usr/bin/env bash
# Installs what the dashboard's browser check (tests/dashboard/check.mjs)
# needs: Debian's Chromium at /usr/bin/chromium and the npm package
# playwright-core (the driver only; it never downloads a browser of its own).
#
# Usage: bash scripts/browser.sh COMMAND   (from any directory)
#   install   make sure Chromium is installed (apt-get as root on Debian,
#             else prints the line to run) and npm-install playwright-core
#             into .cache/browser/node_modules (once per version)
#   dir       print the directory that holds node_modules, for
#             WEIR_BROWSER_DIR (does not install)
# Then: WEIR_BROWSER_DIR="$(bash scripts/browser.sh dir)" \
#         node tests/dashboard/check.mjs --url http://127.0.0.1:PORT/ --screenshot out/dashboard.png
# Needs Node 18+ and npm (installed with apt-get when run as root on Debian);
# playwright-core 1.61 is the last release that runs on Node 18 (Debian 12).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache/browser"
versions="playwright-core@1.61.1"
chromium=/usr/bin/chromium

say() { echo "browser: $*" >&2; }
die() { say "$*"; exit 1; }

as_root_with_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }

apt_install() { # apt_install PACKAGE...: install, updating the lists only if the first try fails
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

need_node() { # Node and npm (as root on Debian) or stop with the line to run
    local c missing=0 v
    for c in node npm; do command -v "$c" >/dev/null 2>&1 || missing=1; done
    if [ "$missing" = 1 ] && as_root_with_apt; then
        say "installing Node and npm (nodejs, npm)"
        apt_install nodejs npm || true
    fi
    for c in node npm; do
        command -v "$c" >/dev/null 2>&1 || die "$c is missing. Run: sudo apt-get install -y nodejs npm"
    done
    v="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"
    [ "${v:-0}" -ge 18 ] 2>/dev/null || die "playwright-core needs Node 18+, found '${v:-?}'. Run: sudo apt-get install -y nodejs npm"
}

need_chromium() {
    [ -x "$chromium" ] && return 0
    if as_root_with_apt; then
        say "installing Chromium (chromium)"
        apt_install chromium || true
    fi
    [ -x "$chromium" ] || die "$chromium is missing. Run: sudo apt-get install -y chromium"
}

install() {
    need_chromium
    # The marker holds the versions: changing them above re-installs.
    [ "$(cat "$cache/.installed" 2>/dev/null)" = "$versions" ] &&
        [ -f "$cache/node_modules/playwright-core/package.json" ] && return 0
    need_node
    say "installing $versions with npm into $cache/node_modules"
    mkdir -p "$cache"
    rm -rf "$cache/node_modules" "$cache/package.json" "$cache/package-lock.json" "$cache/.installed"
    # playwright-core has no install script and downloads nothing: the check
    # launches Debian's Chromium through executablePath.
    # shellcheck disable=SC2086
    npm install --prefix "$cache" --no-audit --no-fund --no-save --ignore-scripts \
        --loglevel=error $versions >&2 || die "npm install failed"
    [ -f "$cache/node_modules/playwright-core/package.json" ] ||
        die "no playwright-core in $cache/node_modules"
    echo "$versions" >"$cache/.installed"
}

case "${1:-}" in
install) install ;;
dir) echo "$cache" ;;
*) die "usage: bash scripts/browser.sh install|dir" ;;
esac
