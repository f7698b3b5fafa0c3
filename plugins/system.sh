#!/usr/bin/env bash
# Installs the Debian packages the plugin toolchains need, when running as
# root with apt-get; otherwise names the line to run and fails. `weir plugin
# build` installs the rest itself (componentize-py, componentize-js), pinned,
# into its tools directory.
#
#   bash plugins/system.sh LANGUAGE...     (python, js, c, go)
set -euo pipefail
say() { echo "system.sh: $*" >&2; }

missing=()
for language in "$@"; do
    case "$language" in
    python)
        python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
        ;;
    js)
        command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
        ;;
    c)
        # clang with the wasm32 backend, wasm-ld, wasi-libc, and compiler-rt's
        # wasm32 builtins (the long double helpers strtod needs).
        if ! command -v clang >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1 \
            || [[ ! -f /usr/include/wasm32-wasi/stdlib.h ]] \
            || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null; then
            missing+=(clang lld wasi-libc libclang-rt-dev-wasm32)
        fi
        ;;
    go)
        # Go 1.24 or later (go:wasmexport) is not a Debian package of that
        # age: `weir plugin build` names where to get it when it is missing.
        ;;
    *)
        say "unknown language \`$language\` (python, js, c, go)"
        exit 1
        ;;
    esac
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    say "the plugin toolchains need Debian packages that are missing. Run:"
    say "  sudo apt-get install -y ${missing[*]}"
    exit 1
fi
