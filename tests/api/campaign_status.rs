//! Starting and stopping: both request forms, what the engine is told, what cannot be asked.

use crate::helpers::spawn_app;
use ringmaster::domain::CampaignStatus;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn run_and_stop_through_the_status_sub_resource() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.runnable_campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    let uuid = Uuid::parse_str(id).unwrap_or_default();
    let path = format!("/campaigns/{id}/status");

    let running = a.put(&path, &json!({"status": "run"})).await.ok();
    assert_eq!(running["status"], "run");
    assert_eq!(
        a.put(&path, &json!({"status": "run"})).await.ok()["status"],
        "run"
    );
    let stopping = a.put(&path, &json!({"status": "stop"})).await.ok();
    assert_eq!(stopping["status"], "stopping");
    assert_eq!(
        a.get(&format!("/campaigns/{id}")).await.ok()["status"],
        "stopping"
    );
    assert_eq!(
        a.put(&path, &json!({"status": "stop"})).await.ok()["status"],
        "stopping"
    );
    let again = a.put(&path, &json!({"status": "run"})).await;
    assert_eq!(again.status, 409, "{}", again.body);

    assert_eq!(
        app.control.told(),
        [
            (uuid, CampaignStatus::Run),
            (uuid, CampaignStatus::Stopping)
        ]
    );
}

#[tokio::test]
async fn running_through_a_put_on_the_campaign_also_updates_its_fields() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.runnable_campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    let started = a
        .put(
            &format!("/campaigns/{id}"),
            &json!({"status": "running", "name": "renamed", "service_level": 150}),
        )
        .await
        .ok();
    assert_eq!(
        (started["status"].as_str(), started["name"].as_str()),
        (Some("run"), Some("renamed"))
    );
    assert_eq!(started["service_level"], 150);
    assert_eq!(app.control.told().len(), 1);

    let other_outdial = a.outdial().await;
    let frozen = a
        .put(
            &format!("/campaigns/{id}"),
            &json!({"outdial_id": other_outdial}),
        )
        .await;
    assert_eq!(frozen.status, 409, "{}", frozen.body);
    assert!(
        frozen.message().starts_with("outdial_id: "),
        "{}",
        frozen.body
    );
}

#[tokio::test]
async fn only_run_and_stop_can_be_requested() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    for status in ["stopping", "finished", "paused"] {
        a.put(
            &format!("/campaigns/{id}/status"),
            &json!({"status": status}),
        )
        .await
        .invalid("status: ");
        a.put(
            &format!("/campaigns/{id}"),
            &json!({"status": status, "name": "x"}),
        )
        .await
        .invalid("status: ");
    }
    a.put(&format!("/campaigns/{id}/status"), &json!({}))
        .await
        .invalid("status: required");
    assert_eq!(a.get(&format!("/campaigns/{id}")).await.ok()["name"], "c");
    assert!(app.control.told().is_empty());
}

#[tokio::test]
async fn a_call_campaign_whose_outdial_is_gone_cannot_start() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    let outdial = c["outdial_id"].as_str().unwrap_or_default();
    a.delete(&format!("/outdials/{outdial}")).await.ok();
    a.put(
        &format!("/campaigns/{id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .invalid("outdial_id: outdial");
    assert_eq!(
        a.get(&format!("/campaigns/{id}")).await.ok()["status"],
        "stop"
    );
    assert!(app.control.told().is_empty());
}
