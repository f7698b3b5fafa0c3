//! `weir plugin test` and `weir plugin inspect`.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use weir::envelope::bytes_json;
use weir::plugin::{EngineConfig, Grants, InstanceOptions, Limits, PluginKind};
use weir::{Batch, Position, Record};

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// Run a plugin over JSON-lines input and print one outcome per record.
    Test {
        /// The plugin component (`.wasm`).
        plugin: PathBuf,
        /// JSON-lines input (`-` for stdin); each line is one record value.
        #[arg(long)]
        input: PathBuf,
        /// A setting passed to the plugin's init, as KEY=VALUE (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Refuse the plugin unless it implements this kind.
        #[arg(long)]
        kind: Option<PluginKind>,
        /// Records per call.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
        /// Top-level JSON field to use as each record's key.
        #[arg(long)]
        key_field: Option<String>,
        /// Call deadline in milliseconds.
        #[arg(long, default_value_t = Limits::default().deadline_ms)]
        deadline_ms: u64,
        /// Memory limit in MiB.
        #[arg(long, default_value_t = Limits::default().memory_mb)]
        memory_mb: u64,
        /// Grant WASI to the plugin.
        #[arg(long)]
        wasi: bool,
    },
    /// Show a plugin's world, version, digest, imports and exports.
    Inspect {
        /// The plugin component (`.wasm`).
        plugin: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Inspect { plugin, json } => inspect(&plugin, json),
        PluginCommand::Test {
            plugin,
            input,
            settings,
            kind,
            batch_size,
            key_field,
            deadline_ms,
            memory_mb,
            wasi,
        } => {
            let settings = parse_settings(&settings)?;
            let options = InstanceOptions::with_settings(settings).with_limits(
                Limits::default()
                    .with_deadline_ms(deadline_ms)
                    .with_memory_mb(memory_mb),
            );
            test(
                &plugin,
                &input,
                options,
                kind,
                batch_size.max(1),
                key_field.as_deref(),
                Grants::none().with_wasi(wasi),
            )
        }
    }
}

fn parse_settings(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("--config `{p}`: expected KEY=VALUE"),
        })
        .collect()
}

fn inspect(path: &std::path::Path, as_json: bool) -> anyhow::Result<()> {
    let engine = crate::engine::engine(EngineConfig::default())?;
    let plugin = engine.load_file(path, Grants::default())?;
    let info = plugin.info();
    if as_json {
        println!("{}", serde_json::to_string_pretty(info)?);
        return Ok(());
    }
    println!("plugin   {}", info.name);
    println!("world    weir:plugin/{}@{}", info.kind, info.version);
    println!("digest   {}", info.digest);
    println!("size     {} bytes", info.size);
    let compiled = if info.from_cache {
        "mapped from the compiled-code cache"
    } else {
        "compiled now (cached for the next start)"
    };
    println!("code     {compiled}");
    println!("exports");
    for e in &info.exports {
        println!("  {e}");
    }
    println!("imports");
    for i in &info.imports {
        let note = if i.starts_with("wasi:") {
            "  (traps unless WASI is granted)"
        } else {
            ""
        };
        println!("  {i}{note}");
    }
    Ok(())
}

