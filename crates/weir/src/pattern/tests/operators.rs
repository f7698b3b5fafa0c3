//! Each value condition, its edge cases and its validation.

use serde_json::json;

use super::{invalid, m};

#[test]
fn literal_numbers_compare_numerically() {
    assert!(m(json!({"a": [300]}), json!({"a": 300.0})));
    assert!(m(json!({"a": [3.0e2]}), json!({"a": 300})));
    assert!(m(json!({"a": [-0.0]}), json!({"a": 0})));
    assert!(!m(json!({"a": [300]}), json!({"a": 300.5})));
    assert!(!m(json!({"a": [5]}), json!({"a": "5"})));
    // Account numbers and other integers beyond the numeric range still
    // match exactly.
    assert!(m(
        json!({"a": [123456789012u64]}),
        json!({"a": 123456789012u64})
    ));
    assert!(!m(
        json!({"a": [123456789012u64]}),
        json!({"a": 123456789013u64})
    ));
    assert!(m(json!({"a": [u64::MAX]}), json!({"a": u64::MAX})));
    assert!(!m(json!({"a": [u64::MAX]}), json!({"a": u64::MAX - 1})));
    assert!(m(json!({"a": [-7]}), json!({"a": [-7.0]})));
}

#[test]
fn literal_booleans_and_null() {
    assert!(m(json!({"a": [true]}), json!({"a": true})));
    assert!(!m(json!({"a": [true]}), json!({"a": false})));
    assert!(!m(json!({"a": [false]}), json!({"a": "false"})));
    assert!(m(json!({"a": [null]}), json!({"a": null})));
    assert!(!m(json!({"a": [null]}), json!({})));
    assert!(!m(json!({"a": [null]}), json!({"a": "null"})));
    assert!(!m(json!({"a": [null]}), json!({"a": []})));
    assert!(m(json!({"a": [null]}), json!({"a": [1, null]})));
}

#[test]
fn literal_ip_addresses_match_any_spelling() {
    assert!(m(json!({"ip": ["10.0.0.1"]}), json!({"ip": "10.0.0.1"})));
    assert!(!m(json!({"ip": ["10.0.0.1"]}), json!({"ip": "10.0.0.2"})));
    assert!(m(
        json!({"ip": ["2001:db8::1"]}),
        json!({"ip": "2001:0DB8:0000:0000:0000:0000:0000:0001"})
    ));
    assert!(!m(
        json!({"ip": ["2001:db8::1"]}),
        json!({"ip": "2001:db8::2"})
    ));
    // `exactly` compares text only.
    assert!(!m(
        json!({"ip": [{"exactly": "2001:db8::1"}]}),
        json!({"ip": "2001:0db8::1"})
    ));
}

#[test]
fn anything_but_values() {
    let s = json!({"s": [{"anything-but": "init"}]});
    assert!(m(s.clone(), json!({"s": "running"})));
    assert!(!m(s.clone(), json!({"s": "init"})));
    assert!(m(s.clone(), json!({"s": null})));
    assert!(m(s.clone(), json!({"s": 5})));
    assert!(m(s.clone(), json!({"s": ""})));
    assert!(m(s.clone(), json!({"s": ["init", "other"]})));
    assert!(!m(s.clone(), json!({"s": ["init", "init"]})));
    // It needs a present leaf value.
    assert!(!m(s.clone(), json!({})));
    assert!(!m(s.clone(), json!({"s": []})));
    assert!(!m(s, json!({"s": {"init": 1}})));
    let list = json!({"s": [{"anything-but": ["a", "b"]}]});
    assert!(m(list.clone(), json!({"s": "c"})));
    assert!(!m(list.clone(), json!({"s": "b"})));
    assert!(m(list, json!({"s": true})));
    let num = json!({"n": [{"anything-but": [100, 200]}]});
    assert!(m(num.clone(), json!({"n": 150})));
    assert!(!m(num.clone(), json!({"n": 100.0})));
    assert!(m(num.clone(), json!({"n": "100"})));
    assert!(!m(json!({"n": [{"anything-but": 0}]}), json!({"n": 0})));
    assert!(m(num, json!({"n": null})));
    assert!(m(json!({"n": [{"anything-but": 1e300}]}), json!({"n": 1})));
}

