//! Outplan: how and when to dial (caller id, dial timeout, retry counts and interval).

use super::call_window::{CallWindow, SourceStrategy};
use super::{Address, Disposition};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Number of destination slots a target has (`destination_0` .. `destination_4`).
pub const SLOTS: usize = 5;

/// `/outplans` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outplan {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// Caller id.
    pub source: Address,
    /// Give up (CANCEL) after this many ms without answer.
    pub dial_timeout: u64,
    /// Wait this many ms before the next try of a target.
    pub try_interval: u64,
    /// Attempts allowed on `destination_0`.
    pub max_try_count_0: u32,
    /// Attempts allowed on `destination_1`.
    pub max_try_count_1: u32,
    /// Attempts allowed on `destination_2`.
    pub max_try_count_2: u32,
    /// Attempts allowed on `destination_3`.
    pub max_try_count_3: u32,
    /// Attempts allowed on `destination_4`.
    pub max_try_count_4: u32,
    /// ringmaster adds: the dispositions that are retried (default busy, no_answer, failed,
    /// unknown).
    pub retry_dispositions: Vec<Disposition>,
    /// ringmaster adds: each further try of a target waits `try_interval * backoff^(n-1)`.
    pub backoff: f64,
    /// ringmaster adds: do-not-call lists checked before each dial, besides the customer's
    /// default list, which always applies.
    #[serde(default)]
    pub dnclist_ids: Vec<Uuid>,
    /// ringmaster adds: the local hours, days and holidays a callee may be called (none:
    /// any time).
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::call_window::CallWindowText>)]
    pub call_window: Option<CallWindow>,
    /// ringmaster adds: the IANA zone of callees whose zone is neither given nor derived from
    /// their number (empty: UTC).
    #[serde(default)]
    pub timezone: String,
    /// ringmaster adds: caller ids to pick from for each call (empty: `source` alone).
    #[serde(default)]
    pub sources: Vec<Address>,
    /// ringmaster adds: how a caller id is picked from `sources`.
    #[serde(default)]
    pub source_strategy: SourceStrategy,
    /// ringmaster adds: local times (`HH:MM`, in the callee's zone) retries are moved to: a
    /// retry is due at the first of them once `try_interval` has passed (empty: at once).
    #[serde(default)]
    pub retry_at: Vec<String>,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted (`9999-01-01 00:00:00.000000` while live).
    pub tm_delete: String,
}

impl Outplan {
    /// The dispositions retried when an outplan does not say.
    pub const DEFAULT_RETRY: [Disposition; 4] = [
        Disposition::Busy,
        Disposition::NoAnswer,
        Disposition::Failed,
        Disposition::Unknown,
    ];

    /// `max_try_count_N` as an array.
    pub fn max_tries(&self) -> [u32; SLOTS] {
        [
            self.max_try_count_0,
            self.max_try_count_1,
            self.max_try_count_2,
            self.max_try_count_3,
            self.max_try_count_4,
        ]
    }
}
