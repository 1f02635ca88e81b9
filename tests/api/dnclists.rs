//! Do-not-call lists: the lists, their numbers (JSON and CSV, with the report of bad rows),
//! searching and deleting a number, and campaigns and outplans naming lists.

use crate::helpers::{id_of, spawn_app};
use serde_json::{json, Value};

fn numbers(page: &Value) -> Vec<&str> {
    page["result"]
        .as_array()
        .map(|r| r.iter().filter_map(|n| n["number"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_list_takes_json_and_csv_numbers_reports_bad_rows_and_finds_and_deletes_one() {
    let app = spawn_app().await;
    let a = app.a();
    let list = a
        .post(
            "/dnclists",
            &json!({"name": "complaints", "detail": "from the web form"}),
        )
        .await
        .ok();
    assert_eq!(list["name"], "complaints");
    let id = list["id"].as_str().expect("id").to_string();
    let path = format!("/dnclists/{id}/numbers");

    let report = a
        .post(
            &path,
            &json!([
                {"number": "(555) 555-0100"},
                {"number": "+15551234567", "source": "manual", "expire_at": "2099-01-01 00:00:00"},
                {"number": "12345"}
            ]),
        )
        .await
        .ok();
    assert_eq!(report["created"], 2);
    assert_eq!(report["skipped_invalid"][0]["row"], 2);
    assert_eq!(report["skipped_invalid"][0]["value"], "12345");

    let csv = "number,source\n5559876543,opt_out\nnot a number,\n";
    let report = a.post_raw(&path, "text/csv", csv).await.ok();
    assert_eq!(report["created"], 1);
    assert_eq!(report["skipped_invalid"][0]["row"], 3);
    assert!(report["skipped_invalid"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("number:")));

    let page = a.get(&path).await.ok();
    assert_eq!(
        numbers(&page),
        ["+15551234567", "+15555550100", "+15559876543"]
    );
    let found = a.get(&format!("{path}?number=%2B15551234567")).await.ok();
    assert_eq!(numbers(&found), ["+15551234567"]);
    assert_eq!(found["result"][0]["source"], "manual");
    assert_eq!(
        found["result"][0]["expire_at"],
        "2099-01-01 00:00:00.000000"
    );
    let national = a.get(&format!("{path}?number=5559876543")).await.ok();
    assert_eq!(national["result"][0]["source"], "opt_out");

    a.delete(&format!("{path}/%2B15551234567")).await.ok();
    assert_eq!(
        a.delete(&format!("{path}/%2B15551234567")).await.status,
        404
    );
    let none = a.get(&format!("{path}?number=%2B15551234567")).await.ok();
    assert!(numbers(&none).is_empty());
}

#[tokio::test]
async fn the_default_list_is_made_on_first_use_and_cannot_be_deleted() {
    let app = spawn_app().await;
    let a = app.a();
    let lists = a.get("/dnclists").await.ok();
    let default = &lists["result"][0];
    assert_eq!(default["name"], "default");
    let id = default["id"].as_str().expect("id");
    assert_eq!(
        a.get(&format!("/dnclists/{id}")).await.ok()["name"],
        "default"
    );
    assert_eq!(a.delete(&format!("/dnclists/{id}")).await.status, 409);
    // Listing again does not make a second one.
    let again = a.get("/dnclists").await.ok();
    assert_eq!(again["result"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn unknown_fields_are_refused_naming_them() {
    let app = spawn_app().await;
    let a = app.a();
    a.post("/dnclists", &json!({"name": "x", "color": "red"}))
        .await
        .invalid("color: not supported");
    let id = id_of(a.post("/dnclists", &json!({"name": "x"})).await);
    a.put(&format!("/dnclists/{id}"), &json!({"owner": "me"}))
        .await
        .invalid("owner: not supported");
    let report = a
        .post(
            &format!("/dnclists/{id}/numbers"),
            &json!([{"number": "+15551234567", "reason": "asked"}]),
        )
        .await
        .ok();
    assert_eq!(report["created"], 0);
    assert_eq!(
        report["skipped_invalid"][0]["reason"],
        "reason: not supported"
    );
    a.post(
        &format!("/dnclists/{id}/numbers"),
        &json!({"number": "+15551234567"}),
    )
    .await
    .invalid("body:");
}

#[tokio::test]
async fn another_customers_list_is_not_found_nor_accepted_by_a_campaign() {
    let app = spawn_app().await;
    let theirs = id_of(app.b().post("/dnclists", &json!({"name": "b's"})).await);
    let a = app.a();
    assert_eq!(a.get(&format!("/dnclists/{theirs}")).await.status, 404);
    assert_eq!(
        a.post(
            &format!("/dnclists/{theirs}/numbers"),
            &json!([{"number": "+15551234567"}])
        )
        .await
        .status,
        404
    );
    assert_eq!(a.delete(&format!("/dnclists/{theirs}")).await.status, 404);

    let mine = id_of(a.post("/dnclists", &json!({"name": "mine"})).await);
    let (outplan, outdial) = (a.outplan().await, a.outdial().await);
    a.post(
        "/campaigns",
        &json!({"name": "c", "outplan_id": outplan, "outdial_id": outdial,
                "dnclist_ids": [mine, theirs]}),
    )
    .await
    .invalid("dnclist_ids[1]:");
    a.put(
        &format!("/outplans/{outplan}"),
        &json!({"dnclist_ids": [theirs]}),
    )
    .await
    .invalid("dnclist_ids[0]:");
    let c = a
        .post(
            "/campaigns",
            &json!({"name": "c", "outplan_id": outplan, "outdial_id": outdial,
                    "dnclist_ids": [mine]}),
        )
        .await
        .ok();
    assert_eq!(c["dnclist_ids"], json!([mine]));
    let plan = a
        .put(
            &format!("/outplans/{outplan}"),
            &json!({"dnclist_ids": [mine]}),
        )
        .await
        .ok();
    assert_eq!(plan["dnclist_ids"], json!([mine]));
}
