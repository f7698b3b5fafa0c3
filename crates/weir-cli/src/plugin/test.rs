//! `weir plugin test`: runs a plugin over JSON lines and prints, or checks,
//! what became of each record.

use std::io::Write as _;
use std::path::Path;

use anyhow::bail;
use serde_json::Value;
use weir::Record;
use weir::check::{CheckError, compare, outcomes_of, read_expected};
use weir::plugin::PluginInstance;

/// How to run the plugin over the input.
pub(crate) struct Run<'a> {
    pub(crate) batch_size: usize,
    pub(crate) window_ms: i64,
    pub(crate) expect: Option<&'a Path>,
}

/// Runs `instance` over `records`; prints each outcome, or with
/// `expect`, the differences from the expected outcomes (an error when
/// there are any).
pub(crate) fn test(
    instance: &mut PluginInstance,
    records: &[Record],
    run: &Run<'_>,
) -> anyhow::Result<()> {
    let got = outcomes_of(instance, records, run.batch_size, run.window_ms);
    let count = |what: &str| {
        got.iter()
            .filter(|v| v.get("outcome").and_then(Value::as_str) == Some(what))
            .count()
    };
    let trapped = count("trap");
    eprintln!(
        "{}: {} records: {} passed, {} dropped, {} failed, {} in trapped calls",
        instance.plugin().name(),
        records.len(),
        count("kept") + count("scored") + count("emitted") + count("folded"),
        count("dropped"),
        count("error"),
        trapped
    );
    if let Some(path) = run.expect {
        let want = read_expected(path)?;
        if let Err(CheckError::Differs {
            count,
            total,
            differences,
            ..
        }) = compare(&want, &got, path)
        {
            for line in &differences {
                println!("{line}");
            }
            bail!(
                "{count} of {total} outcomes differ from `{}`",
                path.display()
            );
        }
        eprintln!(
            "all {} outcomes as expected in `{}`",
            got.len(),
            path.display()
        );
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in &got {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    if trapped > 0 {
        bail!("the plugin trapped on {trapped} records");
    }
    Ok(())
}
