#!/usr/bin/env bash
# Builds every plugin: the Rust ones in plugins/rust/*/ as wasm32-wasip2
# components, then the projects of the other languages, plugins/<language>/*/
# (a directory holding weir-plugin.toml), each with `weir plugin build`, the
# one way plugins of those languages are built. Outputs:
#   plugins/target/wasm32-wasip2/release/<crate_name>.wasm
#   plugins/target/<language>/<name>.wasm
# `bash plugins/build.sh rust` builds only the Rust ones.
#
# The guest SDK selects the plugin kind with a Cargo feature, and a workspace
# build would unify those features across plugins; so each Rust plugin is
# built on its own (`cargo build -p NAME`).
#
# The other languages' projects are built by the `weir` binary in $WEIR_BIN,
# else by the one `cargo build --release -p weir-cli` makes. A project is
# rebuilt only when its files, its language's SDK, the WIT or this script
# changed since its last build. The toolchains go to the tools directory
# ($WEIR_TOOLS_DIR, else .cache/tools).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
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
languages=(python js c go)
bash "$here/system.sh" "${languages[@]}"
export WEIR_TOOLS_DIR="${WEIR_TOOLS_DIR:-$root/.cache/tools}"

# The weir binary, built the first time a project needs building.
weir="${WEIR_BIN:-}"
need_weir() {
    if [[ -z "$weir" ]]; then
        echo "build.sh: building the weir CLI, which builds the plugins" >&2
        (cd "$root" && cargo build --release -p weir-cli >&2)
        weir="${CARGO_TARGET_DIR:-$root/target}/release/weir"
    fi
}

field() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }

for language in "${languages[@]}"; do
    out="$target_dir/$language"
    mkdir -p "$out"
    for manifest in "$here/$language"/*/weir-plugin.toml; do
        [[ -f "$manifest" ]] || continue
        dir="$(dirname "$manifest")"
        name="$(field name "$manifest")"
        wasm="$out/$name.wasm"
        # The language's shared files: its SDK, JS's lib/, Go's go.mod.
        shared=()
        for f in sdk lib go.mod; do
            [[ -e "$here/$language/$f" ]] && shared+=("$here/$language/$f")
        done
        if [[ -f "$wasm" ]] && [[ -z "$(find "$dir" "${shared[@]}" "$root/wit/" "$here/build.sh" \
            -newer "$wasm" -type f ! -name '*.pyc' ! -path '*/test/*' ! -path '*/testing/*' \
            ! -path '*/tests/*' ! -path '*/target/*' -print -quit)" ]]; then
            continue
        fi
        echo "build.sh: building $language/$name" >&2
        need_weir
        if ! log="$("$weir" plugin build "$dir" --out "$wasm" 2>&1)"; then
            echo "$log" >&2
            echo "build.sh: building $dir failed" >&2
            exit 1
        fi
    done
    for wasm in "$out"/*.wasm; do
        if [[ -f "$wasm" ]]; then
            printf '  %-22s %s (%s bytes)\n' "$language/$(basename "$wasm" .wasm)" "$wasm" "$(wc -c < "$wasm")"
        fi
    done
done
