//! Test fixture (filter): misbehaves on request — traps, loops forever, exhausts memory or fails a record.
//!
//! The record value selects the behaviour (first match wins):
//! `trap` → panic (a wasm trap); `loop` → spin forever; `grow` → allocate
//! 16 MiB chunks until allocation fails (then trap); `fail` → per-record
//! error `chaos: asked to fail`; `"flaky_until":T` (T in ms since the Unix
//! epoch) → panic while the wall clock (WASI, so the stage must grant
//! `wasi = true`) is before T, keep after: a transient failure; anything
//! else → keep; `print` → write a line to stdout and one to stderr (WASI,
//! so the stage must grant `wasi = true`), then keep; `metric` → add 1 to
//! the counter `chaos_metric`, set the gauge `chaos_len` to the value's
//! length and observe it in the histogram `chaos_len_seen`, then keep;
//! `"work":N` → count to N (a fixed amount of CPU per record), then keep.
//! The setting
//! `fail_init = "true"` makes `init` fail; `print_init = "true"` makes
//! `init` print a line to stdout and one to stderr.

use std::hint::black_box;
use weir_plugin::{Filter, Record, Settings};

/// Size of each chunk allocated by `grow`.
const CHUNK: usize = 16 << 20;

/// The chaos filter; stateless.
struct Chaos;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `T` of a `"flaky_until":T` in the value.
fn flaky_until(value: &[u8]) -> Option<u128> {
    number_after(value, b"\"flaky_until\":")
}

/// The unsigned number after the first `needle` in `value`.
fn number_after<T: std::str::FromStr>(value: &[u8], needle: &[u8]) -> Option<T> {
    let at = value.windows(needle.len()).position(|w| w == needle)? + needle.len();
    let digits: Vec<u8> = value[at..]
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// The `N` of a `"work":N` in the value.
fn work(value: &[u8]) -> Option<u64> {
    number_after(value, b"\"work\":")
}

/// Counts to `n`, in a way the optimizer cannot skip.
fn busy(n: u64) {
    let mut i: u64 = 0;
    while black_box(i) < n {
        i += 1;
    }
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
        if settings.parse_or("print_init", false)? {
            println!("chaos: hello from init on stdout");
            eprintln!("chaos: hello from init on stderr");
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
        if let Some(until) = flaky_until(value) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            if now < until {
                panic!(
                    "chaos: flaky record {} fails for {} ms more",
                    record.index(),
                    until - now
                );
            }
            return Ok(true);
        }
        if contains(value, b"fail") {
            return Err("chaos: asked to fail".to_owned());
        }
        if let Some(n) = work(value) {
            busy(n);
        }
        if contains(value, b"metric") {
            weir_plugin::metrics::counter_add("chaos_metric", 1);
            weir_plugin::metrics::gauge_set("chaos_len", value.len() as f64);
            weir_plugin::metrics::histogram_observe("chaos_len_seen", value.len() as f64);
        }
        if contains(value, b"print") {
            println!("chaos: record {} printed on stdout", record.index());
            eprintln!("chaos: record {} printed on stderr", record.index());
        }
        Ok(true)
    }
}

weir_plugin::export_filter!(Chaos);
