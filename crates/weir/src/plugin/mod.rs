//! The plugin engine: loading WebAssembly components and calling them.
//!
//! Filters, enrichers, scorers and reward functions are called with
//! [`PluginInstance::process`]; aggregators with
//! [`PluginInstance::accumulate`] and [`PluginInstance::emit`] (see
//! [`WindowGroup`]).
//!
//! A plugin is treated as an adversary. The wasm side is sandboxed by
//! wasmtime (a call deadline, a memory cap, no imports beyond weir's host
//! services unless WASI is granted); what a plugin can make the *host*
//! spend is bounded by [`Limits`]: state on disk and per call, records and
//! bytes emitted per call, log lines, message lengths, metric series. Each
//! is checked before the host allocates for it, and a call past one fails
//! with [`PluginError::Quota`], which names the limit. A plugin's answer is
//! validated before any of it is applied (indices in range and given once,
//! offsets within their buffers, finite scores), and the host's work on it
//! is linear in the batch and the answer.
//!
//! ```no_run
//! use weir::plugin::{Engine, Grants, InstanceOptions};
//! use weir::{Batch, Position, Record};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let plugin = engine.load_file("amount_filter.wasm".as_ref(), Grants::default())?;
//! let mut instance = plugin.instantiate(InstanceOptions::with_settings([("min_amount", "100")]))?;
//! let batch = Batch::new("transactions", "0", vec![
//!     Record::new(br#"{"amount": 250.0}"#.to_vec(), Position::Offset(0), 0),
//! ]);
//! let outcome = instance.process(batch).map_err(|f| f.error)?;
//! assert_eq!(outcome.records.len(), 1);
//! # Ok(()) }
//! ```

mod bindings;
mod budget;
mod cache;
mod engine;
mod error;
mod host;
mod instance;
mod kind;
mod limiter;
mod marshal;
mod options;
mod outcome;
mod stdio;
mod tumbling;
mod verdict;
mod warm;
mod window;
mod worlds;

pub use cache::CacheConfig;
pub use engine::{Engine, EngineConfig};
pub use error::{PluginError, QuotaExceeded, TrapKind};
pub use instance::{CallFailure, Plugin, PluginInfo, PluginInstance, digest_of};
pub use kind::PluginKind;
pub use options::{Grants, InstanceOptions, Limits};
pub use outcome::{FailedRecord, Outcome};
pub use tumbling::TumblingWindows;
pub use verdict::{EmittedRecord, Verdict};
pub use window::{Accumulated, ClosedWindow, Emitted, WindowGroup, WindowOutput};

/// The WIT package plugins are built against.
pub const WIT_PACKAGE: &str = "weir:plugin";
/// The version of [`WIT_PACKAGE`] this host provides.
pub const WIT_VERSION: &str = "0.2.0";

/// Where the time of a plugin call goes, for the boundary-cost figures.
/// A diagnostic, not a pass/fail test:
/// `cargo test --release -p weir --lib boundary_breakdown -- --ignored --nocapture`
#[cfg(test)]
mod boundary_breakdown {
    use std::time::Instant;

    use super::marshal::BatchBuffers;
    use super::{Engine, Grants, InstanceOptions};
    use crate::connectors::generator::{Workload, generator};
    use crate::{Batch, Position, Record};

    #[test]
    #[ignore = "diagnostic: prints per-record costs"]
    fn boundary_breakdown() -> Result<(), Box<dyn std::error::Error>> {
        const N: usize = 1000;
        const ROUNDS: u32 = 1000;
        let engine = Engine::new()?;
        let plugin =
            engine.load_file(&weir_test_support::plugin("test_bare"), Grants::default())?;
        let mut inst = plugin.instantiate(InstanceOptions::default())?;
        let mut g = generator(Workload::Transactions, 42);
        let records: Vec<Record> = (0..N as u64)
            .map(|i| {
                let r = g.next_record();
                Record::new(r.value, Position::Offset(i), r.timestamp_ms).with_key(r.key)
            })
            .collect();
        let per_record =
            |t: Instant| t.elapsed().as_nanos() as f64 / (f64::from(ROUNDS) * N as f64);

        let mut buffers = BatchBuffers::default();
        let t = Instant::now();
        for _ in 0..ROUNDS {
            std::hint::black_box(buffers.pack("tx", "0", &records));
        }
        let pack = per_record(t);

        let (live, scratch) = inst.live_and_buffers()?;
        let batch = Batch::new("tx", "0", records.clone());
        let t = Instant::now();
        for _ in 0..ROUNDS {
            std::hint::black_box(live.guest.process(&mut live.store, scratch, &batch));
        }
        let call = per_record(t);

        let mut process = 0u128;
        for _ in 0..ROUNDS {
            let batch = Batch::new("tx", "0", records.clone());
            let t = Instant::now();
            let out = inst.process(batch).map_err(|f| f.error)?;
            process += t.elapsed().as_nanos();
            std::hint::black_box(out);
        }
        let process = process as f64 / (f64::from(ROUNDS) * N as f64);
        eprintln!(
            "per record at batch {N}: pack {pack:.1} ns, pack + component call + decision {call:.1} ns, \
             whole process() {process:.1} ns"
        );
        Ok(())
    }
}
