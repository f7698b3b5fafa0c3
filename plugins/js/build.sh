#!/usr/bin/env bash
# Builds every JavaScript plugin in plugins/js/*/ (a directory holding
# weir-plugin.toml and app.js) into a component with componentize-js
# (StarlingMonkey), against weir's WIT. Output:
#   plugins/target/js/<name>.wasm
#
# The pinned tools (package.json, package-lock.json here) are installed with
# `npm ci` into the tools directory ($WEIR_TOOLS_DIR, else .cache/tools),
# again only when the lockfile changes. The
# components are built with every WASI feature disabled, so they import
# weir's host services only and need no WASI grant.
#
# componentize-js reads app.js and, through relative imports, the SDK
# (../sdk/weir.js) and shared modules (../lib/): it runs from this
# directory, so every module under it can be imported and stack traces
# name files as `amount-filter/app.js`. A plugin is rebuilt only when its
# sources, the SDK, lib/, the WIT, the lockfile or this script changed
# since its last build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$(sed -n 's/.*"@bytecodealliance\/componentize-js": "\([^"]*\)".*/\1/p' "$here/package.json")"
tools="${WEIR_TOOLS_DIR:-$root/.cache/tools}/componentize-js-$version"
out="$root/plugins/target/js"
say() { echo "js/build.sh: $*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing nodejs and npm"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        say "Node.js (18 or later) and npm are missing. Run:"
        say "  sudo apt-get install -y nodejs npm"
        exit 1
    fi
fi

componentize="$tools/node_modules/.bin/componentize-js"
if ! cmp -s "$here/package-lock.json" "$tools/.installed-lock" || [[ ! -x "$componentize" ]]; then
    say "installing componentize-js $version and jco (pinned) into $tools"
    mkdir -p "$tools"
    cp "$here/package.json" "$here/package-lock.json" "$tools/"
    (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$here/package-lock.json" "$tools/.installed-lock"
fi

field() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }

mkdir -p "$out"
for manifest in "$here"/*/weir-plugin.toml; do
    [[ -f "$manifest" ]] || continue
    dir="$(dirname "$manifest")"
    name="$(field name "$manifest")"
    kind="$(field kind "$manifest")"
    if [[ -z "$name" || -z "$kind" || ! -f "$dir/app.js" ]]; then
        say "$dir needs app.js and a weir-plugin.toml with a name and a kind"
        exit 1
    fi
    wasm="$out/$name.wasm"
    if [[ -f "$wasm" ]] && [[ -z "$(find "$dir" "$here/sdk" "$here/lib" "$root/wit/" "$here/build.sh" \
        "$here/package-lock.json" -newer "$wasm" -type f ! -path '*/test/*' ! -path '*/testing/*' \
        -print -quit)" ]]; then
        continue
    fi
    say "building $name ($kind)"
    (
        cd "$here"
        "$componentize" "$dir/app.js" --wit "$root/wit" --world-name "$kind" \
            --disable stdio random clocks http fetch-event -o "$wasm.tmp" >/dev/null
    )
    mv "$wasm.tmp" "$wasm"
done
