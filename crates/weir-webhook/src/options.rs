//! The `[sinks.<name>]` options of `type = "webhook"`, and the checks that
//! turn them into a request template.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use weir::pipeline::ConfigDuration;

/// The most requests one sink may have in flight.
const MAX_CONCURRENCY: usize = 1024;

/// Headers the HTTP client sets itself, with what to use instead.
const CLIENT_OWNED: &[(&str, &str)] = &[
    ("content-type", "use `content_type`"),
    ("content-length", "the client sets it from the body"),
    ("transfer-encoding", "the client sets it from the body"),
    ("host", "the client sets it from `url`"),
    ("connection", "the client manages its connections"),
];

/// The endpoint of a webhook sink: an absolute `http` or `https` URL.
///
/// A user name and password in the URL (`https://user:secret@host/hook`)
/// are sent as HTTP basic authentication and never shown: descriptions and
/// error messages use [`WebhookUrl::redacted`].
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim())
            .map_err(|e| format!("`url` {} is not a valid URL: {e}", quoted(text)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "`url` {} must start with http:// or https://, not {}://",
                quoted(text),
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("`url` {} has no host", quoted(text)));
        }
        Ok(WebhookUrl(url))
    }

    /// The URL as requests use it (user name and password included).
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The URL without user name and password, for logs and messages.
    pub fn redacted(&self) -> String {
        let mut url = self.0.clone();
        // Both only fail for URLs that cannot have credentials.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.to_string()
    }
}

/// Shows a URL given in the config in a message, unless it may hold a
/// password (it has an `@` before any path).
fn quoted(text: &str) -> String {
    let authority = text.split('/').take(3).collect::<Vec<_>>().join("/");
    if authority.contains('@') {
        "(not shown: it contains a user name or password)".to_string()
    } else {
        format!("`{text}`")
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WebhookUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        WebhookUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The HTTP method of the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `POST` (the default).
    #[default]
    Post,
    /// `PUT`.
    Put,
}

impl Method {
    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
        }
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.to_ascii_uppercase().as_str() {
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            _ => Err(serde::de::Error::custom(format!(
                "`method` `{text}`: expected \"POST\" or \"PUT\""
            ))),
        }
    }
}

/// Reads the `headers` table, naming the header whose value is not text.
fn header_table<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct Table;
    impl<'de> serde::de::Visitor<'de> for Table {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table of header names and string values")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                let value = map
                    .next_value::<String>()
                    .map_err(|e| serde::de::Error::custom(format!("`headers.\"{name}\"`: {e}")))?;
                out.insert(name, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Table)
}

fn default_max_batch_records() -> usize {
    500
}
fn default_content_type() -> String {
    "application/json".to_string()
}
fn default_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(10))
}
fn default_retries() -> u32 {
    3
}
fn default_retry_backoff() -> ConfigDuration {
    ConfigDuration(Duration::from_millis(200))
}
fn default_concurrency() -> usize {
    1
}

