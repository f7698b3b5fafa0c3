#!/usr/bin/env bash
# Builds the plugins from source and the `weir` binary (release), then
# prints the binary's path on stdout; everything else goes to stderr.
# The examples' scripts and scripts/demo.sh start with it.
#
# Usage: weir="$(bash scripts/build.sh)"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >&2
# The demo's plugins are Rust; the test suite builds the other languages'.
bash plugins/build.sh rust >/dev/null
echo "build: weir (the first build compiles wasmtime: ~15 min on 2 cores)" >&2
cargo build --release -p weir-cli >&2
echo "${CARGO_TARGET_DIR:-$root/target}/release/weir"
