//! The plugin engine: loading WebAssembly components and calling them.
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
mod engine;
mod error;
mod host;
mod instance;
mod kind;
mod marshal;
mod options;
mod outcome;
mod reward;

pub use engine::{Engine, EngineConfig};
pub use error::{PluginError, TrapKind};
pub use instance::{CallFailure, Plugin, PluginInfo, PluginInstance};
pub use kind::PluginKind;
pub use options::{Grants, InstanceOptions, Limits};
pub use outcome::{FailedRecord, Outcome};

/// The WIT package plugins are built against.
pub const WIT_PACKAGE: &str = "weir:plugin";
/// The version of [`WIT_PACKAGE`] this host provides.
pub const WIT_VERSION: &str = "0.1.0";
