//! Nothing is acknowledged before a 2xx answer.

use std::time::{Duration, Instant};

use weir::Sink;

use super::server::{Reply, Server};
use super::{TestResult, bounded, records, sink};

#[tokio::test]
async fn a_write_is_pending_until_the_2xx_arrives() -> TestResult {
    bounded(async {
        let delay = Duration::from_millis(300);
        let server = Server::start(move |_, _| Reply::After(delay, 200)).await?;
        let sink = sink(&format!("url = \"{}\"", server.url("/slow")))?;
        let batch = records(&[br#"{"n":1}"#]);
        let started = Instant::now();
        let mut write = Box::pin(sink.write(&batch));
        let early = tokio::time::timeout(Duration::from_millis(150), &mut write).await;
        assert!(
            early.is_err(),
            "the write completed before the server answered: {early:?}"
        );
        write.await?;
        assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
        assert_eq!(server.seen().len(), 1);

        // The same in batch mode.
        let sink = super::sink(&format!("url = \"{}\"\nbatch = true", server.url("/slow")))?;
        let mut write = Box::pin(sink.write(&batch));
        let early = tokio::time::timeout(Duration::from_millis(150), &mut write).await;
        assert!(early.is_err(), "{early:?}");
        write.await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_server_that_only_answers_503_never_gets_an_acknowledgement() -> TestResult {
    bounded(async {
        let server =
            Server::start(|_, _| Reply::Status(503, "down for maintenance".into())).await?;
        for mode in ["batch = false", "batch = true"] {
            let sink = sink(&format!(
                "url = \"{}\"\n{mode}\nretries = 2\nretry_backoff = \"10ms\"",
                server.url("/down")
            ))?;
            let before = server.seen().len();
            let result = sink.write(&records(&[b"a", b"b", b"c"])).await;
            let err = result
                .err()
                .ok_or(format!("{mode}: a 503 answer was taken as accepted"))?;
            assert_eq!(err.failed, Some(vec![0, 1, 2]), "{mode}: {err}");
            let message = err.to_string();
            assert!(message.contains("503 Service Unavailable"), "{message}");
            assert!(message.contains("3 attempts"), "{message}");
            assert!(message.contains("down for maintenance"), "{message}");
            // One request and its two retries; an endpoint that is down
            // gets no more requests from this write.
            assert_eq!(server.seen().len() - before, 3, "{mode}");
        }
        Ok(())
    })
    .await
}
