#!/usr/bin/env bash
# Builds every C plugin in plugins/c/*/ (a directory holding weir-plugin.toml
# and its .c files) into a component, with the SDK in plugins/c/sdk. Output:
#   plugins/target/c/<name>.wasm
#
# Per plugin: wit-bindgen generates the C bindings of the kind's world (in
# plugins/target/c/obj/<name>/, never committed), clang compiles them with
# the SDK and the plugin into a wasm32-wasi reactor module, and wasm-tools
# makes the component. A module that imports WASI preview1 (libc I/O) is
# adapted to preview2 with the reactor adapter; one that does not, as the
# SDK and the plugins here, needs no WASI grant. The pinned tools come from
# plugins/tools.sh. A plugin is rebuilt only when its sources, the SDK, the
# WIT or the build scripts changed since its last build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/plugins/target/c"
tools="${WEIR_TOOLS_DIR:-$root/.cache/tools}"
say() { echo "c/build.sh: $*" >&2; }

bash "$root/plugins/tools.sh" c
PATH="$tools/bin:$PATH"

field() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }
# The WIT package version, part of the exported interface's name.
wit_version="$(sed -n 's/^package weir:plugin@\([^;]*\);.*/\1/p' "$root/wit/types.wit")"

mkdir -p "$out"
for manifest in "$here"/*/weir-plugin.toml; do
    [[ -f "$manifest" ]] || continue
    dir="$(dirname "$manifest")"
    name="$(field name "$manifest")"
    kind="$(field kind "$manifest")"
    case "$kind" in
    filter | scorer) ;;
    *)
        say "$manifest: kind \"$kind\" is not one the C SDK supports (filter, scorer)"
        exit 1
        ;;
    esac
    wasm="$out/$name.wasm"
    if [[ -f "$wasm" ]] && [[ -z "$(find "$dir" "$here/sdk" "$root/wit/" "$here/build.sh" \
        "$root/plugins/tools.sh" -newer "$wasm" -type f -print -quit)" ]]; then
        continue
    fi
    say "building $name ($kind)"
    obj="$out/obj/$name"
    rm -rf "$obj"
    mkdir -p "$obj"
    # Renaming the world and the kind's interface gives every kind the same
    # generated names (weir_world.h, exports_kind_*), so one SDK serves all.
    # (wit-bindgen lists each file it writes on stderr: shown only on failure.)
    if ! log="$(wit-bindgen c "$root/wit/" --world "$kind" --rename-world weir_world \
        --rename "weir:plugin/$kind-plugin@$wit_version=kind" --out-dir "$obj" 2>&1)"; then
        echo "$log" >&2
        exit 1
    fi
    sources=("$dir"/*.c)
    clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror \
        -DWEIR_KIND_"${kind^^}" -I "$here/sdk" -I "$obj" \
        "${sources[@]}" "$here/sdk/weir_plugin.c" "$here/sdk/weir_json.c" \
        "$obj/weir_world.c" "$obj/weir_world_component_type.o" \
        -Wl,--strip-debug -o "$obj/core.wasm"
    adapt=()
    if wasm-tools print "$obj/core.wasm" | grep -q '(import "wasi_snapshot_preview1"'; then
        say "$name uses WASI (libc I/O): its stage needs grants = { wasi = true }"
        adapt=(--adapt "wasi_snapshot_preview1=$tools/wasi_snapshot_preview1.reactor.wasm")
    fi
    wasm-tools component new "$obj/core.wasm" "${adapt[@]}" -o "$wasm.tmp"
    mv "$wasm.tmp" "$wasm"
done
