#!/usr/bin/env bash
# The whole test suite: formatting, lints, the plugins built from source,
# and every test of the workspace and of the guest SDK. Starts the services
# the tests need, all on 127.0.0.1 and stopped again when the suite ends: a
# real Apache Kafka broker (scripts/kafka.sh), and the Kinesis and DynamoDB
# emulators kinesis-mock and dynalite (scripts/kinesis.sh). Installs what
# the dashboard test (headless Chromium, scripts/browser.sh) and the metrics
# test (the Prometheus client's parser, scripts/pytools.sh) need.
#
# Usage: bash scripts/test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
step() { echo "==> $*" >&2; }

WEIR_SETUP_LINT=1 bash scripts/setup.sh
# The CLI's compiled-code cache, kept with the build output rather than in
# the user's ~/.cache.
export WEIR_CACHE_DIR="${WEIR_CACHE_DIR:-${CARGO_TARGET_DIR:-$root/target}/weir-cache}"
# The plugin toolchains (componentize-py, componentize-js) that `weir plugin
# build` installs, kept with the build output too, so that a reused
# CARGO_TARGET_DIR keeps them.
export WEIR_TOOLS_DIR="${WEIR_TOOLS_DIR:-${CARGO_TARGET_DIR:-$root/target}/weir-tools}"
step "Kafka broker jars (Maven Central, cached in .cache/kafka)"
bash scripts/kafka.sh install
step "Kinesis and DynamoDB emulators (npm, cached in .cache/kinesis)"
bash scripts/kinesis.sh install
step "Chromium and playwright-core for the dashboard test (cached in .cache/browser)"
bash scripts/browser.sh install
step "the Prometheus client's OpenMetrics parser (PyPI, cached in .cache/pytools)"
bash scripts/pytools.sh install

step "cargo fmt --check"
cargo fmt --all -- --check
(cd plugins && cargo fmt --all -- --check)
(cd crates/weir-plugin && cargo fmt -- --check)

step "building the workspace and its tests"
cargo test --release --workspace --no-run

# The plugins of Python, JavaScript, C and Go are built by the weir binary
# just built (`weir plugin build`).
step "building the plugins from source"
WEIR_BIN="${CARGO_TARGET_DIR:-$root/target}/release/weir" bash plugins/build.sh

# After the release build, clippy reuses the compiled dependencies.
step "clippy (host workspace)"
cargo clippy --release --workspace --all-targets -- -D warnings

step "clippy (guest SDK and plugins, wasm32-wasip2)"
for manifest in plugins/rust/*/Cargo.toml; do
    name="$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1)"
    (cd plugins && CARGO_TARGET_DIR="$root/plugins/target" \
        cargo clippy --release --target wasm32-wasip2 -p "$name" -q -- -D warnings)
done

step "guest SDK unit tests (native, one run per plugin kind)"
for kind in filter enricher scorer reward aggregator filter,columnar-only; do
    (cd crates/weir-plugin && CARGO_TARGET_DIR="$root/plugins/target/sdk-tests" \
        cargo test -q --features "$kind")
done
for name in fraud-scorer telemetry-enricher vehicle-window anomaly; do
    (cd plugins && CARGO_TARGET_DIR="$root/plugins/target/sdk-tests" cargo test -q -p "$name")
done

step "Python SDK unit tests (CPython)"
python3 -m unittest discover -s plugins/python/sdk/tests
step "JavaScript SDK unit tests (Node)"
node --test plugins/js/
step "C SDK unit tests (native, AddressSanitizer)"
bash plugins/c/sdk/tests/run.sh
step "Go SDK unit tests (native)"
(cd plugins/go && go test ./sdk)

# The fuzz targets (fuzz/README.md), FUZZ_SECONDS seconds each (default 10,
# so well under a minute for the four): a panic, a slow or hanging input is
# a finding, left in fuzz/findings/<target>/, and fails the suite. The
# binary was built with the workspace tests above (its integration test
# replays the corpus and the regression cases).
step "fuzzing (${FUZZ_SECONDS:-10} s per target)"
"${CARGO_TARGET_DIR:-$root/target}/release/weir-fuzz"

step "starting a Kafka broker and the Kinesis and DynamoDB emulators on 127.0.0.1"
trap 'bash scripts/kafka.sh stop; bash scripts/kinesis.sh stop' EXIT
brokers_line="$(bash scripts/kafka.sh start)"
export "${brokers_line?}"
while read -r line; do export "${line?}"; done < <(bash scripts/kinesis.sh start)
: "${WEIR_KINESIS_ENDPOINT:?scripts/kinesis.sh start printed no endpoint}"

step "workspace tests (Kafka at $WEIR_KAFKA_BROKERS, Kinesis at $WEIR_KINESIS_ENDPOINT, DynamoDB at $WEIR_DYNAMODB_ENDPOINT)"
cargo test --release --workspace

# The benchmarks are compiled and linted by clippy --all-targets above; run
# them with: cargo bench -p weir --bench plugin_stage --profile release, and
# the Kafka throughput bench with: bash scripts/bench-kafka.sh, and the Kinesis
# read bench with: bash scripts/bench-kinesis.sh
echo "all tests passed" >&2
