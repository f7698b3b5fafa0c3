//! `weir plugin inspect`: what a plugin is, what it imports, and whether it
//! needs the WASI grant to start.

use std::path::Path;

use serde_json::json;
use weir::plugin::{EngineConfig, Grants, InstanceOptions, Plugin, TrapKind};

/// Whether a plugin starts without WASI: instantiated and `init`-ed with no
/// settings and no grant.
pub(crate) enum Start {
    /// It started.
    Fine,
    /// It called WASI while starting.
    NeedsWasi,
    /// It failed for another reason (e.g. a required setting), before any
    /// WASI call.
    Failed(String),
}

impl Start {
    pub(crate) fn of(plugin: &Plugin) -> Start {
        match plugin.instantiate(InstanceOptions::default()) {
            Ok(_) => Start::Fine,
            Err(e) if e.trap_kind() == Some(TrapKind::NotGranted) => Start::NeedsWasi,
            Err(e)
                if ["has no WASI grant", "WASI function that was not granted"]
                    .iter()
                    .any(|m| e.to_string().contains(m)) =>
            {
                Start::NeedsWasi
            }
            Err(e) => Start::Failed(e.to_string()),
        }
    }

    pub(crate) fn needs_wasi(&self) -> bool {
        matches!(self, Start::NeedsWasi)
    }

    /// One line for a person.
    pub(crate) fn describe(&self) -> String {
        match self {
            Start::Fine => "no: it starts without WASI".to_string(),
            Start::NeedsWasi => "yes: it calls WASI while starting; grant it with \
                                 `grants = { wasi = true }` in the stage (`--wasi` here)"
                .to_string(),
            Start::Failed(e) => format!(
                "no WASI call before its init stopped without settings (it said: {})",
                e.lines().next().unwrap_or_default()
            ),
        }
    }
}

pub(crate) fn inspect(path: &Path, as_json: bool) -> anyhow::Result<()> {
    let engine = crate::engine::engine(EngineConfig::default())?;
    let plugin = engine.load_file(path, Grants::none())?;
    let start = Start::of(&plugin);
    let info = plugin.info();
    let (wasi, host): (Vec<&String>, Vec<&String>) =
        info.imports.iter().partition(|i| i.starts_with("wasi:"));
    if as_json {
        let mut v = serde_json::to_value(info)?;
        v["needs_wasi"] = json!(start.needs_wasi());
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("plugin      {}", info.name);
    println!("world       weir:plugin/{}@{}", info.kind, info.version);
    println!("digest      {}", info.digest);
    println!("size        {} bytes", info.size);
    let batches = if info.packed {
        "packed into one buffer"
    } else {
        "columnar"
    };
    println!("batches     {batches}");
    let compiled = if info.from_cache {
        "mapped from the compiled-code cache"
    } else {
        "compiled now (cached for the next start)"
    };
    println!("code        {compiled}");
    println!("needs WASI  {}", start.describe());
    println!("exports");
    for e in &info.exports {
        println!("  {e}");
    }
    println!("host services it imports");
    for i in &host {
        println!("  {i}");
    }
    if !wasi.is_empty() {
        println!(
            "WASI interfaces it imports ({}): linked only for a stage that grants WASI; \
             without the grant, a call to one fails that call. Toolchains import many \
             they never call.",
            wasi.len()
        );
        for i in &wasi {
            println!("  {i}");
        }
    }
    Ok(())
}
