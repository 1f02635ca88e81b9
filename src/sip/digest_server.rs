//! Server side of Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): stateless nonces
//! that expire, the challenge we send, and the check of the answer. Pure: the time a nonce is
//! issued or checked at is an argument (whole seconds on the caller's clock).
//!
//! A nonce is `hex(issued) || hex(HMAC-SHA256(key, issued || source ip))[..32]`: nothing is
//! kept per challenge, yet a nonce only works from the address it was issued to, only until
//! it expires, and only with this process's key.

use crate::sip::auth::{Algorithm, AuthError, DigestParams};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

/// The secret nonces are signed with; a fresh one per process.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl NonceKey {
    /// A random key.
    pub fn random() -> NonceKey {
        NonceKey(rand::random())
    }

    /// A fixed key (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> NonceKey {
        NonceKey(bytes)
    }

    fn mac(&self, issued: u64, ip: IpAddr) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            // HMAC takes keys of any length.
            Err(_) => return String::new(),
        };
        mac.update(&issued.to_be_bytes());
        match ip {
            IpAddr::V4(v4) => mac.update(&v4.octets()),
            IpAddr::V6(v6) => mac.update(&v6.octets()),
        }
        hex(&mac.finalize().into_bytes()[..16])
    }
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

/// What a nonce presented back to us is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Ours, for this source, not expired.
    Fresh,
    /// Ours and for this source, but expired: the client should retry with a new one
    /// (`stale=true`) without asking its user again.
    Stale,
    /// Not one we issued to this source (forged, altered, from another address, from a
    /// previous process).
    Invalid,
}

/// A nonce issued at `issued` (seconds) to `ip`.
pub fn nonce(key: &NonceKey, issued: u64, ip: IpAddr) -> String {
    format!("{issued:016x}{}", key.mac(issued, ip))
}

/// Checks a nonce presented by `ip` at `now` (seconds): fresh while `now - issued < lifetime`.
pub fn check_nonce(key: &NonceKey, nonce: &str, ip: IpAddr, now: u64, lifetime: u64) -> NonceCheck {
    let (Some(stamp), Some(mac)) = (nonce.get(..16), nonce.get(16..)) else {
        return NonceCheck::Invalid;
    };
    let Ok(issued) = u64::from_str_radix(stamp, 16) else {
        return NonceCheck::Invalid;
    };
    if !constant_time_eq(mac.as_bytes(), key.mac(issued, ip).as_bytes()) || issued > now {
        return NonceCheck::Invalid;
    }
    match now - issued < lifetime {
        true => NonceCheck::Fresh,
        false => NonceCheck::Stale,
    }
}

/// The algorithms we can offer, strongest first: one `WWW-Authenticate` header each.
pub const OFFERED: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Md5];

/// The `WWW-Authenticate` values of a challenge offering `algorithms` in their order
/// (RFC 8760 §2.4: the strongest first, and a client takes the first it supports).
pub fn challenges(realm: &str, nonce: &str, stale: bool, algorithms: &[Algorithm]) -> Vec<String> {
    algorithms
        .iter()
        .map(|alg| {
            let mut v = format!(
                "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
                alg.as_str()
            );
            if stale {
                v.push_str(", stale=true");
            }
            v
        })
        .collect()
}

/// A parsed `Authorization: Digest ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestAnswer {
    /// Who claims to be answering.
    pub username: String,
    /// The protection space the client answers for.
    pub realm: String,
    /// The nonce it answers.
    pub nonce: String,
    /// The Request-URI as the client wrote it into the hash.
    pub uri: String,
    /// The hex digest.
    pub response: String,
    /// The hash algorithm (MD5 when absent).
    pub algorithm: Algorithm,
    /// `qop`, when given.
    pub qop: Option<String>,
    /// The nonce count, as written (8 hex digits).
    pub nc: Option<String>,
    /// The client nonce.
    pub cnonce: Option<String>,
}

impl DigestAnswer {
    /// Parses an `Authorization` value.
    pub fn parse(value: &str) -> Result<DigestAnswer, AuthError> {
        let params = DigestParams::parse(value)?;
        let get = |name: &str| params.get(name);
        let need = |name: &'static str| get(name).ok_or(AuthError::MissingParam(name));
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => OFFERED
                .into_iter()
                .find(|alg| alg.as_str().eq_ignore_ascii_case(&a))
                .ok_or(AuthError::UnsupportedAlgorithm(a))?,
        };
        Ok(DigestAnswer {
            username: need("username")?,
            realm: need("realm")?,
            nonce: need("nonce")?,
            uri: need("uri")?,
            response: need("response")?,
            algorithm,
            qop: get("qop"),
            nc: get("nc"),
            cnonce: get("cnonce"),
        })
    }

    /// Whether the digest is right for `method` given the stored `ha1` of the user (for this
    /// answer's algorithm). Only `qop=auth` with `nc` and `cnonce` is accepted, since that is
    /// all we offer. Compared in constant time.
    pub fn verify(&self, method: &str, ha1: &str) -> bool {
        let (Some(qop), Some(nc), Some(cnonce)) = (&self.qop, &self.nc, &self.cnonce) else {
            return false;
        };
        if !qop.eq_ignore_ascii_case("auth") {
            return false;
        }
        let alg = self.algorithm;
        let ha2 = alg.hash(&format!("{method}:{}", self.uri));
        let expected = alg.hash(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce));
        constant_time_eq(
            expected.as_bytes(),
            self.response.to_ascii_lowercase().as_bytes(),
        )
    }
}

