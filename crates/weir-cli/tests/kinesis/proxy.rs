//! Fault injection in front of the Kinesis emulator, which has no
//! throttling and checks no credentials: a small HTTP/1.1 proxy that
//! answers some requests itself the way Kinesis does, and forwards the
//! rest.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What the proxy does to requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Half the GetRecords and PutRecords calls fail: every second
    /// GetRecords call is answered `ProvisionedThroughputExceededException`
    /// (and every tenth `ExpiredIteratorException`); every second PutRecords
    /// call is either refused as a whole for throughput, or (alternating)
    /// forwarded with only half its records, the other half reported failed
    /// with `ProvisionedThroughputExceededException` and `FailedRecordCount`,
    /// as Kinesis reports partial failures.
    ThrottleHalf,
    /// Calls signed with another access key than this one are answered
    /// `UnrecognizedClientException`, as AWS answers unknown keys.
    OnlyKey(&'static str),
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    pub endpoint: String,
    pub throttled_get: Arc<AtomicU64>,
    pub expired_get: Arc<AtomicU64>,
    pub throttled_put: Arc<AtomicU64>,
    /// Records refused inside PutRecords calls that were otherwise forwarded.
    pub refused_records: Arc<AtomicU64>,
    pub forwarded: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

struct Shared {
    upstream: String,
    fault: Fault,
    gets: AtomicU64,
    puts: AtomicU64,
    throttled_get: Arc<AtomicU64>,
    expired_get: Arc<AtomicU64>,
    throttled_put: Arc<AtomicU64>,
    refused_records: Arc<AtomicU64>,
    forwarded: Arc<AtomicU64>,
}

/// Starts a proxy on 127.0.0.1 in front of `upstream` (`http://host:port`).
pub fn start(upstream: &str, fault: Fault) -> std::io::Result<Proxy> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        upstream: upstream.trim_start_matches("http://").to_string(),
        fault,
        gets: AtomicU64::new(0),
        puts: AtomicU64::new(0),
        throttled_get: Arc::default(),
        expired_get: Arc::default(),
        throttled_put: Arc::default(),
        refused_records: Arc::default(),
        forwarded: Arc::default(),
    });
    let proxy = Proxy {
        endpoint,
        throttled_get: shared.throttled_get.clone(),
        expired_get: shared.expired_get.clone(),
        throttled_put: shared.throttled_put.clone(),
        refused_records: shared.refused_records.clone(),
        forwarded: shared.forwarded.clone(),
        stop: stop.clone(),
    };
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let Ok(conn) = conn else { continue };
            let shared = shared.clone();
            std::thread::spawn(move || {
                let _ = serve(conn, &shared);
            });
        }
    });
    Ok(proxy)
}

/// One HTTP message: head lines and body.
struct Message {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.head {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reads one message (Content-Length or chunked bodies); `None` at EOF.
fn read_message(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Message>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.push(line);
    }
    let mut m = Message {
        head,
        body: Vec::new(),
    };
    if m.header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            chunk.truncate(n);
            if n == 0 {
                break;
            }
            m.body.extend_from_slice(&chunk);
        }
        m.head
            .retain(|l| !l.to_ascii_lowercase().starts_with("transfer-encoding"));
        m.head.push(format!("Content-Length: {}", m.body.len()));
    } else if let Some(n) = m.header("content-length").and_then(|v| v.parse().ok()) {
        m.body = vec![0; n];
        r.read_exact(&mut m.body)?;
    }
    Ok(Some(m))
}

