//! Client side of HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616):
//! reading a `WWW-Authenticate` / `Proxy-Authenticate` challenge and answering it.

use md5::Md5;
use sha2::{Digest, Sha256};

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The challenge scheme is not `Digest`.
    #[error("not a Digest challenge")]
    NotDigest,
    /// The parameter list does not follow `name=token / name="quoted"`.
    #[error("malformed challenge near {0:?}")]
    Malformed(String),
    /// A required parameter (realm, nonce) is absent.
    #[error("challenge lacks {0}")]
    MissingParam(&'static str),
    /// The algorithm is not one of MD5, MD5-sess, SHA-256, SHA-256-sess.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The challenge offers qop values, none of them `auth`.
    #[error("no supported qop in {0:?}")]
    UnsupportedQop(String),
}

/// Credentials for one trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name to authenticate as.
    pub username: String,
    /// The shared secret.
    pub password: String,
}

/// Digest algorithm offered by a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (the default when a challenge names none).
    Md5,
    /// MD5 with the session variant of A1.
    Md5Sess,
    /// SHA-256 (RFC 7616).
    Sha256,
    /// SHA-256 with the session variant of A1.
    Sha256Sess,
}

impl Algorithm {
    /// The token written in the `algorithm` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Preference order: SHA-256 variants over MD5 variants.
    fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
        }
    }

    /// Whether A1 uses the session form `H(user:realm:pass):nonce:cnonce`.
    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Lower-case hex digest of `data`.
    pub(crate) fn hash(self, data: &str) -> String {
        let bytes = match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Md5::digest(data).to_vec(),
            Algorithm::Sha256 | Algorithm::Sha256Sess => Sha256::digest(data).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A parsed WWW-Authenticate / Proxy-Authenticate Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space.
    pub realm: String,
    /// The server nonce.
    pub nonce: String,
    /// Opaque data to echo back unchanged.
    pub opaque: Option<String>,
    /// The hash algorithm to use.
    pub algorithm: Algorithm,
    /// Whether `qop=auth` is offered (and will be used).
    pub qop_auth: bool,
    /// Whether the previous credentials were right but the nonce expired.
    pub stale: bool,
}

impl Challenge {
    /// Parses a `Digest ...` challenge value (RFC 7616 / 2617), tolerant of spacing, quoting and case.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let params = DigestParams::parse(value)?;
        let get = |name: &str| params.get(name);
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => [
                Algorithm::Md5,
                Algorithm::Md5Sess,
                Algorithm::Sha256,
                Algorithm::Sha256Sess,
            ]
            .into_iter()
            .find(|alg| alg.as_str().eq_ignore_ascii_case(&a))
            .ok_or(AuthError::UnsupportedAlgorithm(a))?,
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(q) if q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")) => true,
            Some(q) => return Err(AuthError::UnsupportedQop(q)),
        };
        Ok(Challenge {
            realm: get("realm").ok_or(AuthError::MissingParam("realm"))?,
            nonce: get("nonce").ok_or(AuthError::MissingParam("nonce"))?,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

/// The parameters of a `Digest ...` header value (a challenge or an answer to one).
pub(crate) struct DigestParams(Vec<(String, String)>);

impl DigestParams {
    /// Checks the scheme is `Digest` and splits the parameters.
    pub(crate) fn parse(value: &str) -> Result<DigestParams, AuthError> {
        let value = value.trim_start();
        let scheme_end = value.find([' ', '\t']).unwrap_or(value.len());
        let (scheme, params) = value.split_at(scheme_end);
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(AuthError::NotDigest);
        }
        Ok(DigestParams(parse_params(params)?))
    }

    /// The value of parameter `name` (case-insensitive), unquoted.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

/// Splits `a=b, c="d, e", ...` into (name, unquoted value) pairs; empty list elements are skipped.
fn parse_params(s: &str) -> Result<Vec<(String, String)>, AuthError> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n', ',']);
        if rest.is_empty() {
            return Ok(out);
        }
        let malformed = |at: &str| AuthError::Malformed(at.chars().take(20).collect());
        let eq = rest.find('=').ok_or_else(|| malformed(rest))?;
        let (name, after) = rest.split_at(eq);
        let name = name.trim();
        if name.is_empty() || name.contains([' ', '\t', ',', '"']) {
            return Err(malformed(rest));
        }
        let after = after.get(1..).unwrap_or_default().trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i + 1,
                    Some((_, '\\')) => value.extend(chars.next().map(|(_, c)| c)),
                    Some((_, c)) => value.push(c),
                    None => return Err(malformed(rest)),
                }
            };
            (value, quoted.get(end..).unwrap_or_default())
        } else {
            let end = after.find([',', ' ', '\t']).unwrap_or(after.len());
            let (token, tail) = after.split_at(end);
            (token.to_string(), tail)
        };
        let tail = tail.trim_start();
        if !tail.is_empty() && !tail.starts_with(',') {
            return Err(malformed(tail));
        }
        out.push((name.to_string(), value));
        rest = tail;
    }
}

/// Picks the strongest Digest challenge we support among several header values (SHA-256 over MD5), skipping unsupported ones.
pub fn pick_challenge<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let mut best: Option<Challenge> = None;
    for challenge in values.into_iter().filter_map(|v| Challenge::parse(v).ok()) {
        let stronger = best
            .as_ref()
            .is_none_or(|b| challenge.algorithm.strength() > b.algorithm.strength());
        if stronger {
            best = Some(challenge);
        }
    }
    best
}

/// Builds the Authorization / Proxy-Authorization header value answering `challenge` for one request.
/// `nc` is the nonce count (written as 8 hex digits), `cnonce` a client nonce chosen by the caller.
pub fn authorization(
    challenge: &Challenge,
    creds: &Credentials,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> String {
    let alg = challenge.algorithm;
    let nc = format!("{nc:08x}");
    let mut ha1 = alg.hash(&format!(
        "{}:{}:{}",
        creds.username, challenge.realm, creds.password
    ));
    if alg.is_sess() {
        ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
    }
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    let response = if challenge.qop_auth {
        alg.hash(&format!(
            "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
            challenge.nonce
        ))
    } else {
        alg.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
    };
    let mut out = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm={}",
        quote(&creds.username),
        quote(&challenge.realm),
        quote(&challenge.nonce),
        quote(uri),
        alg.as_str()
    );
    if challenge.qop_auth {
        out.push_str(&format!(", cnonce={}, qop=auth, nc={nc}", quote(cnonce)));
    } else if alg.is_sess() {
        out.push_str(&format!(", cnonce={}", quote(cnonce)));
    }
    if let Some(opaque) = &challenge.opaque {
        out.push_str(&format!(", opaque={}", quote(opaque)));
    }
    out
}

/// Writes `s` as a quoted-string, escaping `"` and `\`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
