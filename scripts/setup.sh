#!/usr/bin/env bash
# Checks and installs what weir's build needs, idempotently. Sourced by
# demo.sh and test.sh; safe to run on its own.
#
# Needs: a Rust toolchain from rustup (https://rustup.rs). Installs: the
# wasm32-wasip2 Rust target (for plugins), rustfmt and clippy (for the test
# suite), and on Debian (as root) a C toolchain with the OpenSSL and zlib
# headers when missing; otherwise it prints the apt-get line to run.
set -euo pipefail

say() { echo "setup: $*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
    say "cargo is missing. Install Rust with rustup, then run this again:"
    say "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\""
    exit 1
fi
if ! command -v rustup >/dev/null 2>&1; then
    say "rustup is missing; weir needs it to add the wasm32-wasip2 target (https://rustup.rs)."
    exit 1
fi

# A C compiler and make (wasmtime, redb and librdkafka build C parts), and
# OpenSSL's and zlib's headers for librdkafka (Kafka over TLS/SASL).
have_native_deps() {
    command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 &&
        command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openssl zlib
}
if ! have_native_deps; then
    packages="build-essential pkg-config libssl-dev zlib1g-dev"
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing the C toolchain and headers ($packages)"
        # shellcheck disable=SC2086
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    fi
    if ! have_native_deps; then
        say "a C compiler, make, pkg-config and the OpenSSL and zlib headers are needed. Run:"
        say "  sudo apt-get install -y $packages"
        exit 1
    fi
fi

installed_targets="$(rustup target list --installed)"
if ! grep -qx wasm32-wasip2 <<<"$installed_targets"; then
    say "adding the Rust target wasm32-wasip2 (plugins are built for it)"
    rustup target add wasm32-wasip2
fi

if [ "${WEIR_SETUP_LINT:-0}" = 1 ]; then
    installed_components="$(rustup component list --installed)"
    for c in rustfmt clippy; do
        if ! grep -q "^$c" <<<"$installed_components"; then
            say "adding the Rust component $c"
            rustup component add "$c"
        fi
    done
fi
