//! Tokens and tenant isolation.

use crate::helpers::{answer, spawn_app, TOKEN_A};
use serde_json::json;

#[tokio::test]
async fn a_request_without_a_token_or_with_an_unknown_one_is_401() {
    let app = spawn_app().await;
    let none = answer(app.client.get(app.url("/campaigns"))).await;
    assert_eq!(none.status, 401);
    assert!(none.message().contains("token"), "{}", none.body);
    let bad = answer(app.client.get(app.url("/campaigns?token=nope"))).await;
    assert_eq!((bad.status, bad.message()), (401, "unknown token"));
    let bad_bearer = answer(app.client.get(app.url("/campaigns")).bearer_auth("nope")).await;
    assert_eq!(bad_bearer.status, 401);
}

#[tokio::test]
async fn a_bearer_token_works_like_the_query_token() {
    let app = spawn_app().await;
    let id = app.a().outplan().await;
    let got = answer(
        app.client
            .get(app.url(&format!("/outplans/{id}")))
            .bearer_auth(TOKEN_A),
    )
    .await;
    assert_eq!(got.ok()["id"], json!(id));
}

#[tokio::test]
async fn another_customers_ids_are_not_found_and_not_listed() {
    let app = spawn_app().await;
    let (a, b) = (app.a(), app.b());
    let campaign = a.campaign().await;
    let (campaign_id, outplan, outdial) = (
        campaign["id"].as_str().unwrap_or_default(),
        campaign["outplan_id"].as_str().unwrap_or_default(),
        campaign["outdial_id"].as_str().unwrap_or_default(),
    );
    let target = a
        .post(
            &format!("/outdials/{outdial}/targets"),
            &json!({"destination_0": "+15551234567"}),
        )
        .await
        .ok();
    let target_id = target["id"].as_str().unwrap_or_default();

    for path in [
        format!("/outplans/{outplan}"),
        format!("/outdials/{outdial}"),
        format!("/outdials/{outdial}/targets"),
        format!("/outdials/{outdial}/targets/{target_id}"),
        format!("/campaigns/{campaign_id}"),
        format!("/campaigns/{campaign_id}/stats"),
        format!("/campaigns/{campaign_id}/campaigncalls"),
    ] {
        assert_eq!(b.get(&path).await.status, 404, "GET {path}");
    }
    let run = b
        .put(
            &format!("/campaigns/{campaign_id}/status"),
            &json!({"status": "run"}),
        )
        .await;
    assert_eq!(run.status, 404);
    assert_eq!(
        b.delete(&format!("/campaigns/{campaign_id}")).await.status,
        404
    );
    assert_eq!(b.delete(&format!("/outplans/{outplan}")).await.status, 404);
    let add = b
        .post(
            &format!("/outdials/{outdial}/targets"),
            &json!({"destination_0": "+15559876543"}),
        )
        .await;
    assert_eq!(add.status, 404);

    for list in ["/outplans", "/outdials", "/campaigns", "/campaigncalls"] {
        let listed = b.get(list).await.ok();
        assert_eq!(listed["result"], json!([]), "{list}");
        assert_eq!(
            a.get(list).await.ok()["result"].as_array().map(Vec::len),
            Some(if list == "/campaigncalls" { 0 } else { 1 }),
            "{list}"
        );
    }

    let own_outdial = b.outdial().await;
    let borrowed = b
        .post(
            "/campaigns",
            &json!({"outplan_id": outplan, "outdial_id": own_outdial}),
        )
        .await;
    borrowed.invalid("outplan_id: no outplan");
}

#[tokio::test]
async fn unknown_paths_and_malformed_ids_answer_json_404() {
    let app = spawn_app().await;
    let nowhere = app.a().get("/nowhere").await;
    assert_eq!(
        (nowhere.status, nowhere.message()),
        (404, "no such endpoint")
    );
    let malformed = app.a().get("/campaigns/not-a-uuid").await;
    assert_eq!(malformed.status, 404);
    assert!(
        malformed.message().starts_with("not found"),
        "{}",
        malformed.body
    );
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token() {
    let app = spawn_app().await;
    let doc = answer(app.client.get(app.url("/openapi.json"))).await.ok();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(doc["paths"]["/v1.0/campaigns/{id}/status"]["put"].is_object());
    assert!(doc["paths"]["/health"]["get"].is_object());
}
