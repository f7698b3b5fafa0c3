//! `weir plugin build`: runs a project's toolchain and reports what it made.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use weir::plugin::{EngineConfig, Grants};

use super::inspect::Start;
use super::project::{Language, Project};
use super::{sdk, tools};

const RUST_TARGET: &str = "wasm32-wasip2";

/// Builds the project in `dir` into its component and prints the
/// component's path, size, world and whether it needs WASI.
pub(crate) fn build(dir: &Path) -> anyhow::Result<()> {
    let project = Project::read(dir)?;
    let started = Instant::now();
    let out = project.component();
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    match project.language {
        Language::Rust => rust(&project, &out)?,
        Language::Python => python(&project, &out)?,
    }
    let built = started.elapsed();
    tools::step("checking the component (compiled once, then kept in the compiled-code cache)");
    let engine = crate::engine::engine(EngineConfig::default())?;
    let plugin = engine.load_file(&out, Grants::none())?;
    plugin.expect_kind(project.kind)?;
    let start = Start::of(&plugin);
    let info = plugin.info();
    println!("component   {}", out.display());
    println!("size        {} bytes", info.size);
    println!("world       weir:plugin/{}@{}", info.kind, info.version);
    println!("needs WASI  {}", start.describe());
    println!("built in    {:.1} s", built.as_secs_f64());
    Ok(())
}

/// The SDK copy a Rust project's `Cargo.toml` points at.
pub(crate) fn rust_sdk() -> anyhow::Result<PathBuf> {
    let dir = tools::dir()?.join(format!("sdk/rust/weir-plugin-{}", sdk::version()));
    sdk::write(&dir, sdk::RUST)
}

fn rust(project: &Project, out: &Path) -> anyhow::Result<()> {
    tools::rust_target(RUST_TARGET)?;
    rust_sdk()?;
    let manifest = project.dir.join("Cargo.toml");
    let package = package_name(&manifest)?;
    let target_dir = project.dir.join("target");
    tools::step(&format!("cargo build --release --target {RUST_TARGET}"));
    tools::run(
        Command::new("cargo")
            .args([
                "build",
                "--release",
                "--target",
                RUST_TARGET,
                "--manifest-path",
            ])
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
        .join(RUST_TARGET)
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

fn python(project: &Project, out: &Path) -> anyhow::Result<()> {
    let componentize = tools::componentize_py()?;
    let tools_dir = tools::dir()?;
    let sdk_dir = sdk::write(
        &tools_dir.join(format!("sdk/python/{}", sdk::version())),
        sdk::PYTHON,
    )?;
    let wit = sdk::write(
        &tools_dir.join(format!("sdk/wit/{}", sdk::version())),
        sdk::WIT,
    )?;
    if !project.dir.join("app.py").is_file() {
        bail!(
            "a Python plugin project needs `app.py` in `{}`",
            project.dir.display()
        );
    }
    let tmp = out.with_extension("wasm.tmp");
    tools::step(&format!(
        "componentize-py {}: the Python interpreter and the plugin into one component \
         (about 20 s)",
        tools::COMPONENTIZE_PY
    ));
    tools::run(
        Command::new(&componentize)
            .current_dir(&project.dir)
            .arg("-d")
            .arg(&wit)
            .args(["-w", project.kind.world(), "componentize", "-p"])
            .arg(&project.dir)
            .arg("-p")
            .arg(&sdk_dir)
            .arg("app")
            .arg("-o")
            .arg(&tmp),
        "componentize-py",
    )?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write `{}`", out.display()))?;
    Ok(())
}
