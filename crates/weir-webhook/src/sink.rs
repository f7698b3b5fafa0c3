//! The webhook sink: writes are HTTP requests, acknowledged by 2xx answers.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{Request, Response, StatusCode};
use tokio::sync::Semaphore;
use weir::envelope::write_embedded;
use weir::pipeline::ConfigDuration;
use weir::{Record, Sink, SinkError};

use crate::options::{Template, WebhookOptions};

/// Longest wait between two attempts of a request.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most bytes of an error answer's body quoted in an error message.
const BODY_PREFIX: usize = 512;
/// The most bytes of a 2xx answer's body read (so the connection can be
/// used again); past that the connection is dropped.
const DRAIN_LIMIT: usize = 64 * 1024;

/// An HTTP webhook sink (`type = "webhook"`): each write becomes one request
/// per record, or JSON-array requests with `batch = true`, and returns once
/// every request got a 2xx answer. See the [crate docs](crate).
pub struct WebhookSink {
    name: String,
    template: Template,
    client: reqwest::Client,
    /// `concurrency` permits, handed out first come, first served. With
    /// one, a write holds it from its first request to its last, so writes
    /// go out one after another in the order they started; with more, each
    /// request holds one.
    in_flight: Semaphore,
}

/// What happened to one request of a write.
enum Outcome {
    /// A 2xx answer.
    Accepted,
    /// Failed for good (retries used up, or not retryable).
    Failed(Failure),
    /// Not sent: an earlier request found the endpoint unreachable or
    /// overloaded, so the write stopped there.
    NotSent,
}

/// Why a request failed, after `attempts` tries.
struct Failure {
    cause: Cause,
    attempts: u32,
}

enum Cause {
    /// A non-2xx answer, with a prefix of its body.
    Status(StatusCode, String),
    /// No complete answer within the timeout.
    Timeout,
    /// Connecting or sending failed; the error and its causes.
    Transport(String),
    /// The request could not be made from the record (e.g. a key that is
    /// not a valid header value).
    Record(String),
}

impl Cause {
    /// Worth another attempt of the same request.
    fn retryable(&self) -> bool {
        match self {
            Cause::Status(s, _) => s.is_server_error() || *s == StatusCode::TOO_MANY_REQUESTS,
            Cause::Timeout | Cause::Transport(_) => true,
            Cause::Record(_) => false,
        }
    }

    /// Says the endpoint as a whole is down or overloaded (rather than this
    /// request being refused), so the rest of the write is not sent.
    fn endpoint_down(&self) -> bool {
        match self {
            Cause::Status(s, _) => matches!(s.as_u16(), 429 | 502 | 503 | 504),
            Cause::Timeout | Cause::Transport(_) => true,
            Cause::Record(_) => false,
        }
    }
}

