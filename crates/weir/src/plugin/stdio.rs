//! Where a WASI-granted plugin's stdout and stderr go: log lines of the
//! plugin, bounded per call.
//!
//! Each complete line the guest writes becomes one log event with the
//! plugin's name and the stream (`stdout` at info level, `stderr` at warn).
//! A line longer than `limits.message_bytes` is cut there with a marker,
//! and lines count against the call's log budget (`limits.log_lines`,
//! `limits.log_kb`, shared with the `log` import): past it the rest are
//! counted and reported as one "N lines dropped" line when the call ends.
//! Nothing here needs an async runtime, so a plugin may print from any
//! thread.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use super::budget::LogBudget;

#[derive(Debug)]
struct Lines {
    stream: &'static str,
    partial: Vec<u8>,
    /// Bytes of the current line past `max_line`, not kept.
    cut: usize,
    max_line: usize,
    budget: LogBudget,
    /// Nothing is logged (a warm-up call).
    quiet: bool,
}

impl Lines {
    fn emit(&mut self) {
        if !self.quiet && self.budget.admit(self.partial.len()) {
            let mut text = String::from_utf8_lossy(&self.partial).into_owned();
            if self.cut > 0 {
                text.push_str(&format!(" …[{} more bytes cut]", self.cut));
            }
            let plugin = &*self.budget_plugin();
            match self.stream {
                "stderr" => tracing::warn!(plugin, stream = self.stream, "{text}"),
                _ => tracing::info!(plugin, stream = self.stream, "{text}"),
            }
        }
        self.partial.clear();
        self.cut = 0;
    }

    fn budget_plugin(&self) -> Arc<str> {
        self.budget.plugin()
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (line, rest, complete) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &[][..], false),
            };
            let room = self.max_line.saturating_sub(self.partial.len());
            let keep = line.len().min(room);
            self.partial.extend_from_slice(&line[..keep]);
            self.cut += line.len() - keep;
            if complete {
                let line_end = self.partial.last() == Some(&b'\r');
                if line_end {
                    self.partial.pop();
                }
                self.emit();
            }
            bytes = rest;
        }
    }

    /// Logs a line left unfinished at the end of a call.
    fn end_call(&mut self) {
        if !self.partial.is_empty() || self.cut > 0 {
            self.emit();
        }
    }
}

/// One of a plugin's output streams, turned into log lines.
#[derive(Debug, Clone)]
pub(crate) struct GuestOutput {
    lines: Arc<Mutex<Lines>>,
}

impl GuestOutput {
    pub(crate) fn new(stream: &'static str, max_line: usize, budget: LogBudget) -> Self {
        GuestOutput {
            lines: Arc::new(Mutex::new(Lines {
                stream,
                partial: Vec::new(),
                cut: 0,
                max_line,
                budget,
                quiet: false,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the output instead of logging it, while `quiet`.
    pub(crate) fn set_quiet(&self, quiet: bool) {
        self.lock().quiet = quiet;
    }

    /// Logs what is left of the call's output (the budget is reset by its
    /// owner).
    pub(crate) fn end_call(&self) {
        self.lock().end_call();
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.lock().push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.lock().push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs `f` (a call into a plugin that may use WASI) where WASI's
/// synchronous host functions can run: they block on a tokio runtime of
/// their own when none is current, or on the current one, which tokio
/// refuses from inside an async task. Inside a multi-threaded runtime the
/// call runs in `block_in_place`; inside a current-thread runtime, on a
/// scoped thread of its own.
pub(crate) fn off_async<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| match s.spawn(f).join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Limits;

    fn lines(limits: &Limits) -> (Lines, LogBudget) {
        let budget = LogBudget::new(Arc::from("p"), limits);
        let lines = Lines {
            stream: "stdout",
            partial: Vec::new(),
            cut: 0,
            max_line: limits.message_bytes(),
            budget: budget.clone(),
            quiet: false,
        };
        (lines, budget)
    }

    #[test]
    fn lines_are_bounded_per_call_and_reset() {
        let limits = Limits::default();
        let (mut l, budget) = lines(&limits);
        l.push(b"one\r\ntw");
        assert_eq!(l.partial.as_slice(), &b"tw"[..]);
        l.push(b"o\n");
        for _ in 0..limits.log_lines() {
            l.push(b"x\n");
        }
        assert_eq!(budget.dropped(), 2);
        l.end_call();
        budget.end_call();
        assert_eq!(budget.dropped(), 0);
    }

    #[test]
    fn long_lines_are_cut() {
        let limits = Limits::default();
        let (mut l, _) = lines(&limits);
        l.push(&vec![b'a'; limits.message_bytes() + 10]);
        assert_eq!((l.partial.len(), l.cut), (limits.message_bytes(), 10));
        l.end_call();
        assert!(l.partial.is_empty());
    }
}
