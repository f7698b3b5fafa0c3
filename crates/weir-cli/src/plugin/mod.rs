//! `weir plugin`: the plugin developer's kit.

mod bench;
mod build;
mod inspect;
mod new;
mod project;
mod sdk;
mod test;
mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use weir::plugin::{EngineConfig, Grants, InstanceOptions, Limits, PluginInstance, PluginKind};

use project::{Language, Project};

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// Write a new plugin project, ready to build, with a sample input and
    /// the outcomes expected from it.
    New {
        /// The plugin's name (letters, digits, `-`, `_`).
        name: String,
        /// The language to write it in.
        #[arg(long, value_enum)]
        lang: Language,
        /// The plugin kind.
        #[arg(long)]
        kind: PluginKind,
        /// Where to write it (default: a new directory named NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build a plugin project (default: the current directory) into its
    /// component, installing the toolchain it needs the first time.
    Build {
        /// The project directory (holding weir-plugin.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the component (default: the project's
        /// `target/NAME.wasm`).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run a plugin over JSON-lines input and print one outcome per record,
    /// or compare the outcomes with expected ones.
    Test {
        #[command(flatten)]
        run: RunArgs,
        /// Expected outcomes (JSON lines, as this command prints them):
        /// show the differences and exit 1 when any.
        #[arg(long, value_name = "FILE")]
        expect: Option<PathBuf>,
        /// Records per call.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
        /// Aggregators: window width in milliseconds (windows by key and
        /// `--time-field`).
        #[arg(long, default_value_t = 60_000)]
        window_ms: i64,
    },
    /// Measure a plugin: records per second at several batch sizes, the
    /// fixed cost of a call and its peak memory.
    Bench {
        #[command(flatten)]
        run: RunArgs,
        /// Batch sizes to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,10,100,1000")]
        batch_sizes: Vec<usize>,
        /// Seconds to measure each batch size for.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
    },
    /// Show a plugin's world, version, digest, imports and exports, and
    /// whether it needs WASI to start.
    Inspect {
        /// The plugin component (`.wasm`).
        plugin: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What `test` and `bench` share: the plugin, its input, settings and
/// limits.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The plugin component (`.wasm`), or a plugin project directory: its
    /// built component, with the input, expected outcomes and fields its
    /// weir-plugin.toml names under [test].
    plugin: PathBuf,
    /// JSON-lines input (`-` for stdin); each line is one record value.
    #[arg(long)]
    input: Option<PathBuf>,
    /// A setting passed to the plugin's init, as KEY=VALUE (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    settings: Vec<String>,
    /// Refuse the plugin unless it implements this kind.
    #[arg(long)]
    kind: Option<PluginKind>,
    /// Top-level JSON field to use as each record's key.
    #[arg(long)]
    key_field: Option<String>,
    /// Top-level JSON field with each record's event time (ms).
    #[arg(long)]
    time_field: Option<String>,
    /// Call deadline in milliseconds.
    #[arg(long, default_value_t = Limits::default().deadline_ms)]
    deadline_ms: u64,
    /// Memory limit in MiB.
    #[arg(long, default_value_t = Limits::default().memory_mb)]
    memory_mb: u64,
    /// Grant WASI to the plugin (a Python project's is granted it).
    #[arg(long)]
    wasi: bool,
}

/// A plugin ready to run, its input, and the expected outcomes if known.
struct Started {
    instance: PluginInstance,
    records: Vec<weir::Record>,
    expect: Option<PathBuf>,
}

impl RunArgs {
    /// Fills what was not given from the project, when `plugin` is one.
    fn resolve(mut self) -> anyhow::Result<(RunArgs, Option<PathBuf>)> {
        if !self.plugin.is_dir() {
            return Ok((self, None));
        }
        let project = Project::read(&self.plugin)?;
        let component = project.component();
        if !component.is_file() {
            bail!(
                "`{}` is not built yet: run `weir plugin build {}`",
                component.display(),
                project.dir.display()
            );
        }
        self.kind = self.kind.or(Some(project.kind));
        self.input = self.input.or(project.test.input);
        self.key_field = self.key_field.or(project.test.key_field);
        self.time_field = self.time_field.or(project.test.time_field);
        self.wasi |= project.language.needs_wasi();
        self.plugin = component;
        Ok((self, project.test.expect))
    }

    /// The plugin, instantiated with the settings and limits, and the
    /// input records.
    fn start(self) -> anyhow::Result<Started> {
        let (args, expect) = self.resolve()?;
        let input = args.input.clone().context(
            "no input: give `--input FILE` (or a project whose weir-plugin.toml names one)",
        )?;
        let engine = crate::engine::engine(EngineConfig::default())?;
        let plugin = engine.load_file(&args.plugin, Grants::none().with_wasi(args.wasi))?;
        if let Some(k) = args.kind {
            plugin.expect_kind(k)?;
        }
        let options = InstanceOptions::with_settings(parse_settings(&args.settings)?).with_limits(
            Limits::default()
                .with_deadline_ms(args.deadline_ms)
                .with_memory_mb(args.memory_mb),
        );
        let instance = plugin.instantiate(options)?;
        let fields = weir::check::Fields {
            key: args.key_field.as_deref(),
            time: args.time_field.as_deref(),
        };
        Ok(Started {
            instance,
            records: read_input(&input, &fields)?,
            expect,
        })
    }
}

/// The records of `input` (`-`: stdin), one per non-blank line.
fn read_input(input: &Path, fields: &weir::check::Fields<'_>) -> anyhow::Result<Vec<weir::Record>> {
    let read = if input.as_os_str() == "-" {
        weir::check::read_records(std::io::stdin().lock(), fields)
    } else {
        let f = std::fs::File::open(input)
            .with_context(|| format!("cannot open input `{}`", input.display()))?;
        weir::check::read_records(std::io::BufReader::new(f), fields)
    };
    read.with_context(|| format!("reading `{}`", input.display()))
}

pub(crate) fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::New {
            name,
            lang,
            kind,
            dir,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            new::new(&name, lang, kind, &dir)
        }
        PluginCommand::Build { dir, out } => build::build(&dir, out.as_deref()),
        PluginCommand::Inspect { plugin, json } => inspect::inspect(&plugin, json),
        PluginCommand::Test {
            run,
            expect,
            batch_size,
            window_ms,
        } => {
            let mut started = run.start()?;
            let expect = expect.or(started.expect);
            let how = test::Run {
                batch_size,
                window_ms,
                expect: expect.as_deref(),
            };
            test::test(&mut started.instance, &started.records, &how)
        }
        PluginCommand::Bench {
            run,
            batch_sizes,
            seconds,
        } => {
            if !(seconds.is_finite() && seconds > 0.0) {
                bail!("--seconds must be a positive number of seconds");
            }
            let mut started = run.start()?;
            bench::bench(
                &mut started.instance,
                &started.records,
                &batch_sizes,
                Duration::from_secs_f64(seconds),
            )
        }
    }
}

/// Runs `run`'s plugin over its input and compares the outcomes with
/// `expect` (what `weir replay diff` does).
pub(crate) fn test_against(run: RunArgs, expect: &Path, batch_size: usize) -> anyhow::Result<()> {
    let mut started = run.start()?;
    let how = test::Run {
        batch_size,
        window_ms: 60_000,
        expect: Some(expect),
    };
    test::test(&mut started.instance, &started.records, &how)
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
