//! Two `weir` processes in one consumer group share a 6-partition topic;
//! one is killed mid-stream and the other takes over its partitions.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use crate::common::*;

const CHUNK: u64 = 1_000;
const CHUNKS: u64 = 30;

/// `weir produce --input`: lines `{"id":N,"key":"k-…"}` keyed by `key`.
fn produce_chunk(dir: &Path, topic: &str, chunk: u64) -> TestResult {
    let path = dir.join(format!("chunk-{chunk}.jsonl"));
    let lines: Vec<String> = (chunk * CHUNK..(chunk + 1) * CHUNK)
        .map(|id| format!("{{\"id\":{id},\"key\":\"k-{}\"}}", id % 997))
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n")?;
    let args = [
        OsStr::new("--input"),
        path.as_os_str(),
        OsStr::new("--key-field"),
        OsStr::new("key"),
    ];
    weir_produce(topic, &args)
}

fn id(m: &Msg) -> Result<u64, Error> {
    m.json()["id"].as_u64().ok_or_else(|| "no id".into())
}

#[test]
fn two_processes_share_partitions_and_survive_a_sigkill() -> TestResult {
    let _serial = serial();
    let (input, output, group) = (unique("events"), unique("out"), unique("shared"));
    create_topic(&input, 6)?;
    create_topic(&output, 6)?;
    let dir = tempfile::tempdir()?;
    let config_text = |name: &str| {
        format!(
            "name = \"{name}\"\n{}\n[batch]\nmax_records = 200\nmax_wait_ms = 20\n\n\
             [[stages]]\nname = \"copy\"\nplugin = \"{}\"\n\n{}",
            source(&input, &group),
            plugin("test_passthrough"),
            sink("out", &output)
        )
    };
    // Each process has its own data directory, as on two machines.
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&dir_a)?;
    std::fs::create_dir_all(&dir_b)?;
    let config_a = write_config(&dir_a, &config_text("a"))?;
    let config_b = write_config(&dir_b, &config_text("b"))?;

    produce_chunk(dir.path(), &input, 0)?;
    let mut a = Weir::start(&config_a, "a")?;
    let mut b = Weir::start(&config_b, "b")?;
    // Both are members with partitions before more records come.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while ![&a, &b]
        .iter()
        .all(|w| w.log_text().contains("partitions assigned"))
    {
        a.check_running()?;
        b.check_running()?;
        assert!(
            std::time::Instant::now() < deadline,
            "the group did not share the partitions within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Records keep coming while `a` is killed.
    let producing = {
        let (dir, input) = (dir.path().to_path_buf(), input.clone());
        std::thread::spawn(move || -> Result<(), String> {
            for chunk in 1..CHUNKS {
                produce_chunk(&dir, &input, chunk).map_err(|e| e.to_string())?;
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        })
    };
    wait_for_count(
        &output,
        8 * CHUNK,
        Duration::from_secs(120),
        &mut [&mut a, &mut b],
    )?;
    a.kill()?;
    // What `a` could not commit is the only thing that may repeat.
    let committed = committed(&group, &input)?;
    let ends_at_kill = ends(&input)?;
    producing
        .join()
        .map_err(|_| "the producing thread panicked")??;
    let total = CHUNK * CHUNKS;
    if let Err(e) = wait_for_count(&output, total, Duration::from_secs(120), &mut [&mut b]) {
        // Say which records are missing, and where they were.
        let have: BTreeSet<u64> = read_all(&output)?
            .iter()
            .filter_map(|m| id(m).ok())
            .collect();
        let missing: Vec<String> = read_all(&input)?
            .iter()
            .filter(|m| id(m).is_ok_and(|i| !have.contains(&i)))
            .map(|m| format!("{}@{}", m.partition, m.offset))
            .collect();
        let _ = std::fs::copy(&b.log, "/tmp/group-b.log");
        let _ = std::fs::copy(&a.log, "/tmp/group-a.log");
        return Err(format!(
            "{e}; missing (partition@offset): {missing:?}; committed at the kill: {committed:?}"
        )
        .into());
    }
    // Give a late repeat the chance to show, then stop.
    std::thread::sleep(Duration::from_secs(1));
    b.stop()?;

    let inputs = read_all(&input)?;
    let position: BTreeMap<u64, (i32, i64)> = inputs
        .iter()
        .map(|m| Ok((id(m)?, (m.partition, m.offset))))
        .collect::<Result<_, Error>>()?;
    let out = read_all(&output)?;
    let ids: Vec<u64> = out.iter().map(id).collect::<Result<_, Error>>()?;
    let repeats = repeats_past_committed(ids.iter().copied(), &position, &committed)?;
    let seen: BTreeSet<u64> = ids.into_iter().collect();
    assert_eq!(
        seen,
        (0..total).collect::<BTreeSet<u64>>(),
        "nothing missing"
    );
    let tail: i64 = ends_at_kill
        .iter()
        .map(|(p, end)| end - committed.get(p).copied().unwrap_or(0))
        .sum();
    assert!(
        repeats as i64 <= tail,
        "{repeats} repeats, uncommitted tail {tail}"
    );
    eprintln!("{repeats} repeats; uncommitted tail at the kill {tail}");
    Ok(())
}
