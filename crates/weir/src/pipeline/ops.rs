//! What an operator can do to a running pipeline besides reloading it, and
//! what it can see: pausing and resuming the source, and the last errors and
//! dead letters.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use crate::record::DeadLetter;

/// How many errors and dead letters a pipeline remembers for the admin API.
pub const KEPT_RECENT: usize = 100;

/// The longest error text kept (longer ones end in `…`).
pub const KEPT_ERROR_BYTES: usize = 2048;

/// The most bytes of a dead record's key and value kept (the dead-letter
/// destination has the whole record).
pub const KEPT_RECORD_BYTES: usize = 4096;

/// An error a stage reported: a record it failed, or a call that failed
/// (and may have been retried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentError {
    /// When.
    pub at: SystemTime,
    /// The stage.
    pub stage: String,
    /// The digest of the plugin version that failed.
    pub plugin_version: String,
    /// The partition of the batch.
    pub partition: String,
    /// The record's position, for a record error; `None` for a whole call.
    pub position: Option<String>,
    /// The error, at most [`KEPT_ERROR_BYTES`].
    pub error: String,
}

/// A dead letter as remembered: its record cut to [`KEPT_RECORD_BYTES`].
#[derive(Debug, Clone)]
pub struct RecentDeadLetter {
    /// When it was written to the failure destination.
    pub at: SystemTime,
    /// The dead letter.
    pub letter: DeadLetter,
}

/// Pause state and recent failures of one pipeline.
#[derive(Debug, Default)]
pub(crate) struct Ops {
    paused: AtomicBool,
    resumed: tokio::sync::Notify,
    errors: Mutex<VecDeque<RecentError>>,
    dead_letters: Mutex<VecDeque<RecentDeadLetter>>,
}

/// `text` cut to at most `max` bytes at a character boundary, marked.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

fn push<T>(list: &Mutex<VecDeque<T>>, item: T) {
    let mut list = list.lock().unwrap_or_else(PoisonError::into_inner);
    if list.len() == KEPT_RECENT {
        list.pop_front();
    }
    list.push_back(item);
}

fn last<T: Clone>(list: &Mutex<VecDeque<T>>, n: usize) -> Vec<T> {
    let list = list.lock().unwrap_or_else(PoisonError::into_inner);
    list.iter()
        .skip(list.len().saturating_sub(n))
        .cloned()
        .collect()
}

impl Ops {
    pub(crate) fn pause(&self) -> bool {
        !self.paused.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn resume(&self) -> bool {
        let was = self.paused.swap(false, Ordering::SeqCst);
        self.resumed.notify_waiters();
        was
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Resolves when the pipeline is resumed (at once if it is not paused).
    pub(crate) async fn resumed(&self) {
        loop {
            let notified = self.resumed.notified();
            if !self.is_paused() {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn error(&self, mut e: RecentError) {
        e.error = cut(&e.error, KEPT_ERROR_BYTES);
        push(&self.errors, e);
    }

    pub(crate) fn dead_letter(&self, letter: &DeadLetter) {
        let mut letter = letter.clone();
        letter.error = cut(&letter.error, KEPT_ERROR_BYTES);
        let r = &mut letter.record;
        if r.value.len() > KEPT_RECORD_BYTES {
            r.value = r.value.slice(..KEPT_RECORD_BYTES);
        }
        if let Some(k) = &r.key
            && k.len() > KEPT_RECORD_BYTES
        {
            r.key = Some(k.slice(..KEPT_RECORD_BYTES));
        }
        r.headers.truncate(32);
        push(
            &self.dead_letters,
            RecentDeadLetter {
                at: SystemTime::now(),
                letter,
            },
        );
    }

    pub(crate) fn errors(&self, n: usize) -> Vec<RecentError> {
        last(&self.errors, n)
    }

    pub(crate) fn dead_letters(&self, n: usize) -> Vec<RecentDeadLetter> {
        last(&self.dead_letters, n)
    }
}
