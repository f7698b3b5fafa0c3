#!/usr/bin/env bash
# Installs the pinned tools the C and Go plugin builds share, into the tools
# directory ($WEIR_TOOLS_DIR, else .cache/tools; `weir plugin build` keeps its
# toolchains there too):
#   bin/wit-bindgen         wit-bindgen-cli (C bindings from the WIT)
#   bin/wasm-tools          wasm-tools (embed the WIT, make components)
#   wasi_snapshot_preview1.reactor.wasm
#                                        the WASI preview1 adapter (Go's runtime
#                                        calls WASI; wasi-libc may)
# and, with the argument `c`, the Debian packages of the C toolchain (clang,
# wasm-ld, wasi-libc, compiler-rt builtins for wasm32).
#
#   bash plugins/tools.sh [c]
#
# Each step is skipped when its pinned version is already in place, so the
# language build scripts call this on every run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tools="${WEIR_TOOLS_DIR:-$root/.cache/tools}"
say() { echo "tools.sh: $*" >&2; }

wit_bindgen_version="0.63.0"
wasm_tools_version="1.263.0"
# The adapter's version is pinned in its Cargo.toml, equal to wasmtime's.
adapter_dir="$here/tools/adapter"
adapter_version="$(sed -n 's/^wasi-preview1-component-adapter-provider[^"]*"=\?\([^"]*\)".*/\1/p' "$adapter_dir/Cargo.toml")"

# A tool installed with `cargo install` into the tools directory, unless the one
# there already reports the pinned version.
install_crate() { # crate binary version
    local crate="$1" bin="$2" version="$3"
    if "$tools/bin/$bin" --version 2>/dev/null | grep -q " $version\b"; then
        return
    fi
    say "installing $crate $version into $tools (a few minutes, once)"
    CARGO_TARGET_DIR="$tools/build" \
        cargo install --quiet --locked --root "$tools" "$crate@$version"
}

install_apt() { # packages...
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing $*"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        say "the C toolchain is missing. Run:"
        say "  sudo apt-get install -y $*"
        exit 1
    fi
}

if [[ "${1:-}" == c ]]; then
    # clang with the wasm32 backend, wasm-ld, wasi-libc's headers and
    # libraries, and compiler-rt's builtins (long double helpers strtod needs).
    if ! command -v clang >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1 \
        || [[ ! -f /usr/include/wasm32-wasi/stdlib.h ]] \
        || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null; then
        install_apt clang lld wasi-libc libclang-rt-dev-wasm32
    fi
fi

mkdir -p "$tools"
install_crate wit-bindgen-cli wit-bindgen "$wit_bindgen_version"
install_crate wasm-tools wasm-tools "$wasm_tools_version"

adapter="$tools/wasi_snapshot_preview1.reactor.wasm"
if [[ ! -f "$adapter" || "$(cat "$adapter.version" 2>/dev/null)" != "$adapter_version" ]]; then
    say "writing the WASI preview1 reactor adapter $adapter_version"
    (
        cd "$adapter_dir"
        CARGO_TARGET_DIR="$tools/build" cargo run --quiet --release --locked -- "$adapter.tmp"
    )
    mv "$adapter.tmp" "$adapter"
    echo "$adapter_version" > "$adapter.version"
fi
