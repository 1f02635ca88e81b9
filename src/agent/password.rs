//! An agent's password as the digest HA1 hashes a registrar checks (RFC 2617, RFC 7616):
//! `H(username:realm:password)` for H = MD5 and SHA-256, in lower-case hex. The password
//! itself is never kept.

use crate::domain::agent::PasswordHashes;
use crate::domain::Username;
use md5::Md5;
use sha2::{Digest, Sha256};

/// The realm agents' passwords are hashed for unless `[sip] realm` says otherwise.
pub const DEFAULT_REALM: &str = "ringmaster";

/// The hashes of `password` for `username` in `realm`.
pub fn hash_password(username: &Username, realm: &str, password: &str) -> PasswordHashes {
    let a1 = format!("{username}:{realm}:{password}");
    PasswordHashes {
        realm: realm.to_string(),
        ha1_md5: hex(&Md5::digest(a1.as_bytes())),
        ha1_sha256: hex(&Sha256::digest(a1.as_bytes())),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ha1_is_the_hash_of_user_realm_and_password() {
        // The credentials of RFC 7616's examples (§3.9.1).
        let user = Username::parse("Mufasa").expect("valid");
        let h = hash_password(&user, "http-auth@example.org", "Circle of Life");
        assert_eq!(h.ha1_md5, "3d78807defe7de2157e2b0b6573a855f");
        assert_eq!(
            h.ha1_sha256,
            "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"
        );
        assert_eq!(h.realm, "http-auth@example.org");
    }
}