/// `H(username:realm:password)` in lower-case hex, as stored instead of the password.
pub fn ha1(alg: Algorithm, username: &str, realm: &str, password: &str) -> String {
    alg.hash(&format!("{username}:{realm}:{password}"))
}

/// Equality whose time depends only on the lengths, not on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::auth::{authorization, Challenge, Credentials};

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    /// RFC 7616 §3.9.1, answered with `qop=auth`.
    fn rfc7616_answer(alg: &str, response: &str) -> DigestAnswer {
        DigestAnswer::parse(&format!(
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
             algorithm={alg}, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, \
             cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
             response=\"{response}\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        ))
        .expect("parses")
    }

    #[test]
    fn rfc7616_sha256_and_md5_examples_verify() {
        for (alg, algorithm, response) in [
            (
                "SHA-256",
                Algorithm::Sha256,
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
            ("MD5", Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
        ] {
            let answer = rfc7616_answer(alg, response);
            assert_eq!(answer.algorithm, algorithm);
            let ha1 = ha1(
                algorithm,
                "Mufasa",
                "http-auth@example.org",
                "Circle of Life",
            );
            assert!(answer.verify("GET", &ha1), "{alg}");
            let wrong = super::ha1(
                algorithm,
                "Mufasa",
                "http-auth@example.org",
                "circle of life",
            );
            assert!(!answer.verify("GET", &wrong), "{alg} with a wrong password");
            assert!(!answer.verify("POST", &ha1), "{alg} for another method");
        }
    }

    #[test]
    fn an_altered_answer_does_not_verify() {
        let right = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
        let ha1 = ha1(
            Algorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        let mut answer = rfc7616_answer("SHA-256", right);
        answer.uri = "/dir/other.html".into();
        assert!(!answer.verify("GET", &ha1));
        let mut answer = rfc7616_answer("SHA-256", right);
        answer.nc = Some("00000002".into());
        assert!(!answer.verify("GET", &ha1));
        let mut answer = rfc7616_answer("SHA-256", right);
        answer.qop = None;
        assert!(!answer.verify("GET", &ha1), "qop=auth is required");
    }

    #[test]
    fn our_client_answers_our_challenge() {
        let key = NonceKey::from_bytes([7; 32]);
        let n = nonce(&key, 100, IP);
        let creds = Credentials {
            username: "agent1".into(),
            password: "secret".into(),
        };
        for value in challenges("ringmaster", &n, false, &OFFERED) {
            let challenge = Challenge::parse(&value).expect("our challenge parses");
            let header = authorization(&challenge, &creds, "REGISTER", "sip:127.0.0.1", 1, "c1");
            let answer = DigestAnswer::parse(&header).expect("our answer parses");
            let ha1 = ha1(challenge.algorithm, "agent1", "ringmaster", "secret");
            assert!(answer.verify("REGISTER", &ha1), "{value}");
        }
    }

    #[test]
    fn nonces_expire_and_belong_to_their_source() {
        let key = NonceKey::from_bytes([1; 32]);
        let n = nonce(&key, 1_000, IP);
        assert_eq!(check_nonce(&key, &n, IP, 1_000, 30), NonceCheck::Fresh);
        assert_eq!(check_nonce(&key, &n, IP, 1_029, 30), NonceCheck::Fresh);
        assert_eq!(check_nonce(&key, &n, IP, 1_030, 30), NonceCheck::Stale);
        let other: IpAddr = "127.0.0.2".parse().expect("ip");
        assert_eq!(check_nonce(&key, &n, other, 1_000, 30), NonceCheck::Invalid);
        let other_key = NonceKey::from_bytes([2; 32]);
        assert_eq!(
            check_nonce(&other_key, &n, IP, 1_000, 30),
            NonceCheck::Invalid
        );
        // A later timestamp with the old signature.
        let forged = format!("{:016x}{}", 5_000u64, &n[16..]);
        assert_eq!(
            check_nonce(&key, &forged, IP, 5_000, 30),
            NonceCheck::Invalid
        );
        assert_eq!(check_nonce(&key, "short", IP, 0, 30), NonceCheck::Invalid);
    }

    #[test]
    fn the_challenge_offers_sha256_first_then_md5() {
        let c = challenges("ringmaster", "abc", true, &OFFERED);
        assert_eq!(c.len(), 2);
        assert!(c[0].contains("algorithm=SHA-256"), "{}", c[0]);
        assert!(c[1].contains("algorithm=MD5"), "{}", c[1]);
        assert!(c
            .iter()
            .all(|v| v.contains("qop=\"auth\"") && v.contains("stale=true")));
    }
}
