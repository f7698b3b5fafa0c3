//! A small metrics registry with Prometheus text output.
//!
//! Every metric weir itself records is named in [`names`]; plugin metrics are
//! prefixed with `weir_plugin_` and labelled with the plugin name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

/// The names of the metrics weir records.
pub mod names {
    /// Records read from the source (counter; label `pipeline`).
    pub const RECORDS_IN: &str = "weir_records_in_total";
    /// Records skipped by the filter patterns (counter).
    pub const RECORDS_FILTERED: &str = "weir_records_filtered_total";
    /// Records dropped by a filter stage (counter; label `stage`).
    pub const RECORDS_DROPPED: &str = "weir_stage_records_dropped_total";
    /// Records a stage emitted (counter; label `stage`).
    pub const STAGE_RECORDS_OUT: &str = "weir_stage_records_out_total";
    /// Records that failed in a stage (counter; label `stage`).
    pub const STAGE_RECORDS_FAILED: &str = "weir_stage_records_failed_total";
    /// Plugin calls that trapped (counter; label `stage`).
    pub const STAGE_TRAPS: &str = "weir_stage_traps_total";
    /// Plugin call latency in seconds (histogram summary; label `stage`).
    pub const STAGE_CALL_SECONDS: &str = "weir_stage_call_seconds";
    /// Records written to a sink (counter; label `sink`).
    pub const SINK_RECORDS: &str = "weir_sink_records_total";
    /// Records sent to the failure destination (counter).
    pub const DEAD_LETTERS: &str = "weir_dead_letter_records_total";
    /// Batch sizes in records (histogram summary).
    pub const BATCH_RECORDS: &str = "weir_batch_records";
    /// Retries of failed plugin calls, per stage.
    pub const STAGE_RETRIES: &str = "weir_stage_retries_total";
    /// Failed batches split in two to isolate failing records, per stage.
    pub const STAGE_SPLITS: &str = "weir_stage_splits_total";
    /// Retries of failed sink writes, per sink.
    pub const SINK_RETRIES: &str = "weir_sink_retries_total";
    /// Records older than `max_record_age`, sent to the failure destination unprocessed.
    pub const RECORDS_EXPIRED: &str = "weir_records_expired_total";
    /// Windows closed by aggregator stages.
    pub const WINDOWS_CLOSED: &str = "weir_windows_closed_total";
}

type Labels = Vec<(String, String)>;

#[derive(Debug, Clone, Copy)]
enum Value {
    Counter(u64),
    Gauge(f64),
    Summary { count: u64, sum: f64, max: f64 },
}

/// A shared, thread-safe set of metrics. Cloning shares the same registry.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<BTreeMap<(String, Labels), Value>>>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, name: &str, l: &[(&str, &str)], f: impl FnOnce(Option<Value>) -> Value) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (name.to_string(), labels(l));
        let old = map.get(&key).copied();
        map.insert(key, f(old));
    }

    /// Adds `delta` to a counter.
    pub fn counter_add(&self, name: &str, l: &[(&str, &str)], delta: u64) {
        self.update(name, l, |old| match old {
            Some(Value::Counter(c)) => Value::Counter(c.saturating_add(delta)),
            _ => Value::Counter(delta),
        });
    }

    /// Sets a gauge.
    pub fn gauge_set(&self, name: &str, l: &[(&str, &str)], value: f64) {
        self.update(name, l, |_| Value::Gauge(value));
    }

    /// Records an observation (count, sum and max are kept).
    pub fn observe(&self, name: &str, l: &[(&str, &str)], value: f64) {
        self.update(name, l, |old| match old {
            Some(Value::Summary { count, sum, max }) => Value::Summary {
                count: count + 1,
                sum: sum + value,
                max: max.max(value),
            },
            _ => Value::Summary {
                count: 1,
                sum: value,
                max: value,
            },
        });
    }

    /// The current value of a counter (0 if never set).
    pub fn counter(&self, name: &str, l: &[(&str, &str)]) -> u64 {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(&(name.to_string(), labels(l))) {
            Some(Value::Counter(c)) => *c,
            _ => 0,
        }
    }

    /// The sum of a counter over all label sets.
    pub fn counter_total(&self, name: &str) -> u64 {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .filter(|((n, _), _)| n == name)
            .map(|(_, v)| if let Value::Counter(c) = v { *c } else { 0 })
            .sum()
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        for ((name, l), value) in map.iter() {
            let lbl = if l.is_empty() {
                String::new()
            } else {
                let inner: Vec<String> = l
                    .iter()
                    .map(|(k, v)| {
                        format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
                    })
                    .collect();
                format!("{{{}}}", inner.join(","))
            };
            let _ = match value {
                Value::Counter(c) => writeln!(out, "{name}{lbl} {c}"),
                Value::Gauge(g) => writeln!(out, "{name}{lbl} {g}"),
                Value::Summary { count, sum, max } => writeln!(
                    out,
                    "{name}_count{lbl} {count}\n{name}_sum{lbl} {sum}\n{name}_max{lbl} {max}"
                ),
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_and_render() {
        let m = Metrics::new();
        m.counter_add("a_total", &[("stage", "s")], 2);
        m.counter_add("a_total", &[("stage", "s")], 3);
        m.observe("lat", &[], 0.5);
        assert_eq!(m.counter("a_total", &[("stage", "s")]), 5);
        let text = m.render_prometheus();
        assert!(text.contains("a_total{stage=\"s\"} 5"), "{text}");
        assert!(text.contains("lat_count 1"), "{text}");
    }
}
