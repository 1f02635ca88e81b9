//! The campaign the load runners dial: one try per target, numbers that SIPp's
//! `uas_by_number.xml` answers (+155501 followed by seven digits from 1000000).

use ringmaster::demo::sample;
use ringmaster::domain::{Action, Campaign};
use ringmaster::store::Store;
use uuid::Uuid;

/// Creates a sample campaign of `targets` targets, each tried once. With `FLOW_SLEEP_MS` set,
/// each answered call runs a flow that holds its media session that long (`sleep`, then
/// `hangup`) instead of hanging up at once.
pub async fn one_try_campaign(store: &dyn Store, targets: usize) -> anyhow::Result<Campaign> {
    let numbers: Vec<String> = (0..targets)
        .map(|i| format!("+155501{:07}", 1_000_000 + i))
        .collect();
    let plan = sample::Plan {
        dial_timeout: 10_000,
        try_interval: 1000,
        max_tries: 1,
    };
    let actions = match std::env::var("FLOW_SLEEP_MS") {
        Ok(ms) => vec![
            Action {
                id: Uuid::nil(),
                next_id: Uuid::nil(),
                kind: "sleep".into(),
                option: serde_json::json!({ "duration": ms.parse::<u64>()? }),
            },
            Action {
                id: Uuid::nil(),
                next_id: Uuid::nil(),
                kind: "hangup".into(),
                option: serde_json::Value::Null,
            },
        ],
        Err(_) => Vec::new(),
    };
    sample::create(store, &numbers, plan, actions).await
}
