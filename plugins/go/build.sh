#!/usr/bin/env bash
# Builds every Go plugin in plugins/go/*/ (a directory holding
# weir-plugin.toml and a package main) into a component, with the SDK in
# plugins/go/sdk (standard library only, one module: plugins/go/go.mod).
# Output:
#   plugins/target/go/<name>.wasm
#
# Per plugin: standard Go (1.24 or later: go:wasmexport) builds a wasip1
# reactor module (-buildmode=c-shared), `wasm-tools component embed` adds
# the kind's world, and `wasm-tools component new` makes the component,
# adapting the Go runtime's WASI preview1 calls to WASI 0.2; the stage
# needs `grants = { wasi = true }`. The pinned tools come from
# plugins/tools.sh. A plugin is rebuilt only when its sources, the SDK, the
# WIT or the build scripts changed since its last build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/plugins/target/go"
tools="${WEIR_TOOLS_DIR:-$root/.cache/tools}"
say() { echo "go/build.sh: $*" >&2; }

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:$PATH"
fi
go_minor="$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
if [[ -z "$go_minor" || "$go_minor" -lt 24 ]]; then
    say "Go 1.24 or later is needed (go:wasmexport); install it from https://go.dev/dl/"
    exit 1
fi

bash "$root/plugins/tools.sh"
PATH="$tools/bin:$PATH"

# The SDK's export and import names carry the WIT package version; they are
# written by hand, so check they are those of the WIT.
wit_version="$(sed -n 's/^package weir:plugin@\([^;]*\);.*/\1/p' "$root/wit/types.wit")"
if ! grep -q "weir:plugin/filter-plugin@$wit_version#process" "$here/sdk/filter.go"; then
    say "the Go SDK's exports are not those of weir:plugin@$wit_version: update plugins/go/sdk"
    exit 1
fi

field() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }

mkdir -p "$out"
for manifest in "$here"/*/weir-plugin.toml; do
    [[ -f "$manifest" ]] || continue
    dir="$(dirname "$manifest")"
    name="$(field name "$manifest")"
    kind="$(field kind "$manifest")"
    if [[ "$kind" != filter ]]; then
        say "$manifest: kind \"$kind\" is not one the Go SDK supports (filter)"
        exit 1
    fi
    wasm="$out/$name.wasm"
    if [[ -f "$wasm" ]] && [[ -z "$(find "$dir" "$here/sdk" "$here/go.mod" "$root/wit/" \
        "$here/build.sh" "$root/plugins/tools.sh" -newer "$wasm" -type f -print -quit)" ]]; then
        continue
    fi
    say "building $name ($kind)"
    obj="$out/obj/$name"
    mkdir -p "$obj"
    (
        cd "$here"
        # GOTOOLCHAIN=local: never download another toolchain.
        GOTOOLCHAIN=local GOOS=wasip1 GOARCH=wasm GOFLAGS= \
            GOCACHE="${GOCACHE:-$root/.cache/go-build}" \
            go build -buildmode=c-shared -trimpath -o "$obj/core.wasm" "./$(basename "$dir")"
    )
    wasm-tools component embed "$root/wit/" --world "$kind" "$obj/core.wasm" -o "$obj/embedded.wasm"
    wasm-tools component new "$obj/embedded.wasm" \
        --adapt "wasi_snapshot_preview1=$tools/wasi_snapshot_preview1.reactor.wasm" -o "$wasm.tmp"
    mv "$wasm.tmp" "$wasm"
done
