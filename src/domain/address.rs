//! `CommonAddress`: where a call goes (or comes from), in VoIPBIN's shape.

use serde::{Deserialize, Serialize};

/// A destination or source: `{type, target, target_name, name, detail}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// `tel`, `sip`, `agent`, `extension`, ... (`""` when unset).
    #[serde(rename = "type")]
    pub kind: String,
    /// For `tel` an E.164 number, for `sip` a SIP URI.
    pub target: String,
    /// A display name for the target.
    pub target_name: String,
    /// Free-form name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
}

impl Address {
    /// A `tel` address for an E.164 number.
    pub fn tel(number: impl Into<String>) -> Address {
        Address {
            kind: "tel".into(),
            target: number.into(),
            ..Address::default()
        }
    }

    /// Whether the address is unset (no target).
    pub fn is_empty(&self) -> bool {
        self.target.is_empty()
    }
}
