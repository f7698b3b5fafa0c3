//! Hot reload as a user drives it: `weir run` picking up a replaced plugin
//! file, `weir reload` and `weir rollback` against its admin API, and
//! `weir replay` of dead letters and of recorded input.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn weir(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_weir")).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run weir: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn plugin(name: &str) -> PathBuf {
    weir_test_support::plugin(name)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

/// A config reading `input.jsonl` through one filter stage `filter.wasm`
/// to `out.jsonl`, failures to `failed.jsonl`.
fn config(dir: &Path, extra: &str) -> std::io::Result<PathBuf> {
    let path = dir.join("pipeline.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "reloading"
{extra}
[[stages]]
name = "filter"
plugin = "filter.wasm"

[sinks.out]
type = "file"
path = "out.jsonl"
format = "json"

[sinks.failed]
type = "file"
path = "failed.jsonl"

[errors]
on_failure = "failed"
"#
        ),
    )?;
    Ok(path)
}

#[test]
fn dead_letters_of_a_buggy_version_pass_once_the_fixed_one_is_in() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Every 10th record makes the buggy version fail it.
    let input: Vec<String> = (1..=100)
        .map(|n| {
            if n % 10 == 0 {
                format!(r#"{{"n":{n},"note":"fail"}}"#)
            } else {
                format!(r#"{{"n":{n}}}"#)
            }
        })
        .collect();
    std::fs::write(dir.path().join("input.jsonl"), input.join("\n"))?;
    std::fs::copy(plugin("test_chaos"), dir.path().join("filter.wasm"))?;
    let cfg = config(
        dir.path(),
        "[source]\ntype = \"file\"\npath = \"input.jsonl\"\n",
    )?;
    let cfg = cfg.display().to_string();
    let run = weir(&["run", &cfg]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(lines(&dir.path().join("out.jsonl")).len(), 90);
    let failed = dir.path().join("failed.jsonl");
    assert_eq!(lines(&failed).len(), 10);

    // The fixed version (keeps every record) replaces the buggy one.
    std::fs::copy(plugin("test_bare"), dir.path().join("filter.wasm"))?;
    let replay = weir(&[
        "replay",
        "dead-letters",
        &cfg,
        "--from",
        &failed.display().to_string(),
        "--json",
    ]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    let summary: Value = serde_json::from_slice(&replay.stdout)?;
    assert_eq!(summary["letters"], 10, "{summary}");
    assert_eq!(summary["passed"], 10, "{summary}");
    assert_eq!(summary["failed_again"], 0, "{summary}");
    // Each record reached the sink exactly once.
    let out = lines(&dir.path().join("out.jsonl"));
    let mut ns: Vec<u64> = out
        .iter()
        .filter_map(|r| r["value"]["n"].as_u64())
        .collect();
    ns.sort_unstable();
    assert_eq!(ns, (1..=100).collect::<Vec<u64>>());
    // The replayed ones name the fixed version.
    let bare = text(
        &weir(&[
            "plugin",
            "inspect",
            &plugin("test_bare").display().to_string(),
            "--json",
        ])
        .stdout,
    );
    let digest = serde_json::from_str::<Value>(&bare)?["digest"].clone();
    assert!(
        out.iter()
            .filter(|r| r["value"]["note"] == "fail")
            .all(|r| r["headers"]["weir-plugin-digest"] == digest)
    );
    Ok(())
}

/// A running `weir run` with its admin API, stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits for `f` (bounded).
fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_running_pipeline_reloads_a_replaced_file_and_on_command() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::copy(plugin("amount_filter"), dir.path().join("filter.wasm"))?;
    // An endless trickle of transactions.
    let cfg = config(
        dir.path(),
        "[source]\ntype = \"generator\"\nworkload = \"transactions\"\ncount = 100000000\nrate = 2000\n",
    )?;
    let toml = std::fs::read_to_string(&cfg)?.replace(
        "plugin = \"filter.wasm\"",
        "plugin = \"filter.wasm\"\nsettings = { min_amount = 100 }",
    );
    std::fs::write(&cfg, toml)?;
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "run",
            &cfg.display().to_string(),
            "--metrics",
            &addr,
            "--admin-token",
            "t0k",
        ])
        .env("WEIR_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut running = Running(child);
    let stderr = running.0.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let log = std::sync::Mutex::new(Vec::<String>::new());
    let logged = |needle: &str| {
        let mut log = log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.extend(rx.try_iter());
        log.iter().filter(|l| l.contains(needle)).count()
    };
    eventually("the admin API is up", || logged("admin API at") > 0);
    let digest_of = |name: &str| -> String {
        let out = weir(&[
            "plugin",
            "inspect",
            &plugin(name).display().to_string(),
            "--json",
        ]);
        serde_json::from_slice::<Value>(&out.stdout)
            .map(|v| v["digest"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    let (first, bare) = (digest_of("amount_filter"), digest_of("test_bare"));

    // The file is replaced: the watcher swaps the new version in.
    let next = dir.path().join("filter.wasm.next");
    std::fs::copy(plugin("test_bare"), &next)?;
    std::fs::rename(&next, dir.path().join("filter.wasm"))?;
    eventually("the replaced file is swapped in", || {
        logged("plugin version swapped in") >= 1
    });
    eventually("outputs carry the new version", || {
        lines(&dir.path().join("out.jsonl"))
            .iter()
            .rev()
            .take(5)
            .any(|r| r["headers"]["weir-plugin-digest"] == bare.as_str())
    });

    // The CLI verbs, with and without the token.
    let target = ["reloading", "filter", "--admin", &addr];
    let refused = weir(&[&["rollback"][..], &target].concat());
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("Bearer"),
        "{}",
        text(&refused.stderr)
    );
    let with_token = |verb: &str, more: &[&str]| {
        weir(&[&[verb][..], &target, &["--token", "t0k"], more].concat())
    };
    let back = with_token("rollback", &[]);
    assert!(back.status.success(), "{}", text(&back.stderr));
    assert!(
        text(&back.stdout).contains(&first),
        "{}",
        text(&back.stdout)
    );
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, "not a component")?;
    let refused = with_token("reload", &["--plugin", &broken.display().to_string()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("broken.wasm"),
        "{}",
        text(&refused.stderr)
    );
    let again = with_token("reload", &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains(&bare),
        "{}",
        text(&again.stdout)
    );
    Ok(())
}

#[test]
fn recorded_input_is_diffed_against_a_candidate() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("recorded.jsonl");
    std::fs::write(&input, "{\"amount\": 5}\n{\"amount\": 500}\n")?;
    let outcomes = dir.path().join("outcomes.jsonl");
    let serving = plugin("amount_filter").display().to_string();
    let recorded = weir(&[
        "plugin",
        "test",
        &serving,
        "--input",
        &input.display().to_string(),
        "--config",
        "min_amount=100",
    ]);
    assert!(recorded.status.success(), "{}", text(&recorded.stderr));
    std::fs::write(&outcomes, &recorded.stdout)?;
    let args = |candidate: &str| {
        weir(&[
            "replay",
            "diff",
            candidate,
            "--input",
            &input.display().to_string(),
            "--config",
            "min_amount=100",
            "--expect",
            &outcomes.display().to_string(),
        ])
    };
    assert!(args(&serving).status.success());
    let differs = args(&plugin("test_bare").display().to_string());
    assert!(!differs.status.success());
    let shown = text(&differs.stdout);
    assert!(
        shown.contains("outcome 1:") && shown.contains("\"kept\""),
        "{shown}"
    );
    assert!(
        text(&differs.stderr).contains("1 of 2 outcomes differ"),
        "{}",
        text(&differs.stderr)
    );
    Ok(())
}
