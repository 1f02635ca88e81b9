//! A minimal HTTP/1.1 GET over a plain TCP stream, for prompts given as `http://` URLs.
//! No TLS, no redirects, no keep-alive: one request, read to the end, bounded in size and time.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a download failed (the Display is short enough for a call's record).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Not an `http://host[:port]/path` URL.
    #[error("invalid http URL")]
    InvalidUrl,
    /// Connecting, sending or reading failed.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
    /// The server took longer than the time limit.
    #[error("http: timed out")]
    Timeout,
    /// The response is larger than the limit.
    #[error("http: response over {0} bytes")]
    TooLarge(usize),
    /// The response is not valid HTTP/1.x.
    #[error("http: malformed response")]
    Malformed,
    /// A status other than 200.
    #[error("http: status {0}")]
    Status(u16),
}

/// The parts of an `http://` URL a GET needs.
#[derive(Debug, PartialEq, Eq)]
struct Url<'a> {
    host: &'a str,
    port: u16,
    path: &'a str,
}

fn parse_url(url: &str) -> Result<Url<'_>, HttpError> {
    let rest = url.strip_prefix("http://").ok_or(HttpError::InvalidUrl)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') || path.contains(['\r', '\n', ' ']) {
        return Err(HttpError::InvalidUrl);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or(HttpError::InvalidUrl)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| HttpError::InvalidUrl)?,
            None if after.is_empty() => 80,
            None => return Err(HttpError::InvalidUrl),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| HttpError::InvalidUrl)?),
            None => (authority, 80),
        }
    };
    if host.is_empty() {
        return Err(HttpError::InvalidUrl);
    }
    Ok(Url { host, port, path })
}

/// Fetches `url`'s body (status 200 only), at most `limit` bytes, within `timeout`.
pub async fn get(url: &str, limit: usize, timeout: Duration) -> Result<Vec<u8>, HttpError> {
    match request("GET", url, "", b"", limit, timeout).await? {
        (200, body) => Ok(body),
        (status, _) => Err(HttpError::Status(status)),
    }
}

/// Sends one request (`body` with `content_type` when not empty) and returns the status and
/// the body, at most `limit` bytes, within `timeout`. Used by webhooks as well as prompts.
pub async fn request(
    method: &str,
    url: &str,
    content_type: &str,
    body: &[u8],
    limit: usize,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), HttpError> {
    let url = parse_url(url)?;
    tokio::time::timeout(timeout, fetch(method, &url, content_type, body, limit))
        .await
        .map_err(|_| HttpError::Timeout)?
}

async fn fetch(
    method: &str,
    url: &Url<'_>,
    content_type: &str,
    payload: &[u8],
    limit: usize,
) -> Result<(u16, Vec<u8>), HttpError> {
    let mut stream = TcpStream::connect((url.host, url.port)).await?;
    let host_header = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let content = if payload.is_empty() {
        String::new()
    } else {
        format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            payload.len()
        )
    };
    let request = format!(
        "{method} {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: ringmaster\r\nAccept: */*\r\n{content}Connection: close\r\n\r\n",
        url.path
    );
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(payload).await?;
    let mut response = Vec::new();
    // Headers are allowed on top of the body limit.
    let cap = limit.saturating_add(16 * 1024);
    (&mut stream)
        .take(cap as u64 + 1)
        .read_to_end(&mut response)
        .await?;
    if response.len() > cap {
        return Err(HttpError::TooLarge(limit));
    }
    let (status, body) = parse_response(&response)?;
    if body.len() > limit {
        return Err(HttpError::TooLarge(limit));
    }
    Ok((status, body))
}

/// Splits a whole HTTP/1.x response into its status and body.
fn parse_response(response: &[u8]) -> Result<(u16, Vec<u8>), HttpError> {
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(HttpError::Malformed)?;
    let head = std::str::from_utf8(&response[..head_end]).map_err(|_| HttpError::Malformed)?;
    let body = &response[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or(HttpError::Malformed)?;
    let mut parts = status_line.split(' ');
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(HttpError::Malformed);
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Malformed)?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HttpError::Malformed)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| HttpError::Malformed)?);
        }
    }
    if chunked {
        return Ok((status, dechunk(body)?));
    }
    match length {
        Some(n) if n > body.len() => Err(HttpError::Malformed),
        Some(n) => Ok((status, body[..n].to_vec())),
        None => Ok((status, body.to_vec())),
    }
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(HttpError::Malformed)?;
        let size_text = std::str::from_utf8(&body[..line_end]).map_err(|_| HttpError::Malformed)?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| HttpError::Malformed)?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = body.get(..size).ok_or(HttpError::Malformed)?;
        out.extend_from_slice(chunk);
        body = body.get(size + 2..).ok_or(HttpError::Malformed)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_into_host_port_and_path() {
        assert_eq!(
            parse_url("http://example.com/a/b.wav?x=1").unwrap(),
            Url {
                host: "example.com",
                port: 80,
                path: "/a/b.wav?x=1"
            }
        );
        assert_eq!(
            parse_url("http://127.0.0.1:8081").unwrap(),
            Url {
                host: "127.0.0.1",
                port: 8081,
                path: "/"
            }
        );
        assert_eq!(
            parse_url("http://[::1]:9000/p").unwrap(),
            Url {
                host: "::1",
                port: 9000,
                path: "/p"
            }
        );
        for bad in [
            "https://x/",
            "http://",
            "http://:80/",
            "http://u@h/",
            "http://h:x/",
            "http://h/a b",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses_with_length_chunks_or_close_are_read() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_response(r).unwrap(), (200, b"abc".to_vec()));
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(r).unwrap(), (200, b"abcde".to_vec()));
        let r = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it";
        assert_eq!(parse_response(r).unwrap(), (200, b"all of it".to_vec()));
    }

    #[test]
    fn errors_and_garbage_are_reported() {
        assert_eq!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap(),
            (404, Vec::new())
        );
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"SIP/2.0 200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab")
                .is_err()
        );
    }
}
