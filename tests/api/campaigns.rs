//! Campaigns: the seeds' bodies, validation, sub-resources, delete, stats, campaigncalls.

use crate::helpers::{id_of, spawn_app, TRUNK};
use ringmaster::domain::time::NEVER;
use ringmaster::domain::Campaigncall;
use ringmaster::store::{Commits, WriteOp};
use serde_json::{json, Value};
use uuid::Uuid;

/// The create body of the VoIPBIN campaign tutorial, with this test's ids.
fn tutorial_body(outplan: &str, outdial: &str, queue: &str) -> String {
    format!(
        r#"{{
    "name": "test campaign",
    "detail": "test campaign detail",
    "type": "call",
    "service_level": 100,
    "end_handle": "stop",
    "actions": [
        {{
            "type": "talk",
            "option": {{
                "text": "Hello. This is outbound campaign's test calling. Please wait until the agent answer the call. Thank you.",
                "language": "en-US"
            }}
        }}
    ],
    "outplan_id": "{outplan}",
    "outdial_id": "{outdial}",
    "queue_id": "{queue}"
}}"#
    )
}

#[tokio::test]
async fn the_tutorial_create_body_is_answered_in_voipbin_shape() {
    let app = spawn_app().await;
    let a = app.a();
    let (outplan, outdial, queue) = (a.outplan().await, a.outdial().await, a.queue().await);
    let c = a
        .post_raw(
            "/campaigns",
            "application/json",
            &tutorial_body(&outplan, &outdial, &queue),
        )
        .await
        .ok();
    assert!(Uuid::parse_str(c["id"].as_str().unwrap_or_default()).is_ok());
    assert_eq!(c["customer_id"], json!(app.customer_a));
    assert_eq!(
        (c["type"].as_str(), c["status"].as_str()),
        (Some("call"), Some("stop"))
    );
    assert_eq!(
        (c["service_level"].as_u64(), c["end_handle"].as_str()),
        (Some(100), Some("stop"))
    );
    assert_eq!(c["actions"][0]["type"], "talk");
    assert_eq!(c["actions"][0]["option"]["language"], "en-US");
    assert_eq!(c["actions"][0]["id"], json!(Uuid::nil()));
    assert_eq!(
        (c["outplan_id"].as_str(), c["outdial_id"].as_str()),
        (Some(outplan.as_str()), Some(outdial.as_str()))
    );
    assert_eq!(c["queue_id"], queue.as_str());
    assert_eq!(c["next_campaign_id"], json!(Uuid::nil()));
    assert_eq!(c["tm_create"].as_str().map(str::len), Some(NEVER.len()));
    assert_eq!(
        (c["tm_update"].as_str(), c["tm_delete"].as_str()),
        (Some(NEVER), Some(NEVER))
    );

    let id = c["id"].as_str().unwrap_or_default();
    let mut shown = a.get(&format!("/campaigns/{id}")).await.ok();
    // A campaign read back also says whether it is dialing now.
    let fields = shown.as_object_mut().expect("object");
    assert_eq!(fields.remove("paused"), Some(json!(false)));
    assert_eq!(fields.remove("paused_reason"), Some(json!("")));
    assert_eq!(shown, c);
}

#[tokio::test]
async fn the_overview_create_body_with_flow_id_and_source_is_accepted() {
    let app = spawn_app().await;
    let a = app.a();
    let (outplan, outdial) = (a.outplan().await, a.outdial().await);
    let flow = id_of(a.post("/flows", &json!({"name": "survey"})).await);
    let c = a
        .post(
            "/campaigns",
            &json!({
                "name": "Customer Survey Q1",
                "detail": "Quarterly satisfaction survey",
                "type": "call",
                "service_level": 80,
                "end_handle": "stop",
                "outdial_id": outdial,
                "outplan_id": outplan,
                "queue_id": a.queue().await,
                "flow_id": flow,
                "source": "+15551234567",
                "trunk": TRUNK,
                "max_concurrent": 5
            }),
        )
        .await
        .ok();
    assert_eq!(
        (c["service_level"].as_u64(), c["flow_id"].as_str()),
        (Some(80), Some(flow.as_str()))
    );
    assert_eq!(
        (c["trunk"].as_str(), c["max_concurrent"].as_u64()),
        (Some(TRUNK), Some(5))
    );
    assert!(c.get("source").is_none());
}

