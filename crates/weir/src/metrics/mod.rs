//! Metrics: the counters, gauges and histograms of weir's pipelines, its
//! connectors and its plugins, kept in [`prometheus_client`] families.
//!
//! A [`Metrics`] value is a shared set of metric families (cloning it
//! shares them). A pipeline registers its series in the one it is given
//! ([`PipelineBuilder::metrics`](crate::pipeline::PipelineBuilder::metrics));
//! its [`RunSummary`](crate::pipeline::RunSummary) is read from those same
//! counters. Every name weir itself uses is in [`names`]; plugin metrics
//! are prefixed with `weir_plugin_` and labelled with the plugin's name.
//!
//! [`Metrics::render`] writes the OpenMetrics text format, which is what
//! `weir run --metrics ADDR` serves. A program with its own
//! [`prometheus_client`] registry bridges weir's metrics into it, so one
//! scrape covers both:
//!
//! ```
//! use weir::metrics::Metrics;
//! use weir::metrics::prometheus_client::{encoding::text, registry::Registry};
//!
//! let metrics = Metrics::new();
//! let mut registry = Registry::default();
//! registry.register_collector(Box::new(metrics.clone()));
//!
//! // ... build pipelines with `.metrics(metrics.clone())` and run them ...
//! metrics.counter("weir_example_total", "An example.", &[]).inc();
//!
//! let mut text = String::new();
//! text::encode(&mut text, &registry)?;
//! assert!(text.contains("weir_example_total 1"));
//! # Ok::<(), std::fmt::Error>(())
//! ```

mod latency;
pub mod names;
mod process;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// The metrics library weir's families are kept in, for embedders that
/// bridge them into their own registry.
pub use prometheus_client;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::registry::Registry;

/// A counter handle: adding to it is an atomic add.
pub type Counter = prometheus_client::metrics::counter::Counter;
/// A gauge handle holding an `f64`.
pub type Gauge = prometheus_client::metrics::gauge::Gauge<f64, AtomicU64>;
/// A histogram handle.
pub type Histogram = prometheus_client::metrics::histogram::Histogram;

pub use latency::{LATENCY_BUCKETS, Latency, LatencyCounts};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The bucket layout of a histogram, fixed by the first registration of
/// its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Buckets {
    /// Durations in seconds: 1 µs to about 4 s, each bucket 4 times the last.
    Seconds,
    /// Sizes (records, bytes): 1 to 32768, each bucket twice the last.
    Sizes,
    /// The Prometheus client default: 5 ms to 10 (for values of unknown scale).
    Default,
}

fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(1e-6, 4.0, 12))
}

fn sizes() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 16))
}

fn default_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Buckets {
    fn constructor(self) -> fn() -> Histogram {
        match self {
            Buckets::Seconds => seconds,
            Buckets::Sizes => sizes,
            Buckets::Default => default_buckets,
        }
    }
}

type Labels = Vec<(String, String)>;

enum Kind {
    Counter(Family<Labels, Counter>),
    Gauge(Family<Labels, Gauge>),
    Histogram(Family<Labels, Histogram, fn() -> Histogram>),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Counter(_) => "counter",
            Kind::Gauge(_) => "gauge",
            Kind::Histogram(_) => "histogram",
        }
    }
}

struct Entry {
    help: String,
    kind: Kind,
}

#[derive(Default)]
struct Inner {
    /// By family name (a counter's without its `_total`).
    families: RwLock<BTreeMap<String, Entry>>,
    /// Names asked for as a kind other than their family's (warned once).
    conflicts: Mutex<BTreeSet<String>>,
    /// The metric names each plugin has created (bounded per plugin).
    plugin_series: Mutex<BTreeMap<String, BTreeSet<String>>>,
    /// Every gauge series by family, to read them by label
    /// ([`Metrics::gauge_values`]): a family cannot list its series.
    gauges: RwLock<BTreeMap<String, Vec<(Labels, Gauge)>>>,
}

/// A shared, thread-safe set of metric families. Cloning shares them.
///
/// Handles ([`Counter`], [`Gauge`], [`Histogram`]) are cheap to clone and
/// to update; keep them rather than looking a series up for every event.
/// A name asked for as a different kind than it was first registered as
/// gets a handle that is not exported (and one warning in the log).
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
    /// Labels put first on every series this handle names
    /// ([`Metrics::scoped`]).
    base: Arc<[(String, String)]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let families = self.read().len();
        f.debug_struct("Metrics")
            .field("families", &families)
            .finish()
    }
}

