//! Outdial (a list of targets) and its targets.

use super::outplan::SLOTS;
use super::Address;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `/outdials` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outdial {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// The campaign it belongs to (nil when none).
    pub campaign_id: Uuid,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// Free-form data.
    pub data: String,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Waiting for its first or next try.
    Idle,
    /// A try is in flight.
    Progressing,
    /// No further try will be made.
    Done,
}

impl TargetStatus {
    /// Database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Idle => "idle",
            TargetStatus::Progressing => "progressing",
            TargetStatus::Done => "done",
        }
    }

    /// Parses the database name.
    pub fn parse(s: &str) -> Option<TargetStatus> {
        match s {
            "idle" => Some(TargetStatus::Idle),
            "progressing" => Some(TargetStatus::Progressing),
            "done" => Some(TargetStatus::Done),
            _ => None,
        }
    }
}

/// One person to reach: `/outdials/{id}/targets` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Target {
    /// Its id.
    pub id: Uuid,
    /// The outdial it belongs to.
    pub outdial_id: Uuid,
    /// Name (`{{name}}` in flows).
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// Per-target variables (CSV columns beyond the known ones).
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Where it stands.
    pub status: TargetStatus,
    /// ringmaster adds: `success`, `fail` or `""` while not done.
    pub result: String,
    /// `destination_0` .. `destination_4` (unset slots are `None`).
    #[serde(flatten)]
    pub destinations: Destinations,
    /// `try_count_0` .. `try_count_4`.
    #[serde(flatten)]
    pub tries: TryCounts,
    /// ringmaster adds: the callee's IANA zone as given (empty: derived from the number).
    #[serde(default)]
    pub timezone: String,
    /// ringmaster adds: the zones the call window must be open in: the given `timezone`, or
    /// those of `destination_0`'s country or area code (empty: the outplan's `timezone`).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub zones: Vec<chrono_tz::Tz>,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

/// The five destination slots, serialised as `destination_0` .. `destination_4`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Destinations {
    /// Slot 0.
    pub destination_0: Option<Address>,
    /// Slot 1.
    pub destination_1: Option<Address>,
    /// Slot 2.
    pub destination_2: Option<Address>,
    /// Slot 3.
    pub destination_3: Option<Address>,
    /// Slot 4.
    pub destination_4: Option<Address>,
}

impl Destinations {
    /// Builds the slots from an array.
    pub fn from_array(slots: [Option<Address>; SLOTS]) -> Destinations {
        let [d0, d1, d2, d3, d4] = slots;
        Destinations {
            destination_0: d0,
            destination_1: d1,
            destination_2: d2,
            destination_3: d3,
            destination_4: d4,
        }
    }

    /// The slot `i`, if set and not empty.
    pub fn get(&self, i: usize) -> Option<&Address> {
        let slot = match i {
            0 => &self.destination_0,
            1 => &self.destination_1,
            2 => &self.destination_2,
            3 => &self.destination_3,
            4 => &self.destination_4,
            _ => &None,
        };
        slot.as_ref().filter(|a| !a.is_empty())
    }

    /// Which slots are set.
    pub fn present(&self) -> [bool; SLOTS] {
        std::array::from_fn(|i| self.get(i).is_some())
    }
}

/// Tries made per destination slot, serialised as `try_count_0` .. `try_count_4`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TryCounts {
    /// Slot 0.
    pub try_count_0: u32,
    /// Slot 1.
    pub try_count_1: u32,
    /// Slot 2.
    pub try_count_2: u32,
    /// Slot 3.
    pub try_count_3: u32,
    /// Slot 4.
    pub try_count_4: u32,
}

impl TryCounts {
    /// As an array.
    pub fn to_array(self) -> [u32; SLOTS] {
        [
            self.try_count_0,
            self.try_count_1,
            self.try_count_2,
            self.try_count_3,
            self.try_count_4,
        ]
    }

    /// From an array.
    pub fn from_array(a: [u32; SLOTS]) -> TryCounts {
        TryCounts {
            try_count_0: a[0],
            try_count_1: a[1],
            try_count_2: a[2],
            try_count_3: a[3],
            try_count_4: a[4],
        }
    }

    /// Tries over every slot.
    pub fn total(self) -> u32 {
        self.to_array().iter().sum()
    }
}
