#!/usr/bin/env bash
# Reading Kinesis: weir's source beside a bare GetRecords loop
# (crates/weir-kinesis/benches/kinesis_read.rs): starts the emulators on
# 127.0.0.1 (unless they run), builds the plugins, runs the bench, stops the
# emulators it started.
#
# Usage: bash scripts/bench-kinesis.sh      (WEIR_BENCH_RECORDS=N to change 200,000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
bash plugins/build.sh >/dev/null
if ! bash scripts/kinesis.sh status; then
    trap 'bash scripts/kinesis.sh stop' EXIT
fi
while read -r line; do export "${line?}"; done < <(bash scripts/kinesis.sh start)
# The emulators accept any credentials; these keep real ones out of it.
export AWS_ACCESS_KEY_ID=weir-bench AWS_SECRET_ACCESS_KEY=weir-bench AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE
cargo bench -p weir-kinesis --bench kinesis_read --profile release