/// `base` (those of its keys `pairs` does not have) then `pairs`.
fn labels(base: &[(String, String)], pairs: &[(&str, &str)]) -> Labels {
    base.iter()
        .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
        .cloned()
        .chain(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        )
        .collect()
}

/// A counter's family name: its exposition name without `_total`.
fn counter_family(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}

impl Metrics {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle on the same families that puts `labels` first on every
    /// series it names (and reads): what a pipeline gives its connectors,
    /// so that their series carry the label `pipeline`.
    #[must_use]
    pub fn scoped(&self, labels_: &[(&str, &str)]) -> Metrics {
        Metrics {
            inner: self.inner.clone(),
            base: labels(&self.base, labels_).into(),
        }
    }

    fn labels(&self, pairs: &[(&str, &str)]) -> Labels {
        labels(&self.base, pairs)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.inner
            .families
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Finds or registers the family `name` and picks a series of it;
    /// `None` if the family is of another kind.
    fn series<T>(
        &self,
        name: &str,
        help: &str,
        new: impl FnOnce() -> Kind,
        pick: impl Fn(&Kind) -> Option<T>,
    ) -> T
    where
        T: Default,
    {
        let found = {
            let families = self.read();
            families.get(name).map(|e| pick(&e.kind))
        };
        let picked = match found {
            Some(picked) => picked,
            None => {
                let mut families = self
                    .inner
                    .families
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                let entry = families.entry(name.to_string()).or_insert_with(|| Entry {
                    help: help.to_string(),
                    kind: new(),
                });
                pick(&entry.kind)
            }
        };
        picked.unwrap_or_else(|| {
            let mut conflicts = self
                .inner
                .conflicts
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if conflicts.insert(name.to_string()) {
                let kind = self.read().get(name).map_or("?", |e| e.kind.name());
                tracing::warn!(
                    metric = name,
                    "the metric is already a {kind}: this use of it is not exported"
                );
            }
            T::default()
        })
    }

    /// Whether plugin `plugin` may update its metric `name`: yes if it has
    /// before, or if it has created fewer than `max` names so far (which
    /// `name` then joins).
    pub(crate) fn admit_plugin_series(&self, plugin: &str, name: &str, max: usize) -> bool {
        let mut all = self
            .inner
            .plugin_series
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !all.contains_key(plugin) {
            all.insert(plugin.to_string(), Default::default());
        }
        let Some(names) = all.get_mut(plugin) else {
            return false;
        };
        if names.contains(name) {
            return true;
        }
        if names.len() >= max {
            return false;
        }
        names.insert(name.to_string());
        true
    }

    /// The counter `name` (its exposition name, ending in `_total`) with
    /// `labels`, registered with `help` on first use.
    pub fn counter(&self, name: &str, help: &str, labels_: &[(&str, &str)]) -> Counter {
        self.series(
            counter_family(name),
            help,
            || Kind::Counter(Family::default()),
            |k| match k {
                Kind::Counter(f) => Some(f.get_or_create_owned(&self.labels(labels_))),
                _ => None,
            },
        )
    }

    /// The gauge `name` with `labels`, registered with `help` on first use.
    pub fn gauge(&self, name: &str, help: &str, labels_: &[(&str, &str)]) -> Gauge {
        let labels = self.labels(labels_);
        self.series(
            name,
            help,
            || Kind::Gauge(Family::default()),
            |k| match k {
                Kind::Gauge(f) => Some(f.get(&labels).map_or_else(
                    || {
                        let g = f.get_or_create_owned(&labels);
                        self.index_gauge(name, &labels, &g);
                        g
                    },
                    |g| g.clone(),
                )),
                _ => None,
            },
        )
    }

    fn index_gauge(&self, name: &str, labels: &Labels, gauge: &Gauge) {
        let mut all = self
            .inner
            .gauges
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let series = all.entry(name.to_string()).or_default();
        if !series.iter().any(|(l, _)| l == labels) {
            series.push((labels.clone(), gauge.clone()));
        }
    }

    /// The histogram `name` with `labels`, registered with `help` and
    /// `buckets` on first use.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        buckets: Buckets,
        labels_: &[(&str, &str)],
    ) -> Histogram {
        let found = self.series(
            name,
            help,
            || Kind::Histogram(Family::new_with_constructor(buckets.constructor())),
            |k| match k {
                Kind::Histogram(f) => Some(Some(f.get_or_create_owned(&self.labels(labels_)))),
                _ => None,
            },
        );
        found.unwrap_or_else(|| buckets.constructor()())
    }

