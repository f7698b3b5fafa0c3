//! Plugin kinds and detecting which one a component implements.

use std::fmt;
use std::str::FromStr;

use super::{PluginError, WIT_PACKAGE, WIT_VERSION};

/// The kind of a plugin: which `weir:plugin` world it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// Keeps or drops each record (world `filter`).
    Filter,
    /// Maps each record to zero or more records (world `enricher`).
    Enricher,
    /// Scores each record (world `scorer`).
    Scorer,
    /// Computes a DeepRacer-style reward per step (world `reward`).
    Reward,
    /// Folds records into event-time windows and emits records when a
    /// window closes (world `aggregator`).
    Aggregator,
}

impl PluginKind {
    /// Every kind, in a fixed order.
    pub const ALL: [PluginKind; 5] = [
        PluginKind::Filter,
        PluginKind::Enricher,
        PluginKind::Scorer,
        PluginKind::Reward,
        PluginKind::Aggregator,
    ];

    /// The world name, e.g. `filter`.
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::Filter => "filter",
            PluginKind::Enricher => "enricher",
            PluginKind::Scorer => "scorer",
            PluginKind::Reward => "reward",
            PluginKind::Aggregator => "aggregator",
        }
    }

    /// The interface this kind exports, without package or version.
    pub fn interface(self) -> &'static str {
        match self {
            PluginKind::Filter => "filter-plugin",
            PluginKind::Enricher => "enricher-plugin",
            PluginKind::Scorer => "scorer-plugin",
            PluginKind::Reward => "reward-plugin",
            PluginKind::Aggregator => "aggregator-plugin",
        }
    }

    /// The world name with its indefinite article, e.g. `a filter` or
    /// `an aggregator`, for messages.
    pub(crate) fn with_article(self) -> &'static str {
        match self {
            PluginKind::Filter => "a filter",
            PluginKind::Enricher => "an enricher",
            PluginKind::Scorer => "a scorer",
            PluginKind::Reward => "a reward",
            PluginKind::Aggregator => "an aggregator",
        }
    }

    /// The fully qualified export name, e.g. `weir:plugin/filter-plugin@0.2.0`.
    pub fn export_name(self) -> String {
        format!("{WIT_PACKAGE}/{}@{WIT_VERSION}", self.interface())
    }

    /// The name of the optional export that takes packed batches, e.g.
    /// `weir:plugin/packed-filter-plugin@0.2.0` (only filters, enrichers
    /// and scorers have one).
    pub(crate) fn packed_export_name(self) -> String {
        format!("{WIT_PACKAGE}/packed-{}@{WIT_VERSION}", self.interface())
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.world())
    }
}

impl FromStr for PluginKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PluginKind::ALL
            .into_iter()
            .find(|k| k.world() == s)
            .ok_or_else(|| {
                format!(
                    "unknown plugin kind `{s}` (expected filter, enricher, scorer, reward or aggregator)"
                )
            })
    }
}

/// Decides which kind a component implements from the names it exports.
///
/// Exactly one plugin interface of this host's version must be exported. An
/// export of a plugin interface at another version is reported as a version
/// mismatch naming both versions.
pub(crate) fn detect<'a>(
    name: &str,
    exports: impl IntoIterator<Item = &'a str>,
) -> Result<PluginKind, PluginError> {
    let exports: Vec<&str> = exports.into_iter().collect();
    let found: Vec<PluginKind> = PluginKind::ALL
        .into_iter()
        .filter(|k| exports.contains(&k.export_name().as_str()))
        .collect();
    match found.as_slice() {
        [kind] => return Ok(*kind),
        [] => {}
        several => {
            return Err(PluginError::NoWorld {
                name: name.to_string(),
                expected: "exactly one plugin interface".to_string(),
                found: several
                    .iter()
                    .map(|k| k.export_name())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    for kind in PluginKind::ALL {
        let prefix = format!("{WIT_PACKAGE}/{}@", kind.interface());
        if let Some(other) = exports.iter().find(|e| e.starts_with(&prefix)) {
            return Err(PluginError::VersionMismatch {
                name: name.to_string(),
                expected: kind.export_name(),
                found: (*other).to_string(),
            });
        }
    }
    Err(PluginError::NoWorld {
        name: name.to_string(),
        expected: PluginKind::ALL
            .iter()
            .map(|k| format!("`{}`", k.export_name()))
            .collect::<Vec<_>>()
            .join(", "),
        found: if exports.is_empty() {
            "nothing".to_string()
        } else {
            exports
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_kind() {
        for kind in PluginKind::ALL {
            let export = kind.export_name();
            let got = detect("p", [export.as_str(), "wasi:cli/run@0.2.0"]);
            assert_eq!(got.ok(), Some(kind));
        }
    }

    #[test]
    fn every_kind_parses_from_its_world_name() {
        for kind in PluginKind::ALL {
            assert_eq!(kind.world().parse::<PluginKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.world());
        }
        assert_eq!(
            PluginKind::Aggregator.export_name(),
            "weir:plugin/aggregator-plugin@0.2.0"
        );
        let err = "window".parse::<PluginKind>().err().unwrap_or_default();
        assert!(err.contains("aggregator"), "{err}");
    }

    #[test]
    fn detects_an_aggregator_among_other_exports() {
        let got = detect(
            "p",
            ["weir:plugin/aggregator-plugin@0.2.0", "wasi:cli/run@0.2.0"],
        );
        assert_eq!(got.ok(), Some(PluginKind::Aggregator));
        let msg = detect("p", ["weir:plugin/aggregator-plugin@0.1.0"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("aggregator-plugin@0.1.0"), "{msg}");
    }

    #[test]
    fn names_both_versions_on_mismatch() {
        let err = detect("p", ["weir:plugin/filter-plugin@0.1.0"])
            .err()
            .map(|e| e.to_string());
        let msg = err.unwrap_or_default();
        assert!(msg.contains("weir:plugin/filter-plugin@0.1.0"), "{msg}");
        assert!(msg.contains("0.2.0"), "{msg}");
    }

    #[test]
    fn none_found_lists_exports() {
        let msg = detect("p", ["foo:bar/baz"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("implements no weir plugin world"), "{msg}");
        assert!(msg.contains("foo:bar/baz"), "{msg}");
    }
}