#[test]
fn anything_but_operators() {
    let p = json!({"s": [{"anything-but": {"prefix": "init"}}]});
    assert!(m(p.clone(), json!({"s": "post-init"})));
    assert!(!m(p.clone(), json!({"s": "initializing"})));
    assert!(m(p.clone(), json!({"s": 12})));
    assert!(m(p.clone(), json!({"s": null})));
    assert!(!m(p, json!({})));
    let s = json!({"f": [{"anything-but": {"suffix": [".txt", ".jpg"]}}]});
    assert!(m(s.clone(), json!({"f": "a.txt.bak"})));
    assert!(!m(s, json!({"f": "a.jpg"})));
    let ic = json!({"s": [{"anything-but": {"equals-ignore-case": ["Stopped", "x"]}}]});
    assert!(!m(ic.clone(), json!({"s": "STOPPED"})));
    assert!(m(ic.clone(), json!({"s": "running"})));
    assert!(m(ic, json!({"s": null})));
    let w = json!({"p": [{"anything-but": {"wildcard": "*/lib/*"}}]});
    assert!(m(w.clone(), json!({"p": "/usr/bin/x"})));
    assert!(!m(w.clone(), json!({"p": "/usr/lib/x"})));
    assert!(m(w, json!({"p": 5})));
    assert!(m(
        json!({"p": [{"anything-but": {"wildcard": ""}}]}),
        json!({"p": "x"})
    ));
    assert!(!m(
        json!({"p": [{"anything-but": {"wildcard": ""}}]}),
        json!({"p": ""})
    ));
}

#[test]
fn anything_but_validation() {
    for bad in [
        json!(null),
        json!(true),
        json!([]),
        json!(["a", 1]),
        json!(["a", null]),
        json!([["a"]]),
        json!({}),
        json!({"prefix": "a", "suffix": "b"}),
        json!({"prefix": ""}),
        json!({"prefix": ["a", ""]}),
        json!({"suffix": ""}),
        json!({"prefix": 1}),
        json!({"prefix": [1, "a"]}),
        json!({"prefix": []}),
        json!({"prefix": {"equals-ignore-case": "a"}}),
        json!({"suffix": {"equals-ignore-case": "a"}}),
        json!({"suffix": [null, ".txt"]}),
        json!({"equals-ignore-case": 123}),
        json!({"equals-ignore-case": [1]}),
        json!({"wildcard": 123}),
        json!({"wildcard": ["a**"]}),
        json!({"numeric": [">", 1]}),
        json!({"exists": true}),
        json!({"anything-but": "x"}),
        json!(u64::MAX),
        json!([1, 9_007_199_254_740_993u64]),
    ] {
        let e = invalid(json!({"s": [{"anything-but": bad}]}));
        assert!(e.path.starts_with("s[0].anything-but"), "{}", e.path);
    }
}

