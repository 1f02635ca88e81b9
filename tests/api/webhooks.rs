//! `/webhooks` and `/events` over HTTP: fields and filters checked with a 400 naming the
//! field, the secret answered once, tenants kept apart, and campaign changes on the stream.

use crate::helpers::spawn_app;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_webhook_s_fields_are_checked_and_its_secret_is_answered_once() {
    let app = spawn_app().await;
    let a = app.a();
    for (body, field) in [
        (json!({"name": "no uri"}), "uri"),
        (json!({"uri": "ftp://127.0.0.1/hook"}), "uri"),
        (json!({"uri": "not a url"}), "uri"),
        (json!({"uri": 7}), "uri"),
        (
            json!({"uri": "http://127.0.0.1:9/h", "event_types": ["call_hangup"]}),
            "event_types[0]",
        ),
        (
            json!({"uri": "http://127.0.0.1:9/h", "event_types": "campaign_updated"}),
            "event_types",
        ),
        (
            json!({"uri": "http://127.0.0.1:9/h", "status": "paused"}),
            "status",
        ),
        (
            json!({"uri": "http://127.0.0.1:9/h", "secret": "mine"}),
            "secret",
        ),
        (
            json!({"uri": "http://127.0.0.1:9/h", "colour": "red"}),
            "colour",
        ),
    ] {
        a.post("/webhooks", &body).await.invalid(field);
    }

    let created = a
        .post(
            "/webhooks",
            &json!({"name": "crm", "uri": "http://127.0.0.1:9/hook",
                    "event_types": ["campaigncall_updated"]}),
        )
        .await
        .ok();
    let secret = created["secret"].as_str().expect("secret on create");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(created["status"], "active");
    let id = created["id"].as_str().expect("id");

    let got = a.get(&format!("/webhooks/{id}")).await.ok();
    assert!(
        got.get("secret").is_none(),
        "the secret is shown once: {got}"
    );
    let listed = a.get("/webhooks").await.ok();
    assert_eq!(listed["result"].as_array().map(Vec::len), Some(1));
    assert!(listed["result"][0].get("secret").is_none());
    let updated = a
        .put(&format!("/webhooks/{id}"), &json!({"status": "disabled"}))
        .await
        .ok();
    assert_eq!(updated["status"], "disabled");
    a.put(&format!("/webhooks/{id}"), &json!({"uri": "gopher://x"}))
        .await
        .invalid("uri");
    let log = a.get(&format!("/webhooks/{id}/deliveries")).await.ok();
    assert_eq!(log["result"], json!([]));

    // Another tenant sees none of it.
    assert_eq!(app.b().get(&format!("/webhooks/{id}")).await.status, 404);
    assert_eq!(
        app.b()
            .get(&format!("/webhooks/{id}/deliveries"))
            .await
            .status,
        404
    );
    assert_eq!(a.delete(&format!("/webhooks/{id}")).await.status, 200);
    assert_eq!(a.get(&format!("/webhooks/{id}")).await.status, 404);
}

#[tokio::test]
async fn the_event_stream_checks_its_filters_and_streams_campaign_changes_to_their_tenant_only() {
    let app = spawn_app().await;
    let a = app.a();
    for (query, field) in [
        ("type=campaign_exploded", "type"),
        ("resource=calls", "resource"),
        ("type=agent_updated&resource=campaign", "resource"),
        ("last_event_id=-1", "last_event_id"),
    ] {
        a.get(&format!("/events?{query}")).await.invalid(field);
    }
    assert_eq!(
        app.client
            .get(app.url("/events"))
            .send()
            .await
            .expect("sent")
            .status(),
        401
    );

    let open = |token: &str| {
        app.client
            .get(app.url(&format!("/events?resource=campaign&token={token}")))
            .header("Last-Event-ID", "0")
            .send()
    };
    let mut stream_a = open(crate::helpers::TOKEN_A).await.expect("stream a");
    assert_eq!(stream_a.status(), 200);
    assert_eq!(
        stream_a.headers()["content-type"].to_str().ok(),
        Some("text/event-stream")
    );
    let mut stream_b = open(crate::helpers::TOKEN_B).await.expect("stream b");
    let campaign = a.campaign().await;
    let id = campaign["id"].as_str().expect("id").to_string();
    a.put(&format!("/campaigns/{id}"), &json!({"name": "renamed"}))
        .await
        .ok();

    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(text.contains("event: campaign_created") && text.contains("event: campaign_updated")) {
        let chunk = tokio::time::timeout_at(deadline, stream_a.chunk())
            .await
            .expect("the events in time")
            .expect("read")
            .expect("open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        text.contains(&format!("\"resource_id\":\"{id}\"")),
        "{text}"
    );
    assert!(text.contains("\"name\":\"renamed\""), "{text}");
    let created = text.find("event: campaign_created").expect("created");
    assert!(created < text.find("event: campaign_updated").expect("updated"));

    // B's stream carries nothing of A's (only its opening comment).
    let mut seen = String::new();
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(500), stream_b.chunk()).await
    {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.starts_with(": events"), "{seen}");
    assert!(!seen.contains("campaign_"), "{seen}");
}
