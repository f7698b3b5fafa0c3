//! Which route a request takes, and its answer.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::pipeline::{PipelineControl, ReloadError};

use super::{Admin, Request, Response, json as j};

const JSON: &str = "application/json";

fn answer(status: u16, body: &Value) -> Response {
    Response {
        status,
        content_type: JSON,
        body: format!("{body}\n"),
    }
}

fn fail(status: u16, message: impl std::fmt::Display) -> Response {
    answer(status, &json!({ "error": message.to_string() }))
}

fn refused(e: &ReloadError) -> Response {
    match e {
        ReloadError::UnknownStage(_) => fail(404, e),
        _ => fail(409, e),
    }
}

/// Whether `given` is `Bearer TOKEN`, compared in constant time.
fn authorized(token: &str, given: Option<&str>) -> bool {
    let Some(given) = given.and_then(|g| g.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (token.as_bytes(), given.trim().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// `limit` of the query: default 20, at most the pipeline keeps.
fn limit(query: &str) -> Result<usize, Response> {
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("limit=") {
            return v
                .parse::<usize>()
                .map(|n| n.min(crate::pipeline::KEPT_RECENT))
                .map_err(|_| fail(400, format!("`limit` must be a number, not `{v}`")));
        }
    }
    Ok(20)
}

/// `since_ms` of the query, if given.
fn since_ms(query: &str) -> Result<Option<u64>, Response> {
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("since_ms=") {
            return v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| fail(400, format!("`since_ms` must be a number, not `{v}`")));
        }
    }
    Ok(None)
}

/// The pipeline's monitor, or 404 when it is off.
fn monitored(c: &PipelineControl) -> Result<&crate::monitor::Monitor, Response> {
    c.monitor().ok_or_else(|| {
        fail(
            404,
            format!(
                "pipeline `{}` has its monitor off (`monitor.enabled = false`)",
                c.name()
            ),
        )
    })
}

/// The `plugin` path of a JSON body; `None` for an empty body.
fn plugin_path(body: &[u8]) -> Result<Option<PathBuf>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| fail(400, format!("the body is not JSON: {e}")))?;
    match v.get("plugin") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => Ok(Some(PathBuf::from(p))),
        Some(other) => Err(fail(
            400,
            format!("`plugin` must be a path string, not {other}"),
        )),
    }
}

pub(super) fn handle(admin: &Admin, req: &Request) -> Response {
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let method = req.method.as_str();
    if path == "/metrics" {
        return match (&admin.metrics, method) {
            (Some(m), "GET") => Response {
                status: 200,
                content_type: crate::metrics::CONTENT_TYPE,
                body: m.render(),
            },
            (Some(_), _) => fail(405, "use GET"),
            (None, _) => fail(404, "no metrics here"),
        };
    }
    if let Some((content_type, body)) = super::assets::file(path) {
        return match method {
            "GET" => Response {
                status: 200,
                content_type,
                body: body.to_string(),
            },
            _ => fail(405, "use GET"),
        };
    }
    let Some(api) = path.strip_prefix("/api/") else {
        return fail(
            404,
            format!("no route `{path}`: see /, /api/pipelines and /metrics"),
        );
    };
    if let Some(token) = &admin.token
        && !authorized(token, req.authorization.as_deref())
    {
        return fail(401, "this admin API needs `Authorization: Bearer TOKEN`");
    }
    let parts: Vec<&str> = api.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        ["pipelines"] => get(method, || {
            Ok(answer(
                200,
                &Value::Array(admin.all().iter().map(j::pipeline).collect()),
            ))
        }),
        ["pipelines", p, rest @ ..] => match admin.pipeline(p) {
            Some(control) => pipeline(&control, method, rest, query, &req.body),
            None => fail(404, format!("no pipeline `{p}`")),
        },
        _ => fail(404, format!("no route `{path}`: see /api/pipelines")),
    }
}

fn get(method: &str, f: impl FnOnce() -> Result<Response, Response>) -> Response {
    only("GET", method, f)
}

