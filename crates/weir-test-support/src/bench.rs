//! What the end-to-end benchmarks share.

use std::time::Duration;

/// CPU time (user + system) of this process so far, from
/// `/proc/self/stat` in ticks of 10 ms; zero where that file is missing.
/// Benchmarks take the difference around a job to show the client's share
/// of the cores a broker or emulator also runs on.
pub fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}
