//! Every checked-in input of every target — the seed corpus in
//! `fuzz/corpus/<target>/` and the findings kept as regression cases in
//! `fuzz/regressions/<target>/` — runs through its target without a panic
//! and in less than the fuzz driver's time limit.

use weir_fuzz::driver::{self, check_one};
use weir_fuzz::{TARGETS, fuzz_dir};

#[test]
fn corpus_and_regressions_pass() {
    let dir = fuzz_dir();
    let mut failures = Vec::new();
    let mut total = 0;
    for t in TARGETS {
        // Set-up (the columnar target compiles its components) is not
        // charged to the first input.
        let _ = driver::run_one(t, &[]);
        let inputs = driver::seeds(&dir, t.name);
        assert!(
            !inputs.is_empty(),
            "no corpus for target {} in {}",
            t.name,
            dir.display()
        );
        for (path, data) in inputs {
            total += 1;
            if let Err(f) = check_one(t, &data) {
                failures.push(format!("{}: {f}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_survives_generated_inputs() {
    let mut rng = weir_fuzz::mutate::Rng::new(14);
    for t in TARGETS {
        for _ in 0..200 {
            let data = (t.generate)(&mut rng);
            if let Err(f) = check_one(t, &data) {
                panic!(
                    "{}: {f} on a generated input: {}",
                    t.name,
                    driver::preview(&data)
                );
            }
        }
    }
}
