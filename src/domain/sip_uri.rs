//! SIP URIs and user parts as tenants give them: parsed against RFC 3261's grammar (§25.1)
//! before any of it reaches a Request-URI or a From header.
//!
//! Only what a dialer sends is accepted: `sip:`/`sips:`, an optional user (no password), a
//! host name, IPv4 or bracketed IPv6 literal, an optional port and URI parameters. URI headers
//! (`?name=value`) are refused: they are not allowed in a Request-URI and would smuggle header
//! fields into requests built from the URI.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 256;

/// Why a text is not a SIP URI or user part we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipUriError {
    /// A character below 0x20 or 0x7f.
    #[error("contains a control character")]
    ControlCharacter,
    /// Longer than [`MAX_URI_LEN`].
    #[error("longer than {MAX_URI_LEN} bytes")]
    TooLong,
    /// Not `sip:` or `sips:`.
    #[error("{0:?} is not a sip: or sips: URI")]
    Scheme(String),
    /// The user part has a character RFC 3261 does not allow there (or is empty).
    #[error("{0:?} is not a valid SIP user part")]
    User(String),
    /// A password in the URI.
    #[error("a password in the URI is not accepted")]
    Password,
    /// The host is not a host name, IPv4 or bracketed IPv6 address.
    #[error("{0:?} is not a valid host")]
    Host(String),
    /// The port is not a number from 1 to 65535.
    #[error("{0:?} is not a valid port")]
    Port(String),
    /// A URI parameter with a character RFC 3261 does not allow there.
    #[error("{0:?} is not a valid URI parameter")]
    Param(String),
    /// `?headers` in the URI.
    #[error("URI headers (?...) are not accepted")]
    Headers,
}

/// A parsed `sip:`/`sips:` URI, kept in the spelling it was given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SipUri {
    text: String,
    /// Where the user part ends in `text` (after the scheme), if there is one.
    user: Option<(usize, usize)>,
}

impl SipUri {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<SipUri, SipUriError> {
        if has_control(text) {
            return Err(SipUriError::ControlCharacter);
        }
        if text.len() > MAX_URI_LEN {
            return Err(SipUriError::TooLong);
        }
        let colon = text
            .find(':')
            .ok_or_else(|| SipUriError::Scheme(text.into()))?;
        let scheme = &text[..colon];
        if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
            return Err(SipUriError::Scheme(text.into()));
        }
        let rest = &text[colon + 1..];
        if rest.contains('?') {
            return Err(SipUriError::Headers);
        }
        let (user, hostport_params, user_at) = match rest.find('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..], Some(at)),
            None => (None, rest, None),
        };
        if let Some(user) = user {
            if user.contains(':') {
                return Err(SipUriError::Password);
            }
            check_user(user)?;
        }
        let mut parts = hostport_params.split(';');
        check_hostport(parts.next().unwrap_or_default())?;
        for param in parts {
            check_param(param)?;
        }
        let start = colon + 1;
        Ok(SipUri {
            text: text.to_string(),
            user: user_at.map(|at| (start, start + at)),
        })
    }

    /// The URI as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The user part (`alice` of `sip:alice@host`), if any.
    pub fn user(&self) -> Option<&str> {
        self.user.map(|(a, b)| &self.text[a..b])
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A SIP user part on its own (`alice`, `+15551234567`): dialed at a trunk's host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserPart(String);

impl UserPart {
    /// Parses `text` as a user part.
    pub fn parse(text: &str) -> Result<UserPart, SipUriError> {
        if has_control(text) {
            return Err(SipUriError::ControlCharacter);
        }
        if text.len() > MAX_URI_LEN {
            return Err(SipUriError::TooLong);
        }
        check_user(text)?;
        Ok(UserPart(text.to_string()))
    }

    /// The user part as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` has a character below 0x20 or 0x7f (CR, LF, NUL, TAB, DEL, ...).
pub fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || b == 0x7f)
}

/// RFC 3261 `unreserved`: alphanumerics and `mark`.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// Whether every byte is allowed by `allowed` or is a `%HH` escape.
fn escaped_chars(text: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else if allowed(bytes[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn check_user(user: &str) -> Result<(), SipUriError> {
    // user = 1*( unreserved / escaped / user-unreserved ), user-unreserved = & = + $ , ; ? /
    let ok = !user.is_empty() && escaped_chars(user, |b| unreserved(b) || b"&=+$,;?/".contains(&b));
    ok.then_some(())
        .ok_or_else(|| SipUriError::User(user.into()))
}

fn check_hostport(hostport: &str) -> Result<(), SipUriError> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let end = v6
            .find(']')
            .ok_or_else(|| SipUriError::Host(hostport.into()))?;
        if v6[..end].parse::<Ipv6Addr>().is_err() {
            return Err(SipUriError::Host(hostport.into()));
        }
        (None, &v6[end + 1..])
    } else {
        match hostport.find(':') {
            Some(i) => (Some(&hostport[..i]), &hostport[i..]),
            None => (Some(hostport), ""),
        }
    };
    if let Some(host) = host {
        if !is_host_name(host) && host.parse::<Ipv4Addr>().is_err() {
            return Err(SipUriError::Host(host.into()));
        }
    }
    if !port.is_empty() {
        let digits = port
            .strip_prefix(':')
            .ok_or_else(|| SipUriError::Host(hostport.into()))?;
        let valid = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(SipUriError::Port(digits.into()));
        }
    }
    Ok(())
}

