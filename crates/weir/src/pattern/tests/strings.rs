//! String conditions: literals, prefix, suffix, ignore-case and wildcard.

use serde_json::json;

use super::{invalid, m};

#[test]
fn literal_strings() {
    assert!(m(json!({"a": ["x"]}), json!({"a": "x"})));
    assert!(!m(json!({"a": ["x"]}), json!({"a": "X"})));
    assert!(!m(json!({"a": ["x"]}), json!({"b": "x"})));
    assert!(m(json!({"a": [""]}), json!({"a": ""})));
    assert!(!m(json!({"a": [""]}), json!({"a": null})));
    assert!(!m(json!({"a": [""]}), json!({})));
    assert!(!m(json!({"a": ["5"]}), json!({"a": 5})));
    assert!(!m(json!({"a": ["true"]}), json!({"a": true})));
    assert!(m(json!({"a": ["x", "y"]}), json!({"a": "y"})));
    assert!(m(json!({"a": [{"exactly": "x"}]}), json!({"a": "x"})));
    assert!(
        invalid(json!({"a": [{"exactly": 5}]}))
            .message
            .contains("string")
    );
}

#[test]
fn prefix() {
    let p = json!({"t": [{"prefix": "2022-07"}]});
    assert!(m(p.clone(), json!({"t": "2022-07-13"})));
    assert!(m(p.clone(), json!({"t": "2022-07"})));
    assert!(!m(p.clone(), json!({"t": "2022-0"})));
    assert!(!m(p.clone(), json!({"t": "x2022-07"})));
    assert!(!m(p.clone(), json!({"t": 202207})));
    assert!(!m(p, json!({})));
    // The empty prefix matches every string, and only strings.
    assert!(m(json!({"t": [{"prefix": ""}]}), json!({"t": ""})));
    assert!(!m(json!({"t": [{"prefix": ""}]}), json!({"t": null})));
    let ic = json!({"s": [{"prefix": {"equals-ignore-case": "EventB"}}]});
    assert!(m(ic.clone(), json!({"s": "eventbridge"})));
    assert!(m(ic.clone(), json!({"s": "EVENTBUS"})));
    assert!(!m(ic, json!({"s": "event"})));
    assert!(m(
        json!({"s": [{"prefix": {"equals-ignore-case": "ÉCO"}}]}),
        json!({"s": "école"})
    ));
}

#[test]
fn prefix_validation() {
    assert!(invalid(json!({"t": [{"prefix": 123}]})).path == "t[0].prefix");
    invalid(json!({"t": [{"prefix": ["a"]}]}));
    invalid(json!({"t": [{"prefix": null}]}));
    invalid(json!({"t": [{"prefix": {"equals-ignore-case": 1}}]}));
    invalid(json!({"t": [{"prefix": {"suffix": "a"}}]}));
    invalid(json!({"t": [{"prefix": {"equals-ignore-case": "a", "x": "b"}}]}));
    invalid(json!({"t": [{"prefix": {}}]}));
}

#[test]
fn suffix() {
    let p = json!({"f": [{"suffix": ".png"}]});
    assert!(m(p.clone(), json!({"f": "a.png"})));
    assert!(m(p.clone(), json!({"f": ".png"})));
    assert!(!m(p.clone(), json!({"f": "a.PNG"})));
    assert!(!m(p, json!({"f": "png"})));
    let ic = json!({"f": [{"suffix": {"equals-ignore-case": ".png"}}]});
    assert!(m(ic.clone(), json!({"f": "A.PnG"})));
    assert!(!m(ic.clone(), json!({"f": "a.jpg"})));
    assert!(!m(ic, json!({"f": "png"})));
    assert!(m(
        json!({"f": [{"suffix": {"equals-ignore-case": "STRASSE"}}]}),
        json!({"f": "Hauptstrasse"})
    ));
    assert!(m(
        json!({"f": [{"suffix": {"equals-ignore-case": "éE"}}]}),
        json!({"f": "xÉe"})
    ));
    invalid(json!({"f": [{"suffix": [".png"]}]}));
    invalid(json!({"f": [{"suffix": 1}]}));
}

