//! `weir plugin new`: writes a ready-to-build plugin project with a sample
//! input and the outcomes expected from it.

use std::path::Path;

use anyhow::{Context as _, bail};
use weir::plugin::PluginKind;

use super::build::rust_sdk;
use super::project::{Language, MANIFEST};
use super::sdk;

macro_rules! template {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $path))
    };
}

/// The plugin source of `kind` in `language`, when its SDK writes that
/// kind.
fn source(language: Language, kind: PluginKind) -> Option<&'static str> {
    Some(match (language, kind) {
        (Language::Rust, PluginKind::Filter) => template!("rust/filter.rs"),
        (Language::Rust, PluginKind::Enricher) => template!("rust/enricher.rs"),
        (Language::Rust, PluginKind::Scorer) => template!("rust/scorer.rs"),
        (Language::Rust, PluginKind::Reward) => template!("rust/reward.rs"),
        (Language::Rust, PluginKind::Aggregator) => template!("rust/aggregator.rs"),
        (Language::Python, PluginKind::Filter) => template!("python/filter.py"),
        (Language::Python, PluginKind::Enricher) => template!("python/enricher.py"),
        (Language::Python, PluginKind::Scorer) => template!("python/scorer.py"),
        (Language::Python, PluginKind::Reward) => template!("python/reward.py"),
        (Language::Python, PluginKind::Aggregator) => template!("python/aggregator.py"),
        (Language::Js, PluginKind::Filter) => template!("js/filter.js"),
        (Language::Js, PluginKind::Enricher) => template!("js/enricher.js"),
        (Language::Js, PluginKind::Scorer) => template!("js/scorer.js"),
        (Language::Js, PluginKind::Reward) => template!("js/reward.js"),
        (Language::Js, PluginKind::Aggregator) => template!("js/aggregator.js"),
        (Language::C, PluginKind::Filter) => template!("c/filter.c"),
        (Language::C, PluginKind::Scorer) => template!("c/scorer.c"),
        (Language::Go, PluginKind::Filter) => template!("go/filter.go"),
        _ => return None,
    })
}

/// The sample input of `kind` and the outcomes every template gives on it.
fn sample(kind: PluginKind) -> (&'static str, &'static str) {
    let input = match kind {
        PluginKind::Reward => template!("samples/race.jsonl"),
        _ => template!("samples/transactions.jsonl"),
    };
    let expected = match kind {
        PluginKind::Filter => template!("samples/filter.expected.jsonl"),
        PluginKind::Enricher => template!("samples/enricher.expected.jsonl"),
        PluginKind::Scorer => template!("samples/scorer.expected.jsonl"),
        PluginKind::Reward => template!("samples/reward.expected.jsonl"),
        PluginKind::Aggregator => template!("samples/aggregator.expected.jsonl"),
    };
    (input, expected)
}

fn manifest(name: &str, kind: PluginKind, language: Language) -> String {
    let windows = match kind {
        PluginKind::Aggregator => {
            "# Records are windowed by key and time, as a pipeline stage does.\n\
             key_field = \"card\"\ntime_field = \"ts\"\n"
        }
        _ => "",
    };
    format!(
        "# A weir plugin project: `weir plugin build` builds it into target/{name}.wasm;\n\
         # `weir plugin test .` runs it over the sample and compares the outcomes.\n\
         name = \"{name}\"\nkind = \"{kind}\"\nlanguage = \"{}\"\n\n\
         [test]\ninput = \"sample/input.jsonl\"\nexpect = \"sample/expected.jsonl\"\n{windows}",
        language.name()
    )
}

/// Adds a copy of an SDK under `sdk/` (JavaScript and Go import it by
/// path).
fn vendor(files: &mut Vec<(String, String)>, sdk: sdk::Files) {
    for (rel, contents) in sdk {
        files.push((format!("sdk/{rel}"), (*contents).to_string()));
    }
}

/// Writes a project for plugin `name` into `dir` (which must not exist or
/// be empty).
pub(crate) fn new(
    name: &str,
    language: Language,
    kind: PluginKind,
    dir: &Path,
) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        bail!("`{name}` cannot name a plugin: use a letter, then letters, digits, `-` or `_`");
    }
    language.check_kind(kind)?;
    let source = source(language, kind)
        .with_context(|| format!("no {} template for a {kind}", language.name()))?;
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        bail!("`{}` already exists and is not empty", dir.display());
    }
    let plugin = name.replace('-', "_");
    let fill = |text: &str| text.replace("{{name}}", &plugin);
    let (input, expected) = sample(kind);
    let mut files: Vec<(String, String)> = vec![
        (MANIFEST.into(), manifest(&plugin, kind, language)),
        ("sample/input.jsonl".into(), input.into()),
        ("sample/expected.jsonl".into(), expected.into()),
        (".gitignore".into(), "target/\n__pycache__/\n".into()),
    ];
    match language {
        Language::Rust => {
            let sdk = rust_sdk()?;
            let cargo = template!("rust/Cargo.toml")
                .replace("{{package}}", name)
                .replace("{{kind}}", kind.world())
                .replace("{{sdk}}", &sdk.display().to_string().replace('\\', "/"));
            files.push(("Cargo.toml".into(), cargo));
            files.push(("src/lib.rs".into(), fill(source)));
        }
        Language::Python => files.push(("app.py".into(), fill(source))),
        Language::Js => {
            files.push(("app.js".into(), fill(source)));
            vendor(&mut files, sdk::JS);
        }
        Language::C => files.push((format!("{plugin}.c"), fill(source))),
        Language::Go => {
            files.push(("go.mod".into(), fill(template!("go/go.mod"))));
            files.push(("main.go".into(), fill(source)));
            vendor(&mut files, sdk::GO);
        }
    }
    for (rel, contents) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    println!(
        "created the {kind} plugin `{plugin}` ({}) in {}",
        language.name(),
        dir.display()
    );
    for (rel, _) in files.iter().filter(|(r, _)| !r.starts_with("sdk/")) {
        println!("  {rel}");
    }
    let vendored = files.iter().filter(|(r, _)| r.starts_with("sdk/")).count();
    if vendored > 0 {
        println!("  sdk/ (the {} SDK, {vendored} files)", language.name());
    }
    println!(
        "next:\n  cd {}\n  weir plugin build\n  weir plugin test .",
        dir.display()
    );
    Ok(())
}
