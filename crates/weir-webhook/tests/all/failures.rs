//! Retries, answers that are not retried, timeouts and connection errors.

use std::time::{Duration, Instant};

use weir::Sink;

use super::server::{Reply, Server};
use super::{TestResult, bounded, records, sink};

#[tokio::test]
async fn a_500_then_200_sends_the_batch_again_and_the_write_succeeds() -> TestResult {
    bounded(async {
        let server = Server::start(|n, _| match n {
            0 => Reply::Status(500, "oops".into()),
            _ => Reply::ok(),
        })
        .await?;
        let sink = sink(&format!(
            "url = \"{}\"\nbatch = true\nretry_backoff = \"10ms\"",
            server.url("/b")
        ))?;
        sink.write(&records(&[b"{\"a\":1}", b"{\"a\":2}"])).await?;
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "the batch is sent again once");
        assert_eq!(seen[0].body, br#"[{"a":1},{"a":2}]"#);
        assert_eq!(seen[1].body, seen[0].body);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_429_is_retried_with_backoff() -> TestResult {
    bounded(async {
        let server = Server::start(|n, _| match n {
            0 | 1 => Reply::Status(429, String::new()),
            _ => Reply::ok(),
        })
        .await?;
        let sink = sink(&format!(
            "url = \"{}\"\nretry_backoff = \"100ms\"",
            server.url("/")
        ))?;
        let started = Instant::now();
        sink.write(&records(&[b"x"])).await?;
        // Waits of 100 ms, then 200 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(server.seen().len(), 3);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_400_is_not_retried_and_fails_only_its_record() -> TestResult {
    bounded(async {
        let server = Server::start(|_, seen| {
            if seen.body.starts_with(b"bad") {
                Reply::Status(400, "{\"error\":\"field `amount` is missing\"}".into())
            } else {
                Reply::ok()
            }
        })
        .await?;
        let sink = sink(&format!(
            "url = \"{}\"\nretry_backoff = \"10ms\"",
            server.url("/r")
        ))?;
        let err = sink
            .write(&records(&[b"good 0", b"bad 1", b"good 2"]))
            .await
            .err()
            .ok_or("a 400 must fail the write")?;
        assert_eq!(server.seen().len(), 3, "exactly one request per record");
        assert_eq!(err.failed, Some(vec![1]));
        assert_eq!(err.sink, "hook");
        let message = err.to_string();
        for part in [
            "sink `hook`",
            "POST",
            &server.url("/r"),
            "400 Bad Request",
            "not retried",
            "field `amount` is missing",
        ] {
            assert!(message.contains(part), "`{part}` missing from: {message}");
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn batch_failures_name_the_records_of_the_failed_requests() -> TestResult {
    bounded(async {
        let server = Server::start(|n, _| match n {
            1 => Reply::Status(422, "unprocessable".into()),
            _ => Reply::ok(),
        })
        .await?;
        let sink = sink(&format!(
            "url = \"{}\"\nbatch = true\nmax_batch_records = 2",
            server.url("/")
        ))?;
        let err = sink
            .write(&records(&[b"0", b"1", b"2", b"3", b"4"]))
            .await
            .err()
            .ok_or("a 422 must fail its request")?;
        assert_eq!(err.failed, Some(vec![2, 3]));
        assert_eq!(server.seen().len(), 3);
        assert!(err.message.contains("422 Unprocessable Entity"), "{err}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn error_messages_quote_at_most_512_bytes_of_the_body() -> TestResult {
    bounded(async {
        // 1 + 2 × 300 bytes: byte 512 falls inside a two-byte character.
        let body = format!("x{}{}", "é".repeat(300), "TAIL".repeat(100));
        let server = Server::start(move |_, _| Reply::Status(500, body.clone())).await?;
        let sink = sink(&format!("url = \"{}\"\nretries = 0", server.url("/")))?;
        let err = sink
            .write(&records(&[b"x"]))
            .await
            .err()
            .ok_or("a 500 must fail")?;
        let message = err.message;
        assert!(message.contains("500 Internal Server Error"), "{message}");
        assert!(
            message.contains(&format!("\"x{}\"…", "é".repeat(255))),
            "{message}"
        );
        assert!(!message.contains("TAIL"), "{message}");
        assert!(message.ends_with("\"…"), "{message}");
        assert!(message.len() < 512 + 200, "{}", message.len());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_write_after_every_attempt_timed_out() -> TestResult {
    bounded(async {
        let server = Server::start(|_, _| Reply::Hold).await?;
        let sink = sink(&format!(
            "url = \"{}\"\ntimeout = \"200ms\"\nretries = 2\nretry_backoff = \"10ms\"",
            server.url("/silent")
        ))?;
        let started = Instant::now();
        let err = sink
            .write(&records(&[b"{}"]))
            .await
            .err()
            .ok_or("no answer must fail the write")?;
        let elapsed = started.elapsed();
        // 3 attempts of 200 ms, and waits of 10 and 20 ms.
        assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert_eq!(server.seen().len(), 3);
        let message = err.to_string();
        assert!(
            message.contains("timed out: no complete answer within 200ms (3 attempts)"),
            "{message}"
        );
        assert!(message.contains(&server.url("/silent")), "{message}");
        Ok(())
    })
    .await
}

/// A timeout means the endpoint is down: the rest of the write is not
/// sent, and its records count as failed too.
#[tokio::test]
async fn after_an_endpoint_failure_the_rest_of_the_write_is_not_sent() -> TestResult {
    bounded(async {
        let server = Server::start(|_, _| Reply::Hold).await?;
        let sink = sink(&format!(
            "url = \"{}\"\ntimeout = \"100ms\"\nretries = 0",
            server.url("/")
        ))?;
        let started = Instant::now();
        let err = sink
            .write(&records(&[b"0", b"1", b"2", b"3", b"4"]))
            .await
            .err()
            .ok_or("no answer must fail the write")?;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(server.seen().len(), 1);
        assert_eq!(err.failed, Some(vec![0, 1, 2, 3, 4]));
        assert!(err.message.contains("4 of 5 records not sent"), "{err}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_named() -> TestResult {
    bounded(async {
        // A port that was just free: nothing listens there.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?.port()
        };
        let url = format!("http://127.0.0.1:{port}/gone");
        let sink = sink(&format!(
            "url = \"{url}\"\nretries = 1\nretry_backoff = \"10ms\""
        ))?;
        let err = sink
            .write(&records(&[b"{}"]))
            .await
            .err()
            .ok_or("nothing listens there")?;
        let message = err.to_string();
        assert!(message.contains(&url), "{message}");
        assert!(message.contains("failed (2 attempts)"), "{message}");
        assert!(message.to_lowercase().contains("connect"), "{message}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_fails_only_its_record() -> TestResult {
    bounded(async {
        let server = Server::start(|_, _| Reply::ok()).await?;
        let sink = sink(&format!(
            "url = \"{}\"\nkey_header = \"X-Key\"",
            server.url("/")
        ))?;
        let mut batch = records(&[b"0", b"1", b"2"]);
        batch[0] = batch[0].clone().with_key(b"fine".to_vec());
        batch[1] = batch[1].clone().with_key(b"line\nbreak".to_vec());
        let err = sink
            .write(&batch)
            .await
            .err()
            .ok_or("a key with a line break cannot be sent")?;
        assert_eq!(err.failed, Some(vec![1]));
        assert!(
            err.message
                .contains("not sent: the record key is not a valid value of header `x-key`"),
            "{err}"
        );
        let bodies: Vec<Vec<u8>> = server.seen().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies, [b"0".to_vec(), b"2".to_vec()]);
        Ok(())
    })
    .await
}
