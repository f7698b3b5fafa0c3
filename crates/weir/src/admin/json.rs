//! The JSON the admin API answers with.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

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