#[tokio::test]
async fn campaign_validation_errors_name_the_field() {
    let app = spawn_app().await;
    let a = app.a();
    let (outplan, outdial) = (a.outplan().await, a.outdial().await);
    let with = |extra: Value| {
        let mut body = json!({"name": "c", "outplan_id": outplan, "outdial_id": outdial});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let cases = [
        (
            json!({"name": "c", "outdial_id": outdial}),
            "outplan_id: required for a call campaign",
        ),
        (
            json!({"outplan_id": outplan}),
            "outdial_id: required for a call campaign",
        ),
        (
            with(json!({"outdial_id": Uuid::new_v4()})),
            "outdial_id: no outdial",
        ),
        (
            with(json!({"outplan_id": "not-a-uuid"})),
            "outplan_id: \"not-a-uuid\" is not a UUID",
        ),
        (
            with(json!({"next_campaign_id": Uuid::new_v4()})),
            "next_campaign_id: no campaign",
        ),
        (with(json!({"service_level": 2000})), "service_level: "),
        (with(json!({"service_level": "high"})), "service_level: "),
        (with(json!({"type": "sms"})), "type: unknown variant `sms`"),
        (with(json!({"end_handle": "pause"})), "end_handle: "),
        (
            with(json!({"trunk": "nope"})),
            "trunk: unknown trunk \"nope\"",
        ),
        (with(json!({"max_concurrent": -1})), "max_concurrent: "),
        (with(json!({"dial_mode": "turbo"})), "dial_mode: "),
        (
            with(json!({"abandon_rate_cap": 101})),
            "abandon_rate_cap: must be a number between 0 and 100",
        ),
        (
            with(json!({"min_ring_s": 10})),
            "min_ring_s: must be 0 (never) or an integer from 15 to 120",
        ),
        (
            with(json!({"min_ring_s": 121})),
            "min_ring_s: must be 0 (never) or an integer from 15 to 120",
        ),
        (
            with(json!({"actions": [{"type": "answer"}, {"type": "sleep"}]})),
            "actions[1].option.duration: required for sleep",
        ),
        (
            with(json!({"actions": [{"type": "talk", "option": {}}]})),
            "actions[0].option.text: required for talk",
        ),
        (
            with(json!({"actions": [{"type": "dance"}]})),
            "actions[0].type: unknown action type",
        ),
    ];
    for (body, message) in cases {
        a.post("/campaigns", &body).await.invalid(message);
    }
    a.post_raw("/campaigns", "application/json", "{\"name\": \"c\",}")
        .await
        .invalid("body: ");
    a.post("/campaigns", &json!({"type": "flow", "actions": []}))
        .await
        .invalid("type: flow campaigns are not supported yet; use call");
}

#[tokio::test]
async fn a_campaign_dials_power_under_a_3_percent_cap_unless_told_otherwise() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    assert_eq!(
        (
            c["dial_mode"].as_str(),
            c["abandon_rate_cap"].as_f64(),
            c["min_ring_s"].as_u64()
        ),
        (Some("power"), Some(3.0), Some(15))
    );
    let id = c["id"].as_str().unwrap_or_default();
    let c = a
        .put(
            &format!("/campaigns/{id}"),
            &json!({"dial_mode": "predictive", "abandon_rate_cap": 2.5, "min_ring_s": 20}),
        )
        .await
        .ok();
    assert_eq!(
        (
            c["dial_mode"].as_str(),
            c["abandon_rate_cap"].as_f64(),
            c["min_ring_s"].as_u64()
        ),
        (Some("predictive"), Some(2.5), Some(20))
    );
}

#[tokio::test]
async fn sub_resources_change_one_field_each() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    let next = a.campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    let path = |sub: &str| format!("/campaigns/{id}/{sub}");
    let c = a
        .put(&path("service_level"), &json!({"service_level": 200}))
        .await
        .ok();
    assert_eq!(
        (c["service_level"].as_u64(), c["name"].as_str()),
        (Some(200), Some("c"))
    );
    let c = a
        .put(&path("actions"), &json!({"actions": [{"type": "hangup"}]}))
        .await
        .ok();
    assert_eq!(c["actions"][0]["type"], "hangup");
    let c = a
        .put(
            &path("next_campaign_id"),
            &json!({"next_campaign_id": next["id"]}),
        )
        .await
        .ok();
    assert_eq!(c["next_campaign_id"], next["id"]);
    a.put(&path("next_campaign_id"), &json!({"next_campaign_id": id}))
        .await
        .invalid("next_campaign_id: must not be the campaign itself");
    a.put(&path("service_level"), &json!({}))
        .await
        .invalid("service_level: required");
    a.put(&path("actions"), &json!({"actions": [{"type": "sleep"}]}))
        .await
        .invalid("actions[0].option.duration");
}

