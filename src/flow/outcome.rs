//! What one run of a flow did: the actions it ran, in order, with their results, the digits
//! collected and the variables it set. Stored as a campaigncall's `flow_result`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How one action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    /// It did what it says (a prompt played to its end, digits collected, a webhook answered).
    Ok,
    /// An interruptible prompt stopped at a key press.
    Interrupted,
    /// It failed (see `reason`); the flow went on.
    Failed,
    /// Not run: the action type is not supported yet.
    Skipped,
    /// A `branch` or `goto` jumped (see `target_id`).
    Jumped,
    /// A `branch` matched nothing and had no default, or a `goto` used up its `loop_count`.
    FellThrough,
    /// Still running when the call ended.
    Unfinished,
}

/// One action run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRun {
    /// The action's id (nil when it has none).
    pub id: Uuid,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// How it ended.
    pub result: RunResult,
    /// What it read or wrote: the digits of `digits_receive`, the value a `branch` tested, the
    /// value of `variable_set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The HTTP status a `webhook_send` got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Where a `branch` or `goto` jumped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<Uuid>,
    /// Why it failed or was skipped; the reason of a `hangup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ActionRun {
    /// A run of an action with no detail yet.
    pub fn new(id: Uuid, kind: &str, result: RunResult) -> ActionRun {
        ActionRun {
            id,
            kind: kind.to_string(),
            result,
            value: None,
            status: None,
            target_id: None,
            reason: None,
        }
    }
}

/// What a flow did on one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowOutcome {
    /// The actions run, in order (an action run twice appears twice).
    pub actions: Vec<ActionRun>,
    /// The digits the last `digits_receive` collected (`""` when none did).
    pub digits: String,
    /// The variables the flow set (`variable_set`, `voipbin.call.digits`), with their last
    /// value; the built-ins it was started with are not repeated.
    pub variables: BTreeMap<String, String>,
}

impl FlowOutcome {
    /// As stored in a campaigncall's `flow_result`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The flow variable an `amd` sets to `human`, `machine` or `notsure`.
pub const AMD_RESULT: &str = "amd.result";

/// What the last `amd` action of a flow's recorded outcome (`FlowOutcome::to_value`) found:
/// `human`, `machine` or `notsure` (the `amd.result` variable it set).
pub fn amd_result(flow_result: &serde_json::Value) -> Option<&str> {
    flow_result.get("variables")?.get(AMD_RESULT)?.as_str()
}

/// What the last `digits_receive` of a flow's recorded outcome (`FlowOutcome::to_value`)
/// collected (`""` when none did).
pub fn collected_digits(flow_result: &serde_json::Value) -> Option<&str> {
    flow_result.get("digits")?.as_str()
}

/// Whether a flow's recorded outcome (`FlowOutcome::to_value`) ran an `opt_out` action.
pub fn opted_out(flow_result: &serde_json::Value) -> bool {
    flow_result
        .get("actions")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|runs| {
            runs.iter().any(|run| {
                run.get("type").and_then(serde_json::Value::as_str) == Some("opt_out")
                    && run.get("result").and_then(serde_json::Value::as_str) == Some("ok")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_opt_out_run_is_seen_in_the_stored_outcome() {
        let mut outcome = FlowOutcome::default();
        assert!(!opted_out(&outcome.to_value()));
        outcome
            .actions
            .push(ActionRun::new(Uuid::nil(), "opt_out", RunResult::Ok));
        assert!(opted_out(&outcome.to_value()));
        assert!(!opted_out(&json!(null)));
    }

    #[test]
    fn an_outcome_serialises_in_the_shape_of_flow_result() {
        let mut run = ActionRun::new(Uuid::nil(), "digits_receive", RunResult::Ok);
        run.value = Some("1".into());
        let outcome = FlowOutcome {
            actions: vec![run],
            digits: "1".into(),
            variables: BTreeMap::from([("voipbin.call.digits".into(), "1".into())]),
        };
        assert_eq!(
            outcome.to_value(),
            json!({
                "actions": [{"id": Uuid::nil(), "type": "digits_receive", "result": "ok", "value": "1"}],
                "digits": "1",
                "variables": {"voipbin.call.digits": "1"}
            })
        );
    }
}
