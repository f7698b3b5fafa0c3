//! Routing conditions: `score >= 0.9`, `label == "velocity"`, `header.x == "y"`.

use crate::record::Record;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Score,
    Label,
    Key,
    Header(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Number(f64),
    Text(String),
}

/// Why a route condition could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConditionError(String);

impl From<String> for ConditionError {
    fn from(message: String) -> Self {
        ConditionError(message)
    }
}

/// A parsed route condition: `FIELD OP LITERAL`.
///
/// Fields: `score` (numeric; a record without a score never matches),
/// `label` (true if any label compares true), `key`, `header.NAME`.
/// Operators: `==`, `!=`, `>=`, `>`, `<=`, `<`. Literals: numbers or
/// double-quoted strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    field: Field,
    op: Op,
    literal: Literal,
}

impl Condition {
    /// Parses a condition, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, ConditionError> {
        let t = text.trim();
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let (pos, sym, op) = ops
            .iter()
            .filter_map(|(s, o)| t.find(s).map(|p| (p, *s, *o)))
            .min_by_key(|(p, s, _)| (*p, usize::MAX - s.len()))
            .ok_or_else(|| format!("`{t}`: expected FIELD OP VALUE, e.g. `score >= 0.9`"))?;
        let field_text = t[..pos].trim();
        let value_text = t[pos + sym.len()..].trim();
        let field = match field_text {
            "score" => Field::Score,
            "label" => Field::Label,
            "key" => Field::Key,
            f if f.starts_with("header.") && f.len() > 7 => Field::Header(f[7..].to_string()),
            f => {
                return Err(format!(
                    "`{f}` is not a route field (use score, label, key or header.NAME)"
                )
                .into());
            }
        };
        let literal = if let Some(s) = value_text
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
        {
            Literal::Text(s.to_string())
        } else {
            match value_text.parse::<f64>() {
                // Scores are finite; `nan` or `inf` would make a route
                // that never (or always) matches.
                Ok(n) if !n.is_finite() => {
                    return Err(format!("`{value_text}` is not a finite number").into());
                }
                Ok(n) => Literal::Number(n),
                Err(_) => {
                    return Err(format!(
                        "`{value_text}` is neither a number nor a \"quoted string\""
                    )
                    .into());
                }
            }
        };
        match (&field, &literal, op) {
            (Field::Score, Literal::Text(_), _) => {
                Err("score compares with a number".to_string().into())
            }
            (Field::Label | Field::Key | Field::Header(_), Literal::Number(_), _) => {
                Err(format!("`{field_text}` compares with a \"quoted string\"").into())
            }
            (
                Field::Label | Field::Key | Field::Header(_),
                _,
                Op::Ge | Op::Gt | Op::Le | Op::Lt,
            ) => Err(format!("`{field_text}` supports only == and !=").into()),
            _ => Ok(Condition { field, op, literal }),
        }
    }

    /// Whether `record` satisfies the condition.
    pub fn matches(&self, record: &Record) -> bool {
        match (&self.field, &self.literal) {
            (Field::Score, Literal::Number(n)) => record.score.is_some_and(|s| cmp(s, *n, self.op)),
            (Field::Label, Literal::Text(t)) => match self.op {
                Op::Ne => !record.labels.iter().any(|l| l == t),
                _ => record.labels.iter().any(|l| l == t),
            },
            (Field::Key, Literal::Text(t)) => text_cmp(record.key.as_deref(), t, self.op),
            (Field::Header(h), Literal::Text(t)) => text_cmp(record.header(h), t, self.op),
            _ => false,
        }
    }
}

fn cmp(a: f64, b: f64, op: Op) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Ge => a >= b,
        Op::Gt => a > b,
        Op::Le => a <= b,
        Op::Lt => a < b,
    }
}

fn text_cmp(value: Option<&[u8]>, t: &str, op: Op) -> bool {
    let eq = value == Some(t.as_bytes());
    if op == Op::Ne { !eq } else { eq }
}