#[test]
fn numeric() {
    let p = json!({"n": [{"numeric": [">", 0, "<=", 5]}]});
    assert!(m(p.clone(), json!({"n": 5})));
    assert!(m(p.clone(), json!({"n": 0.000001})));
    assert!(!m(p.clone(), json!({"n": 0})));
    assert!(!m(p.clone(), json!({"n": 5.000001})));
    assert!(!m(p.clone(), json!({"n": "3"})));
    assert!(!m(p.clone(), json!({"n": null})));
    assert!(!m(p.clone(), json!({"n": true})));
    assert!(!m(p.clone(), json!({})));
    assert!(m(p, json!({"n": [9, 3]})));
    assert!(m(
        json!({"n": [{"numeric": [">=", 1, "<", 2]}]}),
        json!({"n": 1})
    ));
    assert!(!m(
        json!({"n": [{"numeric": [">=", 1, "<", 2]}]}),
        json!({"n": 2})
    ));
    assert!(m(
        json!({"n": [{"numeric": ["=", 3.018e2]}]}),
        json!({"n": 301.8})
    ));
    assert!(m(
        json!({"n": [{"numeric": ["<", -1]}]}),
        json!({"n": -1.5})
    ));
    assert!(m(
        json!({"n": [{"numeric": ["<=", 5e9]}]}),
        json!({"n": 5e9})
    ));
    // The whole `f64` range compares (EventBridge once stopped at ±5e9).
    assert!(m(json!({"n": [{"numeric": [">", 0]}]}), json!({"n": 6e9})));
    assert!(m(
        json!({"n": [{"numeric": ["<", -1e300]}]}),
        json!({"n": -1.5e300})
    ));
    assert!(m(
        json!({"n": [{"numeric": [">=", 1.7e12, "<", 1.8e12]}]}),
        json!({"n": 1_750_000_000_000u64})
    ));
}

#[test]
fn numeric_validation() {
    for (bad, path) in [
        (json!([">", 0, ">", 0]), "n[0].numeric[2]"),
        (json!([">", 0, "<"]), "n[0].numeric"),
        (json!([">"]), "n[0].numeric"),
        (json!([]), "n[0].numeric"),
        (json!([5]), "n[0].numeric[0]"),
        (json!(["==", 5]), "n[0].numeric[0]"),
        (json!(["GT", 5]), "n[0].numeric[0]"),
        (json!([">", "5"]), "n[0].numeric[1]"),
        (json!([">", null]), "n[0].numeric[1]"),
        (json!(["<", 5, ">", 1]), "n[0].numeric[2]"),
        (json!(["=", 5, "<", 6]), "n[0].numeric[2]"),
        (json!([">", 5, "<", 5]), "n[0].numeric"),
        (json!([">=", 5, "<=", 5]), "n[0].numeric"),
        (json!([">", 6, "<", 5]), "n[0].numeric"),
        (json!([">", 0, "<", 5, "x"]), "n[0].numeric[4]"),
        (json!([">", 0, "<", 5, 6]), "n[0].numeric[4]"),
        (json!([">", 0, 5]), "n[0].numeric[2]"),
        // Integers with no exact `f64` form cannot be compared.
        (json!([">", 9_007_199_254_740_993u64]), "n[0].numeric[1]"),
        (
            json!([">", 0, "<", -9_007_199_254_740_993i64]),
            "n[0].numeric[3]",
        ),
        (json!("> 5"), "n[0].numeric"),
        (json!({">": 5}), "n[0].numeric"),
    ] {
        let e = invalid(json!({"n": [{"numeric": bad}]}));
        assert_eq!(e.path, path, "{bad}: {e}");
    }
    invalid(json!({"n": [{"NUMERIC": ["=", 5]}]}));
}

#[test]
fn exists() {
    let yes = json!({"d": {"s": [{"exists": true}]}});
    let no = json!({"d": {"s": [{"exists": false}]}});
    for (event, present) in [
        (json!({"d": {"s": "x"}}), true),
        (json!({"d": {"s": null}}), true),
        (json!({"d": {"s": ""}}), true),
        (json!({"d": {"s": [1]}}), true),
        (json!({"d": {"s": [[null]]}}), true),
        (json!({"d": {}}), false),
        (json!({}), false),
        (json!({"d": "flat"}), false),
        (json!({"d": {"s": []}}), false),
        // Exists only sees leaves: an object is not one.
        (json!({"d": {"s": {"t": 1}}}), false),
        (json!({"d": {"s": [{"t": 1}]}}), false),
    ] {
        assert_eq!(
            m(yes.clone(), event.clone()),
            present,
            "exists:true on {event}"
        );
        assert_eq!(
            m(no.clone(), event.clone()),
            !present,
            "exists:false on {event}"
        );
    }
    invalid(json!({"s": [{"exists": "true"}]}));
    invalid(json!({"s": [{"exists": null}]}));
    invalid(json!({"s": [{"exists": true, "prefix": "a"}]}));
}

