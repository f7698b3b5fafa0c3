//! What a plugin's text may cost the host: messages cut to
//! `limits.message_bytes`, and log lines (the `log` import, stdout and
//! stderr together) bounded per call by `limits.log_lines` and
//! `limits.log_kb`, past which they are counted and reported as one
//! "N lines dropped" line when the call ends.

use std::sync::{Arc, Mutex, PoisonError};

use super::Limits;

/// `text` cut to at most `max` bytes (at a character boundary) plus a
/// marker saying how many bytes were cut; unchanged when short enough.
pub(crate) fn cut(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.len() - end;
    text.truncate(end);
    text.push_str(&format!(" …[{cut} more bytes cut]"));
    text
}

#[derive(Debug, Default)]
struct Spent {
    lines: usize,
    bytes: usize,
    dropped: usize,
}

/// One instance's log budget for the current call, shared by its `log`
/// import and its stdout and stderr.
#[derive(Debug, Clone)]
pub(crate) struct LogBudget {
    plugin: Arc<str>,
    lines: usize,
    bytes: usize,
    spent: Arc<Mutex<Spent>>,
}

impl LogBudget {
    pub(crate) fn new(plugin: Arc<str>, limits: &Limits) -> Self {
        LogBudget {
            plugin,
            lines: limits.log_lines(),
            bytes: limits.log_bytes(),
            spent: Arc::default(),
        }
    }

    /// The plugin's name.
    pub(crate) fn plugin(&self) -> Arc<str> {
        self.plugin.clone()
    }

    /// Whether a line of `len` bytes may be logged; if not, it is counted
    /// as dropped.
    pub(crate) fn admit(&self, len: usize) -> bool {
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.lines < self.lines && spent.bytes.saturating_add(len) <= self.bytes {
            spent.lines += 1;
            spent.bytes += len;
            true
        } else {
            spent.dropped += 1;
            false
        }
    }

    /// Ends a call: reports the lines dropped in it, as one line, and
    /// resets the budget.
    pub(crate) fn end_call(&self) {
        let dropped = {
            let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut *spent).dropped
        };
        if dropped > 0 {
            let plugin = &*self.plugin;
            tracing::warn!(
                plugin,
                "{dropped} log lines dropped: past `limits.log_lines` = {} or `limits.log_kb` = {} in one call",
                self.lines,
                self.bytes / 1024
            );
        }
    }

    /// Lines dropped so far in this call.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> usize {
        self.spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_character_boundary_with_a_marker() {
        assert_eq!(cut("short".into(), 10), "short");
        assert_eq!(cut("ééé".into(), 3), "é …[4 more bytes cut]");
    }

    #[test]
    fn lines_past_the_budget_are_counted_then_reset() {
        let limits = Limits {
            log_lines: 2,
            log_kb: 1,
            ..Limits::default()
        };
        let b = LogBudget::new(Arc::from("p"), &limits);
        assert!(b.admit(10) && b.admit(10));
        assert!(!b.admit(1));
        assert_eq!(b.dropped(), 1);
        b.end_call();
        assert!(b.admit(1000));
        assert!(!b.admit(100), "past 1 KiB");
    }
}
