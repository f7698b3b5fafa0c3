//! What a plugin made of each input record, as JSON outcomes.

use std::collections::{BTreeMap, HashMap};

use crate::envelope::bytes_json;
use crate::plugin::{Outcome, PluginInstance, PluginKind, TumblingWindows};
use crate::{Batch, Header, Position, Record};
use serde_json::{Value, json};

use super::input::line;

/// Runs a filter, enricher, scorer or reward function over `records`,
/// `batch_size` per call: one outcome per record, in input order.
pub fn process(instance: &mut PluginInstance, records: &[Record], batch_size: usize) -> Vec<Value> {
    let kind = instance.plugin().kind();
    let mut lines = Vec::with_capacity(records.len());
    for chunk in records.chunks(batch_size) {
        let result = instance.process(Batch::new("input", "0", chunk.to_vec()));
        let error = result.as_ref().err().map(|f| f.error.to_string());
        lines.extend(per_record(
            kind,
            chunk,
            result
                .as_ref()
                .map_err(|_| error.as_deref().unwrap_or_default()),
        ));
    }
    lines
}

/// The outcome of each of `inputs` (one call's batch, in order) given the
/// call's result: its outcome, or the error that failed the whole call.
/// Outputs are matched to inputs by position.
pub fn per_record(
    kind: PluginKind,
    inputs: &[Record],
    result: Result<&Outcome, &str>,
) -> Vec<Value> {
    let outcome = match result {
        Ok(o) => o,
        Err(error) => {
            return inputs
                .iter()
                .map(|r| json!({"line": line(r), "outcome": "trap", "error": error}))
                .collect();
        }
    };
    let mut outputs: HashMap<&Position, Vec<&Record>> = HashMap::new();
    for r in &outcome.records {
        outputs.entry(&r.position).or_default().push(r);
    }
    let errors: HashMap<&Position, &str> = outcome
        .failed
        .iter()
        .map(|f| (&f.record.position, f.error.as_str()))
        .collect();
    inputs
        .iter()
        .map(|r| {
            let n = line(r);
            if let Some(e) = errors.get(&r.position) {
                json!({"line": n, "outcome": "error", "error": e})
            } else if let Some(outs) = outputs.get(&r.position) {
                describe(n, kind, outs)
            } else {
                json!({"line": n, "outcome": "dropped"})
            }
        })
        .collect()
}

fn describe(line: u64, kind: PluginKind, outs: &[&Record]) -> Value {
    match kind {
        PluginKind::Filter => json!({"line": line, "outcome": "kept"}),
        PluginKind::Scorer | PluginKind::Reward => {
            let r = outs[0];
            json!({"line": line, "outcome": "scored", "score": r.score, "labels": r.labels})
        }
        PluginKind::Enricher | PluginKind::Aggregator => {
            let emitted: Vec<Value> = outs.iter().map(|r| emitted(&r.value, &r.headers)).collect();
            json!({"line": line, "outcome": "emitted", "records": emitted})
        }
    }
}

fn emitted(value: &[u8], headers: &[Header]) -> Value {
    let mut v = json!({"value": bytes_json(value)});
    if !headers.is_empty() {
        v["headers"] = headers
            .iter()
            .map(|h| {
                let text = String::from_utf8_lossy(&h.value).into_owned();
                (h.name.to_string(), Value::String(text))
            })
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    v
}

/// Runs an aggregator over `records` in tumbling windows of `window_ms`
/// by record key and time, as a pipeline stage would: one outcome per
/// record (`folded` into a window, or `error`), then, once every record is
/// in, one `emitted` outcome per window, by key and start.
pub fn windows(
    instance: &mut PluginInstance,
    records: &[Record],
    batch_size: usize,
    window_ms: i64,
) -> Vec<Value> {
    let mut windows = TumblingWindows::new(window_ms);
    let mut lines = Vec::with_capacity(records.len());
    for chunk in records.chunks(batch_size) {
        let batch = Batch::new("input", "0", chunk.to_vec());
        match windows.fold(instance, &batch) {
            Ok((groups, acc)) => {
                let errors: BTreeMap<usize, &str> =
                    acc.errors.iter().map(|(i, e)| (*i, e.as_str())).collect();
                let mut starts = vec![0; chunk.len()];
                for g in &groups {
                    g.records.iter().for_each(|&i| starts[i as usize] = g.start);
                }
                for (i, r) in chunk.iter().enumerate() {
                    let n = line(r);
                    lines.push(match errors.get(&i) {
                        Some(e) => json!({"line": n, "outcome": "error", "error": e}),
                        None => json!({"line": n, "outcome": "folded", "window": starts[i]}),
                    });
                }
            }
            Err(e) => {
                let error = e.to_string();
                lines.extend(
                    chunk
                        .iter()
                        .map(|r| json!({"line": line(r), "outcome": "trap", "error": error})),
                );
            }
        }
    }
    let closed = windows.closed();
    let mut outputs: Vec<Vec<Value>> = vec![Vec::new(); closed.len()];
    match instance.emit(&closed) {
        Ok(records) => {
            for r in records {
                if let Some(out) = outputs.get_mut(r.window) {
                    out.push(emitted(&r.value, &r.headers));
                }
            }
        }
        Err(e) => {
            let error = e.to_string();
            lines.push(json!({"outcome": "trap", "call": "emit", "error": error}));
            return lines;
        }
    }
    for (w, records) in closed.iter().zip(outputs) {
        let key = String::from_utf8_lossy(&w.key);
        lines.push(json!({
            "window": {"key": key, "start": w.start, "end": w.end},
            "outcome": "emitted",
            "records": records,
        }));
    }
    lines
}
