//! Campaigncall lists filtered by disposition and by agent, combined with each other and with
//! the keyset pages, and the 400s of filters that do not parse.

use crate::helpers::{spawn_app, TestApp};
use ringmaster::domain::time::now_string;
use ringmaster::domain::Disposition;
use ringmaster::store::{AttemptEnd, Commits, Served, TargetNext, WriteOp};
use serde_json::Value;
use uuid::Uuid;

/// Plays the dialing engine: one ended attempt of `campaign` on `target`, taken by `agent`
/// when given; its id.
async fn attempt(
    app: &TestApp,
    campaign: &Value,
    target: &Value,
    disposition: Disposition,
    agent: Option<Uuid>,
) -> String {
    let _uuid = |v: &Value| Uuid::parse_str(v.as_str().unwrap_or_default()).expect("a uuid");
    let call = crate::helpers::dialing_call(
        app.customer_a,
        campaign,
        target,
        target["destination_0"]["target"]
            .as_str()
            .unwrap_or_default(),
    );
    let end = AttemptEnd {
        campaigncall_id: call.id,
        campaign_id: call.campaign_id,
        target_id: call.outdial_target_id,
        outdial_id: call.outdial_id,
        disposition,
        sip_code: None,
        reason: String::new(),
        hangup_by: None,
        setup_ms: 10,
        talk_ms: 0,
        next: TargetNext::Done(if disposition.reached() {
            "success"
        } else {
            "fail"
        }),
        at: now_string(),
        flow_result: None,
        served: agent.map(|agent| Served {
            queue_id: None,
            agent_id: Some(agent),
            wait_ms: Some(500),
        }),
    };
    let id = call.id.to_string();
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

/// The ids of a list answer, in order.
fn ids(page: &Value) -> Vec<String> {
    page["result"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|c| c["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn lists_filter_by_disposition_and_agent_page_by_page_and_refuse_what_does_not_parse() {
    let app = spawn_app().await;
    let a = app.a();
    let campaign = a.campaign().await;
    let id = campaign["id"].as_str().unwrap_or_default().to_string();
    let outdial = campaign["outdial_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let plan = [
        (Disposition::Answered, Some(alice)),
        (Disposition::Busy, None),
        (Disposition::Answered, Some(bob)),
        (Disposition::NoAnswer, None),
        (Disposition::Answered, Some(alice)),
        (Disposition::Busy, None),
    ];
    let mut made = Vec::new();
    for (i, (disposition, agent)) in plan.iter().enumerate() {
        let target = a.target(&outdial, &format!("+1555123400{i}")).await;
        made.push(attempt(&app, &campaign, &target, *disposition, *agent).await);
    }
    // Newest first, as every list.
    let picked = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..made.len())
            .rev()
            .filter(|&i| keep(i))
            .map(|i| made[i].clone())
            .collect()
    };
    let of = |q: &str| format!("/campaigns/{id}/campaigncalls?{q}");

    let busy = a.get(&of("disposition=busy")).await.ok();
    assert_eq!(ids(&busy), picked(&|i| plan[i].0 == Disposition::Busy));
    let alices = a.get(&of(&format!("agent_id={alice}"))).await.ok();
    assert_eq!(ids(&alices), picked(&|i| plan[i].1 == Some(alice)));
    let both = a
        .get(&of(&format!("disposition=answered&agent_id={bob}")))
        .await
        .ok();
    assert_eq!(ids(&both), [made[2].clone()]);
    let none = a
        .get(&of(&format!("disposition=busy&agent_id={alice}")))
        .await
        .ok();
    assert_eq!(ids(&none), Vec::<String>::new());
    // An empty filter, as an empty select sends it, keeps every call.
    let all = a.get(&of("disposition=&agent_id=")).await.ok();
    assert_eq!(ids(&all), picked(&|_| true));

    // One answered call a page: the pages carry on after each other and end.
    let mut walked = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let page = a
            .get(&of(&format!(
                "disposition=answered&page_size=1&page_token={token}"
            )))
            .await
            .ok();
        walked.extend(ids(&page));
        token = page["next_page_token"].as_str().unwrap_or_default().into();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(walked, picked(&|i| plan[i].0 == Disposition::Answered));

    // Across campaigns, and scoped to the customer.
    let across = a.get("/campaigncalls?disposition=no_answer").await.ok();
    assert_eq!(ids(&across), [made[3].clone()]);
    let other = app
        .b()
        .get("/campaigncalls?disposition=no_answer")
        .await
        .ok();
    assert_eq!(ids(&other), Vec::<String>::new());

    a.get(&of("disposition=hung_up"))
        .await
        .invalid("disposition: unknown disposition \"hung_up\"; one of answered, busy");
    a.get("/campaigncalls?agent_id=alice")
        .await
        .invalid("agent_id: \"alice\" is not a UUID");

    // A campaign's page is checked in the page's own statement: another customer's campaign,
    // one that does not exist and a deleted one answer 404, not an empty page.
    assert_eq!(app.b().get(&of("")).await.status, 404);
    let missing = format!("/campaigns/{}/campaigncalls", Uuid::new_v4());
    assert_eq!(a.get(&missing).await.status, 404);
    let fresh = a.campaign().await;
    let empty = a
        .get(&format!(
            "/campaigns/{}/campaigncalls",
            fresh["id"].as_str().unwrap_or_default()
        ))
        .await
        .ok();
    assert_eq!(
        ids(&empty),
        Vec::<String>::new(),
        "a campaign with no call yet"
    );
    assert_eq!(a.delete(&format!("/campaigns/{id}")).await.status, 200);
    assert_eq!(a.get(&of("")).await.status, 404);
}
