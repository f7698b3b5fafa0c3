//! The guest SDKs and the WIT, carried inside the `weir` binary so that a
//! plugin project builds anywhere: `weir plugin build` writes them into the
//! tools directory and builds against that copy.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Files of one SDK: path relative to its root, and contents.
pub(crate) type Files = &'static [(&'static str, &'static str)];

macro_rules! files {
    ($root:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $root, "/", $path)))),*]
    };
}

/// The WIT package `weir:plugin`.
pub(crate) const WIT: Files = files!("../weir-plugin/wit": "types.wit", "worlds.wit");

/// The Rust SDK crate, `weir-plugin`, with its WIT.
pub(crate) const RUST: Files = files!("../weir-plugin":
    "Cargo.toml",
    "src/aggregator.rs",
    "src/enricher.rs",
    "src/filter.rs",
    "src/host.rs",
    "src/lib.rs",
    "src/record.rs",
    "src/reward.rs",
    "src/scorer.rs",
    "src/settings.rs",
    "wit/types.wit",
    "wit/worlds.wit",
);

/// The Python SDK package, `weir_plugin`.
pub(crate) const PYTHON: Files = files!("../../plugins/python/sdk":
    "weir_plugin/__init__.py",
    "weir_plugin/_aggregator.py",
    "weir_plugin/_kinds.py",
    "weir_plugin/_record.py",
    "weir_plugin/_reward.py",
    "weir_plugin/_settings.py",
    "weir_plugin/log.py",
    "weir_plugin/metrics.py",
    "weir_plugin/state.py",
);

/// The JavaScript SDK, which `weir plugin new` writes into a project.
pub(crate) const JS: Files = files!("../../plugins/js/sdk":
    "aggregator.js",
    "bytes.js",
    "console.js",
    "emitter.js",
    "errors.js",
    "kinds.js",
    "log.js",
    "metrics.js",
    "record.js",
    "reward.js",
    "settings.js",
    "state.js",
    "weir.js",
);

/// The pinned JavaScript build tools (componentize-js), installed with
/// `npm ci`.
pub(crate) const JS_TOOLS: Files = &[("package.json", JS_PACKAGE), ("package-lock.json", JS_LOCK)];
/// `package.json` of the JavaScript build tools.
const JS_PACKAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../plugins/js/package.json"
));
/// The lockfile of the JavaScript build tools: an install is current when
/// it was made from this one.
pub(crate) const JS_LOCK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../plugins/js/package-lock.json"
));

/// The C SDK, compiled with every C plugin.
pub(crate) const C: Files = files!("../../plugins/c/sdk":
    "weir_json.c",
    "weir_json.h",
    "weir_plugin.c",
    "weir_plugin.h",
);

/// The Go SDK, which `weir plugin new` writes into a project.
pub(crate) const GO: Files = files!("../../plugins/go/sdk":
    "abi.go",
    "filter.go",
    "json.go",
    "log.go",
    "memory.go",
    "record.go",
    "sdk.go",
    "settings.go",
);

/// The componentize-js version `JS_TOOLS` pins.
pub(crate) fn componentize_js_version() -> anyhow::Result<String> {
    let json: serde_json::Value = serde_json::from_str(JS_PACKAGE)?;
    json["devDependencies"]["@bytecodealliance/componentize-js"]
        .as_str()
        .map(str::to_string)
        .context("the embedded package.json pins no componentize-js")
}

/// The WIT package version, which names the written copies.
pub(crate) fn version() -> &'static str {
    weir::plugin::WIT_VERSION
}

/// Writes the SDK `files` of `language` into the tools directory
/// (`sdk/LANGUAGE/VERSION`) and returns where.
pub(crate) fn install(language: &str, files: Files) -> anyhow::Result<PathBuf> {
    write(
        &super::tools::dir()?
            .join("sdk")
            .join(language)
            .join(version()),
        files,
    )
}

/// Writes `files` under `dir`, leaving files whose contents are already
/// right untouched (so incremental builds stay incremental).
pub(crate) fn write(dir: &Path, files: Files) -> anyhow::Result<PathBuf> {
    for (rel, contents) in files {
        let path = dir.join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|c| c == *contents) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDKs written by hand against the WIT (Go's exports and imports,
    /// JavaScript's imports) name the WIT package's version.
    #[test]
    fn hand_written_sdks_name_the_wit_version() {
        let current = format!("weir:plugin/log@{}", version());
        for (sdk, files) in [("go", GO), ("js", JS)] {
            let all: String = files.iter().map(|(_, c)| *c).collect();
            assert!(all.contains(&current), "{sdk} SDK names `{current}`");
            for (at, _) in all.match_indices("weir:plugin/") {
                let name: String = all[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !"\"'#`".contains(*c))
                    .collect();
                assert!(
                    name.ends_with(&format!("@{}", version())) || !name.contains('@'),
                    "{sdk} SDK names `{name}`, not version {}",
                    version()
                );
            }
        }
    }

    /// Every source file of each SDK is carried, so a file added to an SDK
    /// cannot be forgotten here.
    #[test]
    fn every_sdk_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (dir, ext, files) in [
            ("../weir-plugin/src", "rs", RUST),
            ("../weir-plugin/wit", "wit", RUST),
            ("../../plugins/python/sdk/weir_plugin", "py", PYTHON),
            ("../../plugins/js/sdk", "js", JS),
            ("../../plugins/c/sdk", "c", C),
            ("../../plugins/c/sdk", "h", C),
            ("../../plugins/go/sdk", "go", GO),
        ] {
            let on_disk = std::fs::read_dir(root.join(dir))
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter(|e| e.path().extension().is_some_and(|x| x == ext))
                        .filter(|e| !e.file_name().to_string_lossy().ends_with("_test.go"))
                        .count()
                })
                .unwrap_or(0);
            let embedded = files
                .iter()
                .filter(|(p, _)| p.ends_with(&format!(".{ext}")))
                .count();
            assert_eq!(on_disk, embedded, "{dir}: files on disk and embedded");
        }
    }
}
