//! Streamed CSV imports: raw `text/csv` and `multipart/form-data` (as `curl -F` sends it), far
//! past the JSON import's 10,000 rows, with a capped report.

use crate::helpers::{answer, spawn_app, TestApp, TOKEN_A};
use serde_json::Value;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// A CSV of `n` distinct valid US numbers, with a name column.
fn numbers_csv(n: usize) -> String {
    let mut csv = String::from("phone_number,name\n");
    for i in 0..n {
        let _ = writeln!(csv, "+1212{:07},person {i}", i);
    }
    csv
}

/// The outdial's targets by where they stand, as the store counts them.
async fn queued(app: &TestApp, outdial: &str) -> u64 {
    let id = outdial.parse().expect("an outdial id");
    ringmaster::store::Store::count_targets(app.store.as_ref(), id, i64::MAX)
        .await
        .expect("counted")
        .queued
}

fn multipart(boundary: &str, parts: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, content) in parts {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.csv\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n"
        );
    }
    let _ = write!(body, "--{boundary}--\r\n");
    body
}

#[tokio::test]
async fn a_csv_of_25_000_rows_imports_in_one_request() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let mut csv = numbers_csv(25_000);
    csv.push_str("12345,bad\n+12120000007,again\n");
    let report = app.a().post_raw(&path, "text/csv", &csv).await.ok();
    assert_eq!(report["created"], 25_000, "{}", report["skipped_invalid"]);
    assert_eq!(report["skipped_invalid_total"], 1);
    assert_eq!(report["skipped_invalid"][0]["row"], 25_002);
    assert_eq!(
        report["skipped_duplicate"],
        serde_json::json!(["+12120000007"])
    );
    assert_eq!(report["skipped_duplicate_total"], 1);
    assert_eq!(queued(&app, &outdial).await, 25_000);
}

#[tokio::test]
async fn the_report_lists_the_first_thousand_refused_rows_and_counts_all() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let mut csv = String::from("phone_number\n");
    for _ in 0..1_500 {
        csv.push_str("12345\n");
    }
    csv.push_str("+12125550100\n");
    let report = app
        .a()
        .post_raw(&format!("/outdials/{outdial}/targets"), "text/csv", &csv)
        .await
        .ok();
    assert_eq!(report["created"], 1);
    assert_eq!(report["skipped_invalid_total"], 1_500);
    let listed = report["skipped_invalid"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, 1_000);
    assert_eq!(report["skipped_invalid"][999]["row"], 1_001);
}

#[tokio::test]
async fn curl_form_upload_imports_the_file_part() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("contacts.csv");
    std::fs::write(&file, numbers_csv(12_000)).expect("file written");
    let url = format!(
        "{}?token={TOKEN_A}",
        app.url(&format!("/outdials/{outdial}/targets"))
    );
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "60", "-F", "note=first import", "-F"])
        .arg(format!("file=@{}", file.display()))
        .arg(&url)
        .output()
        .await
        .expect("curl runs");
    assert!(output.status.success(), "{:?}", output);
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["created"], 12_000, "{report}");
    assert_eq!(report["skipped_invalid_total"], 0);
    assert_eq!(queued(&app, &outdial).await, 12_000);
}

#[tokio::test]
async fn multipart_without_a_file_part_or_malformed_is_a_400_naming_it() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let url = format!(
        "{}?token={TOKEN_A}",
        app.url(&format!("/outdials/{outdial}/targets"))
    );
    let post = |content_type: String, body: String| {
        app.client
            .post(&url)
            .header("Content-Type", content_type)
            .body(body)
    };
    let no_file = answer(post(
        "multipart/form-data; boundary=XyZ".into(),
        multipart("XyZ", &[("contacts", "phone_number\n+12125550100\n")]),
    ))
    .await;
    no_file.invalid("file: the multipart/form-data body has no part named file");

    let no_boundary = answer(post(
        "multipart/form-data".into(),
        multipart("XyZ", &[("file", "phone_number\n+12125550100\n")]),
    ))
    .await;
    no_boundary.invalid("body: malformed multipart/form-data");

    let cut = multipart("XyZ", &[("file", "phone_number\n+12125550100\n")]);
    let cut = cut[..cut.len() - 12].to_string();
    let truncated = answer(post("multipart/form-data; boundary=XyZ".into(), cut)).await;
    truncated.invalid("body: malformed multipart/form-data");

    let fine = answer(post(
        "multipart/form-data; boundary=XyZ".into(),
        multipart(
            "XyZ",
            &[("file", "phone_number\n+12125550100\n5551234567\n")],
        ),
    ))
    .await
    .ok();
    assert_eq!(fine["created"], 2);
    let header_only = answer(post(
        "multipart/form-data; boundary=XyZ".into(),
        multipart("XyZ", &[("file", "name\nAnn\n")]),
    ))
    .await;
    header_only.invalid("destination: the CSV header needs");
}

#[tokio::test]
async fn a_csv_arriving_slowly_is_stored_as_it_arrives() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let url = format!(
        "{}?token={TOKEN_A}",
        app.url(&format!("/outdials/{outdial}/targets"))
    );
    // 6,000 rows now (more than one batch), the rest only after the first rows are stored.
    let first = numbers_csv(6_000);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(2);
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let request = app
        .client
        .post(&url)
        .header("Content-Type", "text/csv")
        .body(body)
        .send();
    let sent = tokio::spawn(request);
    tx.send(Ok(first)).await.expect("sent");
    let deadline = Instant::now() + Duration::from_secs(20);
    while queued(&app, &outdial).await < 5_000 {
        assert!(
            Instant::now() < deadline,
            "no batch stored while the body arrives"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tx.send(Ok("+13125550100,last\n".into()))
        .await
        .expect("sent");
    drop(tx);
    let response = sent.await.expect("joined").expect("answered");
    let report: Value = response.json().await.expect("JSON");
    assert_eq!(report["created"], 6_001, "{report}");
}
