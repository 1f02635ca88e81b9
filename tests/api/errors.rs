//! Every error answer carries the JSON `{"message": ...}` body: unknown paths (inside and
//! outside `/v1.0`; `/` itself leads to the dashboard) and methods a path does not take.

use crate::helpers::{answer, spawn_app, TOKEN_A};

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let token = format!("token={TOKEN_A}");
    for path in [
        format!("{}/v1.0/nothing-here?{token}", app.origin),
        format!("{}/v2/campaigns?{token}", app.origin),
        format!("{}/nothing-here?{token}", app.origin),
        format!("{}/dashboard/nothing-here?{token}", app.origin),
    ] {
        let got = answer(app.client.get(&path)).await;
        assert_eq!(
            (got.status, got.message()),
            (404, "no such endpoint"),
            "{path}: {}",
            got.body
        );
    }
    let patch = answer(
        app.client
            .patch(format!("{}/v1.0/campaigns?{token}", app.origin)),
    )
    .await;
    assert_eq!(patch.status, 405, "{}", patch.body);
    assert_eq!(patch.message(), "PATCH is not allowed on /v1.0/campaigns");
    let delete = answer(app.client.delete(format!(
        "{}/v1.0/campaigns/00000000-0000-0000-0000-000000000001/stats?{token}",
        app.origin
    )))
    .await;
    assert_eq!(delete.status, 405, "{}", delete.body);
    assert!(delete.message().starts_with("DELETE is not allowed"));
    let missing = app
        .a()
        .get("/campaigns/00000000-0000-0000-0000-000000000001")
        .await;
    assert_eq!(
        (missing.status, missing.message()),
        (404, "campaign not found")
    );
}
