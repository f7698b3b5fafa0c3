//! Runs the embedding example as a user would and checks what it printed.

use std::process::Command;

#[test]
fn the_embedding_example_scores_and_runs_a_pipeline() {
    // Build the plugins the example loads.
    weir_test_support::plugin("fraud_scorer");
    let out = match Command::new(env!("CARGO_BIN_EXE_weir-embed-example")).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run the example: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("offset 4 scored 0.80 [\"velocity\"]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("offset 6 scored 0.95 [\"velocity\", \"country-change\"]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pipeline read 5000 records and wrote 71 alerts"),
        "{stdout}"
    );
}
