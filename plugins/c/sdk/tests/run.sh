#!/usr/bin/env bash
# Runs the C SDK's tests natively with AddressSanitizer and
# UndefinedBehaviorSanitizer (leaks included), once per kind, against
# bindings generated as plugins/c/build.sh generates them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$(dirname "$here")"
root="$(cd "$sdk/../../.." && pwd)"
work="$root/plugins/target/c/sdk-tests"
tools="${WEIR_TOOLS_DIR:-$root/.cache/tools}"

bash "$root/plugins/tools.sh" c
wit_version="$(sed -n 's/^package weir:plugin@\([^;]*\);.*/\1/p' "$root/wit/types.wit")"
for kind in filter scorer; do
    mkdir -p "$work/$kind"
    "$tools/bin/wit-bindgen" c "$root/wit" --world "$kind" --rename-world weir_world \
        --rename "weir:plugin/$kind-plugin@$wit_version=kind" --out-dir "$work/$kind" 2>/dev/null
    # The generated file's wasm import attributes mean nothing natively.
    clang -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
        -Wno-unknown-attributes -DWEIR_KIND_"${kind^^}" -I "$sdk" -I "$work/$kind" \
        "$here/test_sdk.c" "$sdk/weir_plugin.c" "$sdk/weir_json.c" "$work/$kind/weir_world.c" \
        -o "$work/$kind/test_sdk"
    "$work/$kind/test_sdk"
    echo "c sdk tests ($kind): ok"
done
