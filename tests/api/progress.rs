//! A campaign's progress is its own: a second campaign over an outdial an earlier one
//! finished neither reports the first one's successes nor finishes at once; the outdial is
//! reset explicitly to be dialed again.

use crate::helpers::{spawn_app, TestApp};
use ringmaster::domain::{Campaign, CampaignStatus, Campaigncall, Disposition};
use ringmaster::store::{AttemptEnd, Commits, Docs, TargetNext, WriteOp};
use serde_json::{json, Value};

/// Plays the dialing engine: one answered attempt of `campaign` on `target`, which is done.
async fn answered(app: &TestApp, campaign: &Value, target: &Value) {
    let call = Campaigncall {
        reference_id: "call-1".into(),
        ..crate::helpers::dialing_call(app.customer_a, campaign, target, "+15551234567")
    };
    let end = AttemptEnd::closed(
        &call,
        Disposition::Answered,
        "answered",
        TargetNext::Done("success"),
    );
    let begin = WriteOp::Begin {
        call: Box::new(call),
        slot: 0,
        dnc_lists: Vec::new().into(),
    };
    app.store.apply(&[begin]).await.expect("begin");
    app.store
        .apply(&[WriteOp::End(Box::new(end))])
        .await
        .expect("end");
}

#[tokio::test]
async fn a_second_campaign_over_a_finished_outdial_is_refused_until_a_reset() {
    let app = spawn_app().await;
    let a = app.a();
    let first = a.runnable_campaign().await;
    let outdial = first["outdial_id"].as_str().unwrap_or_default().to_string();
    let target = a.get(&format!("/outdials/{outdial}/targets")).await.ok()["result"][0].clone();
    answered(&app, &first, &target).await;
    let first_id = first["id"].as_str().unwrap_or_default();
    let stats = a.get(&format!("/campaigns/{first_id}/stats")).await.ok();
    assert_eq!(
        (stats["succeeded"].as_u64(), stats["progress"].as_u64()),
        (Some(1), Some(100))
    );

    // The second campaign over the same list: the first one's success is not its own.
    let second = a
        .post(
            "/campaigns",
            &json!({"name": "again", "outplan_id": first["outplan_id"], "outdial_id": outdial}),
        )
        .await
        .ok();
    let second_id = second["id"].as_str().unwrap_or_default();
    let stats = a.get(&format!("/campaigns/{second_id}/stats")).await.ok();
    assert_eq!(
        (
            stats["total"].as_u64(),
            stats["succeeded"].as_u64(),
            stats["done_elsewhere"].as_u64(),
            stats["attempts"].as_u64(),
            stats["progress"].as_u64()
        ),
        (Some(1), Some(0), Some(1), Some(0), Some(0)),
        "{stats}"
    );

    // Starting it would finish at once: 409 pointing at the reset, and the engine is not told.
    let refused = a
        .put(
            &format!("/campaigns/{second_id}/status"),
            &json!({"status": "run"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.message().contains("no target left to dial")
            && refused
                .message()
                .contains(&format!("/v1.0/outdials/{outdial}/reset")),
        "{}",
        refused.body
    );
    assert_eq!(app.control.told(), []);
    assert_eq!(
        a.get(&format!("/campaigns/{second_id}")).await.ok()["status"],
        "stop"
    );

    // A reset while a campaign dials the list is refused.
    let running = a
        .post(
            "/campaigns",
            &json!({"name": "continues", "end_handle": "continue",
                    "outplan_id": first["outplan_id"], "outdial_id": outdial}),
        )
        .await
        .ok();
    let running_id = running["id"].as_str().unwrap_or_default();
    a.put(
        &format!("/campaigns/{running_id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .ok();
    let busy = a
        .post(&format!("/outdials/{outdial}/reset"), &json!({}))
        .await;
    assert_eq!(busy.status, 409, "{}", busy.body);
    a.put(
        &format!("/campaigns/{running_id}/status"),
        &json!({"status": "stop"}),
    )
    .await
    .ok();
    // The engine sets `stop` once the calls in flight are over.
    let stopping = a.get(&format!("/campaigns/{running_id}")).await.ok();
    let mut stopped: Campaign = serde_json::from_value(stopping).expect("a campaign");
    stopped.status = CampaignStatus::Stop;
    Docs(app.store.as_ref())
        .put(&stopped)
        .await
        .expect("stored");

    let reset = a
        .post(&format!("/outdials/{outdial}/reset"), &json!({}))
        .await
        .ok();
    assert_eq!(reset, json!({"reset": 1}));
    let target = a
        .get(&format!(
            "/outdials/{outdial}/targets/{}",
            target["id"].as_str().unwrap_or_default()
        ))
        .await
        .ok();
    assert_eq!(
        (target["status"].as_str(), target["try_count_0"].as_u64()),
        (Some("idle"), Some(0))
    );
    let started = a
        .put(
            &format!("/campaigns/{second_id}/status"),
            &json!({"status": "run"}),
        )
        .await
        .ok();
    assert_eq!(started["status"], "run");
    // The first campaign keeps its attempts; the reset target is no longer its success.
    let stats = a.get(&format!("/campaigns/{first_id}/stats")).await.ok();
    assert_eq!(
        (
            stats["attempts"].as_u64(),
            stats["succeeded"].as_u64(),
            stats["queued"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );
}

#[tokio::test]
async fn a_campaign_over_an_empty_outdial_is_refused_unless_it_waits_for_targets() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    let refused = a
        .put(
            &format!("/campaigns/{id}/status"),
            &json!({"status": "run"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.message().contains("has no targets"),
        "{}",
        refused.body
    );
    let waits = a
        .put(
            &format!("/campaigns/{id}"),
            &json!({"end_handle": "continue", "status": "run"}),
        )
        .await
        .ok();
    assert_eq!(waits["status"], "run");
}
