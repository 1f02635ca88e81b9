//! Call windows, time zones, caller-id pools, scheduling and `/eligibility` through the API:
//! the new fields round-trip, bad values are refused naming the field, a run requested before
//! `scheduled_at` waits as `scheduled`, and the eligibility counts follow the targets.

use crate::helpers::{id_of, spawn_app, TestApp};
use chrono::{Duration, Utc};
use ringmaster::domain::time::now_string;
use ringmaster::domain::{CampaignStatus, Campaigncall, Disposition};
use ringmaster::store::{AttemptEnd, Commits, Store, TargetNext, WriteOp};
use serde_json::{json, Value};
use uuid::Uuid;

fn uuid(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_default()).unwrap_or_default()
}

#[tokio::test]
async fn an_outplans_window_zone_pool_and_retry_times_round_trip() {
    let app = spawn_app().await;
    let body = json!({
        "name": "daytime",
        "call_window": {"start": "08:00", "end": "21:00", "days": ["mon", "tue", "wed", "thu", "fri"],
                        "holidays": ["2026-12-25"]},
        "timezone": "America/New_York",
        "sources": [{"type": "tel", "target": "+12125550001"}, {"type": "tel", "target": "(312) 555-0002"}],
        "source_strategy": "local_presence",
        "retry_at": ["17:00"],
    });
    let plan = app.a().post("/outplans", &body).await.ok();
    assert_eq!(plan["call_window"], body["call_window"]);
    assert_eq!(plan["timezone"], "America/New_York");
    assert_eq!(plan["sources"][1]["target"], "+13125550002");
    assert_eq!(plan["source_strategy"], "local_presence");
    assert_eq!(plan["retry_at"], json!(["17:00"]));
    let id = plan["id"].as_str().unwrap_or_default();
    let read = app.a().get(&format!("/outplans/{id}")).await.ok();
    assert_eq!(read["call_window"], body["call_window"]);
    // null takes the window off.
    let cleared = app
        .a()
        .put(&format!("/outplans/{id}"), &json!({"call_window": null}))
        .await
        .ok();
    assert_eq!(cleared["call_window"], Value::Null);
    assert_eq!(cleared["sources"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_windows_zones_pools_and_retry_times_name_the_field() {
    let app = spawn_app().await;
    let w = |v: Value| json!({"call_window": v});
    let cases = [
        (
            w(json!({"start": "8am", "end": "21:00"})),
            "call_window.start: ",
        ),
        (
            w(json!({"start": "08:00", "end": "25:00"})),
            "call_window.end: ",
        ),
        (
            w(json!({"start": "08:00", "end": "08:00"})),
            "call_window.end: ",
        ),
        (
            w(json!({"start": "08:00", "end": "21:00", "days": ["monday"]})),
            "call_window.days: ",
        ),
        (
            w(json!({"start": "08:00", "end": "21:00", "holidays": ["25/12/2026"]})),
            "call_window.holidays: ",
        ),
        (w(json!({"start": "08:00"})), "call_window: "),
        (
            w(json!({"start": "08:00", "end": "21:00", "hours": 3})),
            "call_window: ",
        ),
        (json!({"timezone": "Eastern"}), "timezone: "),
        (
            json!({"sources": [{"type": "tel", "target": "+12125550001"}, {"type": "email", "target": "a@b.c"}]}),
            "sources[1].type: ",
        ),
        (json!({"sources": "+12125550001"}), "sources: "),
        (json!({"source_strategy": "cheapest"}), "source_strategy: "),
        (json!({"retry_at": ["5pm"]}), "retry_at: "),
    ];
    for (body, field) in cases {
        app.a().post("/outplans", &body).await.invalid(field);
    }
}

#[tokio::test]
async fn a_targets_timezone_round_trips_and_its_zones_are_derived_from_its_number() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let chicago = a.target(&outdial, "+13125550100").await;
    assert_eq!(chicago["timezone"], "");
    assert_eq!(chicago["zones"], json!(["America/Chicago"]));
    let split = a.target(&outdial, "+18505550100").await;
    assert_eq!(
        split["zones"],
        json!(["America/Chicago", "America/New_York"])
    );
    let given = a
        .post(
            &path,
            &json!({"destination_0": {"type": "tel", "target": "+13125550101"},
                    "timezone": "Asia/Tokyo"}),
        )
        .await
        .ok();
    assert_eq!(
        (given["timezone"].as_str(), given["zones"].clone()),
        (Some("Asia/Tokyo"), json!(["Asia/Tokyo"]))
    );
    a.post(
        &path,
        &json!({"destination_0": {"type": "tel", "target": "+13125550102"}, "timezone": "Tokyo"}),
    )
    .await
    .invalid("timezone: ");
    let csv = "phone_number,timezone\n+13125550103,Europe/Paris\n+13125550104,\n";
    let report = a.post_raw(&path, "text/csv", csv).await.ok();
    assert_eq!(report["created"], 2, "{report}");
    let listed = a.get(&path).await.ok();
    let zones: Vec<Value> = listed["result"]
        .as_array()
        .map(|r| r.iter().take(2).map(|t| t["zones"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        zones,
        vec![json!(["America/Chicago"]), json!(["Europe/Paris"])]
    );
}

#[tokio::test]
async fn a_run_before_scheduled_at_waits_scheduled_and_a_stop_cancels_it() {
    let app = spawn_app().await;
    let a = app.a();
    let c = a.runnable_campaign().await;
    let id = c["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/campaigns/{id}");
    let at = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let end = (Utc::now() + Duration::hours(5)).to_rfc3339();
    let updated = a
        .put(&path, &json!({"scheduled_at": at, "end_at": end}))
        .await
        .ok();
    assert!(updated["scheduled_at"].as_str().is_some(), "{updated}");
    a.put(&path, &json!({"scheduled_at": "tomorrow"}))
        .await
        .invalid("scheduled_at: ");
    a.put(
        &path,
        &json!({"end_at": (Utc::now() + Duration::hours(1)).to_rfc3339()}),
    )
    .await
    .invalid("end_at: must be after scheduled_at");
    let run = a
        .put(&format!("{path}/status"), &json!({"status": "run"}))
        .await
        .ok();
    assert_eq!(
        (run["status"].as_str(), run["status_reason"].as_str()),
        (Some("scheduled"), Some("scheduled_at"))
    );
    assert_eq!(
        app.control.told().last().map(|t| t.1),
        Some(CampaignStatus::Scheduled)
    );
    // Its times are fixed while it waits; a stop cancels it.
    let frozen = a.put(&path, &json!({"scheduled_at": null})).await;
    assert_eq!(frozen.status, 409, "{}", frozen.body);
    let stopped = a
        .put(&format!("{path}/status"), &json!({"status": "stop"}))
        .await
        .ok();
    assert_eq!(stopped["status"], "stop");
    // An end_at already past refuses the run.
    a.put(
        &path,
        &json!({"scheduled_at": null, "end_at": (Utc::now() - Duration::minutes(1)).to_rfc3339()}),
    )
    .await
    .ok();
    let late = a
        .put(&format!("{path}/status"), &json!({"status": "run"}))
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late.message().starts_with("end_at: "), "{}", late.body);
}

/// Plays the dialing engine: an attempt on `target` that ends waiting for a retry in an hour.
async fn retried(app: &TestApp, campaign: &Value, target: &Value) {
    let call = Campaigncall {
        caller_id: "+15550001111".into(),
        ..crate::helpers::dialing_call(app.customer_a, campaign, target, "+15551230001")
    };
    let id = call.id;
    let later = Utc::now().timestamp_millis() + 3_600_000;
    let end = AttemptEnd::closed(&call, Disposition::Busy, "busy", TargetNext::RetryAt(later));
    let begin = WriteOp::Begin {
        call: Box::new(call),
        slot: 0,
        dnc_lists: Vec::new().into(),
    };
    assert_eq!(app.store.apply(&[begin]).await.ok(), Some(vec![true]));
    app.store
        .apply(&[WriteOp::End(Box::new(end))])
        .await
        .expect("end");
    let stored = app
        .store
        .get_campaigncall(app.customer_a, id)
        .await
        .ok()
        .flatten()
        .map(|c| c.caller_id);
    assert_eq!(stored.as_deref(), Some("+15550001111"));
}

#[tokio::test]
async fn eligibility_counts_waiting_targets_by_reason() {
    let app = spawn_app().await;
    let a = app.a();
    // A window closed everywhere for three days around now: every local date is a holiday.
    let today = Utc::now().date_naive();
    let days: Vec<String> = (-1..=1)
        .map(|d| (today + Duration::days(d)).format("%Y-%m-%d").to_string())
        .collect();
    let outplan = id_of(
        a.post(
            "/outplans",
            &json!({"name": "closed", "max_try_count_0": 3,
                    "call_window": {"start": "00:00", "end": "23:59", "holidays": days}}),
        )
        .await,
    );
    let outdial = a.outdial().await;
    let mut targets = Vec::new();
    for n in [
        "+15551230001",
        "+15551230002",
        "+15551230003",
        "+442079460958",
    ] {
        targets.push(a.target(&outdial, n).await);
    }
    let c = a
        .post(
            "/campaigns",
            &json!({"name": "c", "outplan_id": outplan, "outdial_id": outdial}),
        )
        .await
        .ok();
    let id = c["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/campaigns/{id}/eligibility");
    let e = a.get(&path).await.ok();
    for key in [
        "dialable_now",
        "dialing",
        "outside_window",
        "retry_interval",
        "dnc",
        "concurrency",
        "cps",
        "no_agent",
        "trunk_down",
        "scheduled",
    ] {
        assert!(e[key].is_u64(), "{key} missing: {e}");
    }
    assert_eq!(
        (e["outside_window"].as_u64(), e["dialable_now"].as_u64()),
        (Some(4), Some(0))
    );
    // One set aside by the dialer until its window opens, one waiting for a retry.
    let defer = WriteOp::Defer {
        target_id: uuid(&targets[0]["id"]),
        until_ms: Utc::now().timestamp_millis() + 86_400_000,
        at: now_string(),
    };
    app.store.apply(&[defer]).await.expect("defer");
    retried(&app, &c, &targets[1]).await;
    let e = a.get(&path).await.ok();
    assert_eq!(
        (e["outside_window"].as_u64(), e["retry_interval"].as_u64()),
        (Some(3), Some(1)),
        "{e}"
    );
    // Without the window, the due ones are dialable; the deferred one waits its next_at.
    a.put(
        &format!("/outplans/{outplan}"),
        &json!({"call_window": null}),
    )
    .await
    .ok();
    let e = a.get(&path).await.ok();
    assert_eq!(
        (
            e["dialable_now"].as_u64(),
            e["outside_window"].as_u64(),
            e["retry_interval"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{e}"
    );
    // A campaign waiting for its start counts every waiting target as scheduled.
    let at = (Utc::now() + Duration::hours(1)).to_rfc3339();
    a.put(&format!("/campaigns/{id}"), &json!({"scheduled_at": at}))
        .await
        .ok();
    a.put(
        &format!("/campaigns/{id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .ok();
    let e = a.get(&path).await.ok();
    assert_eq!(
        (e["status"].as_str(), e["scheduled"].as_u64()),
        (Some("scheduled"), Some(4)),
        "{e}"
    );
    let counts = app
        .store
        .count_targets(uuid(&c["outdial_id"]), 0)
        .await
        .ok();
    assert_eq!(counts.map(|c| c.queued), Some(4));
}
