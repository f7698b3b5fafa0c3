//! What a plugin makes of sample records, as one JSON outcome per record,
//! compared with expected outcomes.
//!
//! The same outcomes serve three purposes: `weir plugin test` prints them
//! (and with `--expect`, checks them), a stage's [`Check`] gates every new
//! plugin version before a reload swaps it in, and `weir replay` diffs a
//! candidate's outcomes over recorded input against recorded output.
//!
//! An outcome is one JSON object per input record, in input order, with
//! the record's `line` (its offset: the line number it was read from):
//!
//! | `outcome` | fields | meaning |
//! |---|---|---|
//! | `kept` | | a filter kept the record |
//! | `dropped` | | the plugin emitted nothing for it |
//! | `scored` | `score`, `labels` | a scorer or reward function's result |
//! | `emitted` | `records`: `[{value, headers?}]` | an enricher's outputs |
//! | `error` | `error` | the plugin failed this record |
//! | `trap` | `error` | the whole call failed |
//! | `folded` | `window` (start) | an aggregator folded it into a window |
//!
//! then, for aggregators, one `emitted` outcome per closed window with its
//! `window` (`key`, `start`, `end`). Expected outcomes match when they are
//! the same JSON, numbers agree within a relative 1e-9 (scores computed in
//! another language may differ in the last bits), and an expected `error`
//! text is found within the actual one (so an expectation need not repeat a
//! traceback).

mod expect;
mod input;
mod outcomes;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Record;
use crate::plugin::{PluginInstance, PluginKind};

pub use expect::{TOLERANCE, diff, matches, read_expected};
pub use input::{Fields, line, read_records};
pub use outcomes::{per_record, process, windows};

/// An error reading sample records or expected outcomes, or a check whose
/// outcomes differ.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A line of an expected-outcomes file is not JSON.
    #[error("{path}:{line}: not a JSON value: {error}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// Why.
        error: serde_json::Error,
    },
    /// The outcomes differ from the expected ones.
    #[error("{count} of {total} outcomes differ from `{expect}`: {}", first_lines(.differences))]
    Differs {
        /// The expected-outcomes file.
        expect: PathBuf,
        /// How many outcomes differ.
        count: usize,
        /// How many outcomes were compared.
        total: usize,
        /// The differences, as [`diff`] writes them.
        differences: Vec<String>,
    },
}

/// The first difference (three lines at most), for an error message.
fn first_lines(differences: &[String]) -> String {
    differences
        .iter()
        .take(3)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sample records and the outcomes a plugin must give for them: a stage's
/// `check = { input = "...", expect = "..." }`, run on every new plugin
/// version before it is swapped in.
#[derive(Debug, Clone)]
pub struct Check {
    /// The sample records.
    pub input: Vec<Record>,
    /// The expected outcomes.
    pub expect: Vec<Value>,
    /// Where the expected outcomes came from (for messages).
    pub expect_path: PathBuf,
    /// Records per call.
    pub batch_size: usize,
    /// Window width for aggregators, in milliseconds.
    pub window_ms: i64,
}

impl Check {
    /// Reads the sample records (JSON lines; `fields` names the key and
    /// event-time fields) and the expected outcomes.
    pub fn load(input: &Path, expect: &Path, fields: &Fields<'_>) -> Result<Check, CheckError> {
        let file = std::fs::File::open(input).map_err(|error| CheckError::Read {
            path: input.to_path_buf(),
            error,
        })?;
        Ok(Check {
            input: read_records(std::io::BufReader::new(file), fields).map_err(|error| {
                CheckError::Read {
                    path: input.to_path_buf(),
                    error,
                }
            })?,
            expect: read_expected(expect)?,
            expect_path: expect.to_path_buf(),
            batch_size: 100,
            window_ms: 60_000,
        })
    }

    /// Runs `instance` over the sample records; an error lists what
    /// differs from the expected outcomes.
    pub fn run(&self, instance: &mut PluginInstance) -> Result<(), CheckError> {
        let got = outcomes_of(instance, &self.input, self.batch_size, self.window_ms);
        compare(&self.expect, &got, &self.expect_path)
    }
}

/// `instance`'s outcomes over `records`, `batch_size` per call: windows of
/// `window_ms` for an aggregator.
pub fn outcomes_of(
    instance: &mut PluginInstance,
    records: &[Record],
    batch_size: usize,
    window_ms: i64,
) -> Vec<Value> {
    let batch = batch_size.max(1);
    match instance.plugin().kind() {
        PluginKind::Aggregator => windows(instance, records, batch, window_ms),
        _ => process(instance, records, batch),
    }
}

/// Compares outcomes with the expected ones (read from `expect`).
pub fn compare(want: &[Value], got: &[Value], expect: &Path) -> Result<(), CheckError> {
    let differences = diff(want, got);
    if differences.is_empty() {
        return Ok(());
    }
    Err(CheckError::Differs {
        expect: expect.to_path_buf(),
        count: differences
            .iter()
            .filter(|l| l.starts_with("outcome "))
            .count(),
        total: want.len().max(got.len()),
        differences,
    })
}