    /// The current value of a counter (0 if it has no such series).
    pub fn counter_value(&self, name: &str, labels_: &[(&str, &str)]) -> u64 {
        match self.read().get(counter_family(name)).map(|e| &e.kind) {
            Some(Kind::Counter(f)) => f.get(&self.labels(labels_)).map_or(0, |c| c.get()),
            _ => 0,
        }
    }

    /// The current value of a gauge, if it has such a series.
    pub fn gauge_value(&self, name: &str, labels_: &[(&str, &str)]) -> Option<f64> {
        match self.read().get(name).map(|e| &e.kind) {
            Some(Kind::Gauge(f)) => f.get(&self.labels(labels_)).map(|g| g.get()),
            _ => None,
        }
    }

    /// The values of every series of gauge `name` that has all of
    /// `labels` (and the handle's own).
    pub fn gauge_values(&self, name: &str, labels_: &[(&str, &str)]) -> Vec<f64> {
        let wanted = self.labels(labels_);
        let all = self
            .inner
            .gauges
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        all.get(name)
            .map(|series| {
                series
                    .iter()
                    .filter(|(l, _)| wanted.iter().all(|w| l.contains(w)))
                    .map(|(_, g)| g.get())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes the series of gauge `name` with exactly `labels`, so that it
    /// is no longer exported (an info series whose labels changed).
    pub fn remove_gauge(&self, name: &str, labels_: &[(&str, &str)]) {
        let labels = self.labels(labels_);
        if let Some(Kind::Gauge(f)) = self.read().get(name).map(|e| &e.kind) {
            f.remove(&labels);
        }
        if let Some(series) = self
            .inner
            .gauges
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(name)
        {
            series.retain(|(l, _)| *l != labels);
        }
    }

    /// Every family in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self.clone()));
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
            tracing::warn!("encoding the metrics failed: {e}");
        }
        text
    }
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        process::encode(&mut encoder)?;
        for (name, entry) in self.read().iter() {
            let help = entry.help.as_str();
            match &entry.kind {
                Kind::Counter(f) => {
                    f.encode(encoder.encode_descriptor(name, help, None, f.metric_type())?)?;
                }
                Kind::Gauge(f) => {
                    f.encode(encoder.encode_descriptor(name, help, None, f.metric_type())?)?;
                }
                Kind::Histogram(f) => {
                    f.encode(encoder.encode_descriptor(name, help, None, f.metric_type())?)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_as_openmetrics() {
        let m = Metrics::new();
        let c = m.counter("a_total", "Things.", &[("stage", "s")]);
        c.inc_by(2);
        m.counter("a_total", "Things.", &[("stage", "s")]).inc_by(3);
        m.histogram("lat", "Latency.", Buckets::Seconds, &[])
            .observe(0.5);
        m.gauge("g", "A gauge.", &[("k", "a\"b")]).set(1.5);
        assert_eq!(m.counter_value("a_total", &[("stage", "s")]), 5);
        assert_eq!(m.gauge_value("g", &[("k", "a\"b")]), Some(1.5));
        let text = m.render();
        assert!(text.contains("# TYPE a counter"), "{text}");
        assert!(text.contains("a_total{stage=\"s\"} 5"), "{text}");
        assert!(text.contains("lat_count 1"), "{text}");
        assert!(text.contains("lat_sum 0.5"), "{text}");
        assert!(text.contains("g{k=\"a\\\"b\"} 1.5"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn a_name_of_another_kind_is_not_exported() {
        let m = Metrics::new();
        m.counter("x_total", "A counter.", &[]).inc();
        m.gauge("x", "A gauge.", &[]).set(7.0);
        m.histogram("x", "A histogram.", Buckets::Default, &[])
            .observe(1.0);
        let text = m.render();
        assert!(text.contains("x_total 1"), "{text}");
        // (The process's own series are in the text too: look at `x` only.)
        assert!(!text.lines().any(|l| l.starts_with("x ")), "{text}");
        assert!(!text.contains("x_count"), "{text}");
    }
}
