//! `weir reload` and `weir rollback`: ask a running `weir run` (through its
//! admin API) to reload or roll back a stage's plugin.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;

/// Where the admin API of the running pipeline is.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// The pipeline's name.
    pipeline: String,
    /// The stage's name.
    stage: String,
    /// The address `weir run --metrics ADDR` serves on.
    #[arg(
        long,
        value_name = "ADDR",
        env = "WEIR_ADMIN",
        default_value = "127.0.0.1:9898"
    )]
    admin: SocketAddr,
    /// The admin API's token, when `weir run` was given one.
    #[arg(long, env = "WEIR_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// `weir reload`: the stage's file again, or `plugin`.
pub(crate) fn reload(args: &AdminArgs, plugin: Option<PathBuf>) -> anyhow::Result<()> {
    let body = match plugin {
        Some(p) => {
            let p = std::path::absolute(&p)
                .with_context(|| format!("cannot resolve `{}`", p.display()))?;
            serde_json::json!({ "plugin": p }).to_string()
        }
        None => String::new(),
    };
    let stage = call(args, "reload", &body)?;
    print_stage("reloaded", &stage);
    Ok(())
}

/// `weir rollback`.
pub(crate) fn rollback(args: &AdminArgs) -> anyhow::Result<()> {
    let stage = call(args, "rollback", "")?;
    print_stage("rolled back", &stage);
    Ok(())
}

fn print_stage(what: &str, s: &serde_json::Value) {
    println!(
        "{what}: stage {} serves {} version {} (digest {}, previous {})",
        s["stage"].as_str().unwrap_or("?"),
        s["plugin"].as_str().unwrap_or("?"),
        s["version"],
        s["digest"].as_str().unwrap_or("?"),
        s["previous_digest"].as_str().unwrap_or("none"),
    );
}

/// POSTs `body` to the stage's `action` route; the answer's JSON, or its
/// error as the error.
fn call(args: &AdminArgs, action: &str, body: &str) -> anyhow::Result<serde_json::Value> {
    let path = format!(
        "/api/pipelines/{}/stages/{}/{action}",
        args.pipeline, args.stage
    );
    let mut stream =
        TcpStream::connect_timeout(&args.admin, Duration::from_secs(5)).with_context(|| {
            format!(
                "no admin API at {} (is `weir run --metrics {}` running?)",
                args.admin, args.admin
            )
        })?;
    // A reload compiles the plugin first.
    stream.set_read_timeout(Some(Duration::from_secs(300)))?;
    let auth = args
        .token
        .as_ref()
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        args.admin,
        body.len()
    )?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .context("reading the admin API's answer")?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("the admin API's answer is not HTTP")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("the admin API's answer has no status")?;
    let json: serde_json::Value = serde_json::from_str(body)
        .with_context(|| format!("the admin API answered {status} with no JSON: {body}"))?;
    if status != 200 {
        bail!(
            "{} (HTTP {status})",
            json["error"].as_str().unwrap_or(body.trim())
        );
    }
    Ok(json)
}
