//! Bad input: each a clear error naming the stream, endpoint or table.

use std::process::Command;

use crate::common::*;
use crate::proxy::{self, Fault};

/// `weir run` on `config`; expects it to fail, returns its stderr.
fn run_failing(dir: &std::path::Path, config: &str) -> Result<String, Error> {
    let cfg = write_config(dir, config)?;
    let mut cmd = Command::new(weir_test_support::process::weir_bin());
    cmd.args(["run", "--log", "warn"]).arg(&cfg);
    for (name, value) in aws_env() {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
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
    let cfg = write_config(dir.path(), &pipeline(&source("cars", "")))?;
    // No keys, no profile files, no instance metadata: nothing to sign with.
    let out = Command::new(weir_test_support::process::weir_bin())
        .args(["run", "--log", "warn"])
        .arg(&cfg)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let expected = format!("stream cars at {}: no AWS credentials", kinesis_endpoint());
    assert!(err.contains(&expected), "{err}");
    Ok(())
}
