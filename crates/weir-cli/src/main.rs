//! The `weir` command.

mod admin_cmd;
mod engine;
mod pattern_cmd;
mod plugin;
#[cfg(feature = "kafka")]
mod produce_cmd;
mod replay_cmd;
mod run_cmd;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// weir: stream records through sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
struct Cli {
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Log filter (tracing env-filter syntax), e.g. `info` or `weir=debug`.
    #[arg(long, default_value = "info", global = true, env = "WEIR_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline until its source is exhausted (or Ctrl-C).
    Run {
        /// The pipeline config (TOML).
        config: PathBuf,
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Start over: delete the pipeline's checkpoints, plugin state and
        /// default dead-letter file (its data directory) before running.
        #[arg(long)]
        reset: bool,
        /// Serve the dashboard at http://ADDR/, metrics (OpenMetrics
        /// text, as Prometheus scrapes) at http://ADDR/metrics and the
        /// admin API at http://ADDR/api, e.g. `--metrics 127.0.0.1:9898`.
        #[arg(long, value_name = "ADDR")]
        metrics: Option<std::net::SocketAddr>,
        /// Require `Authorization: Bearer TOKEN` on the admin API (needed
        /// to serve it on an address other than loopback).
        #[arg(long, env = "WEIR_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
    },
    /// Reload a stage's plugin in a running `weir run` (its file again, or
    /// another file), through the admin API.
    Reload {
        #[command(flatten)]
        target: admin_cmd::AdminArgs,
        /// The new plugin file (default: the stage's file, read again).
        #[arg(long)]
        plugin: Option<PathBuf>,
    },
    /// Return a stage of a running `weir run` to its previous plugin
    /// version, through the admin API.
    Rollback {
        #[command(flatten)]
        target: admin_cmd::AdminArgs,
    },
    /// Check a pipeline config and load its plugins without running it.
    Validate {
        /// The pipeline config (TOML).
        config: PathBuf,
    },
    /// Write generated records or JSON lines to a Kafka topic.
    #[cfg(feature = "kafka")]
    Produce(produce_cmd::ProduceArgs),
    /// Replay dead letters through the current plugin versions, or recorded
    /// input through a candidate.
    #[command(subcommand)]
    Replay(replay_cmd::ReplayCommand),
    /// Work with plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Work with event patterns (the EventBridge / Lambda filter language).
    #[command(subcommand)]
    Pattern(pattern_cmd::PatternCommand),
}

fn init_logging(cli: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Resolves on Ctrl-C or SIGTERM: the pipeline then finishes the batches
/// in flight, commits and closes.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    // Exit codes of its own: 0 match / no-match, 2 invalid pattern.
    if let Command::Pattern(cmd) = cli.command {
        return pattern_cmd::run(cmd);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run {
                config,
                json,
                reset,
                metrics,
                admin_token,
            } => run_cmd::run(&config, json, reset, metrics, admin_token).await,
            Command::Reload { target, plugin } => {
                tokio::task::block_in_place(|| admin_cmd::reload(&target, plugin))
            }
            Command::Rollback { target } => {
                tokio::task::block_in_place(|| admin_cmd::rollback(&target))
            }
            Command::Validate { config } => run_cmd::validate(&config),
            #[cfg(feature = "kafka")]
            Command::Produce(args) => produce_cmd::run(&args).await,
            Command::Plugin(cmd) => plugin::run(cmd),
            Command::Replay(cmd) => replay_cmd::run(cmd).await,
            // Handled before the runtime starts.
            Command::Pattern(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
