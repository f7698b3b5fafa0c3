//! Comparing outcomes with the expected JSON lines, and showing what
//! differs.

use std::path::Path;

use serde_json::Value;

use super::CheckError;

/// How far two numbers may differ, relative to the larger, and still match (scores computed in
/// another language may differ in the last bits).
pub const TOLERANCE: f64 = 1e-9;

/// Whether `got` matches `want`: the same JSON, numbers within
/// [`TOLERANCE`], and an expected `error` text found within the actual one
/// (so an expectation need not repeat a traceback).
pub fn matches(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= TOLERANCE * a.abs().max(1.0),
            _ => a == b,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, x)| match (k.as_str(), x, b.get(k)) {
                    ("error", Value::String(w), Some(Value::String(g))) => g.contains(w.as_str()),
                    (_, x, Some(y)) => matches(x, y),
                    (_, _, None) => false,
                })
        }
        _ => want == got,
    }
}

/// Reads the expected outcomes: one JSON value per non-blank line.
pub fn read_expected(path: &Path) -> Result<Vec<Value>, CheckError> {
    let text = std::fs::read_to_string(path).map_err(|error| CheckError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|error| CheckError::NotJson {
                path: path.to_path_buf(),
                line: i + 1,
                error,
            })
        })
        .collect()
}

/// The differences between `want` and `got`, as lines for a person: each
/// differing outcome as `-` expected and `+` actual; outcomes present on
/// one side only are listed as missing or unexpected.
pub fn diff(want: &[Value], got: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..want.len().max(got.len()) {
        match (want.get(i), got.get(i)) {
            (Some(w), Some(g)) if matches(w, g) => {}
            (Some(w), Some(g)) => {
                out.push(format!("outcome {}:", i + 1));
                out.push(format!("- {w}"));
                out.push(format!("+ {g}"));
            }
            (Some(w), None) => {
                out.push(format!("outcome {}: missing", i + 1));
                out.push(format!("- {w}"));
            }
            (None, Some(g)) => {
                out.push(format!("outcome {}: not expected", i + 1));
                out.push(format!("+ {g}"));
            }
            (None, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_within_tolerance_and_error_text_within_match() {
        assert!(matches(
            &json!({"score": 0.1}),
            &json!({"score": 0.1 + 1e-12})
        ));
        assert!(!matches(&json!({"score": 0.1}), &json!({"score": 0.2})));
        assert!(matches(
            &json!({"outcome": "error", "error": "not a number"}),
            &json!({"outcome": "error", "error": "ValueError: not a number\nTraceback…"})
        ));
        assert!(!matches(
            &json!({"outcome": "kept"}),
            &json!({"outcome": "kept", "x": 1})
        ));
    }

    #[test]
    fn diff_names_each_difference() {
        let want = [
            json!({"line": 1, "outcome": "kept"}),
            json!({"line": 2, "outcome": "kept"}),
        ];
        let got = [
            json!({"line": 1, "outcome": "kept"}),
            json!({"line": 2, "outcome": "dropped"}),
        ];
        assert_eq!(
            diff(&want, &got),
            [
                "outcome 2:",
                r#"- {"line":2,"outcome":"kept"}"#,
                r#"+ {"line":2,"outcome":"dropped"}"#
            ]
        );
        assert_eq!(diff(&want[..1], &got).len(), 2);
    }
}