impl WebhookSink {
    /// A sink named `name` in its pipeline, for `options`. Opens no
    /// connection: the first write does.
    pub fn new(name: &str, options: &WebhookOptions) -> Result<Self, String> {
        let template = options.template()?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("weir/", env!("CARGO_PKG_VERSION")))
            // A redirected POST would become a GET: a 3xx answer fails.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(template.timeout)
            .build()
            .map_err(|e| format!("creating the HTTP client: {}", chain(&e)))?;
        Ok(WebhookSink {
            name: name.to_string(),
            in_flight: Semaphore::new(template.concurrency.max(1)),
            template,
            client,
        })
    }

    /// The records of each request of a write of `n` records.
    fn requests(&self, n: usize) -> Vec<Range<usize>> {
        let per_request = self.template.batch.unwrap_or(1).max(1);
        (0..n)
            .step_by(per_request)
            .map(|start| start..n.min(start.saturating_add(per_request)))
            .collect()
    }

    /// The request for `records`.
    fn request(&self, records: &[Record]) -> Result<Request, Cause> {
        let t = &self.template;
        let mut builder = self
            .client
            .request(t.method.clone(), t.url.as_url().clone())
            .headers(t.headers.clone())
            .timeout(t.timeout);
        match (t.batch, records) {
            (None, [record]) => {
                if let (Some(header), Some(key)) = (&t.key_header, &record.key) {
                    let value = HeaderValue::from_bytes(key).map_err(|_| {
                        Cause::Record(format!(
                            "the record key is not a valid value of header `{header}` (it has control characters)"
                        ))
                    })?;
                    builder = builder.header(header, value);
                }
                builder = builder.body(record.value.clone());
            }
            _ => builder = builder.body(json_array(records)),
        }
        builder
            .build()
            .map_err(|e| Cause::Record(format!("making the request: {}", chain(&e))))
    }

    /// Sends `request`, retrying as the options say.
    async fn send(&self, request: Request) -> Outcome {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(attempt) = request.try_clone() else {
                let cause = Cause::Record("the request body cannot be sent twice".into());
                return Outcome::Failed(Failure { cause, attempts });
            };
            let (cause, retry_after) = match self.client.execute(attempt).await {
                Ok(answer) if answer.status().is_success() => {
                    drain(answer).await;
                    return Outcome::Accepted;
                }
                Ok(answer) => {
                    let status = answer.status();
                    let retry_after = retry_after(&answer);
                    (
                        Cause::Status(status, body_prefix(answer).await),
                        retry_after,
                    )
                }
                Err(e) if e.is_timeout() => (Cause::Timeout, None),
                Err(e) => (Cause::Transport(chain(&e.without_url())), None),
            };
            if !cause.retryable() || attempts > self.template.retries {
                return Outcome::Failed(Failure { cause, attempts });
            }
            tokio::time::sleep(self.delay(attempts, retry_after)).await;
        }
    }

    /// The wait after attempt number `attempt` (1-based): the backoff,
    /// doubled for each earlier attempt, at least `retry_after`, at most 5 s.
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let backoff = self.template.backoff.saturating_mul(factor);
        backoff
            .max(retry_after.unwrap_or_default())
            .min(MAX_BACKOFF)
    }

    /// The message of a failed request.
    fn describe_failure(&self, f: &Failure) -> String {
        let target = format!("{} {}", self.template.method, self.template.url);
        let tries = match f.attempts {
            1 if f.cause.retryable() => " (1 attempt)".to_string(),
            1 => " (not retried)".to_string(),
            n => format!(" ({n} attempts)"),
        };
        match &f.cause {
            Cause::Status(status, body) if body.is_empty() => {
                format!("{target} answered {status}{tries}, with no body")
            }
            Cause::Status(status, body) => {
                format!("{target} answered {status}{tries}: {body}")
            }
            Cause::Timeout => format!(
                "{target} timed out: no complete answer within {}{tries}",
                ConfigDuration(self.template.timeout)
            ),
            Cause::Transport(e) => format!("{target} failed{tries}: {e}"),
            Cause::Record(e) => format!("{target} not sent: {e}"),
        }
    }
}

#[async_trait]
impl Sink for WebhookSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        let requests = self.requests(records.len());
        if requests.is_empty() {
            return Ok(());
        }
        let ordered = self.template.concurrency <= 1;
        // Taken on the write's first poll: the pipeline polls each write
        // once before it starts the next, so writes queue in stream order.
        let _order = if ordered {
            let permit = self.in_flight.acquire().await;
            Some(permit.map_err(|e| SinkError::new(&self.name, e))?)
        } else {
            None
        };
        let stop = AtomicBool::new(false);
        let stop = &stop;
        let mut outcomes: Vec<(Range<usize>, Outcome)> = futures::stream::iter(requests)
            .map(|range| async move {
                let Some(slice) = records.get(range.clone()) else {
                    return (range, Outcome::NotSent);
                };
                // With concurrency above 1, each request holds a permit.
                let _permit = if ordered {
                    None
                } else {
                    match self.in_flight.acquire().await {
                        Ok(permit) => Some(permit),
                        Err(_) => return (range, Outcome::NotSent),
                    }
                };
                if stop.load(Ordering::Relaxed) {
                    return (range, Outcome::NotSent);
                }
                let outcome = match self.request(slice) {
                    Ok(request) => self.send(request).await,
                    Err(cause) => Outcome::Failed(Failure { cause, attempts: 1 }),
                };
                if let Outcome::Failed(f) = &outcome
                    && f.cause.endpoint_down()
                {
                    stop.store(true, Ordering::Relaxed);
                }
                (range, outcome)
            })
            .buffer_unordered(self.template.concurrency.max(1))
            .collect()
            .await;
        outcomes.sort_by_key(|(range, _)| range.start);

        let total = outcomes.len();
        let mut failed_records = Vec::new();
        let (mut first, mut failed, mut not_sent) = (None, 0usize, 0usize);
        for (range, outcome) in &outcomes {
            match outcome {
                Outcome::Accepted => continue,
                Outcome::Failed(f) => {
                    failed += 1;
                    first.get_or_insert(f);
                }
                Outcome::NotSent => not_sent += 1,
            }
            failed_records.extend(range.clone());
        }
        let Some(first) = first else {
            return Ok(());
        };
        let mut message = self.describe_failure(first);
        let unit = if self.template.batch.is_some() {
            "requests"
        } else {
            "records"
        };
        if failed > 1 {
            message.push_str(&format!("; {failed} of {total} {unit} failed"));
        }
        if not_sent > 0 {
            message.push_str(&format!(
                "; {not_sent} of {total} {unit} not sent after that"
            ));
        }
        Err(SinkError::partial(&self.name, message, failed_records))
    }

    fn describe(&self) -> String {
        format!("webhook {}", self.template.url)
    }
}

