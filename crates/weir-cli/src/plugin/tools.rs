//! The toolchains `weir plugin build` runs, installed (pinned) into the
//! tools directory the first time: `$WEIR_TOOLS_DIR`, else
//! `$XDG_CACHE_HOME/weir/tools`, else `~/.cache/weir/tools`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use super::sdk;

/// componentize-py, which makes a component of a Python plugin.
pub(crate) const COMPONENTIZE_PY: &str = "0.25.1";

/// The tools directory.
pub(crate) fn dir() -> anyhow::Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("WEIR_TOOLS_DIR") {
        return Ok(dir);
    }
    if let Some(cache) = var("XDG_CACHE_HOME") {
        return Ok(cache.join("weir/tools"));
    }
    match var("HOME") {
        Some(home) => Ok(home.join(".cache/weir/tools")),
        None => bail!("no place for build tools: set WEIR_TOOLS_DIR (or HOME)"),
    }
}

/// Prints a step of a build, on stderr, before it starts.
pub(crate) fn step(what: &str) {
    eprintln!("weir plugin build: {what}");
}

/// Runs `cmd`, its output shown as it comes; an error naming `what` when it
/// cannot start or fails.
pub(crate) fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let status = cmd
        .status()
        .with_context(|| format!("{what}: cannot run `{program}`"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Whether `program --version` runs and prints `expect`.
fn reports(program: &Path, expect: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(expect))
}

/// The componentize-py executable, installed into a virtual environment in
/// the tools directory the first time.
pub(crate) fn componentize_py() -> anyhow::Result<PathBuf> {
    let venv = dir()?.join(format!("componentize-py-{COMPONENTIZE_PY}"));
    let exe = venv.join("bin/componentize-py");
    if reports(&exe, &format!("componentize-py {COMPONENTIZE_PY}")) {
        return Ok(exe);
    }
    let python = which("python3").context(
        "Python plugins are built with componentize-py, which needs python3; install it \
         (Debian: `sudo apt-get install -y python3 python3-venv`)",
    )?;
    let venv_ok = Command::new(&python)
        .args(["-c", "import ensurepip, venv"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !venv_ok {
        bail!(
            "Python's venv module is missing, which installing componentize-py needs. Run:\n  \
             sudo apt-get install -y python3-venv"
        );
    }
    step(&format!(
        "installing componentize-py {COMPONENTIZE_PY} into {} (first build only, about a minute)",
        venv.display()
    ));
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .with_context(|| format!("cannot remove `{}`", venv.display()))?;
    }
    run(
        Command::new(&python).arg("-m").arg("venv").arg(&venv),
        "creating a Python virtual environment",
    )?;
    run(
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "on",
            &format!("componentize-py=={COMPONENTIZE_PY}"),
        ]),
        "installing componentize-py",
    )?;
    Ok(exe)
}

/// Makes sure Rust can build for `target` (adding it with rustup if
/// needed).
pub(crate) fn rust_target(target: &str) -> anyhow::Result<()> {
    which("cargo")
        .context("Rust plugins are built with cargo; install Rust from https://rustup.rs")?;
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == target)
        });
    match installed {
        Ok(true) => Ok(()),
        Ok(false) => {
            step(&format!("adding the Rust target {target}"));
            run(
                Command::new("rustup").args(["target", "add", target]),
                "adding the Rust target",
            )
        }
        Err(_) => bail!(
            "rustup is not on PATH, so the `{target}` target cannot be checked; install it with \
             `rustup target add {target}` (or install Rust from https://rustup.rs)"
        ),
    }
}

/// The componentize-js executable, installed with `npm ci` from the
/// pinned lockfile into the tools directory the first time.
pub(crate) fn componentize_js() -> anyhow::Result<PathBuf> {
    let version = sdk::componentize_js_version()?;
    let dir = dir()?.join(format!("componentize-js-{version}"));
    let exe = dir.join("node_modules/.bin/componentize-js");
    let stamp = dir.join(".installed-lock");
    if exe.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == sdk::JS_LOCK) {
        return Ok(exe);
    }
    let npm = which("npm").context(
        "JavaScript plugins are built with componentize-js, installed with npm; install \
         Node.js 18 or later and npm (Debian: `sudo apt-get install -y nodejs npm`)",
    )?;
    step(&format!(
        "installing componentize-js {version} into {} (first build only, about a minute)",
        dir.display()
    ));
    sdk::write(&dir, sdk::JS_TOOLS)?;
    run(
        Command::new(npm).current_dir(&dir).args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ]),
        "installing componentize-js",
    )?;
    std::fs::write(&stamp, sdk::JS_LOCK)
        .with_context(|| format!("cannot write `{}`", stamp.display()))?;
    Ok(exe)
}

/// clang able to build for `wasm32-wasi` (wasm-ld, wasi-libc and the wasm32
/// compiler builtins beside it), or the line that installs it.
pub(crate) fn clang_wasm() -> anyhow::Result<PathBuf> {
    const INSTALL: &str = "sudo apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32";
    let clang = which("clang");
    let complete = clang.is_some()
        && which("wasm-ld").is_some()
        && Path::new("/usr/include/wasm32-wasi/stdlib.h").is_file();
    match clang {
        Some(clang) if complete => Ok(clang),
        _ => bail!(
            "C plugins are built with clang for wasm32-wasi, with wasm-ld and wasi-libc, \
             which are missing. Run:\n  {INSTALL}"
        ),
    }
}

/// A Go toolchain of 1.24 or later (`go:wasmexport`).
pub(crate) fn go() -> anyhow::Result<PathBuf> {
    let go = which("go")
        .or_else(|| Some(PathBuf::from("/usr/local/go/bin/go")).filter(|p| p.is_file()))
        .context(
            "Go plugins are built with Go 1.24 or later; install it from https://go.dev/dl/",
        )?;
    let version = Command::new(&go)
        .args(["env", "GOVERSION"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let minor = version
        .strip_prefix("go1.")
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) if m >= 24 => Ok(go),
        _ => bail!(
            "Go plugins need Go 1.24 or later (`go:wasmexport`); `{}` is `{version}`. \
             Install a newer one from https://go.dev/dl/",
            go.display()
        ),
    }
}

/// The first `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
