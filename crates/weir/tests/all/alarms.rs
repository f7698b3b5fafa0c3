//! Alarms on a pipeline's own series: a steady stream for a warm-up, then
//! a fault (the plugin fails 20 % of the records; its latency grows ten
//! times; the sink stalls). The alarm watching the right metric is raised
//! within 10 periods, and written to the alarm sink; in a steady run of
//! the same length with normal noise, none is.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use serde_json::Value;
use weir::connectors::file::{FileSink, Format};
use weir::monitor::{AlarmConfig, AlarmEvent, AlarmState, Measure, MonitorSettings, Side};
use weir::pipeline::{Pipeline, Stage};
use weir::{Acks, Batch, BatchLimits, Position, Record, Sink, SinkError, Source, SourceError};

use super::{TestResult, engine, load};

/// The monitor's period.
const PERIOD: Duration = Duration::from_millis(400);
/// Periods before the fault (the alarms learn for 10 of them).
const WARM_UP: u32 = 25;
/// The fault must raise its alarm within this many periods.
const WITHIN: u32 = 10;
/// Records per second of the steady stream.
const RATE: u64 = 1_000;
/// Work per record (the chaos plugin counts to it): tens of microseconds.
const WORK: u64 = 20_000;

const NORMAL: u8 = 0;
const FAILING: u8 = 1;
const SLOW: u8 = 2;

/// About [`RATE`] records per second in batches every 20 ms, their sizes
/// varying by ±10 % (deterministic noise). While `mode` is [`FAILING`],
/// every fifth record asks the chaos plugin to fail; while it is [`SLOW`],
/// each asks for ten times the work.
struct Steady {
    mode: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
    started: Option<Instant>,
    batches: u64,
    sent: u64,
    noise: u64,
}

#[async_trait]
impl Source for Steady {
    async fn open(&mut self, _acks: Acks) -> Result<(), SourceError> {
        Ok(())
    }

    async fn next_batch(&mut self, _limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self.stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        let due = started + Duration::from_millis(20 * self.batches);
        tokio::time::sleep_until(due.into()).await;
        self.batches += 1;
        // A small linear congruential generator: sizes 18 to 22.
        self.noise = self
            .noise
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let size = RATE / 50 - 2 + (self.noise >> 33) % 5;
        let mode = self.mode.load(Ordering::Relaxed);
        let records = (0..size)
            .map(|_| {
                let n = self.sent;
                self.sent += 1;
                let value = match mode {
                    FAILING if n.is_multiple_of(5) => format!("{{\"n\":{n},\"fail\":true}}"),
                    SLOW => format!("{{\"n\":{n},\"work\":{}}}", WORK * 10),
                    _ => format!("{{\"n\":{n},\"work\":{WORK}}}"),
                };
                Record::new(value, Position::Offset(n), 0)
            })
            .collect();
        Ok(Some(Batch::new("steady", "0", records)))
    }

    fn describe(&self) -> String {
        "steady".into()
    }
}

/// Counts what it is given; while `stalled`, a write waits.
#[derive(Clone, Default)]
struct Stalling {
    stalled: Arc<AtomicBool>,
    records: Arc<AtomicU64>,
}

#[async_trait]
impl Sink for Stalling {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        while self.stalled.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.records
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn describe(&self) -> String {
        "stalling".into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Failures,
    Latency,
    SinkStall,
}

/// The three alarms every scenario runs with: each learns a band.
fn alarms() -> Vec<AlarmConfig> {
    let errors = AlarmConfig::new("errors", Measure::ErrorRatio)
        .direction(Side::Above)
        .to("alerts");
    let mut slow = AlarmConfig::new("slow-plugin", Measure::LatencyP50)
        .stage("chaos")
        .direction(Side::Above)
        .to("alerts");
    // Latency on a shared 2-core machine is noisy: a band at least three
    // times the median wide; a ten-fold growth is far outside it.
    slow.relative_spread = 2.0;
    let mut stalled = AlarmConfig::new("stalled", Measure::Written)
        .direction(Side::Below)
        .to("alerts");
    stalled.relative_spread = 0.5;
    let mut all = vec![errors, slow, stalled];
    for a in &mut all {
        a.window = 30;
        a.warmup = 10;
    }
    all
}

/// Runs the steady stream for [`WARM_UP`] periods, then `fault` (or
/// nothing) for [`WITHIN`] periods or until an alarm is raised. Returns
/// the events and the time of the fault, with the alarm sink's lines.
async fn scenario(
    fault: Option<Fault>,
) -> Result<(Vec<AlarmEvent>, SystemTime, Vec<Value>), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let alerts = dir.path().join("alerts.jsonl");
    let mode = Arc::new(AtomicU8::new(NORMAL));
    let stop = Arc::new(AtomicBool::new(false));
    let out = Stalling::default();
    let source = Steady {
        mode: mode.clone(),
        stop: stop.clone(),
        started: None,
        batches: 0,
        sent: 0,
        noise: 7,
    };
    let mut builder = Pipeline::builder("alarmed")
        .source(source)
        .stage(Stage::new("chaos", load(&engine(), "test_chaos")))
        .sink("out", out.clone())
        .sink("dead", Stalling::default())
        .sink("alerts", FileSink::open(&alerts, Format::Value, false)?)
        .on_failure("dead")
        .monitor(MonitorSettings::default().every(PERIOD));
    for a in alarms() {
        builder = builder.alarm(a);
    }
    let pipeline = builder.build()?;
    let control = pipeline.control();
    let run = tokio::spawn(pipeline.run(std::future::pending()));
    let monitor = control.monitor().ok_or("no monitor")?.clone();

