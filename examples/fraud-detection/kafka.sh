#!/usr/bin/env bash
# Fraud detection Kafka → plugins → Kafka on a local test broker: starts the
# broker (scripts/kafka.sh), creates the topics, loads 20,000 transactions
# with `weir produce`, and runs examples/fraud-detection/kafka.toml for
# 20 seconds (then stops it as Ctrl-C would and prints the summary). Leaves
# the broker running; stop it with: bash scripts/kafka.sh stop
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
weir="$(bash scripts/build.sh)"
brokers_line="$(bash scripts/kafka.sh start)"
brokers="${brokers_line#WEIR_KAFKA_BROKERS=}"
for topic in fraud-alerts transactions-scored transactions-dead-letters; do
    bash scripts/kafka.sh topic "$topic" 6 >/dev/null
done
"$weir" produce --log warn --brokers "$brokers" --topic transactions --partitions 6 \
    --workload transactions --count 20000 --seed 42
timeout --signal=INT --preserve-status 20 \
    "$weir" run --log warn examples/fraud-detection/kafka.toml
