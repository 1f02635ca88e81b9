//! `GET /metrics`: the Prometheus exposition, behind the metrics token when one is set, with
//! the live boards' figures and API request durations labelled by route pattern, never by
//! the raw path.

use crate::helpers::{spawn_app, METRICS_TOKEN, TOKEN_A};
use ringmaster::agent::live::AgentLive;
use ringmaster::agent::AgentState;
use ringmaster::queue::QueueLive;
use uuid::Uuid;

#[tokio::test]
async fn metrics_ask_for_their_own_token_and_show_boards_and_routes_by_pattern() {
    let app = spawn_app().await;
    let url = format!("{}/metrics", app.origin);
    let status = |r: reqwest::Response| r.status().as_u16();
    let none = app.client.get(&url).send().await.expect("sent");
    assert_eq!(status(none), 401);
    let tenant = app
        .client
        .get(&url)
        .bearer_auth(TOKEN_A)
        .send()
        .await
        .expect("sent");
    assert_eq!(status(tenant), 401, "an API token is not the metrics token");

    let agent = Uuid::new_v4();
    app.agents.set(
        agent,
        AgentLive {
            state: AgentState::Available,
            ..AgentLive::offline()
        },
    );
    let queue = Uuid::new_v4();
    let waiting = vec![Uuid::new_v4(), Uuid::new_v4()];
    app.queues.set(
        queue,
        QueueLive {
            waiting,
            ..QueueLive::default()
        },
    );
    let campaign = app.a().campaign().await;
    let id = campaign["id"].as_str().expect("campaign id");
    assert_eq!(app.a().get(&format!("/campaigns/{id}")).await.status, 200);

    let scraped = app
        .client
        .get(format!("{url}?token={METRICS_TOKEN}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(scraped.status().as_u16(), 200);
    let content_type = scraped.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = scraped.text().await.expect("body");
    assert!(
        text.contains("ringmaster_agents{state=\"available\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("ringmaster_agents{state=\"busy\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "ringmaster_queue_waiting{{queue_id=\"{queue}\"}} 2\n"
        )),
        "{text}"
    );
    assert!(text.contains(
        "ringmaster_http_request_duration_seconds_count{route=\"/v1.0/campaigns/{id}\",method=\"GET\",status=\"200\"}"
    ), "{text}");
    assert!(!text.contains(id), "a raw path became a label: {text}");
    assert!(text.contains("# TYPE ringmaster_store_commit_seconds histogram\n"));
    assert!(text.contains("process_start_time_seconds "));
}
