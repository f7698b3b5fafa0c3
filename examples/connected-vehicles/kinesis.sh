#!/usr/bin/env bash
# Connected vehicles Kinesis → plugin → Kinesis on the local emulators:
# starts kinesis-mock and dynalite (scripts/kinesis.sh), creates the streams,
# loads 5,000 readings (kinesis-load.toml; the emulator takes a few hundred
# records per second), and runs
# examples/connected-vehicles/kinesis.toml for 30 seconds (then stops it as
# Ctrl-C would, releasing its shard leases, and prints the summary). Leaves
# the emulators running; stop them with: bash scripts/kinesis.sh stop
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
weir="$(bash scripts/build.sh)"
bash scripts/kinesis.sh start >/dev/null
bash scripts/kinesis.sh stream vehicle-telemetry 4
bash scripts/kinesis.sh stream vehicle-telemetry-enriched 4
bash scripts/kinesis.sh stream vehicle-events 2
# The emulators accept any credentials; these keep real ones out of it.
export AWS_ACCESS_KEY_ID=weir-local AWS_SECRET_ACCESS_KEY=weir-local AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE
# --reset: each run loads 5,000 more readings; the pipeline continues after
# the checkpoints in its lease table, so it processes just those.
"$weir" run --log warn --reset examples/connected-vehicles/kinesis-load.toml
timeout --signal=INT --preserve-status 30 \
    "$weir" run --log warn examples/connected-vehicles/kinesis.toml