fn read_lines(input: &std::path::Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let reader: Box<dyn std::io::BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input)
            .with_context(|| format!("cannot open input `{}`", input.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut lines = Vec::new();
    for line in reader.split(b'\n') {
        let mut line = line.with_context(|| format!("reading `{}`", input.display()))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        lines.push(line);
    }
    Ok(lines)
}

fn test(
    path: &std::path::Path,
    input: &std::path::Path,
    options: InstanceOptions,
    kind: Option<PluginKind>,
    batch_size: usize,
    key_field: Option<&str>,
    grants: Grants,
) -> anyhow::Result<()> {
    let engine = crate::engine::engine(EngineConfig::default())?;
    let plugin = engine.load_file(path, grants)?;
    if let Some(k) = kind {
        plugin.expect_kind(k)?;
    }
    if plugin.kind() == PluginKind::Aggregator {
        bail!(
            "plugin `{}` is an aggregator: aggregators fold records into event-time windows and \
             run in pipelines, which keep the windows and call `accumulate` and `emit`; \
             `weir plugin test` runs filters, enrichers, scorers and reward functions",
            plugin.name()
        );
    }
    let mut instance = plugin.instantiate(options)?;
    let lines = read_lines(input)?;
    let records: Vec<Record> = lines
        .into_iter()
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, l)| {
            let key = key_field.and_then(|f| {
                let v: Value = serde_json::from_slice(&l).ok()?;
                v.get(f).map(|k| match k {
                    Value::String(s) => s.clone().into_bytes(),
                    other => other.to_string().into_bytes(),
                })
            });
            let mut r = Record::new(l, Position::Offset(i as u64 + 1), 0);
            r.key = key.map(weir::Bytes::from);
            r
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut kept, mut dropped, mut failed, mut trapped) = (0u64, 0u64, 0u64, 0u64);
    for chunk in records.chunks(batch_size) {
        let batch = Batch::new(input.display().to_string(), "0", chunk.to_vec());
        match instance.process(batch) {
            Ok(outcome) => {
                let mut outputs: BTreeMap<u64, Vec<&Record>> = BTreeMap::new();
                for r in &outcome.records {
                    if let Position::Offset(o) = r.position {
                        outputs.entry(o).or_default().push(r);
                    }
                }
                let errors: BTreeMap<u64, &str> = outcome
                    .failed
                    .iter()
                    .filter_map(|f| match f.record.position {
                        Position::Offset(o) => Some((o, f.error.as_str())),
                        Position::Sequence(_) => None,
                    })
                    .collect();
                for r in chunk {
                    let Position::Offset(line) = r.position else {
                        continue;
                    };
                    let line_json = if let Some(e) = errors.get(&line) {
                        failed += 1;
                        json!({"line": line, "outcome": "error", "error": e})
                    } else if let Some(outs) = outputs.get(&line) {
                        kept += 1;
                        describe(line, plugin.kind(), outs)
                    } else {
                        dropped += 1;
                        json!({"line": line, "outcome": "dropped"})
                    };
                    writeln!(out, "{line_json}")?;
                }
            }
            Err(failure) => {
                trapped += chunk.len() as u64;
                for r in chunk {
                    let line = r.position.to_string();
                    writeln!(
                        out,
                        "{}",
                        json!({"line": line.parse::<u64>().unwrap_or(0), "outcome": "trap", "error": failure.error.to_string()})
                    )?;
                }
            }
        }
    }
    out.flush()?;
    eprintln!(
        "{}: {} records: {kept} passed, {dropped} dropped, {failed} failed, {trapped} in trapped calls",
        plugin.name(),
        records.len()
    );
    if trapped > 0 {
        bail!("the plugin trapped on {trapped} records");
    }
    Ok(())
}

fn describe(line: u64, kind: PluginKind, outs: &[&Record]) -> Value {
    match kind {
        PluginKind::Filter => json!({"line": line, "outcome": "kept"}),
        PluginKind::Scorer | PluginKind::Reward => {
            let r = outs[0];
            let score = r
                .score
                .map(|s| format!("{s}").parse::<f64>().unwrap_or(f64::from(s)));
            json!({"line": line, "outcome": "scored", "score": score, "labels": r.labels})
        }
        PluginKind::Enricher | PluginKind::Aggregator => {
            let emitted: Vec<Value> = outs
                .iter()
                .map(|r| {
                    let mut v = json!({"value": bytes_json(&r.value)});
                    if !r.headers.is_empty() {
                        v["headers"] = r
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.clone(),
                                    Value::String(String::from_utf8_lossy(&h.value).into_owned()),
                                )
                            })
                            .collect::<serde_json::Map<_, _>>()
                            .into();
                    }
                    v
                })
                .collect();
            json!({"line": line, "outcome": "emitted", "records": emitted})
        }
    }
}
