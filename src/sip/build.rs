//! Building outgoing SIP messages from parts, and responses from the requests they answer.

use crate::sip::message::{
    headers, Header, Headers, Method, Request, Response, StatusCode, Version,
};
use rand::Rng;

/// The RFC 3261 magic cookie every branch we generate starts with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// Why an outgoing message could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// A URI we were given does not parse.
    #[error("invalid SIP URI {0}")]
    BadUri(String),
    /// A call handle made by the caller is not one (its top bit is clear) or is in use.
    #[error("call handle {0:#x} is not the caller's to use")]
    Handle(u64),
    /// A Call-ID we were given is not one (RFC 3261 section 25.1: `word [ "@" word ]`).
    #[error("invalid Call-ID {0:?}")]
    CallId(String),
    /// A header name or value, or the Request-URI, holds CR, LF or NUL: written out it would
    /// end the header and start another.
    #[error("{0} holds a line break or NUL")]
    LineBreak(String),
    /// A display name holds a control character.
    #[error("display name {0:?} holds a control character")]
    Display(String),
}

/// Whether `text` holds a byte that ends a header line or the message head (CR, LF, NUL).
fn breaks_line(text: &str) -> bool {
    text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// A display name as an RFC 3261 `quoted-string`: `"` and `\` escaped, control characters
/// refused.
pub fn quoted_string(display: &str) -> Result<String, BuildError> {
    if display.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(BuildError::Display(display.to_string()));
    }
    let mut out = String::with_capacity(display.len() + 2);
    out.push('"');
    for c in display.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A fresh Via branch (`z9hG4bK` + 16 random alphanumerics).
pub fn new_branch() -> String {
    format!("{BRANCH_COOKIE}{}", random_token(16))
}

/// A fresh From/To tag.
pub fn new_tag() -> String {
    random_token(12)
}

/// A fresh Call-ID local part.
pub fn new_call_id() -> String {
    random_token(24)
}

/// Random alphanumeric token of `len` characters.
pub fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Builds a request from its method, Request-URI text and headers; appends Content-Length.
/// Refuses a Request-URI or header holding CR, LF or NUL: whatever reached it, no value can
/// add a header line to what goes on the wire.
pub fn request(
    method: Method,
    uri: &str,
    mut headers: Vec<Header>,
    body: Vec<u8>,
) -> Result<Request, BuildError> {
    if breaks_line(uri) {
        return Err(BuildError::LineBreak("Request-URI".into()));
    }
    if let Some(h) = headers
        .iter()
        .find(|h| breaks_line(h.name()) || breaks_line(h.value()))
    {
        return Err(BuildError::LineBreak(format!("header {:?}", h.name())));
    }
    let uri = crate::sip::message::Uri::try_from(uri)
        .map_err(|e| BuildError::BadUri(format!("{uri}: {e}")))?;
    headers.push(headers::ContentLength::new(body.len().to_string()).into());
    Ok(Request {
        method,
        uri,
        version: Version::V2,
        headers: Headers(headers),
        body,
    })
}

/// Builds a response to `req` (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq copied, a To
/// tag added when the request had none and `to_tag` is given, and the given extra headers.
pub fn response(
    req: &Request,
    code: u16,
    to_tag: Option<&str>,
    extra: Vec<Header>,
    body: Vec<u8>,
) -> Response {
    let mut out = Vec::with_capacity(8 + extra.len());
    for h in req.headers.iter() {
        match h {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                out.push(h.clone())
            }
            Header::RecordRoute(_) if (101..300).contains(&code) => out.push(h.clone()),
            Header::To(to) => {
                let has_tag = crate::sip::message::name_addr_param(to.value(), "tag").is_some();
                match to_tag {
                    Some(tag) if !has_tag => {
                        out.push(headers::To::new(format!("{};tag={tag}", to.value())).into())
                    }
                    _ => out.push(h.clone()),
                }
            }
            _ => {}
        }
    }
    out.extend(extra);
    out.push(headers::ContentLength::new(body.len().to_string()).into());
    Response {
        status_code: StatusCode::from(code),
        wire_reason: None,
        version: Version::V2,
        headers: Headers(out),
        body,
    }
}

/// The status code of a response as a number.
pub fn status(resp: &Response) -> u16 {
    resp.status_code.code()
}

/// The reason phrase the far end sent, or the standard one for the code.
pub fn reason(resp: &Response) -> String {
    match &resp.wire_reason {
        Some(r) => r.clone(),
        None => resp.status_code.text().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        let injected = "<sip:evil@x>\r\nP-Asserted-Identity: <sip:+18005551212@x>";
        let hs = vec![headers::From::new(injected).into()];
        assert_eq!(
            request(Method::Invite, "sip:a@127.0.0.1", hs, Vec::new()).map(|_| ()),
            Err(BuildError::LineBreak("header \"From\"".into()))
        );
        let hs = vec![Header::Other("X-Note".into(), "a\nb".into())];
        assert!(request(Method::Invite, "sip:a@127.0.0.1", hs, Vec::new()).is_err());
        let hs = vec![Header::Other("X-A\r\nB".into(), "c".into())];
        assert!(request(Method::Invite, "sip:a@127.0.0.1", hs, Vec::new()).is_err());
        assert_eq!(
            request(Method::Invite, "sip:a@h\r\nX: y", Vec::new(), Vec::new()).map(|_| ()),
            Err(BuildError::LineBreak("Request-URI".into()))
        );
        let hs = vec![headers::From::new("\"A\tB\" <sip:a@h>;tag=1").into()];
        assert!(request(Method::Invite, "sip:a@127.0.0.1", hs, Vec::new()).is_ok());
    }

    #[test]
    fn display_names_are_quoted_and_escaped() {
        assert_eq!(quoted_string("Clinic").as_deref(), Ok("\"Clinic\""));
        assert_eq!(
            quoted_string(r#"Dr "Who" \ Co"#).as_deref(),
            Ok(r#""Dr \"Who\" \\ Co""#)
        );
        assert!(quoted_string("A\r\nP-Asserted-Identity: x").is_err());
        assert!(quoted_string("A\u{7f}").is_err());
    }

    #[test]
    fn a_sip_uri_is_the_request_uri_as_given() {
        let r = request(
            Method::Invite,
            "sip:alice@127.0.0.1:5080",
            Vec::new(),
            Vec::new(),
        )
        .expect("request");
        assert_eq!(r.uri.to_string(), "sip:alice@127.0.0.1:5080");
    }
}
