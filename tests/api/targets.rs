//! Targets: one VoIPBIN object, bulk JSON, CSV imports with their report.

use crate::helpers::{spawn_app, TestApp};
use ringmaster::domain::time::NEVER;
use serde_json::{json, Value};

const SEED_CSV: &str = "phone_number,name,email,company,deal_stage,notes
+15551234567,John Doe,john@example.com,Acme Corp,proposal,VIP customer
5559876543,Jane Smith,jane@example.com,Beta Inc,discovery,Follow up on quote
(555) 555-0100,Bob Wilson,,Gamma LLC,lead,New lead from website
";

async fn targets_of(app: &TestApp, outdial: &str) -> Vec<Value> {
    let page = app
        .a()
        .get(&format!("/outdials/{outdial}/targets?page_size=100"))
        .await
        .ok();
    page["result"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn one_voipbin_target_is_created_in_voipbin_shape() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let target = a
        .post(
            &path,
            &json!({
                "name": "Jane",
                "detail": "VIP",
                "data": "call after 5",
                "destination_0": {"type": "tel", "target": "5559876543"},
                "destination_1": {"type": "tel", "target": "+1 555 123 4567"}
            }),
        )
        .await
        .ok();
    assert_eq!(target["outdial_id"], json!(outdial));
    assert_eq!(
        (target["status"].as_str(), target["result"].as_str()),
        (Some("idle"), Some(""))
    );
    assert_eq!(target["destination_0"]["target"], "+15559876543");
    assert_eq!(target["destination_1"]["target"], "+15551234567");
    assert_eq!(target["destination_2"], Value::Null);
    assert_eq!(
        (
            target["try_count_0"].as_u64(),
            target["try_count_4"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(target["data"], json!({"data": "call after 5"}));
    assert_eq!(target["tm_delete"], NEVER);

    let id = target["id"].as_str().unwrap_or_default();
    assert_eq!(a.get(&format!("{path}/{id}")).await.ok()["name"], "Jane");

    let again = a
        .post(
            &path,
            &json!({"destination_0": {"type": "tel", "target": "+15559876543"}}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.message().starts_with("destination_0: +15559876543"),
        "{}",
        again.body
    );
    a.post(
        &path,
        &json!({"destination_0": {"type": "tel", "target": "12345"}}),
    )
    .await
    .invalid("destination_0.target: \"12345\"");
    a.post(&path, &json!({"name": "nobody"}))
        .await
        .invalid("destination_0: required");

    let deleted = a.delete(&format!("{path}/{id}")).await.ok();
    assert_ne!(deleted["tm_delete"], NEVER);
    assert_eq!(a.get(&format!("{path}/{id}")).await.status, 404);
}

#[tokio::test]
async fn the_seed_csv_imports_all_three_with_extra_columns_in_data() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let report = app
        .a()
        .post_raw(
            &format!("/outdials/{outdial}/targets"),
            "text/csv",
            SEED_CSV,
        )
        .await
        .ok();
    assert_eq!(
        report,
        json!({"created": 3, "skipped_invalid": [], "skipped_invalid_total": 0,
               "skipped_duplicate": [], "skipped_duplicate_total": 0})
    );
    let targets = targets_of(&app, &outdial).await;
    let mut numbers: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["destination_0"]["target"].as_str())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, ["+15551234567", "+15555550100", "+15559876543"]);
    let bob = targets
        .iter()
        .find(|t| t["name"] == "Bob Wilson")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        bob["data"],
        json!({"email": "", "company": "Gamma LLC", "deal_stage": "lead", "notes": "New lead from website"})
    );
}

#[tokio::test]
async fn a_csv_import_reports_bad_rows_and_duplicates() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    a.post(&path, &json!({"destination_0": "+15551234567"}))
        .await
        .ok();
    let csv = "destination,destination_1,name,appointment_date
(555) 555-0100,,Ann,2026-03-15
12345,,Bad,2026-03-16
555-555-0100,,Ann again,2026-03-17
+15551234567,,Already there,2026-03-18
,,Nobody,2026-03-19
5559876543,not a number,Bad second,2026-03-20
";
    let report = a.post_raw(&path, "text/csv; charset=utf-8", csv).await.ok();
    assert_eq!(report["created"], 1);
    assert_eq!(
        report["skipped_duplicate"],
        json!(["+15555550100", "+15551234567"])
    );
    let invalid = report["skipped_invalid"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<(u64, &str)> = invalid
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap_or_default(),
                r["value"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(rows, [(3, "12345"), (6, ""), (7, "5559876543")]);
    assert_eq!(
        invalid[0]["reason"],
        "destination: \"12345\" has an impossible length for its country"
    );
    assert_eq!(invalid[1]["reason"], "destination: required");
    assert!(invalid[2]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("destination_1: ")));

    let ann = targets_of(&app, &outdial)
        .await
        .into_iter()
        .find(|t| t["name"] == "Ann")
        .unwrap_or_default();
    assert_eq!(ann["data"], json!({"appointment_date": "2026-03-15"}));

    a.post_raw(&path, "text/csv", "name,email\nA,a@example.com\n")
        .await
        .invalid("destination: ");
    a.post_raw(&path, "application/x-www-form-urlencoded", "x=1")
        .await
        .invalid("Content-Type: ");
}

#[tokio::test]
async fn bulk_json_reports_invalid_and_duplicate_rows() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let report = app
        .a()
        .post(&format!("/outdials/{outdial}/targets"), &json!([
            {"name": "one", "destination_0": {"type": "tel", "target": "+15551234567"}, "data": {"tier": "gold"}},
            {"name": "bad", "destination_0": {"type": "tel", "target": "call me"}},
            {"name": "same", "destination_0": {"type": "tel", "target": "(555) 123-4567"}},
            {"name": "sip", "destination_0": {"type": "sip", "target": "sip:bob@127.0.0.1"}}
        ]))
        .await
        .ok();
    assert_eq!(report["created"], 2);
    assert_eq!(report["skipped_duplicate"], json!(["+15551234567"]));
    assert_eq!(report["skipped_invalid"][0]["row"], 1);
    assert_eq!(report["skipped_invalid"][0]["value"], "call me");
    let one = targets_of(&app, &outdial)
        .await
        .into_iter()
        .find(|t| t["name"] == "one")
        .unwrap_or_default();
    assert_eq!(one["data"], json!({"tier": "gold"}));
}