/// Options of a webhook sink.
///
/// ```toml
/// [sinks.alerts]
/// type = "webhook"
/// url = "https://hooks.example.com/fraud"   # required
/// method = "POST"                           # or "PUT"
/// batch = false                             # one request per record
/// content_type = "application/json"
/// key_header = "X-Record-Key"
/// timeout = "10s"
/// retries = 3
/// retry_backoff = "200ms"
/// concurrency = 1
/// [sinks.alerts.headers]
/// Authorization = "Bearer 0123456789"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookOptions {
    /// Where requests go: an absolute `http://` or `https://` URL. Required.
    /// A user name and password in it are sent as basic authentication and
    /// never shown in logs or errors.
    /// Example: `url = "https://hooks.example.com/fraud"`.
    pub url: WebhookUrl,
    /// The HTTP method, `POST` (default) or `PUT`.
    /// Example: `method = "PUT"`.
    #[serde(default)]
    pub method: Method,
    /// Static headers sent with every request, name → value. Names and
    /// values must be valid HTTP; `Content-Type` (use `content_type`),
    /// `Content-Length`, `Transfer-Encoding`, `Host` and `Connection` are
    /// the client's. Default: none.
    /// Example: `headers = { Authorization = "Bearer 0123456789" }`.
    #[serde(default, deserialize_with = "header_table")]
    pub headers: BTreeMap<String, String>,
    /// `false` (default): one request per record, whose body is the record
    /// value, byte for byte. `true`: one request per write (split into
    /// requests of at most `max_batch_records`), whose body is a JSON array
    /// of the record values: a value that is JSON is embedded verbatim, other
    /// UTF-8 text becomes a JSON string, other bytes `{"base16": "…"}`.
    /// Example: `batch = true`.
    #[serde(default)]
    pub batch: bool,
    /// With `batch = true`, the most records in one request (default 500).
    /// Example: `max_batch_records = 100`.
    #[serde(default = "default_max_batch_records")]
    pub max_batch_records: usize,
    /// The `Content-Type` of every request (default `application/json`).
    /// Example: `content_type = "text/plain; charset=utf-8"`.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// A header that carries the record key, in per-record mode (default:
    /// none). A record without a key is sent without it; a key that is not
    /// a valid header value (control characters) fails its record.
    /// Example: `key_header = "X-Record-Key"`.
    #[serde(default)]
    pub key_header: Option<String>,
    /// The longest a request may take, from connecting until the whole
    /// answer is read (default `"10s"`). Example: `timeout = "2s"`.
    #[serde(default = "default_timeout")]
    pub timeout: ConfigDuration,
    /// Retries of a request after a 5xx or 429 answer, a connection error
    /// or a timeout (default 3). Other answers are not retried.
    /// Example: `retries = 5`.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The wait before the first retry of a request; it doubles with each
    /// retry, up to 5 s (default `"200ms"`). A `Retry-After` of a 429 or 503
    /// answer, in seconds, lengthens it (still at most 5 s).
    /// Example: `retry_backoff = "1s"`.
    #[serde(default = "default_retry_backoff")]
    pub retry_backoff: ConfigDuration,
    /// The most requests this sink has in flight at once, over all writes
    /// (default 1, at most 1024). With 1, requests go out one after another
    /// and records arrive in the order of their partition; above 1, records
    /// may arrive in any order. Example: `concurrency = 8`.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

/// The checked options, ready to make requests from.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) url: WebhookUrl,
    pub(crate) method: reqwest::Method,
    /// The static headers, `Content-Type` included.
    pub(crate) headers: HeaderMap,
    pub(crate) key_header: Option<HeaderName>,
    /// Records per request in batch mode; `None` in per-record mode.
    pub(crate) batch: Option<usize>,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) concurrency: usize,
}

impl WebhookOptions {
    /// Options for `url` with every default.
    pub fn new(url: WebhookUrl) -> Self {
        WebhookOptions {
            url,
            method: Method::default(),
            headers: BTreeMap::new(),
            batch: false,
            max_batch_records: default_max_batch_records(),
            content_type: default_content_type(),
            key_header: None,
            timeout: default_timeout(),
            retries: default_retries(),
            retry_backoff: default_retry_backoff(),
            concurrency: default_concurrency(),
        }
    }

    /// Checks the options that deserializing cannot check alone (header
    /// names and values, ranges), without connecting to anything.
    pub fn check(&self) -> Result<(), String> {
        self.template().map(drop)
    }

    pub(crate) fn template(&self) -> Result<Template, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let header = header_name(&format!("headers.\"{name}\""), name)?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                format!(
                    "`headers.\"{name}\"`: the value is not a valid HTTP header value (no control characters or line breaks)"
                )
            })?;
            if headers.insert(header, value).is_some() {
                return Err(format!(
                    "`headers`: `{name}` is given twice (header names ignore case)"
                ));
            }
        }
        let content_type = HeaderValue::from_str(self.content_type.trim())
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "`content_type` `{}` is not a valid HTTP header value",
                    self.content_type.escape_debug()
                )
            })?;
        headers.insert(CONTENT_TYPE, content_type);
        let key_header = match &self.key_header {
            Some(name) => {
                let header = header_name("key_header", name)?;
                if self.headers.keys().any(|h| h.eq_ignore_ascii_case(name)) {
                    return Err(format!(
                        "`key_header` `{name}` is also a static header in `headers`"
                    ));
                }
                Some(header)
            }
            None => None,
        };
        if self.batch && key_header.is_some() {
            return Err(
                "`key_header` needs `batch = false`: a batch request has no single key".into(),
            );
        }
        if self.max_batch_records == 0 {
            return Err("`max_batch_records` must be at least 1".into());
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(format!(
                "`concurrency` must be at least 1 and at most {MAX_CONCURRENCY}"
            ));
        }
        if self.timeout.0.is_zero() {
            return Err("`timeout` must be longer than 0s".into());
        }
        Ok(Template {
            url: self.url.clone(),
            method: self.method.to_reqwest(),
            headers,
            key_header,
            batch: self.batch.then_some(self.max_batch_records),
            timeout: self.timeout.0,
            retries: self.retries,
            backoff: self.retry_backoff.0,
            concurrency: self.concurrency,
        })
    }
}