#[test]
fn cidr_v4() {
    let p = json!({"ip": [{"cidr": "10.0.0.0/24"}]});
    assert!(m(p.clone(), json!({"ip": "10.0.0.0"})));
    assert!(m(p.clone(), json!({"ip": "10.0.0.255"})));
    assert!(!m(p.clone(), json!({"ip": "10.0.1.0"})));
    assert!(!m(p.clone(), json!({"ip": "10.0.0.256"})));
    assert!(!m(p.clone(), json!({"ip": "10.0.0"})));
    assert!(!m(p.clone(), json!({"ip": 10})));
    assert!(!m(p.clone(), json!({"ip": "::ffff:0b00:0001"})));
    assert!(m(p.clone(), json!({"ip": "::ffff:0a00:0001"})));
    assert!(!m(p.clone(), json!({"ip": "::1"})));
    assert!(m(p, json!({"ip": ["1.1.1.1", "10.0.0.7"]})));
    assert!(m(
        json!({"ip": [{"cidr": "0.0.0.0/0"}]}),
        json!({"ip": "255.255.255.255"})
    ));
    assert!(m(
        json!({"ip": [{"cidr": "10.0.0.1/31"}]}),
        json!({"ip": "10.0.0.1"})
    ));
    // Host bits in the block are ignored, as in EventBridge.
    assert!(m(
        json!({"ip": [{"cidr": "10.0.0.1/31"}]}),
        json!({"ip": "10.0.0.0"})
    ));
    assert!(m(
        json!({"ip": [{"cidr": "10.0.0.5/24"}]}),
        json!({"ip": "10.0.0.0"})
    ));
    assert!(!m(
        json!({"ip": [{"cidr": "10.0.0.5/24"}]}),
        json!({"ip": "10.0.1.0"})
    ));
    // Octets are decimal even with leading zeros.
    assert!(m(
        json!({"ip": [{"cidr": "010.0.0.0/8"}]}),
        json!({"ip": "10.1.2.3"})
    ));
    assert!(m(
        json!({"ip": [{"cidr": "10.0.0.0/8"}]}),
        json!({"ip": "010.001.2.3"})
    ));
}

#[test]
fn cidr_v6() {
    let p = json!({"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]});
    assert!(m(
        p.clone(),
        json!({"ip": "2001:0db8:1234:1a00:0000:0000:0000:0000"})
    ));
    assert!(m(
        p.clone(),
        json!({"ip": "2001:db8:1234:1a00:ffff:ffff:ffff:ffff"})
    ));
    assert!(!m(p.clone(), json!({"ip": "2001:db8:1234:1a01::"})));
    assert!(!m(p, json!({"ip": "10.0.0.1"})));
    assert!(m(
        json!({"ip": [{"cidr": "::/0"}]}),
        json!({"ip": "fe80::1"})
    ));
}

#[test]
fn cidr_validation() {
    for bad in [
        json!("10.0.0.0"),
        json!("10.0.0.0/"),
        json!("10.0.0.0/24/1"),
        json!("10.0.0.0/x"),
        json!("10.0.0.0/-1"),
        json!("10.0.0.0/32"),
        json!("10.0.0.0/33"),
        json!("2001:db8::/128"),
        json!("10.0.0/8"),
        json!("xx.11.xx/8"),
        json!("xxxx:db8:1234:1a00::/64"),
        json!("bad-/64filter"),
        json!(["10.0.0.0/8"]),
        json!(24),
    ] {
        let e = invalid(json!({"ip": [{"cidr": bad}]}));
        assert_eq!(e.path, "ip[0].cidr");
    }
}