#[tokio::test]
async fn bulk_json_over_ten_thousand_targets_is_refused_whole() {
    let app = spawn_app().await;
    let outdial = app.a().outdial().await;
    let rows: Vec<Value> = (0..10_001)
        .map(|i| json!({"destination_0": {"type": "tel", "target": format!("+1555{:07}", i)}}))
        .collect();
    let refused = app
        .a()
        .post(&format!("/outdials/{outdial}/targets"), &Value::Array(rows))
        .await;
    refused.invalid("targets: at most 10000 per request, got 10001");
    assert!(targets_of(&app, &outdial).await.is_empty());
}

#[tokio::test]
async fn a_page_of_targets_is_the_owners_and_only_of_a_live_outdial() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let empty = a.get(&path).await.ok();
    assert_eq!(empty["result"], json!([]), "an outdial with no target");
    a.post(
        &path,
        &json!({"destination_0": {"type": "tel", "target": "+15559876543"}}),
    )
    .await
    .ok();
    assert_eq!(targets_of(&app, &outdial).await.len(), 1);
    assert_eq!(app.b().get(&path).await.status, 404, "another customer's");
    let unknown = format!("/outdials/{}/targets", uuid::Uuid::new_v4());
    assert_eq!(a.get(&unknown).await.status, 404, "no such outdial");
    a.delete(&format!("/outdials/{outdial}")).await.ok();
    assert_eq!(a.get(&path).await.status, 404, "a deleted outdial");
}
