//! The process's own resident memory and CPU time, read from `/proc` when
//! the metrics are encoded (Linux; absent elsewhere).

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::names;

/// Clock ticks per second of `/proc/self/stat`'s times: `USER_HZ`, which
/// Linux fixes at 100 on every architecture weir builds for.
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU time of this process, in seconds.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, in parentheses, may hold spaces: fields are
    // counted after its closing parenthesis (the first after it is field 3).
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// This process's resident memory, in bytes.
pub(crate) fn resident_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Writes the two process families, where `/proc` has them.
pub(super) fn encode(encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
    if let Some(cpu) = cpu_seconds() {
        let c = ConstCounter::new(cpu);
        c.encode(
            encoder.encode_descriptor(
                names::PROCESS_CPU_SECONDS
                    .strip_suffix("_total")
                    .unwrap_or(names::PROCESS_CPU_SECONDS),
                "CPU time (user and system) this process used, in seconds.",
                None,
                c.metric_type(),
            )?,
        )?;
    }
    if let Some(rss) = resident_bytes() {
        let g = ConstGauge::new(rss);
        g.encode(encoder.encode_descriptor(
            names::PROCESS_RESIDENT_BYTES,
            "Resident memory of this process, in bytes.",
            None,
            g.metric_type(),
        )?)?;
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn proc_is_read() {
        assert!(super::cpu_seconds().is_some_and(|s| s >= 0.0));
        assert!(super::resident_bytes().is_some_and(|b| b > 1e6));
    }
}
