#!/usr/bin/env bash
# Python packages weir's tests use, installed into .cache/pytools (never
# into the system's Python):
#   prometheus-client   its OpenMetrics parser checks what /metrics serves
#
# Usage: bash scripts/pytools.sh COMMAND   (from any directory)
#   install   pip-install them into .cache/pytools (once per version list)
#   dir       print the directory to put on PYTHONPATH
# Needs Python 3.9+ with pip (installed with apt-get when run as root on
# Debian).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/pytools"
packages="prometheus-client==0.21.1"
apt_line="sudo apt-get install -y python3 python3-pip"

say() { echo "pytools: $*" >&2; }
die() { say "$*"; exit 1; }

install() {
    # The marker holds the versions: changing them above re-installs.
    [ "$(cat "$dir/.installed" 2>/dev/null)" = "$packages" ] && return 0
    if ! python3 -m pip --version >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            say "installing Python and pip (python3, python3-pip)"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq python3 python3-pip >/dev/null
        fi
        python3 -m pip --version >/dev/null 2>&1 || die "Python 3 with pip is missing. Run: $apt_line"
    fi
    say "installing $packages into $dir"
    rm -rf "$dir"
    # shellcheck disable=SC2086 # one word per package
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
        --target "$dir" $packages
    echo "$packages" >"$dir/.installed"
}

case "${1:-}" in
install) install ;;
dir) echo "$dir" ;;
*) die "usage: bash scripts/pytools.sh install|dir" ;;
esac
