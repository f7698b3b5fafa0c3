//! `weir pattern test`: try an event pattern on an event.

use std::process::ExitCode;

use clap::Subcommand;
use weir::pattern::Pattern;

#[derive(Debug, Subcommand)]
pub(crate) enum PatternCommand {
    /// Print `match` or `no-match` (exit 0), or the error for an invalid
    /// pattern (exit 2).
    Test {
        /// The pattern as JSON text, or `@FILE` to read it from a file.
        #[arg(long)]
        pattern: String,
        /// The event as JSON text, or `@FILE` to read it from a file.
        #[arg(long)]
        event: String,
    },
}

/// Exit code for an invalid pattern or unreadable input.
const INVALID: u8 = 2;

fn text(arg: &str) -> Result<String, String> {
    match arg.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))
        }
        None => Ok(arg.to_string()),
    }
}

pub(crate) fn run(cmd: PatternCommand) -> ExitCode {
    let PatternCommand::Test { pattern, event } = cmd;
    let result = (|| {
        let pattern = Pattern::parse(&text(&pattern)?).map_err(|e| e.to_string())?;
        let event: serde_json::Value = serde_json::from_str(&text(&event)?)
            .map_err(|e| format!("the event is not JSON: {e}"))?;
        Ok::<bool, String>(pattern.matches(&event))
    })();
    match result {
        Ok(true) => {
            println!("match");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("no-match");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error: {e}");
            ExitCode::from(INVALID)
        }
    }
}
