//! HTTP requests out of ringmaster (prompts given as `http://` or `https://` URLs, flow
//! webhooks) with `reqwest` over rustls: one request per connection, no redirects, no proxy,
//! bounded in time and in response size. The body is read as it arrives and the request
//! given up as soon as it passes the limit, never buffered whole first.

use reqwest::{redirect, Client, Method, Url};
use std::sync::OnceLock;
use std::time::Duration;

/// Connecting (TCP and TLS) gets at most this long, within the request's own time limit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request failed (the Display is short enough for a call's record and never shows the
/// URL, whose query may carry credentials).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Not an `http://` or `https://` URL with a host and no user name.
    #[error("invalid http URL")]
    InvalidUrl,
    /// Not an HTTP method name.
    #[error("invalid http method")]
    InvalidMethod,
    /// Connecting, TLS, sending or reading failed, or the response was not valid HTTP.
    #[error("http: {}", with_cause(.0))]
    Request(#[source] reqwest::Error),
    /// The whole exchange took longer than the time limit.
    #[error("http: timed out")]
    Timeout,
    /// The response body is larger than the limit.
    #[error("http: response over {0} bytes")]
    TooLarge(usize),
    /// A status other than 200 (for [`get`]).
    #[error("http: status {0}")]
    Status(u16),
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Request(e.without_url())
        }
    }
}

/// `e` and its deepest cause ("error sending request: Connection refused (os error 111)"):
/// reqwest's own message alone rarely says what went wrong.
fn with_cause(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(next) = root.source() {
        root = next;
    }
    if std::ptr::addr_eq(root, e as &dyn std::error::Error) {
        e.to_string()
    } else {
        format!("{e}: {root}")
    }
}

/// The process's client: built once, with no connection kept between requests (actors run
/// on several runtimes, and a pooled connection belongs to the runtime that opened it).
fn client() -> Result<&'static Client, HttpError> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let built = Client::builder()
        .user_agent("ringmaster")
        .redirect(redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()?;
    Ok(CLIENT.get_or_init(|| built))
}

/// `url` if it is one we fetch: `http` or `https`, a host, no credentials in it.
fn parse_url(url: &str) -> Result<Url, HttpError> {
    let parsed = Url::parse(url).map_err(|_| HttpError::InvalidUrl)?;
    let fetchable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if fetchable {
        Ok(parsed)
    } else {
        Err(HttpError::InvalidUrl)
    }
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
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| HttpError::InvalidMethod)?;
    let mut builder = client()?.request(method, url).timeout(timeout);
    if !body.is_empty() {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_vec());
    }
    let exchange = async {
        let mut response = builder.send().await?;
        let status = response.status().as_u16();
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(HttpError::TooLarge(limit));
        }
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if out.len() + chunk.len() > limit {
                // Dropping the response closes the connection: the rest is never read.
                return Err(HttpError::TooLarge(limit));
            }
            out.extend_from_slice(&chunk);
        }
        Ok((status, out))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HttpError::Timeout)?
}

#[cfg(test)]
#[path = "http_get_tests.rs"]
mod tests;