/// RFC 3261 `hostname`: dot-separated labels of alphanumerics and inner hyphens, an optional
/// final dot, the last label starting with a letter (so `1.2.3` is not a host name).
fn is_host_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|l| l.as_bytes()[0].is_ascii_alphabetic())
}

fn check_param(param: &str) -> Result<(), SipUriError> {
    // paramchar = param-unreserved / unreserved / escaped, param-unreserved = [ ] / : & + $
    let paramchar = |b: u8| unreserved(b) || b"[]/:&+$".contains(&b);
    let (name, value) = match param.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (param, None),
    };
    let ok = !name.is_empty()
        && escaped_chars(name, paramchar)
        && value.is_none_or(|v| !v.is_empty() && escaped_chars(v, paramchar));
    ok.then_some(())
        .ok_or_else(|| SipUriError::Param(param.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_a_dialer_sends_parse_and_keep_their_spelling() {
        for text in [
            "sip:alice@127.0.0.1:5080",
            "sip:+15551234567@trunk.example.com;user=phone",
            "sips:bob@example.com",
            "sip:example.com",
            "sip:carol@[2001:db8::1]:5070;transport=tcp",
            "SIP:dave%20x@host-1.example.org.",
            "sip:1234;phone-context=example.com@gw.example.com",
        ] {
            let uri = SipUri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(uri.as_str(), text);
        }
        let uri = SipUri::parse("sip:alice@127.0.0.1:5080").expect("uri");
        assert_eq!(uri.user(), Some("alice"));
        assert_eq!(SipUri::parse("sip:example.com").expect("uri").user(), None);
    }

    #[test]
    fn injections_and_malformed_uris_are_refused() {
        let cases = [
            (
                "sip:evil\r\nP-Asserted-Identity: <sip:x@y>@h",
                SipUriError::ControlCharacter,
            ),
            ("sip:a@h\n", SipUriError::ControlCharacter),
            ("sip:a@h?P-Asserted-Identity=x", SipUriError::Headers),
            (
                "tel:+15551234567",
                SipUriError::Scheme("tel:+15551234567".into()),
            ),
            ("alice@h", SipUriError::Scheme("alice@h".into())),
            ("sip:a:secret@h", SipUriError::Password),
            ("sip:sip:alice@h", SipUriError::Password),
            ("sip:@h", SipUriError::User("".into())),
            ("sip:a b@h", SipUriError::User("a b".into())),
            ("sip:a<b@h", SipUriError::User("a<b".into())),
            ("sip:a%zz@h", SipUriError::User("a%zz".into())),
            ("sip:a@", SipUriError::Host("".into())),
            ("sip:a@h>x", SipUriError::Host("h>x".into())),
            ("sip:a@1.2.3", SipUriError::Host("1.2.3".into())),
            ("sip:a@[::1", SipUriError::Host("[::1".into())),
            ("sip:a@h:0", SipUriError::Port("0".into())),
            ("sip:a@h:99999", SipUriError::Port("99999".into())),
            ("sip:a@h;x=\"y\"", SipUriError::Param("x=\"y\"".into())),
            ("sip:a@h;", SipUriError::Param("".into())),
        ];
        for (text, want) in cases {
            assert_eq!(SipUri::parse(text), Err(want), "{text:?}");
        }
        let long = format!("sip:{}@h", "a".repeat(MAX_URI_LEN));
        assert_eq!(SipUri::parse(&long), Err(SipUriError::TooLong));
    }

    #[test]
    fn user_parts_are_checked_alone() {
        assert_eq!(
            UserPart::parse("+15551234567").map(|u| u.to_string()),
            Ok("+15551234567".into())
        );
        assert!(UserPart::parse("alice").is_ok());
        assert_eq!(
            UserPart::parse("a\r\nb"),
            Err(SipUriError::ControlCharacter)
        );
        assert!(UserPart::parse("bob@example.com").is_err());
        assert!(UserPart::parse("").is_err());
    }
}
