//! A sample campaign written straight into the store: what the demo and the load runner dial.

use super::CUSTOMER;
use crate::domain::outdial::TargetStatus;
use crate::domain::{
    time, Action, Address, Campaign, CampaignStatus, Destinations, Outdial, Outplan, Target,
    TryCounts, E164,
};
use crate::store::{Docs, NewTarget, Store};
use uuid::Uuid;

/// The outplan of a sample campaign.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// CANCEL after this many ms.
    pub dial_timeout: u64,
    /// Wait between tries, ms.
    pub try_interval: u64,
    /// Tries per target.
    pub max_tries: u32,
}

/// An appointment reminder: speak (interruptible), wait for one key, record the answer, say
/// goodbye, hang up.
pub fn reminder_actions() -> Vec<Action> {
    let confirm = Uuid::from_u128(1);
    let cancel = Uuid::from_u128(2);
    let goodbye = Uuid::from_u128(3);
    vec![
        action(
            "talk",
            serde_json::json!({
            "text": "Hello {{name}}. This is a reminder of your appointment tomorrow at {{appointment}}. Press 1 to confirm, or 2 to cancel.",
            "language": "en-US", "digits_handle": "next"}),
        ),
        action(
            "digits_receive",
            serde_json::json!({"duration": 5000, "length": 1}),
        ),
        action(
            "branch",
            serde_json::json!({
            "target_ids": {"1": confirm.to_string(), "2": cancel.to_string()},
            "default_target_id": goodbye.to_string()}),
        ),
        Action {
            id: confirm,
            next_id: goodbye,
            ..action(
                "variable_set",
                serde_json::json!({"key": "answer", "value": "confirmed"}),
            )
        },
        Action {
            id: cancel,
            ..action(
                "variable_set",
                serde_json::json!({"key": "answer", "value": "cancelled"}),
            )
        },
        Action {
            id: goodbye,
            ..action(
                "talk",
                serde_json::json!({"text": "Thank you. Goodbye.", "language": "en-US"}),
            )
        },
        action("hangup", serde_json::Value::Null),
    ]
}

fn action(kind: &str, option: serde_json::Value) -> Action {
    Action {
        id: Uuid::nil(),
        next_id: Uuid::nil(),
        kind: kind.into(),
        option,
    }
}

/// Creates an outplan, an outdial with one target per number, and a campaign in `run`.
pub async fn create(
    store: &dyn Store,
    numbers: &[String],
    plan: Plan,
    actions: Vec<Action>,
) -> anyhow::Result<Campaign> {
    let docs = Docs(store);
    let now = time::now_string();
    let outplan = Outplan {
        id: Uuid::new_v4(),
        customer_id: CUSTOMER,
        name: "sample outplan".into(),
        detail: String::new(),
        source: Address::tel(E164::parse("+15551230000")?),
        dial_timeout: plan.dial_timeout,
        try_interval: plan.try_interval,
        max_try_count_0: plan.max_tries,
        max_try_count_1: 0,
        max_try_count_2: 0,
        max_try_count_3: 0,
        max_try_count_4: 0,
        retry_dispositions: Outplan::DEFAULT_RETRY.to_vec(),
        backoff: 1.0,
        dnclist_ids: Vec::new(),
        call_window: None,
        timezone: String::new(),
        sources: Vec::new(),
        source_strategy: Default::default(),
        retry_at: Vec::new(),
        tm_create: now.clone(),
        tm_update: now.clone(),
        tm_delete: time::NEVER.into(),
    };
    docs.put(&outplan).await?;
    let outdial = Outdial {
        id: Uuid::new_v4(),
        customer_id: CUSTOMER,
        campaign_id: Uuid::nil(),
        name: "sample targets".into(),
        detail: String::new(),
        data: String::new(),
        tm_create: now.clone(),
        tm_update: now.clone(),
        tm_delete: time::NEVER.into(),
    };
    docs.put(&outdial).await?;
    let names = [
        "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
    ];
    let new_targets = numbers
        .iter()
        .enumerate()
        .map(|(i, number)| {
            let number = E164::parse(number)?;
            let mut data = serde_json::Map::new();
            data.insert("appointment".into(), format!("{}:00", 9 + i % 8).into());
            Ok(NewTarget {
                dedupe: number.to_string(),
                target: Target {
                    // Time-ordered, as the API gives every target it creates: the indexes
                    // keyed by target take the campaign's calls in dialing order.
                    id: Uuid::now_v7(),
                    outdial_id: outdial.id,
                    name: names[i % names.len()].into(),
                    detail: String::new(),
                    data,
                    status: TargetStatus::Idle,
                    result: String::new(),
                    destinations: Destinations {
                        destination_0: Some(Address::tel(number)),
                        ..Destinations::default()
                    },
                    tries: TryCounts::default(),
                    timezone: String::new(),
                    zones: Vec::new(),
                    tm_create: now.clone(),
                    tm_update: now.clone(),
                    tm_delete: time::NEVER.into(),
                },
            })
        })
        .collect::<Result<Vec<_>, crate::domain::phone::PhoneError>>()?;
    store.insert_targets(new_targets).await?;
    let campaign = Campaign {
        name: "sample campaign".into(),
        detail: "appointment reminders".into(),
        status: CampaignStatus::Run,
        actions,
        outplan_id: outplan.id,
        outdial_id: outdial.id,
        tm_create: now.clone(),
        tm_update: now,
        ..Campaign::new(CUSTOMER)
    };
    docs.put(&campaign).await?;
    Ok(campaign)
}
