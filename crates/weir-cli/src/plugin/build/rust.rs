//! Rust projects: cargo, for `wasm32-wasip2`, against the SDK copy in the
//! tools directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use super::super::project::Project;
use super::super::{sdk, tools};

const TARGET: &str = "wasm32-wasip2";

/// The SDK copy a Rust project's `Cargo.toml` points at.
pub(crate) fn rust_sdk() -> anyhow::Result<PathBuf> {
    let dir = tools::dir()?.join(format!("sdk/rust/weir-plugin-{}", sdk::version()));
    sdk::write(&dir, sdk::RUST)
}

pub(super) fn build(project: &Project, out: &Path) -> anyhow::Result<()> {
    tools::rust_target(TARGET)?;
    rust_sdk()?;
    let manifest = project.dir.join("Cargo.toml");
    let package = package_name(&manifest)?;
    // cargo's own rule: `CARGO_TARGET_DIR` when set (projects then share
    // their compiled dependencies), else the project's `target/`.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| project.dir.join("target"));
    tools::step(&format!("cargo build --release --target {TARGET}"));
    tools::run(
        Command::new("cargo")
            .args(["build", "--release", "--target", TARGET, "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            // Flags meant for the host would break a wasm build.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET"),
        "cargo build",
    )?;
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    std::fs::copy(&wasm, out).with_context(|| {
        format!(
            "cargo built, but `{}` is missing (is the crate a cdylib?)",
            wasm.display()
        )
    })?;
    Ok(())
}

fn package_name(manifest: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("a Rust plugin project needs `{}`", manifest.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("`{}` is not valid TOML", manifest.display()))?;
    match table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
    {
        Some(name) => Ok(name.to_string()),
        None => bail!("`{}` has no [package] name", manifest.display()),
    }
}
