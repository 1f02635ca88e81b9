//! Requests against a server on loopback built in the test, answering with bytes written by
//! hand.

use super::*;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const LIMIT: usize = 64 * 1024;
const TIME: Duration = Duration::from_secs(5);

/// Serves one connection: reads the request (head and `Content-Length` body), writes
/// `response`, keeps the connection open for `hold`, and returns the request it read.
async fn serve_once(response: Vec<u8>, hold: Duration) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let Ok(Ok((mut s, _))) = tokio::time::timeout(TIME, listener.accept()).await else {
            return Vec::new();
        };
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !complete(&request) {
            match tokio::time::timeout(TIME, s.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
        let _ = s.write_all(&response).await;
        tokio::time::sleep(hold).await;
        request
    });
    (addr, server)
}

/// Whether `request` holds its head and as much body as its `Content-Length` says.
fn complete(request: &[u8]) -> bool {
    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    request.len() >= end + 4 + length
}

#[tokio::test]
async fn responses_with_length_chunks_or_close_are_read() {
    let cases: [(&[u8], &[u8]); 3] = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", b"abc"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            b"abcde",
        ),
        (b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it", b"all of it"),
    ];
    for (response, body) in cases {
        let (addr, _server) = serve_once(response.to_vec(), Duration::ZERO).await;
        let got = get(&format!("http://{addr}/a/b.wav?x=1"), LIMIT, TIME)
            .await
            .unwrap();
        assert_eq!(got, body);
    }
}

#[tokio::test]
async fn a_request_carries_its_method_path_content_type_and_body() {
    let (addr, server) = serve_once(
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        Duration::ZERO,
    )
    .await;
    let (status, body) = request(
        "POST",
        &format!("http://{addr}/hook?x=1"),
        "application/json",
        br#"{"a":1}"#,
        LIMIT,
        TIME,
    )
    .await
    .unwrap();
    assert_eq!((status, &body[..]), (201, &b"ok"[..]));
    let sent = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(sent.starts_with("POST /hook?x=1 HTTP/1.1\r\n"), "{sent}");
    let lower = sent.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/json\r\n"),
        "{sent}"
    );
    assert!(lower.contains("user-agent: ringmaster\r\n"), "{sent}");
    assert!(sent.ends_with("\r\n\r\n{\"a\":1}"), "{sent}");
}

#[tokio::test]
async fn errors_and_garbage_are_reported() {
    let (addr, _server) = serve_once(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        Duration::ZERO,
    )
    .await;
    assert!(matches!(
        get(&format!("http://{addr}/"), LIMIT, TIME).await,
        Err(HttpError::Status(404))
    ));
    for garbage in [
        &b"garbage\r\n\r\n"[..],
        b"SIP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let (addr, _server) = serve_once(garbage.to_vec(), Duration::ZERO).await;
        let got = get(&format!("http://{addr}/"), LIMIT, TIME).await;
        assert!(
            matches!(got, Err(HttpError::Request(_))),
            "{:?}: {got:?}",
            String::from_utf8_lossy(garbage)
        );
    }
}

#[tokio::test]
async fn urls_and_methods_we_do_not_use_are_refused() {
    for bad in [
        "ftp://host/x.wav",
        "file:///etc/passwd",
        "http://",
        "http://u@h/",
        "http://u:p@h/",
        "http://h:x/",
        "not a url",
        "",
    ] {
        assert!(
            matches!(get(bad, LIMIT, TIME).await, Err(HttpError::InvalidUrl)),
            "{bad}"
        );
    }
    assert!(parse_url("https://example.com/a.wav").is_ok());
    assert!(parse_url("http://[::1]:9000/p").is_ok());
    assert!(matches!(
        request("BAD METHOD", "http://127.0.0.1:9/", "", b"", LIMIT, TIME).await,
        Err(HttpError::InvalidMethod)
    ));
}

#[tokio::test]
async fn https_urls_are_fetched_over_tls() {
    // A plain HTTP server behind an https URL answers the client's hello with plain text:
    // the handshake fails, so TLS was spoken.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let Ok(Ok((mut s, _))) = tokio::time::timeout(TIME, listener.accept()).await else {
            return Vec::new();
        };
        let mut hello = vec![0u8; 4096];
        let n = s.read(&mut hello).await.unwrap_or(0);
        let _ = s
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        hello.truncate(n);
        hello
    });
    let got = get(&format!("https://{addr}/"), LIMIT, TIME).await;
    assert!(matches!(got, Err(HttpError::Request(_))), "{got:?}");
    let hello = server.await.unwrap();
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
}

#[tokio::test]
async fn errors_do_not_show_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = get(&format!("http://{addr}/p.wav?token=secret"), LIMIT, TIME)
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Request(_)), "{err:?}");
    assert!(err.to_string().contains("refused"), "says why: {err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(!format!("{err:?}").contains("secret"), "{err:?}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_an_error_as_soon_as_it_passes_the_limit() {
    // Announced too large: refused before any of the body is read.
    let (addr, _server) = serve_once(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 4 * LIMIT).into_bytes(),
        Duration::from_secs(10),
    )
    .await;
    let started = Instant::now();
    let got = get(&format!("http://{addr}/"), LIMIT, TIME).await;
    assert!(matches!(got, Err(HttpError::TooLarge(LIMIT))), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // No length, and the server sends more than the limit then never finishes: the client
    // stops at the limit rather than waiting for the end to measure the whole.
    let mut streamed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    streamed.extend(std::iter::repeat_n(b'x', 4 * LIMIT));
    let (addr, _server) = serve_once(streamed, Duration::from_secs(10)).await;
    let started = Instant::now();
    let got = get(&format!("http://{addr}/"), LIMIT, TIME).await;
    assert!(matches!(got, Err(HttpError::TooLarge(LIMIT))), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Exactly the limit is fine.
    let mut exact = format!("HTTP/1.1 200 OK\r\nContent-Length: {LIMIT}\r\n\r\n").into_bytes();
    exact.extend(std::iter::repeat_n(b'y', LIMIT));
    let (addr, _server) = serve_once(exact, Duration::ZERO).await;
    assert_eq!(
        get(&format!("http://{addr}/"), LIMIT, TIME)
            .await
            .unwrap()
            .len(),
        LIMIT
    );
}

#[tokio::test]
async fn a_server_that_stalls_times_out() {
    let limit = Duration::from_millis(300);
    // No response at all.
    let (addr, _server) = serve_once(Vec::new(), Duration::from_secs(10)).await;
    let started = Instant::now();
    let got = get(&format!("http://{addr}/"), LIMIT, limit).await;
    assert!(matches!(got, Err(HttpError::Timeout)), "{got:?}");
    let took = started.elapsed();
    assert!(took >= limit && took < Duration::from_secs(2), "{took:?}");

    // Headers, then part of the body, then nothing: the limit covers the body too.
    let (addr, _server) = serve_once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf".to_vec(),
        Duration::from_secs(10),
    )
    .await;
    let started = Instant::now();
    let got = get(&format!("http://{addr}/"), LIMIT, limit).await;
    assert!(matches!(got, Err(HttpError::Timeout)), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