/// The JSON array of the values of `records` (see [`write_embedded`]).
fn json_array(records: &[Record]) -> Vec<u8> {
    let size = records.iter().map(|r| r.value.len() + 1).sum::<usize>();
    let mut body = Vec::with_capacity(size.saturating_add(2));
    body.push(b'[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        write_embedded(&mut body, &r.value);
    }
    body.push(b']');
    body
}

/// Reads a 2xx answer's body (up to a limit) so the connection can serve
/// the next request; what it says does not matter.
async fn drain(mut answer: Response) {
    let mut read = 0usize;
    while let Ok(Some(chunk)) = answer.chunk().await {
        read = read.saturating_add(chunk.len());
        if read > DRAIN_LIMIT {
            break;
        }
    }
}

/// The first [`BODY_PREFIX`] bytes of an error answer's body, as quoted
/// text (lossy UTF-8, control characters escaped, `…` when cut).
async fn body_prefix(mut answer: Response) -> String {
    let mut body = Vec::new();
    while body.len() <= BODY_PREFIX {
        match answer.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let cut = body.len() > BODY_PREFIX;
    body.truncate(BODY_PREFIX);
    // Do not end on part of a UTF-8 character.
    if let Err(e) = std::str::from_utf8(&body)
        && e.error_len().is_none()
    {
        body.truncate(e.valid_up_to());
    }
    let text = String::from_utf8_lossy(&body);
    let text = text.trim();
    match (text.is_empty(), cut) {
        (true, _) => String::new(),
        (false, false) => format!("{text:?}"),
        (false, true) => format!("{text:?}…"),
    }
}

/// A `Retry-After` in seconds (the date form is ignored).
fn retry_after(answer: &Response) -> Option<Duration> {
    let seconds: u64 = answer
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// An error with its causes: `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.ends_with(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::WebhookUrl;

    fn sink(batch: Option<usize>) -> Result<WebhookSink, String> {
        let mut o = WebhookOptions::new(WebhookUrl::parse("http://127.0.0.1:9/hook")?);
        if let Some(n) = batch {
            o.batch = true;
            o.max_batch_records = n;
        }
        WebhookSink::new("t", &o)
    }

    #[test]
    fn requests_split_at_the_batch_size() -> Result<(), String> {
        assert_eq!(sink(None)?.requests(3), vec![0..1, 1..2, 2..3]);
        assert_eq!(sink(Some(2))?.requests(5), vec![0..2, 2..4, 4..5]);
        assert_eq!(sink(Some(500))?.requests(0), Vec::<Range<usize>>::new());
        Ok(())
    }

    #[test]
    fn backoff_doubles_up_to_five_seconds() -> Result<(), String> {
        let s = sink(None)?;
        assert_eq!(s.delay(1, None), Duration::from_millis(200));
        assert_eq!(s.delay(3, None), Duration::from_millis(800));
        assert_eq!(s.delay(40, None), MAX_BACKOFF);
        assert_eq!(
            s.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(s.delay(1, Some(Duration::from_secs(600))), MAX_BACKOFF);
        Ok(())
    }

    #[test]
    fn the_array_embeds_json_and_quotes_the_rest() {
        let r = |v: &[u8]| Record::new(v.to_vec(), weir::Position::Offset(0), 0);
        let body = json_array(&[r(b" {\"a\": 1.50} "), r(b"plain \"text\""), r(&[0xff, 0])]);
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#"[{"a": 1.50},"plain \"text\"",{"base16":"ff00"}]"#
        );
        assert_eq!(json_array(&[]), b"[]");
    }
}
