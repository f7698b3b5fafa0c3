//! Records reach the server exactly as sent.

use std::collections::BTreeSet;
use std::time::Duration;

use weir::Sink;

use super::server::{Reply, Server};
use super::{TestResult, bounded, records, sink};

#[tokio::test]
async fn per_record_bodies_are_the_values_byte_for_byte_with_headers_and_key() -> TestResult {
    bounded(async {
        let server = Server::start(|_, _| Reply::ok()).await?;
        let sink = sink(&format!(
            "url = \"{}\"\nmethod = \"PUT\"\ncontent_type = \"application/octet-stream\"\n\
             key_header = \"X-Record-Key\"\n[headers]\n\"X-Api-Key\" = \"k-123\"\n\"X-Tenant\" = \"acme\"",
            server.url("/hook/in")
        ))?;
        let values: [&[u8]; 4] = [
            br#"{"card":"c1","amount":12.50}"#,
            b"plain text, not JSON",
            &[0xff, 0xfe, 0x00, 0x80, b'\n'],
            b"",
        ];
        let mut batch = records(&values);
        batch[0] = batch[0].clone().with_key(b"card-1".to_vec());
        batch[2] = batch[2].clone().with_key(b"card-3".to_vec());
        sink.write(&batch).await?;

        let seen = server.seen();
        assert_eq!(seen.len(), 4, "one request per record");
        for (request, value) in seen.iter().zip(values) {
            // Concurrency 1 (the default): in order.
            assert_eq!(request.body, value);
            assert_eq!(request.method, "PUT");
            assert_eq!(request.path, "/hook/in");
            assert_eq!(request.header("content-type"), "application/octet-stream");
            assert_eq!(request.header("x-api-key"), "k-123");
            assert_eq!(request.header("x-tenant"), "acme");
            assert!(request.header("user-agent").starts_with("weir/"));
        }
        let keys: Vec<&str> = seen.iter().map(|r| r.header("x-record-key")).collect();
        assert_eq!(keys, ["card-1", "", "card-3", ""]);
        assert!(seen[1].headers.get("x-record-key").is_none());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn batch_mode_sends_json_arrays_split_at_max_batch_records() -> TestResult {
    bounded(async {
        let server = Server::start(|_, _| Reply::ok()).await?;
        let sink = sink(&format!(
            "url = \"{}\"\nbatch = true\nmax_batch_records = 2",
            server.url("/batch")
        ))?;
        let batch = records(&[
            br#"{"n": 0, "x": 1.50}"#,
            b"plain \"text\"",
            &[0xff, 0x00],
            b"[1,2]",
            b"42",
        ]);
        sink.write(&batch).await?;
        let seen = server.seen();
        let bodies: Vec<String> = seen
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert_eq!(
            bodies,
            [
                r#"[{"n": 0, "x": 1.50},"plain \"text\""]"#,
                r#"[{"base16":"ff00"},[1,2]]"#,
                r#"[42]"#,
            ]
        );
        for r in &seen {
            assert_eq!(r.method, "POST");
            assert_eq!(r.header("content-type"), "application/json");
            serde_json::from_slice::<serde_json::Value>(&r.body)?;
        }

        // The default batch size takes a whole write in one request.
        let server = Server::start(|_, _| Reply::ok()).await?;
        let sink = super::sink(&format!("url = \"{}\"\nbatch = true", server.url("/")))?;
        let values: Vec<String> = (0..700).map(|i| format!("{{\"i\":{i}}}")).collect();
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        sink.write(&records(&values)).await?;
        let sizes: Vec<usize> = server
            .seen()
            .iter()
            .map(|r| {
                serde_json::from_slice::<Vec<serde_json::Value>>(&r.body).map_or(0, |a| a.len())
            })
            .collect();
        assert_eq!(sizes, [500, 200]);
        Ok(())
    })
    .await
}

/// With `concurrency = 1` the sink has one request in flight, and two
/// overlapping writes arrive whole, in the order they started; with 4, it
/// has four in flight over both writes.
#[tokio::test]
async fn concurrency_bounds_the_requests_in_flight_over_all_writes() -> TestResult {
    bounded(async {
        let values: Vec<String> = (0..12).map(|i| format!("{{\"i\":{i}}}")).collect();
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        let (first, second) = (records(&values[..6]), records(&values[6..]));
        for concurrency in [1, 4] {
            let server = Server::start(|_, _| Reply::After(Duration::from_millis(30), 204)).await?;
            let sink = sink(&format!(
                "url = \"{}\"\nconcurrency = {concurrency}",
                server.url("/")
            ))?;
            // The first write starts (and sends its first request) before
            // the second one.
            let mut a = Box::pin(sink.write(&first));
            let early = tokio::time::timeout(Duration::from_millis(10), &mut a).await;
            assert!(early.is_err(), "{early:?}");
            let (a, b) = tokio::join!(a, sink.write(&second));
            a?;
            b?;
            let seen: Vec<Vec<u8>> = server.seen().into_iter().map(|r| r.body).collect();
            assert_eq!(server.max_in_flight(), concurrency);
            if concurrency == 1 {
                assert_eq!(seen, values);
            } else {
                let got: BTreeSet<&[u8]> = seen.iter().map(Vec::as_slice).collect();
                assert_eq!(got, values.iter().copied().collect());
            }
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn credentials_in_the_url_become_basic_auth_and_are_never_shown() -> TestResult {
    bounded(async {
        let server = Server::start(|n, _| match n {
            0 => Reply::ok(),
            _ => Reply::Status(403, "no".into()),
        })
        .await?;
        let url = format!("http://user:s3cret@{}/hook", server.addr);
        let sink = sink(&format!("url = \"{url}\"\nretries = 0"))?;
        assert_eq!(sink.describe(), format!("webhook {}", server.url("/hook")));
        sink.write(&records(&[b"{}"])).await?;
        assert_eq!(
            server.seen()[0].header("authorization"),
            "Basic dXNlcjpzM2NyZXQ="
        );
        let err = sink
            .write(&records(&[b"{}"]))
            .await
            .err()
            .ok_or("a 403 must fail")?
            .to_string();
        assert!(
            err.contains("403 Forbidden") && err.contains(&server.url("/hook")),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        Ok(())
    })
    .await
}
