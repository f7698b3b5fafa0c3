//! AWS DeepRacer reward functions run unchanged as Python plugins (the
//! SDK's DeepRacer adapter) and give, step for step, the rewards CPython
//! gives when it calls the same `reward_function(params)` on the same steps.

use std::path::Path;
use std::process::Command;

use weir::connectors::generator::{Workload, generator};
use weir::plugin::{InstanceOptions, Plugin};
use weir::{Batch, Position, Record};

use super::TestResult;
use super::languages::{engine, load};

const STEPS: usize = 6_000;
const TOLERANCE: f64 = 1e-12;

/// The three classic functions: plugin name and project directory.
const FUNCTIONS: [(&str, &str); 3] = [
    ("follow_center_line", "follow-center-line"),
    ("stay_inside_borders", "stay-inside-borders"),
    ("prevent_zigzag", "prevent-zigzag"),
];

/// Calls `reward_function` from DIR on every line of FILE (one step's
/// params as JSON), printing each reward as `repr` prints it.
const CPYTHON: &str = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
from reward_function import reward_function
with open(sys.argv[2]) as steps:
    for line in steps:
        print(repr(float(reward_function(json.loads(line)))))
"#;

fn steps() -> Vec<Vec<u8>> {
    let mut g = generator(Workload::Race, 3);
    (0..STEPS).map(|_| g.next_record().value.to_vec()).collect()
}

fn cpython(project: &Path, steps_file: &Path) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(CPYTHON)
        .arg(project)
        .arg(steps_file)
        .output()?;
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::parse)
        .collect::<Result<_, _>>()?)
}

fn in_weir(plugin: &Plugin, steps: &[Vec<u8>]) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let mut instance = plugin.instantiate(InstanceOptions::default())?;
    let mut rewards = Vec::with_capacity(steps.len());
    for (n, chunk) in steps.chunks(500).enumerate() {
        let records = chunk
            .iter()
            .enumerate()
            .map(|(i, v)| Record::new(v.clone(), Position::Offset((n * 500 + i) as u64), 0))
            .collect();
        let outcome = instance
            .process(Batch::new("race", "0", records))
            .map_err(|f| f.error)?;
        assert!(outcome.failed.is_empty(), "{:?}", outcome.failed.first());
        rewards.extend(outcome.records.iter().map(|r| r.score.unwrap_or(f64::NAN)));
    }
    Ok(rewards)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: number of rewards");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= TOLERANCE,
            "{what}: step {i}: {g} against {w}"
        );
    }
}

#[test]
fn deepracer_reward_functions_match_cpython() -> TestResult {
    let dir = tempfile::tempdir()?;
    let steps = steps();
    let file = dir.path().join("steps.jsonl");
    let mut text = Vec::new();
    for s in &steps {
        text.extend_from_slice(s);
        text.push(b'\n');
    }
    std::fs::write(&file, text)?;

    let engine = engine();
    let root = weir_test_support::repo_root();
    for (name, project) in FUNCTIONS {
        let plugin = load(&engine, "python", name, true);
        let got = in_weir(&plugin, &steps)?;
        let want = cpython(&root.join("plugins/python").join(project), &file)?;
        assert_close(name, &got, &want);
        let mut distinct: Vec<f64> = want.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(distinct.len() >= 2, "{name}: every step got {distinct:?}");
    }

    // The Rust sample of the first function agrees as well.
    let rust = load(&engine, "rust", "center_line_reward", false);
    let want = cpython(&root.join("plugins/python/follow-center-line"), &file)?;
    assert_close("center_line_reward", &in_weir(&rust, &steps)?, &want);
    Ok(())
}
