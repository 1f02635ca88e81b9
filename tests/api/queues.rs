//! Queues: CRUD by their customer only, routing methods, timeouts, wait flows and actions,
//! the live call lists, and a campaign's `queue_id` naming one of them.

use crate::helpers::spawn_app;
use ringmaster::domain::time::NEVER;
use ringmaster::queue::QueueLive;
use serde_json::json;
use uuid::Uuid;

const TAG: &str = "d7450dda-21e0-4611-b09a-8d771c50a5e6";

#[tokio::test]
async fn a_queue_is_created_read_listed_updated_and_deleted_by_its_customer_only() {
    let app = spawn_app().await;
    let a = app.a();
    let queue = a
        .post(
            "/queues",
            &json!({
                "name": "sales",
                "detail": "d",
                "routing_method": "longest_idle",
                "tag_ids": [TAG],
                "wait_actions": [{"type": "talk", "option": {"text": "Please wait."}}],
                "wait_timeout": 100000,
                "service_timeout": 600000,
                "wrap_up_time": 5000
            }),
        )
        .await
        .ok();
    let id = queue["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(queue["routing_method"], "longest_idle");
    assert_eq!(queue["tag_ids"], json!([TAG]));
    assert_eq!(queue["wait_actions"][0]["type"], "talk");
    assert_eq!(queue["wait_flow_id"], json!(Uuid::nil()));
    assert_eq!(
        (queue["wait_timeout"].clone(), queue["wrap_up_time"].clone()),
        (json!(100000), json!(5000))
    );
    for counter in [
        "total_incoming_count",
        "total_serviced_count",
        "total_abandoned_count",
    ] {
        assert_eq!(queue[counter], 0, "{counter}");
    }
    assert_eq!(queue["wait_queuecall_ids"], json!([]));
    assert_eq!(queue["service_queuecall_ids"], json!([]));
    assert_eq!(queue["tm_delete"], NEVER);

    assert_eq!(a.get(&format!("/queues/{id}")).await.ok()["name"], "sales");
    assert_eq!(a.get("/queues").await.ok()["result"][0]["id"], id.as_str());
    assert_eq!(app.b().get(&format!("/queues/{id}")).await.status, 404);
    assert_eq!(app.b().get("/queues").await.ok()["result"], json!([]));
    assert_eq!(app.b().delete(&format!("/queues/{id}")).await.status, 404);

    // The live call lists come from the node's board.
    let (waiting, serving) = (Uuid::new_v4(), Uuid::new_v4());
    app.queues.set(
        Uuid::parse_str(&id).unwrap_or_default(),
        QueueLive {
            waiting: vec![waiting],
            serving: vec![serving],
            oldest_join: Some(std::time::Instant::now() - std::time::Duration::from_secs(3)),
        },
    );
    let got = a.get(&format!("/queues/{id}")).await.ok();
    assert_eq!(got["wait_queuecall_ids"], json!([waiting]));
    assert_eq!(got["service_queuecall_ids"], json!([serving]));

    // The counters are the queue's own, added in the store; the stats add waits and the
    // service level.
    use ringmaster::store::{QueueCounts, Store};
    let queue_id = Uuid::parse_str(&id).unwrap_or_default();
    let counts = QueueCounts {
        incoming: 5,
        serviced: 3,
        abandoned: 1,
        wait_ms: 40_000,
        answered_in_time: 3,
    };
    assert!(app.store.add_queue_counts(queue_id, counts).await.is_ok());
    let got = a.get(&format!("/queues/{id}")).await.ok();
    assert_eq!(
        (
            &got["total_incoming_count"],
            &got["total_serviced_count"],
            &got["total_abandoned_count"]
        ),
        (&json!(5), &json!(3), &json!(1))
    );
    let stats = a.get(&format!("/queues/{id}/stats")).await.ok();
    assert_eq!(stats["waiting_count"], 1, "{stats}");
    assert_eq!(stats["serving_count"], 1, "{stats}");
    assert!(
        stats["longest_wait_ms"].as_u64().unwrap_or(0) >= 3_000,
        "{stats}"
    );
    assert_eq!(stats["average_wait_ms"], 10_000, "{stats}");
    assert_eq!(stats["service_level"], 75.0, "{stats}");
    assert_eq!(stats["service_level_time"], 20_000, "{stats}");
    assert_eq!(
        app.b().get(&format!("/queues/{id}/stats")).await.status,
        404
    );

    // A read answer sent back with one change: counters and live lists are ignored.
    let mut edited = got.clone();
    edited["routing_method"] = json!("round_robin");
    edited["wait_actions"] = json!([]);
    let updated = a.put(&format!("/queues/{id}"), &edited).await.ok();
    assert_eq!(updated["routing_method"], "round_robin");
    assert_eq!(updated["wait_timeout"], 100000);
    assert_ne!(updated["tm_update"], NEVER);
    assert_eq!(
        updated["total_incoming_count"], 5,
        "an update keeps the counters"
    );
    assert_eq!(updated["ring_timeout"], 0);
    let tuned = a
        .put(
            &format!("/queues/{id}"),
            &json!({"ring_timeout": 4000, "service_level_time": 30000, "wait_announce_position": true}),
        )
        .await
        .ok();
    assert_eq!(
        (
            &tuned["ring_timeout"],
            &tuned["service_level_time"],
            &tuned["wait_announce_position"]
        ),
        (&json!(4000), &json!(30000), &json!(true))
    );
    a.put(&format!("/queues/{id}"), &json!({"ring_timeout": 300_001}))
        .await
        .invalid("ring_timeout: ");
    a.put(
        &format!("/queues/{id}"),
        &json!({"wait_announce_position": "yes"}),
    )
    .await
    .invalid("wait_announce_position: ");

    let deleted = a.delete(&format!("/queues/{id}")).await.ok();
    assert_ne!(deleted["tm_delete"], NEVER);
    assert_eq!(a.get(&format!("/queues/{id}")).await.status, 404);
}

#[tokio::test]
async fn every_routing_method_is_accepted_and_nothing_else() {
    let app = spawn_app().await;
    for method in [
        "random",
        "round_robin",
        "longest_idle",
        "least_talk_time",
        "fewest_calls",
        "ring_all",
    ] {
        let q = app
            .a()
            .post("/queues", &json!({"routing_method": method}))
            .await
            .ok();
        assert_eq!(q["routing_method"], method);
    }
    let default = app.a().post("/queues", &json!({})).await.ok();
    assert_eq!(default["routing_method"], "random");
    for bad in [json!("linear"), json!(""), json!(3)] {
        app.a()
            .post("/queues", &json!({"routing_method": bad}))
            .await
            .invalid("routing_method: ");
    }
}

#[tokio::test]
async fn bad_queue_fields_are_refused_naming_them() {
    let app = spawn_app().await;
    let a = app.a();
    let other_flow = app
        .b()
        .post("/flows", &json!({"name": "b's", "actions": []}))
        .await
        .ok();
    let cases = [
        (
            json!({"wait_timeout": -1}),
            "wait_timeout: must be a number of ms",
        ),
        (
            json!({"wait_timeout": 86_400_001}),
            "wait_timeout: must be a number of ms",
        ),
        (
            json!({"service_timeout": "long"}),
            "service_timeout: must be a number of ms",
        ),
        (json!({"wrap_up_time": 3_600_001}), "wrap_up_time: "),
        (json!({"tag_ids": [TAG, "x"]}), "tag_ids[1]: must be a UUID"),
        (
            json!({"wait_flow_id": Uuid::new_v4()}),
            "wait_flow_id: no flow",
        ),
        (
            json!({"wait_flow_id": other_flow["id"]}),
            "wait_flow_id: no flow",
        ),
        (
            json!({"wait_actions": [{"type": "sleep", "option": {}}]}),
            "wait_actions[0].option.duration",
        ),
        (
            json!({"wait_actions": [{"type": "dance"}]}),
            "wait_actions[0]",
        ),
        (
            json!({"timeout_wait": 1, "wait_timeout": 1}),
            "timeout_wait: the same as wait_timeout",
        ),
        (
            json!({"timeout_service": -5}),
            "timeout_service: must be a number of ms",
        ),
        (json!({"skills": [], "name": "q"}), "skills: not supported"),
        (
            json!({"total_serviced_count": 5}),
            "total_serviced_count: read only",
        ),
    ];
    for (body, prefix) in cases {
        a.post("/queues", &body).await.invalid(prefix);
    }
    let flow = a
        .post("/flows", &json!({"name": "hold music", "actions": [{"type": "sleep", "option": {"duration": 1000}}]}))
        .await
        .ok();
    let with_flow = a
        .post("/queues", &json!({"wait_flow_id": flow["id"]}))
        .await
        .ok();
    assert_eq!(with_flow["wait_flow_id"], flow["id"]);
    let flow_path = format!("/flows/{}", flow["id"].as_str().unwrap_or_default());
    let in_use = a.delete(&flow_path).await;
    assert_eq!(in_use.status, 409, "{}", in_use.body);
    assert!(in_use
        .message()
        .starts_with("flow is the wait flow of queue"));
    let id = with_flow["id"].as_str().unwrap_or_default();
    a.put(
        &format!("/queues/{id}"),
        &json!({"wait_actions": [{"type": "sleep", "option": {"duration": 1000}}]}),
    )
    .await
    .invalid("wait_actions: a queue has wait_flow_id or wait_actions, not both");
    a.put(&format!("/queues/{id}"), &json!({"wait_flow_id": ""}))
        .await
        .ok();
    a.delete(&flow_path).await.ok();
}

#[tokio::test]
async fn a_campaign_names_only_an_existing_queue_of_its_customer() {
    let app = spawn_app().await;
    let a = app.a();
    let (outplan, outdial) = (a.outplan().await, a.outdial().await);
    let body = |queue: serde_json::Value| json!({"name": "c", "outplan_id": outplan, "outdial_id": outdial, "queue_id": queue});
    a.post("/campaigns", &body(json!(Uuid::new_v4())))
        .await
        .invalid("queue_id: no queue");
    let theirs = app.b().post("/queues", &json!({"name": "b's"})).await.ok();
    a.post("/campaigns", &body(theirs["id"].clone()))
        .await
        .invalid("queue_id: no queue");
    let queue = a.post("/queues", &json!({"name": "sales"})).await.ok();
    let campaign = a.post("/campaigns", &body(queue["id"].clone())).await.ok();
    assert_eq!(campaign["queue_id"], queue["id"]);
    let id = campaign["id"].as_str().unwrap_or_default();
    a.put(
        &format!("/campaigns/{id}"),
        &json!({"queue_id": Uuid::new_v4()}),
    )
    .await
    .invalid("queue_id: no queue");
    let cleared = a
        .put(&format!("/campaigns/{id}"), &json!({"queue_id": ""}))
        .await
        .ok();
    assert_eq!(cleared["queue_id"], json!(Uuid::nil()));
}

#[tokio::test]
async fn the_voipbin_tutorial_create_body_is_accepted() {
    let app = spawn_app().await;
    let body = r#"{
        "name": "test queue",
        "detail": "test queue detail",
        "routing_method": "random",
        "tag_ids": [
            "d7450dda-21e0-4611-b09a-8d771c50a5e6"
        ],
        "wait_actions": [
            {
                "type": "talk",
                "option": {
                    "text": "All of the agents are busy. Thank you for your waiting.",
                    "language": "en-US"
                }
            },
            {
                "type": "sleep",
                "option": {
                    "duration": 10000
                }
            }

        ],
        "timeout_wait": 100000,
        "timeout_service": 10000000
    }"#;
    let q = app
        .a()
        .post_raw("/queues", "application/json", body)
        .await
        .ok();
    assert_eq!(
        (q["wait_timeout"].as_u64(), q["service_timeout"].as_u64()),
        (Some(100_000), Some(10_000_000))
    );
    assert_eq!(q["wait_actions"][1]["option"]["duration"], 10000);
    assert!(q.get("timeout_wait").is_none());
}

#[tokio::test]
async fn a_queue_of_a_running_campaign_cannot_be_deleted() {
    let app = spawn_app().await;
    let a = app.a();
    let campaign = a.runnable_campaign().await;
    let id = campaign["id"].as_str().unwrap_or_default();
    let queue = a.queue().await;
    a.put(&format!("/campaigns/{id}"), &json!({"queue_id": queue}))
        .await
        .ok();
    a.put(
        &format!("/campaigns/{id}/status"),
        &json!({"status": "run"}),
    )
    .await
    .ok();
    let gone = a.delete(&format!("/queues/{queue}")).await;
    assert_eq!(gone.status, 409, "{}", gone.body);
    assert!(
        gone.message().starts_with("queue is used by campaign"),
        "{}",
        gone.body
    );
}