    // Warm-up: every alarm has learnt its band.
    let warm = Instant::now() + PERIOD * (WARM_UP + 10);
    tokio::time::sleep(PERIOD * WARM_UP).await;
    while monitor.alarms().iter().any(|a| a.state != AlarmState::Ok) {
        assert!(
            Instant::now() < warm,
            "still learning: {:?}",
            monitor.alarms()
        );
        tokio::time::sleep(PERIOD / 4).await;
    }
    assert!(monitor.events(100).is_empty(), "{:?}", monitor.events(100));

    let injected = SystemTime::now();
    match fault {
        Some(Fault::Failures) => mode.store(FAILING, Ordering::Relaxed),
        Some(Fault::Latency) => mode.store(SLOW, Ordering::Relaxed),
        Some(Fault::SinkStall) => out.stalled.store(true, Ordering::Relaxed),
        None => {}
    }
    let until = Instant::now() + PERIOD * (WITHIN + 1);
    while Instant::now() < until && !monitor.events(100).iter().any(|e| e.raised) {
        tokio::time::sleep(PERIOD / 8).await;
    }
    let events = monitor.events(100);

    // Back to normal: a raised alarm clears.
    mode.store(NORMAL, Ordering::Relaxed);
    out.stalled.store(false, Ordering::Relaxed);
    if events.iter().any(|e| e.raised) {
        let until = Instant::now() + PERIOD * (WITHIN * 3);
        while !monitor.events(100).iter().any(|e| !e.raised) {
            assert!(
                Instant::now() < until,
                "the alarm did not clear: {:?}",
                monitor.alarms()
            );
            tokio::time::sleep(PERIOD / 4).await;
        }
    }
    eprintln!(
        "{fault:?}: stopping at {:?}",
        SystemTime::now().duration_since(injected)
    );
    stop.store(true, Ordering::Relaxed);
    tokio::time::timeout(Duration::from_secs(30), run).await???;
    eprintln!(
        "{fault:?}: stopped at {:?}",
        SystemTime::now().duration_since(injected)
    );
    // Notifications are written in the background.
    let expected = monitor.events(100).len();
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let text = std::fs::read_to_string(&alerts).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
        if lines.len() >= expected || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Ok((events, injected, lines))
}

/// The fault raised `alarm` (watching `metric`) within [`WITHIN`] periods,
/// and no other alarm; its notification names the metric, the band and
/// the value.
async fn raises(fault: Fault, alarm: &str, metric: Measure) -> TestResult {
    let (events, injected, lines) = scenario(Some(fault)).await?;
    let raised: Vec<&AlarmEvent> = events.iter().filter(|e| e.raised).collect();
    let names: Vec<&str> = raised.iter().map(|e| e.alarm.as_str()).collect();
    assert_eq!(names, [alarm], "{fault:?}: {events:#?}");
    let event = raised[0];
    assert_eq!(event.series.measure, metric);
    let after = event.at.duration_since(injected)?;
    assert!(
        after <= PERIOD * WITHIN,
        "{fault:?}: raised {after:?} after the fault, more than {WITHIN} periods"
    );
    let band = event.band.ok_or("a band alarm's event has its band")?;
    assert!(
        match metric {
            Measure::Written => event.value < band.low,
            _ => event.value > band.high,
        },
        "{event:?}"
    );
    let line = lines
        .iter()
        .find(|l| l["state"] == "raised")
        .ok_or_else(|| format!("no notification in the alarm sink: {lines:?}"))?;
    assert_eq!(line["alarm"], alarm);
    assert_eq!(line["metric"], metric.name());
    assert_eq!(line["pipeline"], "alarmed");
    assert!(
        line["band"]["high"].is_number() && line["value"].is_number(),
        "{line}"
    );
    assert!(line["at_ms"].as_u64().is_some_and(|t| t > 0), "{line}");
    assert!(
        lines
            .iter()
            .any(|l| l["state"] == "cleared" && l["alarm"] == alarm),
        "the alarm clears once the fault is gone: {lines:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_records_raise_the_error_ratio_alarm() -> TestResult {
    raises(Fault::Failures, "errors", Measure::ErrorRatio).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ten_times_slower_plugin_raises_the_latency_alarm() -> TestResult {
    raises(Fault::Latency, "slow-plugin", Measure::LatencyP50).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_sink_raises_the_throughput_alarm() -> TestResult {
    raises(Fault::SinkStall, "stalled", Measure::Written).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_steady_run_raises_no_alarm() -> TestResult {
    let (events, _, lines) = scenario(None).await?;
    assert!(events.is_empty(), "{events:#?}");
    assert!(lines.is_empty(), "{lines:?}");
    Ok(())
}
