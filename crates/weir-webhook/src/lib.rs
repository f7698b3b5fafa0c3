//! HTTP webhooks for weir: a **sink** that sends records to an HTTP
//! endpoint, `type = "webhook"` once [`register`]ed.
//!
//! ```toml
//! [sinks.alerts]
//! type = "webhook"
//! url = "https://hooks.example.com/fraud"
//! key_header = "X-Card"          # the record key, per record
//! timeout = "5s"
//! [sinks.alerts.headers]
//! Authorization = "Bearer 0123456789"
//!
//! [sinks.archive]
//! type = "webhook"
//! url = "http://collector.internal:8080/ingest"
//! batch = true                   # one JSON array per write
//! max_batch_records = 200
//! ```
//!
//! # Requests
//!
//! - **Per record** (`batch = false`, the default): one request per record;
//!   its body is the record value, byte for byte, whatever it holds (JSON,
//!   text or binary). With `key_header`, the record key goes in that header.
//! - **Batch** (`batch = true`): one request per write, split into requests
//!   of at most `max_batch_records` records. The body is a JSON array of
//!   the values: a value that is JSON is embedded verbatim, other UTF-8
//!   text becomes a JSON string, other bytes `{"base16": "…"}`.
//!
//! Every request carries the static `headers` and `Content-Type:
//! <content_type>`. A user name and password in `url` are sent as basic
//! authentication; they never appear in descriptions, logs or errors.
//! Redirects are not followed (a redirected POST would turn into a GET): a
//! 3xx answer fails its request.
//!
//! # Delivery
//!
//! At least once. A write returns `Ok` — the acknowledgement the pipeline
//! waits for before it checkpoints — only once every request of it got a
//! 2xx answer. A request is retried (`retries` times, waiting
//! `retry_backoff`, doubled each time, at most 5 s) after a 5xx or 429
//! answer, a connection error or a timeout; any other answer fails it at
//! once. A receiver may therefore see a record twice (a 2xx answer lost to
//! a timeout, or a retry of the write by the pipeline); make it idempotent,
//! e.g. keyed by `key_header`.
//!
//! When requests fail for good, the write fails with
//! [`weir::SinkError::partial`] naming only the records of the failed
//! requests: the pipeline retries those (`[errors] max_retries`) and then
//! sends them to the failure destination. The message names the sink, the
//! method and URL, and the status with the first 512 bytes of the answer's
//! body, or the timeout, or the connection error. After a request fails
//! for good because the endpoint looks down — a timeout, a connection
//! error, or a 429, 502, 503 or 504 answer — the write sends nothing more
//! and counts its unsent records as failed too, so a dead endpoint costs
//! one request's retries per write, not one per record.
//!
//! # Order
//!
//! With `concurrency = 1` (the default) the sink has one request in flight
//! at a time, and a write keeps that turn from its first request to its
//! last: writes go out whole, one after another, in the order the pipeline
//! starts them. The pipeline starts the writes of a partition in stream
//! order (it overlaps a few of them, one waiting behind the other here), so
//! records arrive in the order of their partition. The price is that all
//! writes of the sink, of every partition, share that one turn; for
//! throughput use `batch = true`, or a larger `concurrency`: the sink then
//! has up to that many requests in flight, over all its writes, and records
//! may arrive in any order. Records that failed and are written again by
//! the pipeline arrive after the ones accepted meanwhile, whatever the
//! setting.
//!
//! # Options
//!
//! See [`WebhookOptions`] for each option with an example.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `url` | required | `http://` or `https://` endpoint |
//! | `method` | `"POST"` | `"POST"` or `"PUT"` |
//! | `headers` | none | static headers, name → value |
//! | `batch` | `false` | `true`: JSON arrays of values instead of one request per record |
//! | `max_batch_records` | `500` | records per request with `batch = true` |
//! | `content_type` | `"application/json"` | the `Content-Type` header |
//! | `key_header` | none | header carrying the record key (per-record mode) |
//! | `timeout` | `"10s"` | per request, from connecting to the end of the answer |
//! | `retries` | `3` | retries of a request after 5xx, 429, connection error or timeout |
//! | `retry_backoff` | `"200ms"` | first wait between attempts; doubles, at most 5 s |
//! | `concurrency` | `1` | requests of the sink in flight at once; 1 keeps the stream's order |
//!
//! # TLS
//!
//! `https://` uses rustls with the Mozilla root certificates built in (no
//! OpenSSL, no system certificate store); HTTP/2 is used when the server
//! offers it over TLS, HTTP/1.1 otherwise.

#![deny(missing_docs)]

mod options;
mod sink;

use std::sync::Arc;

use weir::Sink;
use weir::connectors::{ConnectorContext, Registry, SinkConnector};

pub use options::{Method, WebhookOptions, WebhookUrl};
pub use sink::WebhookSink;

/// The `webhook` sink type, for a [`Registry`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookConnector;

/// Adds the `webhook` sink type to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register_sink("webhook", WebhookConnector);
}

/// The built-in connectors plus the webhook sink.
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    register(&mut r);
    r
}

impl SinkConnector for WebhookConnector {
    type Options = WebhookOptions;

    fn check(&self, options: &WebhookOptions) -> Result<(), String> {
        options.check()
    }

    fn build(
        &self,
        name: &str,
        options: WebhookOptions,
        _ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        Ok(Arc::new(WebhookSink::new(name, &options)?))
    }
}
