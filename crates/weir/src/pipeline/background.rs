//! Work that must not slow serving: loading and starting a new plugin
//! version runs on a thread of the lowest CPU priority, so that on a small
//! machine the stage's workers keep their cores and the new version takes
//! what is left.

/// Runs `f` on a new thread of the lowest CPU priority and returns its
/// result (a panic in `f` is resumed here).
pub(crate) fn in_background<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    // The caller's span (pipeline, stage) names what the thread logs.
    let span = tracing::Span::current();
    std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let _span = span.entered();
            lowest_priority();
            f()
        });
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Lowers the calling thread's CPU priority as far as it goes: the
/// `SCHED_IDLE` policy, or nice 19 where that is refused.
///
/// Nice 19 alone is not enough: the scheduler lets a running thread finish
/// its time slice (about 1.5 ms on 2 cores) before a woken worker gets its
/// core, and does not count the core as free when it places the worker. A
/// `SCHED_IDLE` thread gives way as soon as any other thread wakes, and its
/// core counts as idle.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lowest_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `sched_setscheduler` reads `param`, which lives across the
    // call; `pid = 0` names the calling thread alone. Any thread may move
    // itself to `SCHED_IDLE` without privileges.
    let idle = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0;
    if !idle {
        // SAFETY: `setpriority` takes integers only and touches no memory
        // of ours; on Linux, `PRIO_PROCESS` with `who = 0` names the
        // calling thread alone (each thread has its own nice value). A
        // failure leaves the priority as it was, which is harmless.
        let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    }
}

#[cfg(not(target_os = "linux"))]
fn lowest_priority() {}
