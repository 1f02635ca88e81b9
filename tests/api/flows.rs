//! Flows: CRUD, action validation naming the action, campaigns running a flow through
//! `flow_id`, and each campaigncall's `flow_result` with the `?digits=` filter.

use crate::helpers::{id_of, spawn_app, TestApp};
use ringmaster::domain::time::{now_string, NEVER};
use ringmaster::domain::{Campaign, Disposition};
use ringmaster::flow::{Input, Runner, Variables};
use ringmaster::store::{resolve_actions, AttemptEnd, Commits, TargetNext, WriteOp};
use serde_json::{json, Value};
use uuid::Uuid;

const CONFIRM: &str = "33333333-3333-3333-3333-333333333333";
const CANCEL: &str = "44444444-4444-4444-4444-444444444444";
const RETRY: &str = "55555555-5555-5555-5555-555555555555";
const PROMPT: &str = "11111111-1111-1111-1111-111111111111";
const END: &str = "66666666-6666-6666-6666-666666666666";

/// The appointment reminder of `docs/flows.md`.
fn reminder() -> Value {
    json!([
        {"id": PROMPT, "type": "talk", "option": {"text": "Hello {{name}}, press 1 to confirm, 2 to cancel.", "digits_handle": "next"}},
        {"type": "digits_receive", "option": {"duration": 5000, "length": 1}},
        {"type": "branch", "option": {"target_ids": {"1": CONFIRM, "2": CANCEL}, "default_target_id": RETRY}},
        {"id": CONFIRM, "next_id": END, "type": "talk", "option": {"text": "Confirmed."}},
        {"id": CANCEL, "next_id": END, "type": "talk", "option": {"text": "Cancelled."}},
        {"id": RETRY, "next_id": END, "type": "goto", "option": {"target_id": PROMPT, "loop_count": 2}},
        {"id": END, "type": "hangup"}
    ])
}

