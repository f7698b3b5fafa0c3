#!/usr/bin/env bash
# Runs the C SDK's tests natively with AddressSanitizer and
# UndefinedBehaviorSanitizer (leaks included), once per kind, against the
# bindings `weir plugin build` generated for the C plugins of that kind
# (plugins/target/c/obj/<name>/: run `bash plugins/build.sh` first).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$(dirname "$here")"
root="$(cd "$sdk/../../.." && pwd)"
work="$root/plugins/target/c/sdk-tests"

for pair in filter:amount_filter scorer:amount_scorer; do
    kind="${pair%%:*}"
    bindings="$root/plugins/target/c/obj/${pair##*:}"
    if [[ ! -f "$bindings/weir_world.c" ]]; then
        echo "run.sh: no $kind bindings in $bindings: run \`bash plugins/build.sh\` first" >&2
        exit 1
    fi
    mkdir -p "$work/$kind"
    # The generated file's wasm import attributes mean nothing natively.
    clang -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
        -Wno-unknown-attributes -DWEIR_KIND_"${kind^^}" -I "$sdk" -I "$bindings" \
        "$here/test_sdk.c" "$sdk/weir_plugin.c" "$sdk/weir_json.c" "$bindings/weir_world.c" \
        -o "$work/$kind/test_sdk"
    "$work/$kind/test_sdk"
    echo "c sdk tests ($kind): ok"
done