#[test]
fn equals_ignore_case() {
    let p = json!({"d": [{"equals-ignore-case": "ec2 instance"}]});
    assert!(m(p.clone(), json!({"d": "EC2 Instance"})));
    assert!(m(p.clone(), json!({"d": ["x", "Ec2 INSTANCE"]})));
    assert!(!m(p.clone(), json!({"d": "ec2 instances"})));
    assert!(!m(p, json!({"d": 2})));
    assert!(m(
        json!({"d": [{"equals-ignore-case": ""}]}),
        json!({"d": ""})
    ));
    assert!(m(
        json!({"d": [{"equals-ignore-case": "ΣΊΣΥΦΟΣ"}]}),
        json!({"d": "σίσυφοσ"})
    ));
    invalid(json!({"d": [{"equals-ignore-case": ["x"]}]}));
    invalid(json!({"d": [{"equals-ignore-case": {"prefix": "x"}}]}));
}

#[test]
fn wildcard() {
    let p = json!({"k": [{"wildcard": "dir/*.png"}]});
    assert!(m(p.clone(), json!({"k": "dir/a.png"})));
    assert!(m(p.clone(), json!({"k": "dir/.png"})));
    assert!(m(p.clone(), json!({"k": "dir/x/y.png"})));
    assert!(!m(p.clone(), json!({"k": "dir/a.jpg"})));
    assert!(!m(p, json!({"k": "x/dir/a.png"})));
    assert!(m(json!({"k": [{"wildcard": "*"}]}), json!({"k": ""})));
    assert!(m(
        json!({"k": [{"wildcard": "*"}]}),
        json!({"k": "anything"})
    ));
    assert!(!m(json!({"k": [{"wildcard": "*"}]}), json!({"k": 5})));
    assert!(m(json!({"k": [{"wildcard": ""}]}), json!({"k": ""})));
    assert!(!m(json!({"k": [{"wildcard": ""}]}), json!({"k": "a"})));
    assert!(m(
        json!({"k": [{"wildcard": "a*b*c"}]}),
        json!({"k": "abc"})
    ));
    assert!(m(
        json!({"k": [{"wildcard": "a*b*c"}]}),
        json!({"k": "aXbYbZc"})
    ));
    assert!(!m(
        json!({"k": [{"wildcard": "a*b*c"}]}),
        json!({"k": "acb"})
    ));
    // The fixed start and end may not overlap.
    assert!(!m(
        json!({"k": [{"wildcard": "ab*ba"}]}),
        json!({"k": "aba"})
    ));
    assert!(m(
        json!({"k": [{"wildcard": "ab*ba"}]}),
        json!({"k": "abba"})
    ));
    // Escapes.
    assert!(m(
        json!({"k": [{"wildcard": r"a\*b"}]}),
        json!({"k": "a*b"})
    ));
    assert!(!m(
        json!({"k": [{"wildcard": r"a\*b"}]}),
        json!({"k": "aXb"})
    ));
    assert!(m(
        json!({"k": [{"wildcard": r"a\\*"}]}),
        json!({"k": r"a\xyz"})
    ));
    assert!(m(json!({"k": [{"wildcard": r"\**"}]}), json!({"k": "*!"})));
    assert!(m(json!({"k": [{"wildcard": "é*ü"}]}), json!({"k": "éaü"})));
    assert!(m(
        json!({"k": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}),
        json!({"k": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"})
    ));
}

#[test]
fn wildcard_validation() {
    assert!(
        invalid(json!({"k": [{"wildcard": "a**b"}]}))
            .message
            .contains("consecutive")
    );
    assert!(
        invalid(json!({"k": [{"wildcard": r"a\b"}]}))
            .message
            .contains("escape")
    );
    invalid(json!({"k": [{"wildcard": "a\\"}]}));
    assert!(
        invalid(json!({"k": [{"wildcard": "*a*b*c*d*e*"}]}))
            .message
            .contains("complex")
    );
    // Five `*` are allowed; escaped ones do not count.
    assert!(m(
        json!({"k": [{"wildcard": r"*a*b*c*d*\*"}]}),
        json!({"k": "abcd*"})
    ));
    invalid(json!({"k": [{"wildcard": 1}]}));
    invalid(json!({"k": [{"wildcard": ["a*"]}]}));
}
