//! Running the `weir` binary from integration tests: start, kill, stop,
//! read its log.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What test functions return.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;
/// Any error, boxed.
pub type Error = Box<dyn std::error::Error>;

/// The `weir` binary next to the running test executable
/// (`target/<profile>/weir` for `target/<profile>/deps/<test>`).
pub fn weir_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    dir.join(format!("weir{}", std::env::consts::EXE_SUFFIX))
}

/// Applies `env` to `cmd`: `(name, Some(v))` sets a variable, `(name,
/// None)` removes it.
pub fn apply_env(cmd: &mut Command, env: &[(&str, Option<&str>)]) {
    for (name, value) in env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
}

/// Tests that share a service (a broker, an emulator) and two cores: one
/// at a time.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A name no earlier run used (topics and groups outlive a test).
pub fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

/// A `weir run` process; killed when dropped. Its log goes to a file.
pub struct Weir {
    pub child: Child,
    pub log: PathBuf,
}

impl Weir {
    pub fn start(config: &Path, log_name: &str) -> Result<Self, Error> {
        Self::start_with(config, log_name, &[])
    }

    /// `weir run` with extra arguments.
    pub fn start_with(config: &Path, log_name: &str, args: &[&str]) -> Result<Self, Error> {
        Self::start_env(config, log_name, args, &[])
    }

    /// `weir run` with extra arguments and environment: `(name, Some(v))`
    /// sets a variable, `(name, None)` removes it.
    pub fn start_env(
        config: &Path,
        log_name: &str,
        args: &[&str],
        env: &[(&str, Option<&str>)],
    ) -> Result<Self, Error> {
        let log = config.with_file_name(format!("{log_name}.log"));
        let file = std::fs::File::create(&log)?;
        let mut cmd = Command::new(weir_bin());
        cmd.args(["run", "--log", "info"])
            .args(args)
            .arg(config)
            .stdout(Stdio::null())
            .stderr(file);
        apply_env(&mut cmd, env);
        Ok(Weir {
            child: cmd.spawn()?,
            log,
        })
    }

    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// The last 30 lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = self.log_text();
        let mut tail: Vec<&str> = log.lines().rev().take(30).collect();
        tail.reverse();
        tail.join("\n")
    }

    /// Fails if the process ended.
    pub fn check_running(&mut self) -> TestResult {
        if let Some(status) = self.child.try_wait()? {
            return Err(format!(
                "weir ended early ({status}); log tail:\n{}",
                self.log_tail()
            )
            .into());
        }
        Ok(())
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) -> TestResult {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM: finish the batches in flight, commit, leave the group or
    /// release the leases.
    pub fn stop(mut self) -> TestResult {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    return Err(format!(
                        "weir exited with {status}; log tail:\n{}",
                        self.log_tail()
                    )
                    .into());
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("weir did not stop within 60 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a pipeline config into `dir`.
pub fn write_config(dir: &Path, text: &str) -> Result<PathBuf, Error> {
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The Prometheus text `weir run --metrics ADDR` serves at `/metrics`.
pub fn scrape_metrics(addr: &str) -> Result<String, Error> {
    http_get(addr, "/metrics")
}

/// The whole answer (head and body) to `GET path` from the server
/// `weir run --metrics ADDR` starts.
pub fn http_get(addr: &str, path: &str) -> Result<String, Error> {
    use std::io::Write as _;
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: weir\r\n\r\n").as_bytes())?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text)
}

/// The value of metric `name` whose labels include every one of `labels`,
/// if `text` (Prometheus text) has it.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
                && wanted.iter().all(|w| l.contains(w.as_str()))
        })
        .find_map(|l| l.rsplit_once(' ')?.1.trim().parse().ok())
}

/// How a command measured by [`run_measured`] ended.
#[derive(Debug)]
pub struct Measured {
    /// Its exit status; `None` when it was killed at the time limit.
    pub status: Option<std::process::ExitStatus>,
    /// Its peak resident memory (`VmHWM`), in KiB, as last read while it
    /// ran (the mark only rises, so this is the peak up to its last
    /// moments).
    pub peak_rss_kib: u64,
    /// What it wrote to stdout and stderr.
    pub stdout: String,
    pub stderr: String,
}

/// The `VmHWM` of process `pid`, in KiB, if it is still running.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` to its end (killing it after `limit`), reading its peak
/// resident memory every few milliseconds while it runs.
pub fn run_measured(cmd: &mut Command, limit: Duration) -> Result<Measured, Error> {
    let dir = tempfile::tempdir()?;
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&err)?)
        .spawn()?;
    let started = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(Measured {
        status,
        peak_rss_kib: peak,
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    })
}
