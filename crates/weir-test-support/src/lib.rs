//! Helpers shared by weir's tests and benchmarks.
//!
//! - [`plugin`] returns the path of a plugin component, building every
//!   plugin from source (`plugins/build.sh`) once per process first, so a
//!   plain `cargo test` works from a fresh clone.
//! - [`bench::cpu_time`] is the process CPU time the benchmarks report.
//! - [`process`] runs the `weir` binary (start, SIGKILL, SIGTERM, logs).
//! - [`native`] holds the example plugins' logic compiled natively, for
//!   reference results in tests and the native side of benchmarks.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub mod bench;
pub mod native;
pub mod process;

/// The repository root: the nearest directory holding `plugins/build.sh`
/// above the crate being tested (cargo sets `CARGO_MANIFEST_DIR` when it
/// runs tests and benches), else above this crate as it was compiled.
///
/// The run-time lookup matters when clones share a `CARGO_TARGET_DIR`:
/// cargo may then reuse this crate compiled in another clone, with that
/// clone's path baked in.
pub fn repo_root() -> PathBuf {
    let candidates = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|start| {
            start
                .ancestors()
                .find(|d| d.join("plugins").join("build.sh").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds every plugin, once per process.
fn built() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(e) = BUILT.get_or_init(build_plugins) {
        panic!("{e}");
    }
}

fn build_plugins() -> Result<(), String> {
    let script = repo_root().join("plugins").join("build.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script);
    // The plugins of languages other than Rust are built by `weir plugin
    // build`: use the binary of this build (target/<profile>/weir, beside
    // the test's deps/ directory) when there is one, rather than have the
    // script run cargo while cargo is running this test.
    if std::env::var_os("WEIR_BIN").is_none() {
        let sibling = std::env::current_exe().ok().and_then(|exe| {
            let bin = exe.parent()?.parent()?.join("weir");
            bin.is_file().then_some(bin)
        });
        if let Some(bin) = sibling {
            cmd.env("WEIR_BIN", bin);
        }
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the plugins failed ({}):\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The path of plugin `name` written in `language` (`rust`, `python`, …),
/// built from source: `plugins/target/<language>/<name>.wasm`, or for Rust
/// the path of [`plugin`].
///
/// # Panics
///
/// If the plugins cannot be built; the message carries the build output.
pub fn plugin_in(language: &str, name: &str) -> PathBuf {
    if language == "rust" {
        return plugin(name);
    }
    built();
    let path = repo_root()
        .join("plugins/target")
        .join(language)
        .join(format!("{name}.wasm"));
    assert!(path.exists(), "plugin {} was not built", path.display());
    path
}

/// The path of plugin `crate_name` (e.g. `amount_filter`), built from source.
///
/// # Panics
///
/// If the plugins cannot be built; the message carries the build output.
pub fn plugin(crate_name: &str) -> PathBuf {
    built();
    let path = repo_root()
        .join("plugins/target/wasm32-wasip2/release")
        .join(format!("{crate_name}.wasm"));
    assert!(path.exists(), "plugin {} was not built", path.display());
    path
}