fn post(method: &str, f: impl FnOnce() -> Result<Response, Response>) -> Response {
    only("POST", method, f)
}

fn only(want: &str, method: &str, f: impl FnOnce() -> Result<Response, Response>) -> Response {
    if method != want {
        return fail(405, format!("use {want}"));
    }
    f().unwrap_or_else(|e| e)
}

fn pipeline(
    c: &PipelineControl,
    method: &str,
    rest: &[&str],
    query: &str,
    body: &[u8],
) -> Response {
    match rest {
        [] => get(method, || Ok(answer(200, &j::pipeline(c)))),
        ["pause"] => post(method, || {
            let changed = c.pause();
            Ok(answer(200, &json!({"paused": true, "changed": changed})))
        }),
        ["resume"] => post(method, || {
            let changed = c.resume();
            Ok(answer(200, &json!({"paused": false, "changed": changed})))
        }),
        ["errors"] => get(method, || {
            let n = limit(query)?;
            let errors: Vec<Value> = c.errors(n).iter().map(j::error).collect();
            Ok(answer(200, &Value::Array(errors)))
        }),
        ["dead-letters"] => get(method, || {
            let n = limit(query)?;
            let letters: Vec<Value> = c.dead_letters(n).iter().map(j::dead_letter).collect();
            Ok(answer(200, &Value::Array(letters)))
        }),
        ["series"] => get(method, || {
            let since = since_ms(query)?;
            let m = monitored(c)?;
            Ok(answer(200, &j::series(&m.series(since))))
        }),
        ["alarms"] => get(method, || {
            let m = monitored(c)?;
            Ok(answer(200, &j::alarms(m)))
        }),
        ["stages", s, rest @ ..] => stage(c, s, method, rest, body),
        _ => fail(404, format!("no route under pipeline `{}`", c.name())),
    }
}

fn status_of(c: &PipelineControl, stage: &str) -> Response {
    match c.stages().iter().find(|s| s.stage == stage) {
        Some(s) => answer(200, &j::stage(c, s)),
        None => fail(
            404,
            format!("pipeline `{}` has no stage `{stage}`", c.name()),
        ),
    }
}

fn stage(c: &PipelineControl, s: &str, method: &str, rest: &[&str], body: &[u8]) -> Response {
    match rest {
        [] => get(method, || Ok(status_of(c, s))),
        ["reload"] => post(method, || {
            let path = plugin_path(body)?;
            c.reload_file(s, path.as_deref()).map_err(|e| refused(&e))?;
            Ok(status_of(c, s))
        }),
        ["rollback"] => post(method, || {
            c.rollback(s).map_err(|e| refused(&e))?;
            Ok(status_of(c, s))
        }),
        ["shadow"] => match method {
            "GET" => match c.shadow_report(s) {
                Ok(Some(r)) => answer(200, &j::shadow(&r)),
                Ok(None) => fail(404, ReloadError::NoShadow(s.to_string())),
                Err(e) => refused(&e),
            },
            "POST" => (|| {
                let path = plugin_path(body)?
                    .ok_or_else(|| fail(400, "give the candidate as {\"plugin\": \"PATH\"}"))?;
                let r = c.shadow_file(s, &path).map_err(|e| refused(&e))?;
                Ok(answer(200, &j::shadow(&r)))
            })()
            .unwrap_or_else(|e| e),
            "DELETE" => match c.drop_shadow(s) {
                Ok(Some(r)) => answer(200, &j::shadow(&r)),
                Ok(None) => fail(404, ReloadError::NoShadow(s.to_string())),
                Err(e) => refused(&e),
            },
            _ => fail(405, "use GET, POST or DELETE"),
        },
        ["shadow", "promote"] => post(method, || {
            c.promote(s).map_err(|e| refused(&e))?;
            Ok(status_of(c, s))
        }),
        _ => fail(404, format!("no route under stage `{s}`")),
    }
}
