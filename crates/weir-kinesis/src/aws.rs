//! AWS clients for a [`Connection`], and what their errors mean for weir.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;

use crate::options::Connection;

/// The HTTPS client every AWS client of weir uses: hyper with rustls on
/// ring.
pub fn https_client() -> aws_sdk_kinesis::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Loads the AWS settings for `connection`: credentials and region from the
/// usual chain (environment, profile, instance role), then the configured
/// region. The SDK's own retries are off: weir retries with its own
/// backoff, so throttling is seen, counted and logged.
pub(crate) async fn sdk_config(connection: &Connection) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(region) = connection.region() {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader.load().await
}

/// A Kinesis client for `connection`.
pub(crate) fn kinesis(
    sdk: &aws_config::SdkConfig,
    connection: &Connection,
) -> aws_sdk_kinesis::Client {
    let mut b = aws_sdk_kinesis::config::Builder::from(sdk);
    if let Some(e) = &connection.endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_kinesis::Client::from_conf(b.build())
}

/// A DynamoDB client, at `endpoint` if given.
pub(crate) fn dynamodb(
    sdk: &aws_config::SdkConfig,
    endpoint: Option<&str>,
) -> aws_sdk_dynamodb::Client {
    let mut b = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}

/// What a failed call means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Over the service's throughput or request limits: back off, retry.
    Throttled,
    /// The shard iterator is too old: get a new one.
    ExpiredIterator,
    /// The stream, shard or table does not exist.
    NotFound,
    /// Credentials unknown, expired or not allowed.
    Credentials,
    /// No credentials found at all.
    NoCredentials,
    /// No answer: nothing listening, DNS, TLS, timeout.
    Unreachable,
    /// A DynamoDB condition did not hold (someone else changed the item).
    ConditionFailed,
    /// The table or stream is being created or changed.
    InUse,
    /// Anything else the service says (bad request, 5xx).
    Other,
}

/// A failed AWS call: its kind and a readable text.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) kind: Kind,
    pub(crate) text: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Failure {
    /// Whether trying again later may succeed.
    pub(crate) fn transient(&self) -> bool {
        matches!(
            self.kind,
            Kind::Throttled | Kind::Unreachable | Kind::Other | Kind::InUse
        )
    }
}

/// Kind of a service error code.
pub(crate) fn kind_of_code(code: &str) -> Kind {
    match code {
        "ProvisionedThroughputExceededException"
        | "LimitExceededException"
        | "ThrottlingException"
        | "Throttling"
        | "RequestLimitExceeded"
        | "KMSThrottlingException" => Kind::Throttled,
        "ExpiredIteratorException" => Kind::ExpiredIterator,
        "ResourceNotFoundException" => Kind::NotFound,
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "AccessDeniedException"
        | "ExpiredTokenException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "InvalidClientTokenId"
        | "KMSAccessDeniedException" => Kind::Credentials,
        "ConditionalCheckFailedException" => Kind::ConditionFailed,
        "ResourceInUseException" => Kind::InUse,
        _ => Kind::Other,
    }
}

/// Classifies an SDK error of any Kinesis or DynamoDB operation.
pub(crate) fn failure<E, R>(err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let full = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("unknown error");
            let message = err.message().unwrap_or("");
            let kind = kind_of_code(code);
            let text = if message.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {message}")
            };
            Failure { kind, text }
        }
        SdkError::DispatchFailure(_)
        | SdkError::TimeoutError(_)
        | SdkError::ConstructionFailure(_)
            if mentions_credentials(&full) =>
        {
            Failure {
                kind: Kind::NoCredentials,
                text: format!("no AWS credentials: {}", root_cause(err)),
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Failure {
            kind: Kind::Unreachable,
            text: format!("no answer: {}", root_cause(err)),
        },
        _ => Failure {
            kind: Kind::Other,
            text: full,
        },
    }
}

fn mentions_credentials(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("credential") || t.contains("identity")
}

/// The innermost error's text, which names the actual problem
/// ("Connection refused", "dns error"…).
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        last = e.to_string();
        cur = e.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind_of_code("ProvisionedThroughputExceededException"),
            Kind::Throttled
        );
        assert_eq!(kind_of_code("LimitExceededException"), Kind::Throttled);
        assert_eq!(
            kind_of_code("ExpiredIteratorException"),
            Kind::ExpiredIterator
        );
        assert_eq!(
            kind_of_code("UnrecognizedClientException"),
            Kind::Credentials
        );
        assert_eq!(kind_of_code("ResourceNotFoundException"), Kind::NotFound);
        assert_eq!(kind_of_code("InternalFailure"), Kind::Other);
    }
}
