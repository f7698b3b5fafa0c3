//! Bad input: each a clear error naming the stream, endpoint or table.

use std::process::Command;

use crate::common::*;
use crate::proxy::{self, Fault};

/// `weir run` on `config` with the test AWS environment; expects it to
/// fail, returns its stderr.
fn run_failing(dir: &std::path::Path, config: &str) -> Result<String, Error> {
    run_failing_env(dir, config, &aws_env())
}

/// `weir run` on `config` with `env` applied; expects it to fail, returns
/// its stderr.
fn run_failing_env(
    dir: &std::path::Path,
    config: &str,
    env: &[(&str, Option<&str>)],
) -> Result<String, Error> {
    let cfg = write_config(dir, config)?;
    let mut cmd = Command::new(weir_test_support::process::weir_bin());
    cmd.args(["run", "--log", "warn"]).arg(&cfg);
    weir_test_support::process::apply_env(&mut cmd, env);
    let out = cmd.output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "weir run should fail; stderr:\n{stderr}"
    );
    Ok(stderr)
}

fn pipeline(source: &str) -> String {
    format!("name = \"bad\"\n{source}\n[sinks.out]\ntype = \"stdout\"\n")
}

#[test]
fn a_stream_that_does_not_exist_is_named() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let stream = unique("missing");
    let err = run_failing(dir.path(), &pipeline(&source(&stream, "")))?;
    let expected = format!("stream {stream} does not exist at {}", kinesis_endpoint());
    assert!(err.contains(&expected), "{err}");
    Ok(())
}

#[test]
fn refused_credentials_are_named_with_the_endpoint() -> TestResult {
    let _serial = serial();
    let aws = Aws::new()?;
    let stream = unique("creds");
    aws.create_stream(&stream, 1)?;
    // Only another key is accepted: ours is refused as AWS refuses unknown keys.
    let proxy = proxy::start(&kinesis_endpoint(), Fault::OnlyKey("AKIDSOMEONEELSE"))?;
    let dir = tempfile::tempdir()?;
    let text = pipeline(&source(&stream, "")).replace(&kinesis_endpoint(), &proxy.endpoint);
    let err = run_failing(dir.path(), &text)?;
    let expected = format!(
        "{} refused the credentials for stream {stream}",
        proxy.endpoint
    );
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("UnrecognizedClientException"), "{err}");
    Ok(())
}

#[test]
fn an_unreachable_endpoint_is_named() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let endpoint = format!("http://127.0.0.1:{}", closed_port()?);
    let text = pipeline(&source("cars", "")).replace(&kinesis_endpoint(), &endpoint);
    let err = run_failing(dir.path(), &text)?;
    assert!(
        err.contains(&format!("cannot reach Kinesis at {endpoint} (stream cars)")),
        "{err}"
    );
    Ok(())
}

#[test]
fn an_unreachable_lease_table_is_named() -> TestResult {
    let _serial = serial();
    let aws = Aws::new()?;
    let stream = unique("no-table");
    aws.create_stream(&stream, 1)?;
    let dir = tempfile::tempdir()?;
    let endpoint = format!("http://127.0.0.1:{}", closed_port()?);
    let extra = format!("lease_table = \"weir-leases\"\ndynamodb_endpoint = \"{endpoint}\"");
    let err = run_failing(dir.path(), &pipeline(&source(&stream, &extra)))?;
    assert!(
        err.contains(&format!("lease table weir-leases at {endpoint}")),
        "{err}"
    );
    Ok(())
}

#[test]
fn missing_credentials_are_named() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let (config, credentials) = (
        dir.path().join("no-config"),
        dir.path().join("no-credentials"),
    );
    let (config, credentials) = (config.to_string_lossy(), credentials.to_string_lossy());
    // No keys, no profile files, no instance metadata: nothing to sign with.
    let env = [
        ("AWS_ACCESS_KEY_ID", None),
        ("AWS_SECRET_ACCESS_KEY", None),
        ("AWS_SESSION_TOKEN", None),
        ("AWS_PROFILE", None),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", None),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", None),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", None),
        ("AWS_EC2_METADATA_DISABLED", Some("true")),
        ("AWS_CONFIG_FILE", Some(config.as_ref())),
        ("AWS_SHARED_CREDENTIALS_FILE", Some(credentials.as_ref())),
    ];
    let err = run_failing_env(dir.path(), &pipeline(&source("cars", "")), &env)?;
    let expected = format!("stream cars at {}: no AWS credentials", kinesis_endpoint());
    assert!(err.contains(&expected), "{err}");
    Ok(())
}
