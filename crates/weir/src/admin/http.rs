//! weir's own HTTP/1.1 server for the admin API and the metrics: one
//! request per connection, bounded in size and time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::{Admin, Request, Response};

/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;
/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the admin server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// A non-loopback address without a token.
    #[error(
        "the admin API on {0} would be reachable from other hosts: set a token (WEIR_ADMIN_TOKEN), or listen on 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
}

/// Binds `addr` and serves `admin` on the current tokio runtime until the
/// process ends; returns the address bound (useful with port 0).
pub async fn serve(addr: SocketAddr, admin: Arc<Admin>) -> Result<SocketAddr, AdminError> {
    if !addr.ip().is_loopback() && !admin.has_token() {
        return Err(AdminError::TokenRequired(addr));
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| AdminError::Bind { addr, error })?;
    let bound = listener
        .local_addr()
        .map_err(|error| AdminError::Bind { addr, error })?;
    tracing::info!(
        "dashboard at http://{bound}/, metrics at http://{bound}/metrics, admin API at http://{bound}/api/pipelines"
    );
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let admin = admin.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection(stream, admin).await {
                            tracing::debug!("admin request: {e}");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("admin listener: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(bound)
}

async fn connection(mut stream: TcpStream, admin: Arc<Admin>) -> std::io::Result<()> {
    let response = match tokio::time::timeout(READ_TIMEOUT, read(&mut stream)).await {
        Ok(Ok(Ok(request))) => tokio::task::spawn_blocking(move || admin.handle(&request))
            .await
            .unwrap_or_else(|e| plain(500, &format!("the request failed: {e}"))),
        Ok(Ok(Err(bad))) => bad,
        Ok(Err(e)) => return Err(e),
        Err(_) => plain(408, "request timed out"),
    };
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    if response.status == 401 {
        head.push_str("www-authenticate: Bearer\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(response.body.as_bytes()).await?;
    stream.shutdown().await
}

fn plain(status: u16, message: &str) -> Response {
    Response {
        status,
        content_type: "application/json",
        body: format!("{}\n", serde_json::json!({ "error": message })),
    }
}

/// Reads one request: its head, then `content-length` bytes of body.
async fn read(stream: &mut TcpStream) -> std::io::Result<Result<Request, Response>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(Err(plain(413, "request head too large")));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Err(plain(400, "incomplete request")));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        ..Request::default()
    };
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse() {
                Ok(n) if n <= MAX_BODY => length = n,
                _ => return Ok(Err(plain(413, "request body too large"))),
            }
        } else if name.eq_ignore_ascii_case("authorization") {
            request.authorization = Some(value.to_string());
        }
    }
    let mut body = buf.get(end + 4..).unwrap_or_default().to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(length);
    request.body = body;
    Ok(Ok(request))
}