/// A routing rule: which outputs go to which sink.
#[derive(Debug, Clone)]
pub struct Route {
    pub(crate) sink: String,
    pub(crate) condition: Option<Condition>,
    pub(crate) otherwise: bool,
}

impl Route {
    /// Every output goes to `sink`.
    pub fn all(sink: impl Into<String>) -> Self {
        Route {
            sink: sink.into(),
            condition: None,
            otherwise: false,
        }
    }

    /// Outputs matching `condition` go to `sink`.
    pub fn when(sink: impl Into<String>, condition: Condition) -> Self {
        Route {
            condition: Some(condition),
            ..Route::all(sink)
        }
    }

    /// Outputs that matched no conditional route before this one go to
    /// `sink`.
    pub fn otherwise(sink: impl Into<String>) -> Self {
        Route {
            otherwise: true,
            ..Route::all(sink)
        }
    }
}

/// A routing table of parsed rules.
#[derive(Debug, Clone)]
pub(crate) struct Router {
    routes: Vec<Route>,
    all_sinks: Vec<String>,
}

impl Router {
    /// The rules `routes`; without rules, every output goes to `sinks`.
    pub(crate) fn new(routes: Vec<Route>, sinks: Vec<String>) -> Self {
        Router {
            routes,
            all_sinks: sinks,
        }
    }

    /// The sinks `record` goes to (each at most once). Without routes:
    /// every sink given to [`Router::new`].
    pub(crate) fn sinks_for<'a>(&'a self, record: &Record, out: &mut Vec<&'a str>) {
        out.clear();
        if self.routes.is_empty() {
            out.extend(self.all_sinks.iter().map(String::as_str));
            return;
        }
        let mut matched_conditional = false;
        for Route {
            sink,
            condition,
            otherwise,
        } in &self.routes
        {
            let take = match (condition, otherwise) {
                (_, true) => !matched_conditional,
                (Some(c), false) => {
                    let m = c.matches(record);
                    matched_conditional |= m;
                    m
                }
                (None, false) => true,
            };
            if take && !out.contains(&sink.as_str()) {
                out.push(sink);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Position;

    fn rec(score: Option<f64>, labels: &[&str]) -> Record {
        let mut r =
            Record::new(b"{}".to_vec(), Position::Offset(0), 0).with_header("ev", b"x".to_vec());
        r.score = score;
        r.labels = labels.iter().map(|s| s.to_string()).collect();
        r
    }

    #[test]
    fn conditions() -> Result<(), ConditionError> {
        assert!(Condition::parse("score >= 0.7")?.matches(&rec(Some(0.75), &[])));
        assert!(!Condition::parse("score >= 0.7")?.matches(&rec(Some(0.5), &[])));
        assert!(!Condition::parse("score >= 0.7")?.matches(&rec(None, &[])));
        assert!(
            Condition::parse("label == \"velocity\"")?.matches(&rec(None, &["amount", "velocity"]))
        );
        assert!(Condition::parse("header.ev == \"x\"")?.matches(&rec(None, &[])));
        assert!(Condition::parse("score >= \"x\"").is_err());
        assert!(Condition::parse("speed > 3").is_err());
        assert!(Condition::parse("score").is_err());
        for text in [
            "score >= NaN",
            "score != nan",
            "score < inf",
            "score > -infinity",
        ] {
            let err = Condition::parse(text).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("not a finite number")),
                "{text}: {err:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn otherwise_takes_unmatched() -> Result<(), ConditionError> {
        let routes = vec![
            Route::when("alerts", Condition::parse("score >= 0.7")?),
            Route::otherwise("rest"),
            Route::all("archive"),
        ];
        let r = Router::new(routes, vec![]);
        let mut out = Vec::new();
        r.sinks_for(&rec(Some(0.9), &[]), &mut out);
        assert_eq!(out, vec!["alerts", "archive"]);
        r.sinks_for(&rec(Some(0.1), &[]), &mut out);
        assert_eq!(out, vec!["rest", "archive"]);
        Ok(())
    }
}
