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
pub fn request(
    method: Method,
    uri: &str,
    mut headers: Vec<Header>,
    body: Vec<u8>,
) -> Result<Request, BuildError> {
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
