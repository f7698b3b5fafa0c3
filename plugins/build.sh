#!/usr/bin/env bash
# Builds every plugin: the Rust ones in plugins/rust/*/ as wasm32-wasip2
# components, then those of the other languages (plugins/<language>/build.sh:
# Python, then JavaScript).
# `bash plugins/build.sh rust` builds only the Rust ones.
#
# The guest SDK selects the plugin kind with a Cargo feature, and a workspace
# build would unify those features across plugins; so each plugin is built
# on its own (`cargo build -p NAME`). Output:
#   plugins/target/wasm32-wasip2/release/<crate_name>.wasm
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target=wasm32-wasip2
target_dir="$here/target"

if ! rustup target list --installed | grep -qx "$target"; then
    echo "build.sh: installing the Rust target $target" >&2
    rustup target add "$target"
fi

members=()
for manifest in "$here"/rust/*/Cargo.toml; do
    [[ -f "$manifest" ]] || continue
    name="$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1)"
    if [[ -z "$name" ]]; then
        echo "build.sh: no package name in $manifest" >&2
        exit 1
    fi
    members+=("$name")
done
if [[ ${#members[@]} -eq 0 ]]; then
    echo "build.sh: no plugins found under $here/rust" >&2
    exit 1
fi

for name in "${members[@]}"; do
    echo "build.sh: building $name" >&2
    (
        cd "$here"
        env -u RUSTFLAGS -u CARGO_BUILD_TARGET -u CARGO_ENCODED_RUSTFLAGS \
            CARGO_TARGET_DIR="$target_dir" \
            cargo build --release --target "$target" -p "$name"
    )
done

echo "Plugins built:"
for name in "${members[@]}"; do
    wasm="$target_dir/$target/release/${name//-/_}.wasm"
    if [[ ! -f "$wasm" ]]; then
        echo "build.sh: expected output $wasm is missing" >&2
        exit 1
    fi
    printf '  %-22s %s (%s bytes)\n' "$name" "$wasm" "$(wc -c < "$wasm")"
done

if [[ "${1:-}" == rust ]]; then
    exit 0
fi
bash "$here/python/build.sh"
bash "$here/js/build.sh"
bash "$here/c/build.sh"
bash "$here/go/build.sh"
for language in python js c go; do
    for wasm in "$target_dir/$language"/*.wasm; do
        if [[ -f "$wasm" ]]; then
            printf '  %-22s %s (%s bytes)\n' "$language/$(basename "$wasm" .wasm)" "$wasm" "$(wc -c < "$wasm")"
        fi
    done
done
