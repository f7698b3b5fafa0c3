//! Watching the plugin files of a running pipeline's stages and reloading
//! a stage when its file changes.
//!
//! File-system events (inotify on Linux, through the `notify` crate) start
//! a reload quickly; every stage's file is also polled, so a change is seen
//! where events are not delivered (network file systems, some container
//! mounts) or a watch cannot be set. A change is acted on once the file
//! has stayed the same for the debounce time, so a file being written is
//! not loaded half-written. A file whose content is the serving version's,
//! or the last one tried, is not loaded again. Reloads run on the
//! watcher's one thread, one at a time: compiling a new version takes at
//! most one core away from serving.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use crate::plugin::digest_of;

use super::stages::{StageChain, StageRuntime};

/// How a running pipeline watches its stages' plugin files (see
/// [`Stage::watch`](super::Stage::watch)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How long a changed file must stay unchanged before it is loaded.
    /// Default 200 ms.
    pub debounce: Duration,
    /// How often every watched file is checked, events or not. Default 1 s.
    pub poll_interval: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(200),
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl WatchOptions {
    /// These options with a debounce of `d`.
    #[must_use]
    pub fn with_debounce(mut self, d: Duration) -> Self {
        self.debounce = d;
        self
    }

    /// These options with a poll interval of `d`.
    #[must_use]
    pub fn with_poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }
}

/// What a file looked like when last checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
    })
}

/// One watched stage file.
struct Watched {
    stage: usize,
    path: PathBuf,
    seen: Option<Stamp>,
    changed_at: Option<Instant>,
    tried: Option<String>,
}

/// The watcher of a running pipeline; stops when dropped.
pub(crate) struct Watcher {
    stop: Arc<AtomicBool>,
    /// Wakes the thread (an empty path) so that it sees `stop` at once.
    wake: mpsc::Sender<PathBuf>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Watcher {
    /// Stops the thread and waits for it (within a tick, or once a reload
    /// in progress is done), so that nothing of the pipeline outlives its
    /// run through the watcher.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.wake.send(PathBuf::new());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Watcher {
    /// Starts watching the files of the stages that asked for it; `None`
    /// when none did.
    pub(crate) fn start(chain: &Arc<StageChain>, options: WatchOptions) -> Option<Watcher> {
        let files: Vec<Watched> = chain
            .stages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.reloading.watch)
            .filter_map(|(stage, s)| {
                let path = absolute(&s.reloading.source()?);
                // Unseen: the first poll reads the file, in case it changed
                // between loading and running.
                Some(Watched {
                    stage,
                    seen: None,
                    path,
                    changed_at: None,
                    tried: Some(s.current().plugin.info().digest.clone()),
                })
            })
            .collect();
        if files.is_empty() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let events = events(&files, tx.clone());
        // Weak: between reloads the watcher holds nothing of the pipeline.
        let chain = Arc::downgrade(chain);
        let stopped = stop.clone();
        let span = tracing::Span::current();
        let spawned = std::thread::Builder::new()
            .name("weir-watch".into())
            .spawn(move || {
                let _span = span.entered();
                let _events = events;
                watch(&chain, files, &rx, options, &stopped);
            });
        let thread = match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("cannot start the plugin file watcher, files are not watched: {e}");
                None
            }
        };
        Some(Watcher {
            stop,
            wake: tx,
            thread,
        })
    }
}

/// `path` made absolute (events name absolute paths).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A file-system watcher on the directories of `files` (editors and
/// deployments replace a file by renaming another onto it), sending the
/// paths that changed; `None` where it cannot be set up, and polling alone
/// does.
fn events(files: &[Watched], tx: mpsc::Sender<PathBuf>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher as _;
    let handler = move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("file-system events unavailable, polling plugin files only: {e}");
            return None;
        }
    };
    for f in files {
        let dir = f.path.parent().unwrap_or(Path::new("/"));
        if let Err(e) = watcher.watch(dir, notify::RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %dir.display(), "cannot watch, polling the plugin file only: {e}");
        }
    }
    Some(watcher)
}

fn watch(
    chain: &Weak<StageChain>,
    mut files: Vec<Watched>,
    events: &mpsc::Receiver<PathBuf>,
    options: WatchOptions,
    stop: &AtomicBool,
) {
    let tick = options
        .debounce
        .min(options.poll_interval)
        .max(Duration::from_millis(10));
    let mut polled: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if let Ok(path) = events.recv_timeout(tick) {
            let now = Instant::now();
            for changed in std::iter::once(path).chain(events.try_iter()) {
                for f in files.iter_mut().filter(|f| f.path == changed) {
                    f.changed_at = Some(now);
                }
            }
        }
        let now = Instant::now();
        let poll = polled.is_none_or(|at| now.duration_since(at) >= options.poll_interval);
        if poll {
            polled = Some(now);
        }
        for f in &mut files {
            if poll || f.changed_at.is_some() {
                let current = stamp(&f.path);
                if current != f.seen {
                    f.seen = current;
                    f.changed_at = Some(now);
                    continue;
                }
            }
            let settled = f
                .changed_at
                .is_some_and(|at| now.duration_since(at) >= options.debounce);
            if settled && f.seen.is_some() {
                f.changed_at = None;
                let Some(chain) = chain.upgrade() else { return };
                if let Some(stage) = chain.stages.get(f.stage) {
                    reload(stage, f);
                }
            }
        }
    }
}

/// Reloads `stage` from its file unless the file holds the serving version
/// or the one tried last.
fn reload(stage: &StageRuntime, f: &mut Watched) {
    let Ok(bytes) = std::fs::read(&f.path) else {
        return;
    };
    let digest = digest_of(&bytes);
    if f.tried.as_deref() == Some(&digest) || stage.current().plugin.info().digest == digest {
        return;
    }
    f.tried = Some(digest);
    tracing::info!(stage = %stage.name, file = %f.path.display(), "plugin file changed: reloading");
    // Refusals are counted, logged and remembered by the stage.
    let _ = stage.reload_file(Some(&f.path));
}
