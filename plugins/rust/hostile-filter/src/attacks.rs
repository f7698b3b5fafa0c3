//! The attacks every hostile fixture shares: what a plugin can make the
//! host spend through its imports, and the wasm-side abuses. Included by
//! each hostile fixture with `#[path]`, so every world has the same ones.
//!
//! Settings: `attack` names the attack; `trigger` (default `t-00000007`)
//! is a byte string: the attack runs in a `process` call whose batch has a
//! record whose value contains it, and the other records are answered
//! normally. Attacks named `init_*` run in `init`.

use std::cell::RefCell;

use weir_plugin::bindings::weir::plugin::{log, metrics, state};

thread_local! {
    static SETTINGS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// Keeps the settings for later calls.
pub fn remember(settings: Vec<(String, String)>) {
    SETTINGS.with(|s| *s.borrow_mut() = settings);
}

fn setting(name: &str) -> Option<String> {
    SETTINGS.with(|s| {
        s.borrow()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

/// The configured attack.
pub fn attack() -> String {
    setting("attack").unwrap_or_default()
}

/// `init` of every hostile fixture: keeps the settings and runs an
/// `init_*` attack.
pub fn init(settings: Vec<(String, String)>) -> Result<(), String> {
    remember(settings);
    let attack = attack();
    if attack.starts_with("init_") {
        run(&attack);
    }
    Ok(())
}

/// For a batch (its values and value ends): runs a host-side or wasm-side
/// attack if a record triggers one, and returns the world's own attack to
/// answer with and the trigger record's index; `None` when the batch is to
/// be answered normally.
pub fn world_attack(values: &[u8], ends: &[u32]) -> Option<(String, usize)> {
    let attack = attack();
    let at = triggered(values, ends)?;
    if attack.starts_with("init_") || run(&attack) {
        return None;
    }
    Some((attack, at))
}

/// The index of the first record of `values`/`ends` whose value contains
/// the trigger.
pub fn triggered(values: &[u8], ends: &[u32]) -> Option<usize> {
    let trigger = setting("trigger").unwrap_or_else(|| "t-00000007".to_string());
    let needle = trigger.as_bytes();
    let mut start = 0;
    for (i, &end) in ends.iter().enumerate() {
        let value = &values[start..end as usize];
        if value.windows(needle.len()).any(|w| w == needle) {
            return Some(i);
        }
        start = end as usize;
    }
    None
}

/// Recursion on the wasm stack (wasm locals only).
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return depth;
    }
    recurse(std::hint::black_box(depth + 1)).wrapping_add(1)
}

/// Recursion with frames in linear memory (the shadow stack).
fn deep_frames(depth: u64) -> u64 {
    let pad = std::hint::black_box([depth; 64]);
    if depth == u64::MAX {
        return pad[0];
    }
    deep_frames(depth + 1).wrapping_add(pad[1])
}

/// Runs the host-side or wasm-side attack `name`; `false` if it is not one
/// of them (the world's own answer-shaped attacks).
pub fn run(name: &str) -> bool {
    match name.trim_start_matches("init_") {
        // 100,000 new keys of 1 MiB.
        "state_flood" => {
            let value = vec![7u8; 1 << 20];
            for i in 0..100_000 {
                state::set(&format!("flood-{i}"), &value);
            }
        }
        // Ten million small keys.
        "state_keys" => {
            for i in 0..10_000_000 {
                state::set(&format!("k{i}"), b"");
            }
        }
        // 4 MiB of new keys per call, every call: the state quota stops it.
        "state_growth" => {
            let value = vec![1u8; 1 << 20];
            let base = state::get("next").map_or(0, |v| v.len());
            for i in 0..4 {
                state::set(&format!("grow-{base}-{i}"), &value);
            }
            state::set("next", &vec![0u8; base + 1]);
        }
        // One 1 MiB value read back 100,000 times in one `get-many`: an
        // answer of 100 GiB if the host built it.
        "state_read_amplify" => {
            state::set("big", &vec![3u8; 1 << 20]);
            let keys = vec!["big".to_string(); 100_000];
            let _ = state::get_many(&keys);
        }
        // `set-many` with more keys than values.
        "state_many_mismatch" => {
            state::set_many(&["a".to_string(), "b".to_string()], &[vec![1u8]]);
        }
        "log_flood" => {
            for i in 0..1_000_000 {
                log::log(log::Level::Info, &format!("hostile log line {i}"));
            }
        }
        "log_huge" => log::log(log::Level::Warn, &"L".repeat(100 << 20)),
        "print_flood" => {
            for i in 0..1_000_000 {
                println!("hostile stdout line {i}");
            }
        }
        "print_huge" => println!("{}", "P".repeat(64 << 20)),
        "metric_flood" => {
            for i in 0..1_000_000 {
                metrics::counter_add(&format!("hostile_{i}"), 1);
            }
        }
        "metric_long_name" => metrics::counter_add(&"n".repeat(1 << 20), 1),
        "panic_huge" => panic!("{}", "X".repeat(1 << 20)),
        "loop" => loop {
            std::hint::black_box(0);
        },
        "memory_bomb" => {
            let mut held = Vec::new();
            loop {
                held.push(std::hint::black_box(vec![0xA5u8; 16 << 20]));
            }
        }
        "recursion" => {
            std::hint::black_box(recurse(0));
        }
        "deep_frames" => {
            std::hint::black_box(deep_frames(0));
        }
        // WASI: denied without the grant; with it, no file is visible.
        "read_file" => {
            if let Ok(bytes) = std::fs::read("/etc/passwd") {
                panic!("read {} bytes of a host file", bytes.len());
            }
        }
        "clock" => {
            std::hint::black_box(std::time::SystemTime::now());
        }
        _ => return false,
    }
    true
}
