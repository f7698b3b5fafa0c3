//! Test fixture (filter): misbehaves on request — traps, loops forever, exhausts memory or fails a record.
//!
//! The record value selects the behaviour (first match wins):
//! `trap` → panic (a wasm trap); `loop` → spin forever; `grow` → allocate
//! 16 MiB chunks until allocation fails (then trap); `fail` → per-record
//! error `chaos: asked to fail`; anything else → keep. The setting
//! `fail_init = "true"` makes `init` fail.

use std::hint::black_box;
use weir_plugin::{Filter, Record, Settings};

/// Size of each chunk allocated by `grow`.
const CHUNK: usize = 16 << 20;

/// The chaos filter; stateless.
struct Chaos;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Spins until the host interrupts the call (fuel or epoch deadline).
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates and touches 16 MiB chunks, keeping them alive, until the
/// allocator fails; then traps.
fn grow() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::new();
        if chunk.try_reserve_exact(CHUNK).is_err() {
            let held = black_box(&chunks).len() * (CHUNK >> 20);
            panic!("chaos: out of memory after {held} MiB");
        }
        chunk.resize(CHUNK, 0xA5);
        chunks.push(black_box(chunk));
    }
}

impl Filter for Chaos {
    fn init(settings: &Settings) -> Result<Self, String> {
        if settings.parse_or("fail_init", false)? {
            return Err("chaos: init failed as configured".to_owned());
        }
        Ok(Chaos)
    }

    fn keep(&mut self, record: &Record<'_>) -> Result<bool, String> {
        let value = record.value();
        if contains(value, b"trap") {
            panic!("chaos: trap requested by record {}", record.index());
        }
        if contains(value, b"loop") {
            spin();
        }
        if contains(value, b"grow") {
            grow();
        }
        if contains(value, b"fail") {
            return Err("chaos: asked to fail".to_owned());
        }
        Ok(true)
    }
}

weir_plugin::export_filter!(Chaos);
