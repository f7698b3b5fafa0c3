//! The broker is not reachable when the pipeline starts: weir says which
//! bootstrap servers it cannot reach, keeps trying, and proceeds once they
//! answer.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::common::*;

/// Forwards connections on `listener` to `target`, both ways, until the
/// test process ends.
fn forward(listener: TcpListener, target: String) {
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone(), server.try_clone()),
                (server.try_clone(), client.try_clone()),
            ]
            .into_iter()
            .filter_map(|(a, b)| Some((a.ok()?, b.ok()?)))
            {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                });
            }
        }
    });
}

#[test]
fn broker_down_at_start_is_named_retried_and_then_used() -> TestResult {
    let _serial = serial();
    let (input, output) = (unique("events"), unique("out"));
    create_topic(&input, 2)?;
    create_topic(&output, 2)?;
    produce_transactions(&input, 1_000, 3)?;
    // A port nothing listens on yet.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let down = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir()?;
    let source = source(&input, &unique("late")).replace(&brokers(), &down);
    let config = write_config(
        dir.path(),
        &format!("name = \"late\"\n{source}\n{}", sink("out", &output)),
    )?;
    let mut weir = Weir::start(&config, "weir")?;
    let wanted = format!("cannot reach the Kafka bootstrap servers {down}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !weir.log_text().contains(&wanted) {
        weir.check_running()?;
        assert!(
            Instant::now() < deadline,
            "no log line naming {down}:\n{}",
            weir.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    weir.check_running()?;

    // The "broker" comes up at the bootstrap address.
    forward(TcpListener::bind(&down)?, brokers());
    wait_for_count(&output, 1_000, Duration::from_secs(90), &mut [&mut weir])?;
    weir.stop()?;
    assert_eq!(read_all(&output)?.len(), 1_000);
    Ok(())
}
