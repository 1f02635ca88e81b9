//! Agent: a person at a softphone that queues hand answered calls to. The softphone registers
//! as the agent's `username`; the password is kept only as digest HA1 hashes.

use super::Address;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Longest agent username, in bytes.
pub const MAX_USERNAME: usize = 64;

/// How an agent with several registered contacts is rung.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RingMethod {
    /// Every contact at once; the first to answer takes the call.
    #[default]
    Ringall,
    /// One contact after another.
    Linear,
}

/// What the agent (or an operator) asked to be: the state an agent rests in when registered
/// and not on a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Ready for calls.
    Available,
    /// Not taking calls.
    #[default]
    Away,
}

impl Availability {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Away => "away",
        }
    }
}

/// A username a softphone registers as: letters, digits, `.`, `-` and `_`, 1 to
/// [`MAX_USERNAME`] bytes, so that it is a valid SIP user part as it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a username is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_USERNAME`].
    #[error("longer than {MAX_USERNAME} bytes")]
    TooLong,
    /// A character outside letters, digits, `.-_`.
    #[error("{0:?} has a character other than letters, digits, '.', '-' and '_'")]
    Character(String),
}

impl Username {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Username, UsernameError> {
        if text.is_empty() {
            return Err(UsernameError::Empty);
        }
        if text.len() > MAX_USERNAME {
            return Err(UsernameError::TooLong);
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(UsernameError::Character(text.to_string()));
        }
        Ok(Username(text.to_string()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(text: String) -> Result<Username, UsernameError> {
        Username::parse(&text)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The agent's password as digest HA1 hashes, `H(username:realm:password)` in lower-case hex,
/// for MD5 and SHA-256 challenges. Stored, never answered, never logged (`Debug` hides them).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordHashes {
    /// The realm the hashes were made for.
    pub realm: String,
    /// MD5 HA1.
    pub ha1_md5: String,
    /// SHA-256 HA1.
    pub ha1_sha256: String,
}

impl fmt::Debug for PasswordHashes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHashes")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// `/agents` resource as stored (the answers leave out `password_hashes` and add the live
/// `status` and `contacts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// The SIP user its softphone registers as; unique on the node.
    pub username: Username,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// How its contacts are rung.
    pub ring_method: RingMethod,
    /// What it asked to be when registered and free.
    pub status: Availability,
    /// VoIPBIN's permission bits; stored, not enforced.
    pub permission: u64,
    /// Tags (skills, teams): a queue offers its calls to agents carrying every tag it has.
    pub tag_ids: Vec<Uuid>,
    /// Where else it may be reached (`tel`, `sip`).
    pub addresses: Vec<Address>,
    /// The password's hashes.
    pub password_hashes: PasswordHashes,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_sip_user_parts_of_a_safe_alphabet() {
        assert!(Username::parse("alice.smith-01_x").is_ok());
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(
            Username::parse(&"a".repeat(65)),
            Err(UsernameError::TooLong)
        );
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        for bad in ["a b", "a@b", "a:b", "a\r\nb", "ä", "a;b"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_not_printed() {
        let h = PasswordHashes {
            realm: "ringmaster".into(),
            ha1_md5: "secret-md5".into(),
            ha1_sha256: "secret-sha".into(),
        };
        let printed = format!("{h:?}");
        assert!(!printed.contains("secret"), "{printed}");
    }
}