fn answer(status: &str, kind: &str, message: &str) -> Vec<u8> {
    let body = format!("{{\"__type\":\"{kind}\",\"message\":\"{message}\"}}");
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What to do with a request.
enum Action {
    /// Answer it here.
    Answer(Vec<u8>),
    /// Forward it as it is.
    Forward,
    /// Forward only the even-numbered records of this PutRecords call;
    /// report the odd ones refused.
    PartialPut,
}

const THROTTLED: &str = "ProvisionedThroughputExceededException";

fn decide(req: &Message, shared: &Shared) -> Action {
    let target = req.header("x-amz-target").unwrap_or("");
    match shared.fault {
        Fault::ThrottleHalf if target.ends_with(".GetRecords") => {
            let n = shared.gets.fetch_add(1, Ordering::SeqCst);
            if n % 2 == 1 {
                shared.throttled_get.fetch_add(1, Ordering::SeqCst);
                Action::Answer(answer(
                    "400 Bad Request",
                    THROTTLED,
                    "Rate exceeded for shard (injected by the test proxy).",
                ))
            } else if n % 10 == 4 {
                shared.expired_get.fetch_add(1, Ordering::SeqCst);
                Action::Answer(answer(
                    "400 Bad Request",
                    "ExpiredIteratorException",
                    "Iterator expired (injected by the test proxy).",
                ))
            } else {
                Action::Forward
            }
        }
        Fault::ThrottleHalf if target.ends_with(".PutRecords") => {
            let n = shared.puts.fetch_add(1, Ordering::SeqCst);
            match n % 4 {
                1 => {
                    shared.throttled_put.fetch_add(1, Ordering::SeqCst);
                    Action::Answer(answer(
                        "400 Bad Request",
                        THROTTLED,
                        "Rate exceeded for stream (injected by the test proxy).",
                    ))
                }
                3 => Action::PartialPut,
                _ => Action::Forward,
            }
        }
        Fault::ThrottleHalf => Action::Forward,
        Fault::OnlyKey(key) => {
            let auth = req.header("authorization").unwrap_or("");
            if auth.contains(&format!("Credential={key}/")) {
                Action::Forward
            } else {
                Action::Answer(answer(
                    "400 Bad Request",
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                ))
            }
        }
    }
}

fn with_body(m: &Message, body: Vec<u8>) -> Message {
    let mut head: Vec<String> = m
        .head
        .iter()
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
        .cloned()
        .collect();
    head.push(format!("Content-Length: {}", body.len()));
    Message { head, body }
}

/// Splits a PutRecords request: the request with the kept records, and the
/// index of each record in the original call with whether it was kept.
fn split_put(req: &Message) -> Option<(Message, Vec<bool>)> {
    let mut body: serde_json::Value = serde_json::from_slice(&req.body).ok()?;
    let records = body.get_mut("Records")?.as_array_mut()?;
    let keep: Vec<bool> = (0..records.len()).map(|i| i % 2 == 0).collect();
    let mut i = 0;
    records.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    Some((with_body(req, serde_json::to_vec(&body).ok()?), keep))
}

/// The answer to the original PutRecords call: the upstream's results for
/// the kept records, throughput errors for the others.
fn merge_put(resp: &Message, keep: &[bool], shared: &Shared) -> Option<Message> {
    let mut body: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    let results = body.get("Records")?.as_array()?.clone();
    let mut upstream = results.into_iter();
    let mut merged = Vec::new();
    let mut failed = body
        .get("FailedRecordCount")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    for kept in keep {
        if *kept {
            merged.push(upstream.next()?);
        } else {
            failed += 1;
            shared.refused_records.fetch_add(1, Ordering::SeqCst);
            merged.push(serde_json::json!({
                "ErrorCode": THROTTLED,
                "ErrorMessage": "Rate exceeded for shard (injected by the test proxy)."
            }));
        }
    }
    body["Records"] = serde_json::Value::Array(merged);
    body["FailedRecordCount"] = failed.into();
    Some(with_body(resp, serde_json::to_vec(&body).ok()?))
}

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut upstream: Option<(TcpStream, BufReader<TcpStream>)> = None;
    while let Some(req) = read_message(&mut from_client)? {
        let (req, keep) = match decide(&req, shared) {
            Action::Answer(reply) => {
                to_client.write_all(&reply)?;
                continue;
            }
            Action::Forward => (req, None),
            Action::PartialPut => match split_put(&req) {
                Some((smaller, keep)) if keep.len() > 1 => (smaller, Some(keep)),
                _ => (req, None),
            },
        };
        shared.forwarded.fetch_add(1, Ordering::SeqCst);
        if upstream.is_none() {
            let s = TcpStream::connect(&shared.upstream)?;
            s.set_read_timeout(Some(Duration::from_secs(120)))?;
            upstream = Some((s.try_clone()?, BufReader::new(s)));
        }
        let Some((up_w, up_r)) = upstream.as_mut() else {
            continue;
        };
        up_w.write_all(&req.bytes())?;
        let Some(resp) = read_message(up_r)? else {
            return Ok(());
        };
        let close = resp
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let resp = match keep {
            Some(keep) if resp.head.first().is_some_and(|l| l.contains(" 200")) => {
                merge_put(&resp, &keep, shared).unwrap_or(resp)
            }
            _ => resp,
        };
        to_client.write_all(&resp.bytes())?;
        if close {
            upstream = None;
        }
    }
    Ok(())
}
