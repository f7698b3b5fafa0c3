//! The webhook sink against a real HTTP server on 127.0.0.1, scripted per
//! test. Every test is bounded by a timeout and stops its server.

mod acknowledge;
mod delivery;
mod failures;
mod options;
mod pipeline;
mod server;

use std::future::Future;
use std::time::Duration;

use weir::{Position, Record};
use weir_webhook::{WebhookOptions, WebhookSink};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The longest any one test may take.
const TEST_LIMIT: Duration = Duration::from_secs(30);

/// Runs `test`, failing it when it takes longer than [`TEST_LIMIT`].
async fn bounded(test: impl Future<Output = TestResult>) -> TestResult {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .map_err(|_| format!("the test took longer than {TEST_LIMIT:?}"))?
}

/// Records with these values at offsets 0, 1, …
fn records(values: &[&[u8]]) -> Vec<Record> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Record::new(v.to_vec(), Position::Offset(i as u64), 0))
        .collect()
}

/// A sink named `hook` from TOML option text.
fn sink(options: &str) -> Result<WebhookSink, Box<dyn std::error::Error>> {
    let options: WebhookOptions = toml::from_str(options)?;
    Ok(WebhookSink::new("hook", &options)?)
}
