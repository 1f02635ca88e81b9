//! Flow: a named list of actions that campaigns can share (`Campaign.flow_id`).

use super::Action;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The only flow type ringmaster runs.
pub const FLOW_TYPE: &str = "flow";

/// `/flows` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flow {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// Always `flow`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// The actions, validated like a campaign's.
    pub actions: Vec<Action>,
    /// A flow to run after this one completes (nil: none); stored, not run yet.
    pub on_complete_flow_id: Uuid,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}
