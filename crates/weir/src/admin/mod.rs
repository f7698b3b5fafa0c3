//! The admin API: an HTTP JSON API over running pipelines, served with the
//! metrics.
//!
//! [`Admin`] holds the [`PipelineControl`]s of the pipelines a process
//! runs; [`Admin::handle`] answers one request and knows nothing of HTTP
//! beyond method, path, `Authorization` header and body, so an embedder
//! can mount it in a server of its own; [`serve`] is weir's own small
//! server (what `weir run --metrics ADDR` starts).
//!
//! ## Routes
//!
//! Every route under `/api` answers JSON; an error is `{"error": "…"}`
//! with status 400 (bad request body), 401 (token missing or wrong),
//! 404 (no such pipeline, stage or route), 405 (wrong method) or 409 (a
//! reload, rollback or shadow refused; the serving version keeps serving).
//!
//! | Method and path | Does |
//! |---|---|
//! | `GET /` | the dashboard (below; no token needed for the page and its files under `/dashboard/`) |
//! | `GET /metrics` | the metrics in the OpenMetrics text format (no token needed) |
//! | `GET /api/pipelines` | every pipeline: `name`, `paused`, `stages` |
//! | `GET /api/pipelines/{p}` | one pipeline, as above |
//! | `POST /api/pipelines/{p}/pause` | stops reading the source; batches in flight finish. `{"paused": true, "changed": bool}` |
//! | `POST /api/pipelines/{p}/resume` | reads again. `{"paused": false, "changed": bool}` |
//! | `GET /api/pipelines/{p}/series?since_ms=T` | the monitor's series (below), the points after T or all kept; 404 if the monitor is off |
//! | `GET /api/pipelines/{p}/alarms` | `{"alarms": [...], "events": [...]}`: every alarm and the last alarm events (below) |
//! | `GET /api/pipelines/{p}/errors?limit=N` | the last N (default 20, at most 100) stage errors, oldest first |
//! | `GET /api/pipelines/{p}/dead-letters?limit=N` | the last N dead letters with their context, oldest first |
//! | `GET /api/pipelines/{p}/stages/{s}` | one stage (below) |
//! | `POST /api/pipelines/{p}/stages/{s}/reload` | loads the stage's file again, or body `{"plugin": "PATH"}` (a path on the host running weir), checks, starts and swaps it in; the stage after it |
//! | `POST /api/pipelines/{p}/stages/{s}/rollback` | swaps the previous version back in; the stage after it |
//! | `GET /api/pipelines/{p}/stages/{s}/shadow` | the shadow candidate's comparison (below), or 404 |
//! | `POST /api/pipelines/{p}/stages/{s}/shadow` | body `{"plugin": "PATH"}`: runs it as a shadow candidate |
//! | `POST /api/pipelines/{p}/stages/{s}/shadow/promote` | swaps the candidate in (as a reload) |
//! | `DELETE /api/pipelines/{p}/stages/{s}/shadow` | drops the candidate |
//!
//! A pipeline is `{"name", "paused", "source": {"type"}, "sinks":
//! [{"name", "type"}], "monitor": {"period_ms", "history"} or null,
//! "stages"}` (`type`: the connector's description).
//! Series are `{"period_ms", "t": [ms…], "series": [{"name", "stage",
//! "sink", "unit", "values": [number or null…]}]}`, values aligned with
//! `t` (see [`crate::monitor`] for every series). An alarm is `{"name",
//! "metric", "stage", "sink", "unit", "state": "learning" | "ok" | "alarm",
//! "value", "band": {"low", "center", "high"} or null, "above", "below",
//! "since_ms", "raised", "to"}`; an event is the JSON its sinks receive
//! ([`AlarmEvent::to_json`](crate::monitor::AlarmEvent::to_json)).
//! A stage is `{"stage", "plugin", "kind", "version", "digest",
//! "loaded_at_ms", "previous_digest", "source", "watched", "limits":
//! {"deadline_ms", "memory_mb"}, "grants": {"wasi"}, "refusals": [{"at_ms",
//! "digest", "source", "reason"}], "shadow"}`. An error is `{"at_ms",
//! "stage", "plugin_version", "partition", "position", "error"}` (no
//! position for a whole call). A dead letter is `{"at_ms", …}` with the
//! fields the failure destination gets (`error`, `stage`, `plugin`,
//! `plugin_version`, `origin`, `partition`, `position`, `attempts`,
//! `timestamp_ms`, `key`, `value`), its key and value cut to
//! [`KEPT_RECORD_BYTES`](crate::pipeline::KEPT_RECORD_BYTES). A shadow is
//! `{"digest", "plugin", "since_ms", "records", "differing", "failed_calls",
//! "samples": [{"input", "serving", "candidate"}]}`.
//!
//! ## Dashboard
//!
//! `/` is a live dashboard of every pipeline, updated every second from the
//! routes above: the pipeline graph (source, stages with their plugin
//! versions, sinks), throughput in and out, filtered and failed rates,
//! plugin latency percentiles, lag, alarms, and the last errors and dead
//! letters. Its files are built into weir (the charts are drawn with the
//! vendored uPlot library), so it loads nothing from elsewhere. With a
//! token, open it as `/#token=TOKEN`.
//!
//! ## Access
//!
//! With a token ([`Admin::with_token`]), every `/api` request needs the
//! header `Authorization: Bearer TOKEN`. [`serve`] refuses to listen on an
//! address other than loopback without one: the API reloads plugins from
//! paths on the host.

mod assets;
mod http;
mod json;
mod routes;

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use crate::metrics::Metrics;
use crate::pipeline::PipelineControl;

pub use http::{AdminError, serve};

/// The pipelines an admin API answers for, its metrics and its token.
#[derive(Debug, Default)]
pub struct Admin {
    pipelines: RwLock<BTreeMap<String, PipelineControl>>,
    metrics: Option<Metrics>,
    token: Option<String>,
}

/// One request, as [`Admin::handle`] needs it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, `DELETE`…
    pub method: String,
    /// The path with its query, e.g. `/api/pipelines/p/errors?limit=5`.
    pub target: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The body (JSON for the routes that take one).
    pub body: Vec<u8>,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The content type of `body`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl Admin {
    /// An admin API with no pipelines, metrics or token.
    pub fn new() -> Self {
        Admin::default()
    }

    /// Serves `metrics` at `/metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Requires `Authorization: Bearer TOKEN` on every `/api` request.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Whether a token is required.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Answers for a pipeline (replacing one of the same name).
    pub fn add(&self, control: PipelineControl) {
        self.pipelines
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(control.name().to_string(), control);
    }

    fn pipeline(&self, name: &str) -> Option<PipelineControl> {
        self.pipelines
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    fn all(&self) -> Vec<PipelineControl> {
        self.pipelines
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Answers one request. Blocking: a reload compiles and starts a
    /// plugin; call it off an async runtime's worker threads.
    pub fn handle(&self, request: &Request) -> Response {
        routes::handle(self, request)
    }
}
