//! Bounds: bodies (413), strings and target `data` (400 naming the field), imports at once
//! (503), and list pages in bytes.

use crate::helpers::{spawn_app, TestApp, TOKEN_A};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends a request's head over a raw connection, announcing `length` body bytes and sending
/// `body` of them; the connection is returned open.
fn send_head(
    app: &TestApp,
    path: &str,
    content_type: &str,
    length: usize,
    body: &[u8],
) -> TcpStream {
    let address = app.origin.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /v1.0{path}?token={TOKEN_A} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(body).expect("body");
    stream
}

/// Reads an answer's status line and JSON body from a raw connection.
fn read_answer(mut stream: TcpStream) -> (u16, Value) {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
        }
        let s = String::from_utf8_lossy(&text);
        if let Some((_, body)) = s.split_once("\r\n\r\n") {
            if serde_json::from_str::<Value>(body.trim()).is_ok() {
                break;
            }
        }
    }
    let s = String::from_utf8_lossy(&text).to_string();
    let status = s
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = s
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b.trim()).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn a_15_mb_target_data_is_refused_naming_data() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let huge = json!({"destination_0": "+15551234567", "data": {"blob": "x".repeat(15_000_000)}});
    let refused = a.post(&format!("/outdials/{outdial}/targets"), &huge).await;
    refused.invalid("data: larger than 16384 bytes serialised");
    let as_string = json!({"destination_0": "+15551234567", "data": "y".repeat(20_000)});
    a.post(&format!("/outdials/{outdial}/targets"), &as_string)
        .await
        .invalid("data: larger than 16384 bytes serialised");
    let listed = a.get(&format!("/outdials/{outdial}/targets")).await.ok();
    assert_eq!(listed["result"], json!([]));
    a.post(
        "/outdials",
        &json!({"name": "o", "data": "z".repeat(17_000)}),
    )
    .await
    .invalid("data: longer than 16384 bytes");
}

#[tokio::test]
async fn long_strings_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let a = app.a();
    a.post("/outplans", &json!({"name": "n".repeat(1025)}))
        .await
        .invalid("name: longer than 1024 bytes");
    a.post("/outplans", &json!({"name": "n".repeat(1024)}))
        .await
        .ok();
    a.post(
        "/flows",
        &json!({"actions": [{"type": "talk", "option": {"text": "t".repeat(4097)}}]}),
    )
    .await
    .invalid("actions[0].option.text: longer than 4096 bytes");
    let outdial = a.outdial().await;
    let report = a
        .post_raw(
            &format!("/outdials/{outdial}/targets"),
            "text/csv",
            &format!(
                "phone_number,name\n+15551234567,{}\n+15559876543,ok\n",
                "n".repeat(2000)
            ),
        )
        .await
        .ok();
    assert_eq!(report["created"], 1);
    assert!(
        report["skipped_invalid"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("name: longer than 1024 bytes"),
        "{report}"
    );
}

#[tokio::test]
async fn bodies_over_the_limits_are_413_with_a_json_message() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let (status, body) = read_answer(send_head(
        &app,
        "/campaigns",
        "application/json",
        2 * 1024 * 1024,
        b"{",
    ));
    assert_eq!(status, 413, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("body: larger than"));
    let (status, body) = read_answer(send_head(
        &app,
        &format!("/outdials/{outdial}/targets"),
        "text/csv",
        2 * 1024 * 1024 * 1024,
        b"phone_number\n",
    ));
    assert_eq!(status, 413, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("body: larger than"));
}

#[tokio::test]
async fn imports_beyond_the_bound_wait_their_turn_with_a_503() {
    let app = spawn_app().await; // one import at a time
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    // An import whose body is still arriving holds the slot.
    let slow = send_head(&app, &path, "text/csv", 1000, b"phone_number\n");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = a
        .post(&path, &json!({"destination_0": "+15551234567"}))
        .await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert!(
        busy.message().contains("too many imports at once"),
        "{}",
        busy.body
    );
    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = a
            .post(&path, &json!({"destination_0": "+15551234567"}))
            .await;
        if again.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slot was never freed: {}",
            again.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_page_stops_early_past_its_byte_bound_and_the_token_carries_on() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    // 100 targets of about 15 KiB each: 1.5 MB, more than one 1 MiB page.
    let rows: Vec<Value> = (0..100)
        .map(|i| {
            json!({"destination_0": format!("+1555123{i:04}"),
                   "data": {"notes": "n".repeat(15_000)}})
        })
        .collect();
    let report = a
        .post(&format!("/outdials/{outdial}/targets"), &json!(rows))
        .await
        .ok();
    assert_eq!(report["created"], 100, "{report}");
    let mut seen = HashSet::new();
    let mut token = String::new();
    let mut pages = Vec::new();
    for _ in 0..10 {
        let page = a
            .get(&format!(
                "/outdials/{outdial}/targets?page_size=100&page_token={token}"
            ))
            .await
            .ok();
        let items = page["result"].as_array().cloned().unwrap_or_default();
        pages.push(items.len());
        for t in &items {
            assert!(
                seen.insert(t["id"].to_string()),
                "listed twice: {}",
                t["id"]
            );
        }
        token = page["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 100, "pages {pages:?}");
    assert!(pages[0] < 100 && pages[0] > 50, "pages {pages:?}");
}
