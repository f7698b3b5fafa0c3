#!/usr/bin/env bash
# Runs the three classic DeepRacer reward functions (plugins/python/*/
# reward_function.py, unchanged) over 5,000 generated race steps, then checks
# every reward against CPython calling the same function on the same step.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
functions=(follow-center-line stay-inside-borders prevent-zigzag)

cargo build --release -p weir-cli --manifest-path "$root/Cargo.toml"
weir="${CARGO_TARGET_DIR:-$root/target}/release/weir"
for f in "${functions[@]}"; do
    "$weir" plugin build "$root/plugins/python/$f" \
        --out "$root/plugins/target/python/${f//-/_}.wasm"
done

cd "$here"
for f in "${functions[@]}"; do
    "$weir" run "$f.toml"
done
python3 compare.py out "${functions[@]/#/$root/plugins/python/}"