#[tokio::test]
async fn a_flow_is_created_read_listed_updated_and_deleted_by_its_customer_only() {
    let app = spawn_app().await;
    let a = app.a();
    let flow = a
        .post(
            "/flows",
            &json!({"name": "reminder", "detail": "d", "actions": reminder()}),
        )
        .await
        .ok();
    let id = flow["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(flow["type"], "flow");
    assert_eq!(flow["customer_id"], json!(app.customer_a));
    assert_eq!(flow["actions"].as_array().map(Vec::len), Some(7));
    assert_eq!(flow["actions"][3]["next_id"], END);
    assert_eq!(flow["on_complete_flow_id"], json!(Uuid::nil()));
    assert_eq!(flow["tm_delete"], NEVER);

    assert_eq!(
        a.get(&format!("/flows/{id}")).await.ok()["name"],
        "reminder"
    );
    assert_eq!(a.get("/flows").await.ok()["result"][0]["id"], id.as_str());
    assert_eq!(app.b().get(&format!("/flows/{id}")).await.status, 404);
    assert_eq!(app.b().get("/flows").await.ok()["result"], json!([]));

    let updated = a
        .put(
            &format!("/flows/{id}"),
            &json!({"name": "short", "actions": [{"type": "hangup"}]}),
        )
        .await
        .ok();
    assert_eq!(
        (updated["name"].as_str(), updated["detail"].as_str()),
        (Some("short"), Some("d"))
    );
    assert_eq!(
        updated["actions"],
        json!([{"id": Uuid::nil(), "next_id": Uuid::nil(), "type": "hangup"}])
    );

    assert_ne!(
        a.delete(&format!("/flows/{id}")).await.ok()["tm_delete"],
        NEVER
    );
    assert_eq!(a.get(&format!("/flows/{id}")).await.status, 404);
}

#[tokio::test]
async fn invalid_flows_are_refused_naming_the_action_or_field() {
    let app = spawn_app().await;
    let a = app.a();
    let mut dangling = reminder();
    dangling[5]["option"]["target_id"] = json!(Uuid::nil().to_string().replace('0', "7"));
    a.post("/flows", &json!({"actions": dangling}))
        .await
        .invalid("actions[5].option.target_id: no action has id 77777777-");
    let mut branch = reminder();
    branch[2]["option"]["default_target_id"] = json!("99999999-9999-9999-9999-999999999999");
    a.post("/flows", &json!({"actions": branch}))
        .await
        .invalid("actions[2].option.default_target_id: no action has id 9999");
    a.post("/flows", &json!({"actions": [{"type": "goto"}]}))
        .await
        .invalid("actions[0].option.target_id: required for goto");
    a.post("/flows", &json!({"type": "conference"}))
        .await
        .invalid("type: ");
    a.post("/flows", &json!({"on_complete_flow_id": Uuid::new_v4()}))
        .await
        .invalid("on_complete_flow_id: no flow ");
}

/// A flow of customer A and a campaign of A's that runs it; returns (flow, campaign).
async fn campaign_running_a_flow(app: &TestApp) -> (Value, Value) {
    let a = app.a();
    let flow = a.post("/flows", &json!({"actions": reminder()})).await.ok();
    let (outplan, outdial) = (a.outplan().await, a.outdial().await);
    let campaign = a
        .post(
            "/campaigns",
            &json!({"outplan_id": outplan, "outdial_id": outdial, "flow_id": flow["id"]}),
        )
        .await
        .ok();
    a.target(&outdial, "+15551234567").await;
    (flow, campaign)
}

#[tokio::test]
async fn a_campaign_runs_its_own_actions_else_those_of_its_flow() {
    let app = spawn_app().await;
    let a = app.a();
    let (flow, campaign) = campaign_running_a_flow(&app).await;
    assert_eq!(campaign["flow_id"], flow["id"]);
    let parsed: Campaign = serde_json::from_value(campaign.clone()).expect("a campaign");
    let actions = resolve_actions(app.store.as_ref(), &parsed)
        .await
        .expect("resolved");
    assert_eq!(actions.len(), 7);
    assert_eq!(actions[0].id, Uuid::parse_str(PROMPT).unwrap_or_default());

    let id = campaign["id"].as_str().unwrap_or_default();
    let own = a
        .put(
            &format!("/campaigns/{id}/actions"),
            &json!({"actions": [{"type": "talk", "option": {"text": "own"}}]}),
        )
        .await
        .ok();
    let parsed: Campaign = serde_json::from_value(own).expect("a campaign");
    let actions = resolve_actions(app.store.as_ref(), &parsed)
        .await
        .expect("resolved");
    assert_eq!((actions.len(), actions[0].kind.as_str()), (1, "talk"));

    // The flow cannot go while the campaign runs.
    let flow_path = format!("/flows/{}", flow["id"].as_str().unwrap_or_default());
    a.put(
        &format!("/campaigns/{id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .ok();
    assert_eq!(a.delete(&flow_path).await.status, 409);
}

#[tokio::test]
async fn a_campaign_flow_id_must_name_a_flow_of_the_customer() {
    let app = spawn_app().await;
    let a = app.a();
    let (outplan, outdial) = (a.outplan().await, a.outdial().await);
    let body = |flow: Value| json!({"outplan_id": outplan, "outdial_id": outdial, "flow_id": flow});
    a.post("/campaigns", &body(json!(Uuid::new_v4())))
        .await
        .invalid("flow_id: no flow ");
    let theirs = id_of(app.b().post("/flows", &json!({"name": "b"})).await);
    a.post("/campaigns", &body(json!(theirs)))
        .await
        .invalid("flow_id: no flow ");
    let c = a.post("/campaigns", &body(json!(""))).await.ok();
    assert_eq!(c["flow_id"], json!(Uuid::nil()));
}

/// Plays the dialer: a campaigncall for a new target of the campaign, ended with what the
/// reminder did when the callee pressed `key`.
async fn call_pressing(app: &TestApp, campaign: &Value, phone: &str, key: char) -> Uuid {
    let outdial = campaign["outdial_id"].as_str().unwrap_or_default();
    let target = app
        .a()
        .post(
            &format!("/outdials/{outdial}/targets"),
            &json!({"name": "Ada", "destination_0": phone}),
        )
        .await
        .ok();
    let parsed: Campaign = serde_json::from_value(campaign.clone()).expect("a campaign");
    let actions = resolve_actions(app.store.as_ref(), &parsed)
        .await
        .expect("resolved");
    let mut runner = Runner::new(actions, Variables::new());
    runner.next(Input::Started);
    runner.next(Input::DigitPressed(key));
    runner.next(Input::Completed);

    let call = crate::helpers::dialing_call(app.customer_a, campaign, &target, phone);
    let end = AttemptEnd {
        campaigncall_id: call.id,
        campaign_id: call.campaign_id,
        target_id: call.outdial_target_id,
        outdial_id: call.outdial_id,
        disposition: Disposition::Answered,
        sip_code: Some(200),
        reason: "OK".into(),
        hangup_by: None,
        setup_ms: 10,
        talk_ms: 4000,
        next: TargetNext::Done("success"),
        at: now_string(),
        flow_result: Some(runner.outcome().to_value()),
        served: None,
    };
    let id = call.id;
    let applied = app
        .store
        .apply(&[
            WriteOp::Begin {
                call: Box::new(call),
                slot: 0,
                dnc_lists: Vec::new().into(),
            },
            WriteOp::End(Box::new(end)),
        ])
        .await
        .expect("engine writes");
    assert_eq!(applied, [true, true]);
    id
}

#[tokio::test]
async fn each_campaigncall_records_what_its_flow_did_and_lists_filter_on_the_digits() {
    let app = spawn_app().await;
    let a = app.a();
    let (_, campaign) = campaign_running_a_flow(&app).await;
    let confirmed = call_pressing(&app, &campaign, "+15551230001", '1').await;
    let cancelled = call_pressing(&app, &campaign, "+15551230002", '2').await;

    let call = a.get(&format!("/campaigncalls/{confirmed}")).await.ok();
    let result = &call["flow_result"];
    assert_eq!(result["digits"], "1");
    assert_eq!(result["variables"]["voipbin.call.digits"], "1");
    let kinds: Vec<&str> = result["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        ["talk", "digits_receive", "branch", "talk", "hangup"]
    );
    assert_eq!(result["actions"][0]["result"], "interrupted");
    assert_eq!(result["actions"][2]["target_id"], CONFIRM);

    let id = campaign["id"].as_str().unwrap_or_default();
    let pressed = |digits: &str| format!("/campaigns/{id}/campaigncalls?digits={digits}");
    let ones = a.get(&pressed("1")).await.ok();
    assert_eq!(ones["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(ones["result"][0]["id"], json!(confirmed));
    assert_eq!(
        a.get("/campaigncalls?digits=2").await.ok()["result"][0]["id"],
        json!(cancelled)
    );
    assert_eq!(a.get(&pressed("9")).await.ok()["result"], json!([]));
    // Empty: the calls whose flow collected nothing (both pressed a key).
    assert_eq!(a.get(&pressed("")).await.ok()["result"], json!([]));
    let all = a.get(&format!("/campaigns/{id}/campaigncalls")).await.ok();
    assert_eq!(all["result"].as_array().map(Vec::len), Some(2));
}
