//! A scripted HTTP/1.1 server on 127.0.0.1 (hyper), for the sink to talk to
//! over TCP. It records every request and answers as its script says; it
//! stops when dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    /// A header's value as text ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, with this body.
    Status(u16, String),
    /// This status with an empty body, after a delay.
    After(Duration, u16),
    /// Never answers (holds the connection until the client gives up).
    Hold,
}

impl Reply {
    pub fn ok() -> Self {
        Reply::Status(200, String::new())
    }
}

type Script = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A running server; dropping it stops it and its connections.
pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    max_in_flight: Arc<AtomicUsize>,
    _tasks: JoinSet<()>,
}

impl Server {
    /// Starts a server answering request number `n` (0-based, in arrival
    /// order) with `script(n, &request)`.
    pub async fn start(
        script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let mut tasks = JoinSet::new();
        let state = (seen.clone(), in_flight, max_in_flight.clone());
        tasks.spawn(async move {
            // Connections live in this set: they end with the accept loop.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, in_flight, max_in_flight) = state.clone();
                let script = script.clone();
                let service = service_fn(move |req: Request<Incoming>| {
                    let (seen, in_flight, max) =
                        (seen.clone(), in_flight.clone(), max_in_flight.clone());
                    let script = script.clone();
                    async move {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        let reply = answer(req, &seen, script.as_ref()).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, Infallible>(reply)
                    }
                });
                connections.spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Server {
            addr,
            seen,
            max_in_flight,
            _tasks: tasks,
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests received so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The most requests the server was answering at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn answer(
    req: Request<Incoming>,
    seen: &Mutex<Vec<Seen>>,
    script: &Script,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let request = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        body,
    };
    let n = match seen.lock() {
        Ok(mut s) => {
            s.push(request.clone());
            s.len() - 1
        }
        Err(_) => 0,
    };
    let (status, body) = match script(n, &request) {
        Reply::Status(status, body) => (status, body),
        Reply::After(delay, status) => {
            tokio::time::sleep(delay).await;
            (status, String::new())
        }
        Reply::Hold => std::future::pending().await,
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    if let Ok(s) = hyper::StatusCode::from_u16(status) {
        *response.status_mut() = s;
    }
    response
}
