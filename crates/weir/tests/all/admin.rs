//! The admin API over HTTP, every route: against a running pipeline, with
//! a token.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use weir::admin::{Admin, AdminError, serve};
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, Stage};

use super::TestResult;
use super::languages::engine;
use super::reload::{Collect, Paced};

const TOKEN: &str = "s3cret";

/// One request; the status and the body as JSON (or text).
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let attempt = || -> std::io::Result<(u16, Value)> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        let auth = token
            .map(|t| format!("authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nhost: x\r\n{auth}content-length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let value = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
        Ok((status, value))
    };
    attempt().unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn api(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    call(addr, method, path, Some(TOKEN), body)
}

/// Waits until `f` holds (the pipeline runs on other threads).
fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_admin_route_answers_and_a_token_is_required() -> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine();
    let rust_file = weir_test_support::plugin_in("rust", "amount_filter");
    let c_file = weir_test_support::plugin_in("c", "amount_filter");
    let bare_file = weir_test_support::plugin_in("rust", "test_bare");
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"not a component")?;
    let stop = Arc::new(AtomicBool::new(false));
    let metrics = Metrics::new();
    let pipeline = Pipeline::builder("txns")
        .source(
            Paced {
                bad_every: 50,
                ..Paced::new(5, u64::MAX)
            }
            .stop_when(stop.clone()),
        )
        .stage(
            Stage::new(
                "filter",
                engine.load_file(&rust_file, weir::plugin::Grants::none())?,
            )
            .setting("min_amount", "100")
            .source_file(&rust_file),
        )
        .sink("out", Collect::default())
        .sink("failed", Collect::default())
        .on_failure("failed")
        .metrics(metrics.clone())
        .build()?;
    let admin = Admin::new().with_metrics(metrics).with_token(TOKEN);
    admin.add(pipeline.control());
    let addr = serve("127.0.0.1:0".parse()?, Arc::new(admin)).await?;
    let running = tokio::spawn(pipeline.run(std::future::pending()));

    let routes = tokio::task::spawn_blocking(move || -> Result<(), String> {
        // Metrics need no token; the API does.
        let (status, body) = call(addr, "GET", "/metrics", None, "");
        assert_eq!(status, 200);
        assert!(
            body.as_str()
                .is_some_and(|t| t.contains("weir_stage_reloads_total"))
        );
        assert_eq!(call(addr, "GET", "/api/pipelines", None, "").0, 401);
        assert_eq!(
            call(addr, "GET", "/api/pipelines", Some("wrong"), "").0,
            401
        );

        let (status, all) = api(addr, "GET", "/api/pipelines", "");
        assert_eq!(status, 200);
        assert_eq!(all[0]["name"], "txns");
        let (_, p) = api(addr, "GET", "/api/pipelines/txns", "");
        let stage = &p["stages"][0];
        assert_eq!(
            (stage["stage"].as_str(), stage["kind"].as_str()),
            (Some("filter"), Some("filter"))
        );
        assert_eq!(stage["version"], 1);
        assert_eq!(stage["limits"]["deadline_ms"], 5000);
        assert_eq!(stage["grants"]["wasi"], false);
        assert_eq!(stage["source"], json!(rust_file.display().to_string()));
        let first = stage["digest"].clone();
        assert_eq!(api(addr, "GET", "/api/pipelines/nope", "").0, 404);
        assert_eq!(
            api(addr, "GET", "/api/pipelines/txns/stages/nope", "").0,
            404
        );
        assert_eq!(api(addr, "GET", "/api/nothing", "").0, 404);
        assert_eq!(api(addr, "DELETE", "/api/pipelines/txns", "").0, 405);

        // Reload to another file, refused reloads, rollback.
        let body = json!({"plugin": c_file}).to_string();
        let (status, s) = api(
            addr,
            "POST",
            "/api/pipelines/txns/stages/filter/reload",
            &body,
        );
        assert_eq!((status, &s["version"]), (200, &json!(2)), "{s}");
        assert_eq!(s["previous_digest"], first);
        let body = json!({"plugin": broken}).to_string();
        let (status, e) = api(
            addr,
            "POST",
            "/api/pipelines/txns/stages/filter/reload",
            &body,
        );
        assert_eq!(status, 409);
        assert!(
            e["error"]
                .as_str()
                .is_some_and(|m| m.contains("broken.wasm")),
            "{e}"
        );
        assert_eq!(
            api(
                addr,
                "POST",
                "/api/pipelines/txns/stages/filter/reload",
                "{x"
            )
            .0,
            400
        );
        let (status, s) = api(
            addr,
            "POST",
            "/api/pipelines/txns/stages/filter/rollback",
            "",
        );
        assert_eq!(
            (status, &s["digest"], &s["version"]),
            (200, &first, &json!(3))
        );
        let (_, s) = api(addr, "GET", "/api/pipelines/txns/stages/filter", "");
        assert_eq!(s["refusals"].as_array().map(Vec::len), Some(1), "{s}");
        // Reloading the stage's own file again.
        let (status, s) = api(addr, "POST", "/api/pipelines/txns/stages/filter/reload", "");
        assert_eq!((status, &s["version"]), (200, &json!(4)), "{s}");

        // Shadow: start, compare, drop; promote is tested in the library.
        let body = json!({"plugin": bare_file}).to_string();
        assert_eq!(
            api(addr, "GET", "/api/pipelines/txns/stages/filter/shadow", "").0,
            404
        );
        let (status, s) = api(
            addr,
            "POST",
            "/api/pipelines/txns/stages/filter/shadow",
            &body,
        );
        assert_eq!(status, 200, "{s}");
        eventually("the shadow differs", || {
            api(addr, "GET", "/api/pipelines/txns/stages/filter/shadow", "").1["differing"]
                .as_u64()
                .is_some_and(|n| n > 0)
        });
        let (_, s) = api(addr, "GET", "/api/pipelines/txns/stages/filter/shadow", "");
        assert!(!s["samples"].as_array().is_some_and(Vec::is_empty), "{s}");
        assert_eq!(
            api(
                addr,
                "DELETE",
                "/api/pipelines/txns/stages/filter/shadow",
                ""
            )
            .0,
            200
        );
        assert_eq!(
            api(
                addr,
                "POST",
                "/api/pipelines/txns/stages/filter/shadow/promote",
                ""
            )
            .0,
            409
        );

        // Errors and dead letters of the records that are not JSON.
        eventually("dead letters", || {
            api(addr, "GET", "/api/pipelines/txns/dead-letters?limit=5", "")
                .1
                .as_array()
                .is_some_and(|l| l.len() == 5)
        });
        let (_, letters) = api(addr, "GET", "/api/pipelines/txns/dead-letters?limit=5", "");
        assert_eq!(letters[0]["stage"], "filter");
        assert_eq!(letters[0]["value"], "not json");
        assert!(
            letters[0]["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{letters}"
        );
        assert!(letters[0]["plugin_version"].is_string(), "{letters}");
        let (_, errors) = api(addr, "GET", "/api/pipelines/txns/errors?limit=3", "");
        assert_eq!(errors.as_array().map(Vec::len), Some(3));
        assert!(errors[0]["position"].is_string(), "{errors}");
        assert_eq!(
            api(addr, "GET", "/api/pipelines/txns/errors?limit=x", "").0,
            400
        );

        // Pause stops the records; resume starts them again.
        let (status, p) = api(addr, "POST", "/api/pipelines/txns/pause", "");
        assert_eq!((status, &p["changed"]), (200, &json!(true)));
        assert_eq!(
            api(addr, "GET", "/api/pipelines/txns", "").1["paused"],
            true
        );
        let records_in = || {
            let (_, m) = call(addr, "GET", "/metrics", None, "");
            m.as_str()
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with("weir_records_in_total"))
                .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        std::thread::sleep(Duration::from_millis(200));
        let paused_at = records_in();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(records_in(), paused_at, "no records while paused");
        assert_eq!(
            api(addr, "POST", "/api/pipelines/txns/pause", "").1["changed"],
            false
        );
        assert_eq!(api(addr, "POST", "/api/pipelines/txns/resume", "").0, 200);
        eventually("records flow again", || records_in() > paused_at);
        Ok(())
    })
    .await?;
    stop.store(true, Ordering::Relaxed);
    routes?;
    tokio::time::timeout(Duration::from_secs(60), running).await???;

    // Not on another address without a token.
    let open = serve("0.0.0.0:0".parse()?, Arc::new(Admin::new())).await;
    assert!(matches!(open, Err(AdminError::TokenRequired(_))));
    Ok(())
}
