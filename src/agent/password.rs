//! An agent's password as the digest HA1 hashes a registrar checks (RFC 2617, RFC 7616):
//! `H(username:realm:password)` for H = MD5 and SHA-256, in lower-case hex. The password
//! itself is never kept.

use crate::domain::agent::PasswordHashes;
use crate::domain::Username;
use crate::sip::auth::Algorithm;
use crate::sip::digest_server::ha1;

/// The realm agents' passwords are hashed for unless `[sip] realm` says otherwise: the
/// registrar's.
pub use crate::sip::registrar::DEFAULT_REALM;

/// The hashes of `password` for `username` in `realm`, as the registrar checks them.
pub fn hash_password(username: &Username, realm: &str, password: &str) -> PasswordHashes {
    PasswordHashes {
        realm: realm.to_string(),
        ha1_md5: ha1(Algorithm::Md5, username.as_str(), realm, password),
        ha1_sha256: ha1(Algorithm::Sha256, username.as_str(), realm, password),
    }
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