/// A header name given in the options at `key`, checked to be valid and
/// not one the client sets.
fn header_name(key: &str, name: &str) -> Result<HeaderName, String> {
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        format!(
            "`{key}`: `{}` is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
            name.escape_debug()
        )
    })?;
    if let Some((_, why)) = CLIENT_OWNED.iter().find(|(n, _)| *n == header.as_str()) {
        return Err(format!("`{key}`: `{name}` cannot be set here: {why}"));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebhookOptions, String> {
        toml::from_str::<WebhookOptions>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn defaults() -> Result<(), String> {
        let o = parse("url = \"http://127.0.0.1:8080/hook\"")?;
        let t = o.template()?;
        assert_eq!(t.method, reqwest::Method::POST);
        assert_eq!(t.batch, None);
        assert_eq!(t.timeout, Duration::from_secs(10));
        assert_eq!((t.retries, t.backoff), (3, Duration::from_millis(200)));
        assert_eq!(t.concurrency, 1);
        assert_eq!(
            t.headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes),
            Some(&b"application/json"[..])
        );
        Ok(())
    }

    #[test]
    fn urls_must_be_http_and_hide_passwords() {
        for bad in [
            "ftp://h/x",
            "hooks.example.com/x",
            "http://",
            "file:///tmp/x",
            "",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
        let e = WebhookUrl::parse("ftp://u:secret@h/x")
            .err()
            .unwrap_or_default();
        assert!(e.contains("http://") && !e.contains("secret"), "{e}");
        let e = WebhookUrl::parse("http://u:secret@[::1/x")
            .err()
            .unwrap_or_default();
        assert!(!e.contains("secret"), "{e}");
        let u = WebhookUrl::parse("https://user:secret@h.example:8443/a?b=1");
        assert_eq!(
            u.map(|u| (u.redacted(), format!("{u:?}"))),
            Ok((
                "https://h.example:8443/a?b=1".to_string(),
                "WebhookUrl(\"https://h.example:8443/a?b=1\")".to_string()
            ))
        );
    }

    #[test]
    fn methods_and_header_rules() {
        assert!(
            parse("url = \"http://h\"\nmethod = \"put\"").is_ok_and(|o| o.method == Method::Put)
        );
        let e = parse("url = \"http://h\"\nmethod = \"GET\"")
            .err()
            .unwrap_or_default();
        assert!(e.contains("\"POST\" or \"PUT\""), "{e}");
        let check = |extra: &str| {
            parse(&format!("url = \"http://h\"\n{extra}"))
                .and_then(|o| o.check())
                .err()
                .unwrap_or_default()
        };
        assert!(check("headers = { \"Content-Type\" = \"x\" }").contains("use `content_type`"));
        assert!(check("headers = { \"a\" = \"1\", \"A\" = \"2\" }").contains("twice"));
        assert!(check("headers = { \"x\" = \"a\\nb\" }").contains("header value"));
        assert!(check("key_header = \"bad header\"").contains("not a valid HTTP header name"));
        assert!(check("key_header = \"k\"\nbatch = true").contains("batch = false"));
        assert!(check("key_header = \"X-K\"\nheaders = { \"x-k\" = \"1\" }").contains("also"));
        assert!(check("concurrency = 0").contains("at least 1"));
        assert!(check("concurrency = 1000000000000").contains("at most 1024"));
        assert!(check("batch = true\nmax_batch_records = 0").contains("at least 1"));
        assert!(check("timeout = \"0s\"").contains("longer than 0s"));
        assert!(check("content_type = \"\"").contains("content_type"));
        assert_eq!(
            check("headers = { \"X-Api-Key\" = \"k\" }\nkey_header = \"X-Key\""),
            ""
        );
    }
}
