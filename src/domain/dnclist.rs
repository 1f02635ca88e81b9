//! Do-not-call lists: numbers a customer's campaigns never dial. Each customer has a default
//! list (`name: "default"`, made on first use) that always applies; a campaign or outplan may
//! name more (`dnclist_ids`).

use super::time::NEVER;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The name of every customer's default list.
pub const DEFAULT_NAME: &str = "default";

/// `/dnclists` resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dnclist {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// Name (`default` for the customer's default list).
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

impl Dnclist {
    /// The customer's default list as first made.
    pub fn default_for(customer: Uuid, now: &str) -> Dnclist {
        Dnclist {
            id: default_id(customer),
            customer_id: customer,
            name: DEFAULT_NAME.into(),
            detail: "numbers this customer's campaigns never dial".into(),
            tm_create: now.into(),
            tm_update: NEVER.into(),
            tm_delete: NEVER.into(),
        }
    }
}

/// The id of a customer's default list: the same for the customer on every node, so that the
/// list needs no lookup to be applied or added to. Its version nibble (8, custom) is never
/// that of an id made for a new resource (4).
pub fn default_id(customer: Uuid) -> Uuid {
    const MIX: u128 = 0x646e_635f_6465_6661_756c_745f_6c69_7374; // "dnc_default_list"
    uuid::Builder::from_u128(customer.as_u128() ^ MIX)
        .with_version(uuid::Version::Custom)
        .with_variant(uuid::Variant::RFC4122)
        .into_uuid()
}

/// How a number came onto a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DncSource {
    /// Added by an import (the default).
    Import,
    /// The callee asked, through a flow's `opt_out` action.
    OptOut,
    /// Added by hand.
    Manual,
}

impl DncSource {
    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            DncSource::Import => "import",
            DncSource::OptOut => "opt_out",
            DncSource::Manual => "manual",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<DncSource> {
        match s {
            "import" => Some(DncSource::Import),
            "opt_out" => Some(DncSource::OptOut),
            "manual" => Some(DncSource::Manual),
            _ => None,
        }
    }
}

/// One number on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DncNumber {
    /// The list.
    pub list_id: Uuid,
    /// The number, E.164.
    pub number: super::E164,
    /// How it came there.
    pub source: DncSource,
    /// When it stops applying (unix ms); `None`: never.
    pub expire_at: Option<i64>,
    /// Added (a `tm_*` string).
    pub tm_create: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_customer_has_one_default_list_id_of_its_own() {
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        assert_eq!(default_id(a), default_id(a));
        assert_ne!(default_id(a), default_id(b));
        assert_ne!(default_id(a), a);
        assert_eq!(default_id(a).get_version_num(), 8);
    }

    #[test]
    fn sources_round_trip_by_name() {
        for s in [DncSource::Import, DncSource::OptOut, DncSource::Manual] {
            assert_eq!(DncSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(DncSource::parse("robot"), None);
    }
}
