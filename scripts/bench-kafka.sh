#!/usr/bin/env bash
# Kafka → filter plugin → Kafka throughput beside a plain consume-and-produce
# passthrough (crates/weir-kafka/benches/kafka_throughput/main.rs): starts a Kafka
# broker on 127.0.0.1 (unless one runs), builds the plugins, runs the bench,
# stops the broker it started.
#
# Usage: bash scripts/bench-kafka.sh      (WEIR_BENCH_RECORDS=N to change 1M)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
bash plugins/build.sh
if ! bash scripts/kafka.sh status; then
    trap 'bash scripts/kafka.sh stop' EXIT
fi
brokers_line="$(bash scripts/kafka.sh start)"
export "${brokers_line?}"
cargo bench -p weir-kafka --bench kafka_throughput --profile release