#[tokio::test]
async fn a_running_campaign_cannot_be_deleted_a_stopped_one_can() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.runnable_campaign().await;
    let id = c["id"].as_str().unwrap_or_default();
    a.put(
        &format!("/campaigns/{id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .ok();
    let refused = a.delete(&format!("/campaigns/{id}")).await;
    assert_eq!(
        (refused.status, refused.message()),
        (409, "campaign is run: stop it before deleting it")
    );

    let other = a.campaign().await;
    let other_id = other["id"].as_str().unwrap_or_default();
    let deleted = a.delete(&format!("/campaigns/{other_id}")).await.ok();
    assert_ne!(deleted["tm_delete"], NEVER);
    assert_eq!(a.get(&format!("/campaigns/{other_id}")).await.status, 404);
}

#[tokio::test]
async fn stats_of_a_fresh_campaign_count_every_target_as_queued() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    let (id, outdial) = (
        c["id"].as_str().unwrap_or_default(),
        c["outdial_id"].as_str().unwrap_or_default(),
    );
    let targets = json!([{"destination_0": "+15551234567"}, {"destination_0": "+15559876543"}, {"destination_0": "+15555550100"}]);
    a.post(&format!("/outdials/{outdial}/targets"), &targets)
        .await
        .ok();
    let stats = a.get(&format!("/campaigns/{id}/stats")).await.ok();
    assert_eq!(
        stats,
        json!({"status": "stop", "total": 3, "queued": 3, "dialing": 0, "succeeded": 0, "failed": 0,
               "done_elsewhere": 0, "dispositions": {}, "attempts": 0, "abandoned": 0,
               "abandon_rate": 0.0, "progress": 0, "paused": false, "paused_reason": ""})
    );
}

#[tokio::test]
async fn campaigncalls_written_by_the_engine_are_listed_for_their_customer_only() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.campaign().await;
    let (id, outdial) = (
        c["id"].as_str().unwrap_or_default(),
        c["outdial_id"].as_str().unwrap_or_default(),
    );
    let target = a
        .post(
            &format!("/outdials/{outdial}/targets"),
            &json!({"destination_0": "+15551234567"}),
        )
        .await
        .ok();
    let _parse = |v: &Value| Uuid::parse_str(v.as_str().unwrap_or_default()).unwrap_or_default();
    let call = Campaigncall {
        reference_id: "call-1".into(),
        sip_call_id: "0190a1b2c3d4@127.0.0.1".into(),
        ..crate::helpers::dialing_call(app.customer_a, &c, &target, "+15551234567")
    };
    let begin = WriteOp::Begin {
        call: Box::new(call.clone()),
        slot: 0,
        dnc_lists: Vec::new().into(),
    };
    app.store.apply(&[begin]).await.expect("engine write");

    let listed = a.get("/campaigncalls").await.ok();
    assert_eq!(listed["result"][0]["id"], json!(call.id));
    let of_campaign = a.get(&format!("/campaigns/{id}/campaigncalls")).await.ok();
    assert_eq!(
        of_campaign["result"][0]["destination"]["target"],
        "+15551234567"
    );
    assert_eq!(
        a.get(&format!("/campaigncalls/{}", call.id)).await.ok()["sip_call_id"],
        "0190a1b2c3d4@127.0.0.1"
    );
    assert_eq!(
        a.get(&format!("/campaigncalls/{}", call.id)).await.ok()["status"],
        "dialing"
    );
    assert_eq!(
        app.b()
            .get(&format!("/campaigncalls/{}", call.id))
            .await
            .status,
        404
    );
    assert_eq!(
        app.b().get("/campaigncalls").await.ok()["result"],
        json!([])
    );

    let stats = a.get(&format!("/campaigns/{id}/stats")).await.ok();
    assert_eq!(
        (
            stats["total"].as_u64(),
            stats["dialing"].as_u64(),
            stats["attempts"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
}
