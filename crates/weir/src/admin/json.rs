//! The JSON the admin API answers with.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::monitor::{Monitor, SeriesKey, SeriesSnapshot};
use crate::pipeline::{PipelineControl, RecentDeadLetter, RecentError, Refusal, StageStatus};

/// Milliseconds since the Unix epoch.
pub(super) fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(super) fn refusal(r: &Refusal) -> Value {
    json!({
        "at_ms": ms(r.at),
        "digest": r.digest,
        "source": r.source.as_ref().map(|p| p.display().to_string()),
        "reason": r.reason,
    })
}

pub(super) fn stage(control: &PipelineControl, s: &StageStatus) -> Value {
    json!({
        "stage": s.stage,
        "plugin": s.plugin,
        "kind": s.kind.to_string(),
        "version": s.version,
        "digest": s.digest,
        "loaded_at_ms": ms(s.loaded_at),
        "previous_digest": s.previous_digest,
        "source": s.source.as_ref().map(|p| p.display().to_string()),
        "watched": s.watched,
        "limits": s.limits,
        "grants": s.grants,
        "refusals": control
            .refusals(&s.stage)
            .unwrap_or_default()
            .iter()
            .map(refusal)
            .collect::<Vec<_>>(),
        "shadow": control.shadow_report(&s.stage).ok().flatten().map(|r| shadow(&r)),
    })
}

pub(super) fn pipeline(control: &PipelineControl) -> Value {
    json!({
        "name": control.name(),
        "paused": control.is_paused(),
        "source": {"type": control.source()},
        "sinks": control
            .sinks()
            .iter()
            .map(|(name, description)| json!({"name": name, "type": description}))
            .collect::<Vec<_>>(),
        "monitor": control.monitor().map(|m| json!({
            "period_ms": u64::try_from(m.settings().period.0.as_millis()).unwrap_or(u64::MAX),
            "history": m.settings().history,
        })),
        "stages": control
            .stages()
            .iter()
            .map(|s| stage(control, s))
            .collect::<Vec<_>>(),
    })
}

pub(super) fn error(e: &RecentError) -> Value {
    json!({
        "at_ms": ms(e.at),
        "stage": e.stage,
        "plugin_version": e.plugin_version,
        "partition": e.partition,
        "position": e.position,
        "error": e.error,
    })
}

pub(super) fn dead_letter(d: &RecentDeadLetter) -> Value {
    let record = d.letter.to_record();
    let mut v: Value = serde_json::from_slice(&record.value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("at_ms".into(), json!(ms(d.at)));
    }
    v
}

pub(super) fn shadow(r: &crate::pipeline::ShadowReport) -> Value {
    json!({
        "plugin": r.plugin,
        "digest": r.digest,
        "since_ms": ms(r.since),
        "records": r.records,
        "differing": r.differing,
        "failed_calls": r.failed_calls,
        "samples": r.samples.iter().map(|s| json!({
            "input": s.input,
            "serving": s.serving,
            "candidate": s.candidate,
        })).collect::<Vec<_>>(),
    })
}

/// A series key's fields.
fn key_fields(k: &SeriesKey) -> (Value, Value, Value, Value) {
    (
        json!(k.measure.name()),
        json!(k.stage),
        json!(k.sink),
        json!(k.measure.unit()),
    )
}

pub(super) fn series(s: &SeriesSnapshot) -> Value {
    json!({
        "period_ms": u64::try_from(s.period.as_millis()).unwrap_or(u64::MAX),
        "t": s.times,
        "series": s.series.iter().map(|(k, values)| {
            let (name, stage, sink, unit) = key_fields(k);
            json!({"name": name, "stage": stage, "sink": sink, "unit": unit, "values": values})
        }).collect::<Vec<_>>(),
    })
}

pub(super) fn alarms(m: &Monitor) -> Value {
    let alarms: Vec<Value> = m
        .alarms()
        .iter()
        .map(|a| {
            let (metric, stage, sink, unit) = key_fields(&a.series);
            json!({
                "name": a.config.name,
                "metric": metric,
                "stage": stage,
                "sink": sink,
                "unit": unit,
                "state": a.state.name(),
                "value": a.value,
                "band": a.band.map(crate::monitor::band_json),
                "above": a.config.above,
                "below": a.config.below,
                "since_ms": ms(a.since),
                "raised": a.raised,
                "to": a.config.to,
            })
        })
        .collect();
    let events: Vec<Value> = m
        .events(crate::monitor::KEPT_EVENTS)
        .iter()
        .map(|e| {
            let mut v = e.to_json();
            if let Value::Object(map) = &mut v {
                map.insert(
                    "state".into(),
                    json!(if e.raised { "raised" } else { "cleared" }),
                );
            }
            v
        })
        .collect();
    json!({"alarms": alarms, "events": events})
}
