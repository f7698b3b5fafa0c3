#!/usr/bin/env bash
# The main job on built-in defaults: builds weir and its plugins, then runs
# the fraud-detection example on the built-in transaction generator (no
# Kafka, no AWS). Outputs land in examples/fraud-detection/out/.
#
# Usage: bash scripts/demo.sh [PIPELINE.toml]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

weir="$(bash scripts/build.sh)"
config="${1:-examples/fraud-detection/pipeline.toml}"
out="$(dirname "$config")/out"
# A demo starts over each time: fresh outputs, no checkpoint to resume from.
rm -rf "$out"
"$weir" run --reset "$config"
if [ -d "$out" ]; then
    echo "demo: outputs in $out:" >&2
    wc -l "$out"/*.jsonl >&2
fi
