#!/usr/bin/env bash
# Builds every Python plugin in plugins/python/*/ (a directory holding
# weir-plugin.toml and app.py) into a component with componentize-py,
# against weir's WIT and the Python SDK in plugins/python/sdk. Output:
#   plugins/target/python/<name>.wasm
#
# componentize-py (pinned) is installed the first time into the tools
# directory ($WEIR_TOOLS_DIR, else .cache/tools), where `weir plugin build`
# finds it too. A plugin is rebuilt only when its sources, the SDK or the WIT
# changed since its last build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="0.25.1"
venv="${WEIR_TOOLS_DIR:-$root/.cache/tools}/componentize-py-$version"
out="$root/plugins/target/python"
say() { echo "python/build.sh: $*" >&2; }

if ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -qx "componentize-py $version"; then
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            say "installing python3-venv"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        else
            say "Python's venv module is missing. Run:"
            say "  sudo apt-get install -y python3-venv"
            exit 1
        fi
    fi
    say "installing componentize-py $version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$version"
fi

field() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }

mkdir -p "$out"
for manifest in "$here"/*/weir-plugin.toml; do
    [[ -f "$manifest" ]] || continue
    dir="$(dirname "$manifest")"
    name="$(field name "$manifest")"
    kind="$(field kind "$manifest")"
    if [[ -z "$name" || -z "$kind" ]]; then
        say "$manifest needs a name and a kind"
        exit 1
    fi
    wasm="$out/$name.wasm"
    if [[ -f "$wasm" ]] && [[ -z "$(find "$dir" "$here/sdk" "$root/wit/" "$here/build.sh" \
        -newer "$wasm" -type f ! -name '*.pyc' -print -quit)" ]]; then
        continue
    fi
    say "building $name ($kind)"
    (
        cd "$dir"
        "$venv/bin/componentize-py" -d "$root/wit" -w "$kind" componentize \
            -p "$dir" -p "$here/sdk" app -o "$wasm.tmp" >/dev/null
    )
    mv "$wasm.tmp" "$wasm"
done
