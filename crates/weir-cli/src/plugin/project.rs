//! A plugin project: a directory with `weir-plugin.toml`, as `weir plugin
//! new` writes it and `weir plugin build|test` read it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use weir::plugin::PluginKind;

/// The manifest's file name.
pub(crate) const MANIFEST: &str = "weir-plugin.toml";

/// The languages a project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Language {
    /// Rust, with the `weir-plugin` crate.
    Rust,
    /// Python, with the `weir_plugin` package and componentize-py.
    Python,
    /// JavaScript, with the SDK in `sdk/` and componentize-js.
    Js,
    /// C, with the C SDK, wit-bindgen's bindings and clang.
    C,
    /// Go (1.24 or later), with the SDK in `sdk/`.
    Go,
}

const ALL_KINDS: &[PluginKind] = &[
    PluginKind::Filter,
    PluginKind::Enricher,
    PluginKind::Scorer,
    PluginKind::Reward,
    PluginKind::Aggregator,
];

impl Language {
    const ALL: [Language; 5] = [
        Language::Rust,
        Language::Python,
        Language::Js,
        Language::C,
        Language::Go,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
            Language::C => "c",
            Language::Go => "go",
        }
    }

    fn parse(s: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The plugin kinds this language's SDK writes.
    pub(crate) fn kinds(self) -> &'static [PluginKind] {
        match self {
            Language::Rust | Language::Python | Language::Js => ALL_KINDS,
            Language::C => &[PluginKind::Filter, PluginKind::Scorer],
            Language::Go => &[PluginKind::Filter],
        }
    }

    /// An error unless this language's SDK writes `kind`.
    pub(crate) fn check_kind(self, kind: PluginKind) -> anyhow::Result<()> {
        if self.kinds().contains(&kind) {
            return Ok(());
        }
        let kinds: Vec<&str> = self.kinds().iter().map(|k| k.world()).collect();
        bail!(
            "the {} SDK writes {} plugins, not {kind}",
            self.name(),
            kinds.join(", ")
        )
    }

    /// Whether its components call WASI, so their stages need the grant
    /// (the Python interpreter and Go's runtime do).
    pub(crate) fn needs_wasi(self) -> bool {
        matches!(self, Language::Python | Language::Go)
    }
}

/// What `weir plugin test DIR` runs by default.
#[derive(Debug, Default)]
pub(crate) struct TestSpec {
    pub(crate) input: Option<PathBuf>,
    pub(crate) expect: Option<PathBuf>,
    pub(crate) key_field: Option<String>,
    pub(crate) time_field: Option<String>,
}

/// A project read from its manifest.
#[derive(Debug)]
pub(crate) struct Project {
    /// The project directory, absolute.
    pub(crate) dir: PathBuf,
    /// Where a JavaScript build runs from (`[build] root`, relative to the
    /// project; default the project itself): every module the plugin
    /// imports must be under it.
    pub(crate) root: PathBuf,
    pub(crate) name: String,
    pub(crate) kind: PluginKind,
    pub(crate) language: Language,
    pub(crate) test: TestSpec,
}

impl Project {
    /// Reads `dir/weir-plugin.toml`.
    pub(crate) fn read(dir: &Path) -> anyhow::Result<Project> {
        let dir = &std::path::absolute(dir)
            .with_context(|| format!("cannot resolve `{}`", dir.display()))?;
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "`{}` is not a plugin project: cannot read `{}` (`weir plugin new` makes one)",
                dir.display(),
                path.display()
            )
        })?;
        let table: toml::Table = text
            .parse()
            .with_context(|| format!("`{}` is not valid TOML", path.display()))?;
        let field = |key: &str| -> anyhow::Result<&str> {
            match table.get(key) {
                Some(toml::Value::String(s)) => Ok(s),
                Some(_) => bail!("{}: `{key}` must be a string", path.display()),
                None => bail!("{}: `{key}` is missing", path.display()),
            }
        };
        let name = field("name")?.to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!(
                "{}: `name` must be letters, digits and `_` (it names the component file), not `{name}`",
                path.display()
            );
        }
        let kind: PluginKind = field("kind")?
            .parse()
            .map_err(|e: String| anyhow::anyhow!("{}: {e}", path.display()))?;
        let language = field("language")?;
        let language = Language::parse(language).with_context(|| {
            format!(
                "{}: `language` is one of rust, python, js, c, go, not `{language}`",
                path.display()
            )
        })?;
        language
            .check_kind(kind)
            .with_context(|| format!("{}", path.display()))?;
        let root = match table.get("build").and_then(|b| b.get("root")) {
            Some(toml::Value::String(r)) => dir.join(r),
            Some(_) => bail!("{}: `build.root` must be a string", path.display()),
            None => dir.to_path_buf(),
        };
        let test = match table.get("test") {
            Some(toml::Value::Table(t)) => {
                let text = |k: &str| t.get(k).and_then(toml::Value::as_str).map(str::to_string);
                TestSpec {
                    input: text("input").map(|p| dir.join(p)),
                    expect: text("expect").map(|p| dir.join(p)),
                    key_field: text("key_field"),
                    time_field: text("time_field"),
                }
            }
            _ => TestSpec::default(),
        };
        Ok(Project {
            dir: dir.to_path_buf(),
            root,
            name,
            kind,
            language,
            test,
        })
    }

    /// Where `weir plugin build` puts the component.
    pub(crate) fn component(&self) -> PathBuf {
        self.dir.join("target").join(format!("{}.wasm", self.name))
    }
}
