//! The plugin developer's kit as a user runs it: for every language and
//! every kind its SDK writes, `weir plugin new` writes a project outside the
//! repository, `weir plugin build` builds it, and `weir plugin test` finds
//! the outcomes the project's sample expects.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Where the toolchains are kept: the suite's own (`WEIR_TOOLS_DIR`, as
/// scripts/test.sh sets it), else the one plugins/build.sh uses.
fn tools_dir() -> PathBuf {
    std::env::var_os("WEIR_TOOLS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| weir_test_support::repo_root().join(".cache/tools"))
}

fn weir(dir: &Path, args: &[&str], cargo_target: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.current_dir(dir)
        .args(args)
        .env("WEIR_TOOLS_DIR", tools_dir())
        // The Rust projects share their compiled dependencies.
        .env("CARGO_TARGET_DIR", cargo_target);
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run weir: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// new → build → test --expect for each kind, in a fresh directory.
fn kit(language: &str, kinds: &[&str]) -> TestResult {
    let work = tempfile::tempdir()?;
    let cargo_target = work.path().join("cargo-target");
    for kind in kinds {
        let name = format!("my-{kind}");
        let step = |args: &[&str], dir: &Path| -> Result<Output, String> {
            let out = weir(dir, args, &cargo_target);
            if out.status.success() {
                Ok(out)
            } else {
                Err(format!(
                    "{language} {kind}: `weir {}` failed:\n{}\n{}",
                    args.join(" "),
                    text(&out.stdout),
                    text(&out.stderr)
                ))
            }
        };
        step(
            &["plugin", "new", &name, "--lang", language, "--kind", kind],
            work.path(),
        )?;
        let project = work.path().join(&name);
        let built = step(&["plugin", "build"], &project)?;
        let wasm = project.join(format!("target/{}.wasm", name.replace('-', "_")));
        assert!(
            text(&built.stdout).contains(&wasm.display().to_string()),
            "{language} {kind}: the build names its component:\n{}",
            text(&built.stdout)
        );
        let tested = step(&["plugin", "test", "."], &project)?;
        let said = text(&tested.stderr);
        assert!(
            said.contains("outcomes as expected"),
            "{language} {kind}: {said}"
        );
    }
    Ok(())
}

#[test]
fn a_rust_plugin_of_every_kind_is_made_built_and_tested() -> TestResult {
    kit(
        "rust",
        &["filter", "enricher", "scorer", "reward", "aggregator"],
    )
}

#[test]
fn a_python_plugin_of_every_kind_is_made_built_and_tested() -> TestResult {
    kit(
        "python",
        &["filter", "enricher", "scorer", "reward", "aggregator"],
    )
}

#[test]
fn a_javascript_plugin_of_every_kind_is_made_built_and_tested() -> TestResult {
    kit(
        "js",
        &["filter", "enricher", "scorer", "reward", "aggregator"],
    )
}

#[test]
fn a_c_plugin_of_every_kind_is_made_built_and_tested() -> TestResult {
    kit("c", &["filter", "scorer"])
}

#[test]
fn a_go_plugin_is_made_built_and_tested() -> TestResult {
    kit("go", &["filter"])
}

/// A kind a language's SDK does not write is refused by name, before
/// anything is written.
#[test]
fn a_kind_the_sdk_does_not_write_is_refused() -> TestResult {
    let work = tempfile::tempdir()?;
    let out = weir(
        work.path(),
        &["plugin", "new", "p", "--lang", "go", "--kind", "reward"],
        &work.path().join("t"),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("the go SDK writes filter plugins, not reward"),
        "{err}"
    );
    assert!(!work.path().join("p").exists());
    Ok(())
}
