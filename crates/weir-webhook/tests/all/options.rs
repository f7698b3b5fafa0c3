//! Option errors are reported clearly, against the offending key, when a
//! pipeline is checked.

use std::path::Path;

use weir::pipeline::{Pipeline, PipelineConfig};
use weir::plugin::Engine;
use weir_webhook::{WebhookOptions, WebhookSink, WebhookUrl};

use super::TestResult;

/// The error `weir validate` would report for a webhook sink with
/// `options`, or "" when they are fine.
fn check(options: &str) -> Result<String, Box<dyn std::error::Error>> {
    let text = format!(
        "name = \"p\"\n[source]\ntype = \"file\"\npath = \"in.jsonl\"\n[sinks.hook]\ntype = \"webhook\"\n{options}\n"
    );
    let config = PipelineConfig::from_str(&text, "p.toml", Path::new("."))?;
    Ok(
        Pipeline::validate(&config, &Engine::new()?, &weir_webhook::registry())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
    )
}

#[test]
fn good_options_pass() -> TestResult {
    let e = check(
        "url = \"https://hooks.example.com/a\"\nmethod = \"PUT\"\nbatch = true\nmax_batch_records = 10\n\
         timeout = \"2s\"\nretries = 0\nretry_backoff = \"1s\"\nconcurrency = 4\n\
         content_type = \"application/x-ndjson\"\nheaders = { Authorization = \"Bearer x\" }",
    )?;
    assert_eq!(e, "");
    Ok(())
}

#[test]
fn a_bad_url_is_named() -> TestResult {
    let e = check("url = \"ftp://files.example.com/drop\"")?;
    assert!(
        e.contains("`sinks.hook`")
            && e.contains("`ftp://files.example.com/drop` must start with http:// or https://"),
        "{e}"
    );
    let e = check("url = \"hooks.example.com/in\"")?;
    assert!(e.contains("is not a valid URL"), "{e}");
    let e = check("method = \"POST\"")?;
    assert!(e.contains("missing field `url`"), "{e}");
    let e = check("url = \"ftp://me:hunter2@files.example.com/\"")?;
    assert!(e.contains("not shown") && !e.contains("hunter2"), "{e}");
    Ok(())
}

#[test]
fn an_unknown_option_is_named_with_its_key() -> TestResult {
    let e = check("url = \"http://127.0.0.1/\"\ntimout = \"1s\"")?;
    assert!(
        e.contains("`sinks.hook.timout`") && e.contains("unknown field `timout`"),
        "{e}"
    );
    assert!(e.contains("`timeout`"), "the known options are listed: {e}");
    Ok(())
}

#[test]
fn bad_headers_are_named() -> TestResult {
    let e = check("url = \"http://127.0.0.1/\"\nheaders = { \"X Bad\" = \"1\" }")?;
    assert!(
        e.contains("`headers.\"X Bad\"`: `X Bad` is not a valid HTTP header name"),
        "{e}"
    );
    let e = check("url = \"http://127.0.0.1/\"\nkey_header = \"key:\"")?;
    assert!(
        e.contains("`key_header`: `key:` is not a valid HTTP header name"),
        "{e}"
    );
    let e = check("url = \"http://127.0.0.1/\"\nheaders = { Host = \"other\" }")?;
    assert!(e.contains("`Host` cannot be set here"), "{e}");
    let e = check("url = \"http://127.0.0.1/\"\nheaders = { X-N = 1 }")?;
    assert!(
        e.contains("`headers.\"X-N\"`: invalid type: integer `1`, expected a string"),
        "{e}"
    );
    let e = check("url = \"http://127.0.0.1/\"\nmethod = \"DELETE\"")?;
    assert!(e.contains("expected \"POST\" or \"PUT\""), "{e}");
    Ok(())
}

#[test]
fn sinks_made_in_code_are_checked_the_same_way() -> TestResult {
    let mut options = WebhookOptions::new(WebhookUrl::parse("http://127.0.0.1:1/x")?);
    options.concurrency = 0;
    let e = WebhookSink::new("hook", &options).err().unwrap_or_default();
    assert!(e.contains("`concurrency` must be at least 1"), "{e}");
    assert!(WebhookUrl::parse("mailto:ops@example.com").is_err());
    Ok(())
}
