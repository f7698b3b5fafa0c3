//! C projects: wit-bindgen's C bindings of the kind's world (generated in
//! process), clang for `wasm32-wasi` with the SDK, then the component.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use wit_bindgen_core::Files;

use super::super::project::Project;
use super::super::{sdk, tools};
use super::component::{self, Metadata, World};

pub(super) fn build(project: &Project, out: &Path) -> anyhow::Result<()> {
    let clang = tools::clang_wasm()?;
    let sdk_dir = sdk::install("c", sdk::C)?;
    let work = super::work_dir(out)?;
    let mut world = World::of(&super::wit_dir()?, project.kind)?;
    bindings(&mut world, project, &work)?;
    let sources = sources(&project.dir)?;
    let core = work.join("core.wasm");
    tools::step(&format!(
        "clang --target=wasm32-wasi: {} source file(s) with the SDK",
        sources.len()
    ));
    tools::run(
        Command::new(&clang)
            .args([
                "--target=wasm32-wasi",
                "-mexec-model=reactor",
                "-O2",
                "-Wall",
            ])
            .arg(format!(
                "-DWEIR_KIND_{}",
                project.kind.world().to_uppercase()
            ))
            .arg("-I")
            .arg(&sdk_dir)
            .arg("-I")
            .arg(&work)
            .args(&sources)
            .arg(sdk_dir.join("weir_plugin.c"))
            .arg(sdk_dir.join("weir_json.c"))
            .arg(work.join("weir_world.c"))
            .arg(work.join("weir_world_component_type.o"))
            .arg("-Wl,--strip-debug")
            .arg("-o")
            .arg(&core),
        "clang",
    )?;
    let core = std::fs::read(&core).with_context(|| format!("cannot read `{}`", core.display()))?;
    let component = component::encode(&core, Metadata::Linked)?;
    if component.uses_wasi {
        tools::step("the module calls WASI (libc I/O): its stage needs `grants = { wasi = true }`");
    }
    super::write_component(out, &component.bytes)
}

/// Writes the C bindings of the world into `work`. The world and the
/// kind's interface are renamed, so every kind has the same generated names
/// (`weir_world.h`, `exports_kind_*`) and one SDK serves them all.
fn bindings(world: &mut World, project: &Project, work: &Path) -> anyhow::Result<()> {
    let kind = project.kind.world();
    let opts = wit_bindgen_c::Opts {
        rename_world: Some("weir_world".to_string()),
        rename: vec![(
            format!("weir:plugin/{kind}-plugin@{}", sdk::version()),
            "kind".to_string(),
        )],
        ..Default::default()
    };
    let mut files = Files::default();
    opts.build()
        .generate(&mut world.resolve, world.id, &mut files)
        .context("cannot generate the C bindings")?;
    for (name, contents) in files.iter() {
        let path = work.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

/// The project's `.c` files, in name order.
fn sources(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c") && p.is_file())
        .collect();
    if sources.is_empty() {
        bail!(
            "a C plugin project needs its `.c` files in `{}`",
            dir.display()
        );
    }
    sources.sort();
    Ok(sources)
}
