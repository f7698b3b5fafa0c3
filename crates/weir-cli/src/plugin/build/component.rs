//! From a core wasm module to a component, in process (wit-component): the
//! kind's world embedded when the toolchain did not embed it, and WASI
//! preview1 calls adapted to WASI 0.2 with the adapter of the wasmtime
//! version weir runs on.

use std::path::Path;

use anyhow::Context as _;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use weir::plugin::PluginKind;
use wit_bindgen_core::wit_parser::{Resolve, WorldId};
use wit_component::{ComponentEncoder, StringEncoding};

/// The WIT package and the world of one plugin kind.
pub(super) struct World {
    pub(super) resolve: Resolve,
    pub(super) id: WorldId,
}

impl World {
    /// Reads the WIT package in `wit` and picks `kind`'s world.
    pub(super) fn of(wit: &Path, kind: PluginKind) -> anyhow::Result<World> {
        let mut resolve = Resolve::default();
        let (package, _) = resolve
            .push_dir(wit)
            .with_context(|| format!("cannot read the WIT in `{}`", wit.display()))?;
        let id = resolve
            .select_world(&[package], Some(kind.world()))
            .with_context(|| format!("the WIT has no `{}` world", kind.world()))?;
        Ok(World { resolve, id })
    }
}

/// How a core module becomes a component.
pub(super) enum Metadata<'a> {
    /// The module carries its world already (C: wit-bindgen's object file).
    Linked,
    /// Embed this world first (Go).
    Embed(&'a World),
}

/// Whether the module imports WASI preview1, so needs the adapter and, to
/// run, the WASI grant.
fn imports_wasi(core: &[u8]) -> anyhow::Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(core) {
        if let wasmparser::Payload::ImportSection(imports) =
            payload.context("the compiled module is not valid wasm")?
        {
            for import in imports.into_imports() {
                let import = import.context("the compiled module's imports are not valid")?;
                if import.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// A component, and whether it was adapted to WASI 0.2 (so its stage needs
/// the WASI grant).
pub(super) struct Encoded {
    pub(super) bytes: Vec<u8>,
    pub(super) uses_wasi: bool,
}

/// The component of the core module `core`.
pub(super) fn encode(core: &[u8], metadata: Metadata<'_>) -> anyhow::Result<Encoded> {
    let mut module = core.to_vec();
    if let Metadata::Embed(world) = metadata {
        wit_component::embed_component_metadata(
            &mut module,
            &world.resolve,
            world.id,
            StringEncoding::UTF8,
        )
        .context("cannot embed the world in the module")?;
    }
    let mut encoder = ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .context("the compiled module does not fit the world")?;
    let uses_wasi = imports_wasi(core)?;
    if uses_wasi {
        encoder = encoder
            .adapter(
                WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
            .context("cannot adapt WASI preview1")?;
    }
    let bytes = encoder
        .encode()
        .context("cannot make a component of the compiled module")?;
    Ok(Encoded { bytes, uses_wasi })
}
