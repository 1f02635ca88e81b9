//! Outplans: defaults, validation errors that name the field, paging, update and delete.

use crate::helpers::{id_of, spawn_app};
use ringmaster::domain::time::NEVER;
use serde_json::json;

#[tokio::test]
async fn an_outplan_takes_voipbin_defaults() {
    let app = spawn_app().await;
    let plan = app
        .a()
        .post(
            "/outplans",
            &json!({"name": "plan", "source": {"type": "tel", "target": "(555) 555-0100"}}),
        )
        .await
        .ok();
    assert_eq!(plan["customer_id"], json!(app.customer_a));
    assert_eq!(plan["source"]["target"], "+15555550100");
    assert_eq!(
        (plan["dial_timeout"].as_u64(), plan["try_interval"].as_u64()),
        (Some(30000), Some(60000))
    );
    assert_eq!(plan["max_try_count_0"], 1);
    assert_eq!(plan["max_try_count_4"], 0);
    assert_eq!(
        plan["retry_dispositions"],
        json!(["busy", "no_answer", "failed", "unknown"])
    );
    assert_eq!(plan["backoff"], 1.0);
    assert_eq!(plan["tm_delete"], NEVER);
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let app = spawn_app().await;
    let a = app.a();
    let cases = [
        (json!({"dial_timeout": 10}), "dial_timeout: "),
        (json!({"dial_timeout": "30s"}), "dial_timeout: "),
        (json!({"max_try_count_0": 0}), "max_try_count_0: "),
        (json!({"max_try_count_2": 500}), "max_try_count_2: "),
        (json!({"backoff": 20}), "backoff: "),
        (
            json!({"retry_dispositions": ["answered"]}),
            "retry_dispositions: answered is not retryable",
        ),
        (
            json!({"retry_dispositions": ["later"]}),
            "retry_dispositions: unknown variant `later`",
        ),
        (
            json!({"source": {"type": "tel", "target": "12345"}}),
            "source.target: ",
        ),
        (json!({"name": 5}), "name: must be a string"),
        (json!([1, 2]), "body: must be a JSON object"),
    ];
    for (body, field) in cases {
        a.post("/outplans", &body).await.invalid(field);
    }
    let broken = a
        .post_raw("/outplans", "application/json", "{\"name\": ")
        .await;
    broken.invalid("body: EOF while parsing");
    let not_json = a.post_raw("/outplans", "text/plain", "name=x").await;
    not_json.invalid("Content-Type: expected application/json");
    for size in ["0", "101", "abc"] {
        a.get(&format!("/outplans?page_size={size}"))
            .await
            .invalid("page_size: ");
    }
}

#[tokio::test]
async fn pages_of_two_walk_five_items_newest_first() {
    let app = spawn_app().await;
    let a = app.a();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(a.outplan().await);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut sizes = Vec::new();
    loop {
        let page = a
            .get(&format!("/outplans?page_size=2&page_token={token}"))
            .await
            .ok();
        let items = page["result"].as_array().cloned().unwrap_or_default();
        sizes.push(items.len());
        seen.extend(
            items
                .iter()
                .map(|p| p["id"].as_str().unwrap_or_default().to_string()),
        );
        token = page["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    created.reverse();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn an_update_changes_only_the_fields_given_and_delete_is_soft() {
    let app = spawn_app().await;
    let a = app.a();
    let id = id_of(
        a.post("/outplans", &json!({"name": "plan", "max_try_count_0": 3}))
            .await,
    );
    let updated = a
        .put(&format!("/outplans/{id}"), &json!({"dial_timeout": 45000}))
        .await
        .ok();
    assert_eq!(
        (
            updated["dial_timeout"].as_u64(),
            updated["max_try_count_0"].as_u64()
        ),
        (Some(45000), Some(3))
    );
    assert_ne!(updated["tm_update"], NEVER);
    a.put(&format!("/outplans/{id}"), &json!({"try_interval": -5}))
        .await
        .invalid("try_interval: ");

    let deleted = a.delete(&format!("/outplans/{id}")).await.ok();
    assert_ne!(deleted["tm_delete"], NEVER);
    assert_eq!(a.get(&format!("/outplans/{id}")).await.status, 404);
    assert_eq!(a.get("/outplans").await.ok()["result"], json!([]));
}

#[tokio::test]
async fn an_outplan_or_outdial_of_a_running_campaign_cannot_be_deleted() {
    let app = spawn_app().await;
    let a = app.a();
    let campaign = a.runnable_campaign().await;
    let id = campaign["id"].as_str().unwrap_or_default();
    a.put(
        &format!("/campaigns/{id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .ok();
    for (kind, field) in [("outplans", "outplan_id"), ("outdials", "outdial_id")] {
        let gone = a
            .delete(&format!(
                "/{kind}/{}",
                campaign[field].as_str().unwrap_or_default()
            ))
            .await;
        assert_eq!(gone.status, 409, "{kind}: {}", gone.body);
    }
}
