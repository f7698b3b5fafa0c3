//! Go projects: standard Go for `wasip1` as a reactor (`go:wasmexport`),
//! then the component, its WASI preview1 calls adapted to WASI 0.2.

use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

use super::super::project::Project;
use super::super::tools;
use super::component::{self, Metadata, World};

pub(super) fn build(project: &Project, out: &Path) -> anyhow::Result<()> {
    let go = tools::go()?;
    let work = super::work_dir(out)?;
    let core = work.join("core.wasm");
    let core = std::path::absolute(&core)
        .with_context(|| format!("cannot resolve `{}`", core.display()))?;
    tools::step("go build (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared)");
    tools::run(
        Command::new(&go)
            .current_dir(&project.dir)
            .args(["build", "-buildmode=c-shared", "-trimpath", "-o"])
            .arg(&core)
            .arg(".")
            // Never download another toolchain; build for WASI preview1.
            .env("GOTOOLCHAIN", "local")
            .env("GOOS", "wasip1")
            .env("GOARCH", "wasm")
            .env_remove("GOFLAGS"),
        "go build",
    )?;
    let core = std::fs::read(&core).with_context(|| format!("cannot read `{}`", core.display()))?;
    let world = World::of(&super::wit_dir()?, project.kind)?;
    super::write_component(
        out,
        &component::encode(&core, Metadata::Embed(&world))?.bytes,
    )
}
