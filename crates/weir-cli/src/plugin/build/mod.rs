//! `weir plugin build`: runs a project's toolchain and reports what it made.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use weir::plugin::{EngineConfig, Grants};

use super::inspect::Start;
use super::project::{Language, Project};
use super::{sdk, tools};

mod c;
mod component;
mod go;
mod js;
mod python;
mod rust;

pub(crate) use rust::rust_sdk;

/// Builds the project in `dir` into its component (`out`, else the
/// project's `target/NAME.wasm`) and prints the component's path, size,
/// world and whether it needs WASI.
pub(crate) fn build(dir: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let project = Project::read(dir)?;
    let started = Instant::now();
    let out = match out {
        Some(out) => std::path::absolute(out)
            .with_context(|| format!("cannot resolve `{}`", out.display()))?,
        None => project.component(),
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    match project.language {
        Language::Rust => rust::build(&project, &out)?,
        Language::Python => python::build(&project, &out)?,
        Language::Js => js::build(&project, &out)?,
        Language::C => c::build(&project, &out)?,
        Language::Go => go::build(&project, &out)?,
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

/// Where a build keeps its intermediate files: `obj/NAME/` beside the
/// component.
fn work_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let name = out
        .file_stem()
        .with_context(|| format!("`{}` names no file", out.display()))?;
    let dir = out.with_file_name("obj").join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    Ok(dir)
}

/// The WIT package, written into the tools directory.
fn wit_dir() -> anyhow::Result<PathBuf> {
    sdk::install("wit", sdk::WIT)
}

/// Where a toolchain writes the component before [`publish`] moves it to
/// `out`, so a failed build never leaves half a component.
fn staging(out: &Path) -> PathBuf {
    out.with_extension("wasm.tmp")
}

/// Moves the component a toolchain wrote to [`staging`] into `out`.
fn publish(out: &Path) -> anyhow::Result<()> {
    std::fs::rename(staging(out), out).with_context(|| format!("cannot write `{}`", out.display()))
}

/// Writes `bytes` to `out` through [`staging`].
fn write_component(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = staging(out);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    publish(out)
}
