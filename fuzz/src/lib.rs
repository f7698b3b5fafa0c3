//! Fuzz targets for weir's host boundaries, and a fuzz driver that runs on
//! stable Rust (no cargo-fuzz, no nightly, no sanitizer coverage).
//!
//! Each target is a module with `pub fn run(data: &[u8])` that must never
//! panic, loop or take long, whatever `data` is; a panic, or an input that
//! takes longer than [`driver::SLOW`], is a finding. The targets:
//!
//! - [`targets::columnar`]: a plugin's answer to a batch, as the host reads
//!   it back: the columnar records of enrichers and aggregators, input,
//!   window and error indices, scores and labels, validated by the world's
//!   decoder and applied to the batch. The answer reaches the host the way a
//!   real one does, through a call into a WebAssembly component (written
//!   here, a few instructions that hand back whatever the fuzzer put in its
//!   memory), so the canonical-ABI lifting and the host's checks are fuzzed
//!   together.
//! - [`targets::pattern`]: the event-pattern parser, and the matcher on
//!   every pattern that parses: a pattern alone, a set of patterns and
//!   matching straight from JSON text must agree with each other.
//! - [`targets::config`]: the pipeline config parser and what `weir
//!   validate` checks without the filesystem or plugins: connector options
//!   (built-in, Kafka, Kinesis, webhook), routes, patterns, error locations.
//! - [`targets::kpl`]: Kinesis KPL de-aggregation, of raw records and of
//!   protobuf bodies with a correct digest; what de-aggregates must
//!   aggregate back to the same user records.
//!
//! [`driver`] runs each target for a bounded time on a seeded, corpus-based
//! mutational loop; `fuzz/README.md` says how to run it.

pub mod driver;
pub mod input;
pub mod mutate;
pub mod targets;

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct Target {
    /// Its name: the directory of its corpus, regressions and findings.
    pub name: &'static str,
    /// Runs one input; returns a signature of what the input made the code
    /// do (which error, which outcome shape), and records its parts as
    /// [`feature`]s, so that inputs reaching new behaviour join the corpus.
    /// Panics are findings.
    pub exec: fn(&[u8]) -> u64,
    /// Makes a well-formed input from scratch (structure-aware generation).
    pub generate: fn(&mut mutate::Rng) -> Vec<u8>,
    /// Tokens worth inserting into inputs.
    pub dictionary: &'static [&'static [u8]],
    /// Longest input the mutator makes.
    pub max_len: usize,
}

/// Every target, in the order the driver runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "columnar",
        exec: targets::columnar::exec,
        generate: targets::columnar::generate,
        dictionary: targets::columnar::DICTIONARY,
        max_len: 4096,
    },
    Target {
        name: "pattern",
        exec: targets::pattern::exec,
        generate: targets::pattern::generate,
        dictionary: targets::pattern::DICTIONARY,
        max_len: 4096,
    },
    Target {
        name: "config",
        exec: targets::config::exec,
        generate: targets::config::generate,
        dictionary: targets::config::DICTIONARY,
        max_len: 4096,
    },
    Target {
        name: "kpl",
        exec: targets::kpl::exec,
        generate: targets::kpl::generate,
        dictionary: targets::kpl::DICTIONARY,
        max_len: 4096,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The `fuzz/` directory of this checkout (corpus, regressions, findings).
pub fn fuzz_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A stable 64-bit hash (FNV-1a), for signatures and finding names.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

thread_local! {
    /// Every feature seen on this thread.
    static FEATURES: std::cell::RefCell<std::collections::HashSet<u64>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
    /// Whether a feature not seen before was seen since the last
    /// [`take_novelty`].
    static NOVEL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Records `v` as a feature of the running input: something it made the
/// code do (an error of one kind, an outcome of one shape). Inputs with a
/// feature never seen before join the fuzz corpus: on stable Rust, with no
/// coverage to read, features are the driver's feedback.
pub fn feature(v: u64) {
    if FEATURES.with(|f| f.borrow_mut().insert(v)) {
        NOVEL.with(|n| n.set(true));
    }
}

/// Whether a new feature was recorded since the last call.
pub fn take_novelty() -> bool {
    NOVEL.with(|n| n.replace(false))
}

/// Mixes `v` into the signature `h`, and records `v` as a [`feature`].
pub fn mix(h: u64, v: u64) -> u64 {
    feature(v);
    combine(h, v)
}

/// Mixes `v` into the signature `h` (`v` being a signature already, made
/// of recorded features).
pub fn combine(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
}

/// A signature of an error message: its first words, leaving out numbers,
/// quoted text (in backticks or double quotes), the path after "at", and
/// words that are not plain lower-case words (echoed input), so that one
/// kind of error is one signature.
pub fn error_signature(message: &str) -> u64 {
    let mut shape = Vec::with_capacity(message.len().min(200));
    let mut quoted = false;
    for b in message.bytes().take(200) {
        match b {
            b'`' | b'"' => quoted = !quoted,
            _ if quoted || !b.is_ascii() => {}
            b'0'..=b'9' => {
                if shape.last() != Some(&b'#') {
                    shape.push(b'#');
                }
            }
            _ => shape.push(b),
        }
    }
    // "at PATH: message": the path (a pattern's, echoing input) left out.
    if let Some(at) = shape.windows(4).position(|w| w == b" at ") {
        let end = shape[at..]
            .windows(2)
            .position(|w| w == b": ")
            .map_or(shape.len(), |colon| at + colon);
        shape.drain(at + 4..end);
    }
    let words: Vec<&[u8]> = shape
        .split(|&b| b == b' ')
        .map(|w| w.strip_suffix(b",").unwrap_or(w))
        .filter(|w| {
            !w.is_empty()
                && w.len() <= 16
                && w.iter()
                    .all(|&b| b.is_ascii_lowercase() || b == b'-' || b == b'#' || b == b':')
        })
        .take(8)
        .collect();
    hash(&words.join(&b' '))
}
