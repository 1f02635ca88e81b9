//! Strict parsing of one complete SIP message.
//!
//! rsipstack's parser is lenient: it skips header lines without a colon, stops at the first
//! non-UTF-8 line, reads an unparsable Content-Length as 0 and accepts any `SIP/x.y`. [`parse`]
//! checks the framing and the mandatory headers itself, hands rsipstack a canonical copy of the
//! head (start line and unfolded headers), and sets the body from the original bytes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rsipstack::sip::parser::parse_message;

use super::message::{Method, SipMessage};

/// Why a datagram or stream frame is not a SIP message we accept.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The input is empty (or holds nothing but CRLFs).
    #[error("empty message")]
    Empty,
    /// No blank line (CRLF CRLF) ends the header section.
    #[error("no blank line ends the header section")]
    NoHeaderEnd,
    /// The start line is neither a Request-Line nor a Status-Line.
    #[error("bad start line: {0:?}")]
    BadStartLine(String),
    /// The protocol version is not `SIP/2.0`.
    #[error("unsupported protocol version {0:?}")]
    BadVersion(String),
    /// The request method is a well-formed token this stack cannot represent (answer 501).
    #[error("unsupported method {0:?}")]
    UnknownMethod(String),
    /// A header line has no colon, a bad name, a stray control character or nothing to fold into.
    #[error("bad header line: {0:?}")]
    BadHeaderLine(String),
    /// A mandatory header is missing or empty.
    #[error("missing mandatory header {0}")]
    MissingHeader(&'static str),
    /// A header that may appear only once appears several times.
    #[error("header {0} appears more than once")]
    DuplicateHeader(&'static str),
    /// The topmost Via does not start with `SIP/2.0/<transport> <sent-by>`.
    #[error("bad Via header")]
    BadVia,
    /// CSeq is not `<32-bit number> <method>`.
    #[error("bad CSeq header")]
    BadCSeq,
    /// The CSeq method of a request differs from its request method.
    #[error("CSeq method {cseq:?} does not match request method {request:?}")]
    CSeqMethodMismatch {
        /// The method of the Request-Line.
        request: String,
        /// The method named in CSeq.
        cseq: String,
    },
    /// Content-Length is not a decimal integer.
    #[error("bad Content-Length header")]
    BadContentLength,
    /// Fewer body bytes arrived than Content-Length declares.
    #[error("body has {actual} bytes but Content-Length declares {declared}")]
    BodyShorterThanContentLength {
        /// The Content-Length value.
        declared: usize,
        /// The number of bytes after the blank line.
        actual: usize,
    },
    /// rsipstack rejected the canonical message (bad URI, ...) or panicked on it.
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Parses one complete SIP message (a UDP datagram or a framed TCP message) and checks what
/// RFC 3261 requires of it; never panics.
pub fn parse(data: &[u8]) -> Result<SipMessage, ParseError> {
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    let start = data.iter().position(|&b| b != b'\r' && b != b'\n');
    let data = match start {
        Some(i) => data.get(i..).unwrap_or_default(),
        None => return Err(ParseError::Empty),
    };
    let sep = find(data, b"\r\n\r\n").ok_or(ParseError::NoHeaderEnd)?;
    let head = data.get(..sep).unwrap_or_default();
    let rest = data.get(sep + 4..).unwrap_or_default();
    let head = std::str::from_utf8(head)
        .map_err(|_| ParseError::Malformed("header section is not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let start_line = lines.next().unwrap_or_default();
    let (canonical_start, request_method) = start_line_parts(start_line)?;
    let headers = unfold(lines)?;
    let body = check_headers(&headers, request_method.as_deref(), rest)?;

    let mut canonical = canonical_start;
    canonical.push_str("\r\n");
    for (name, value) in &headers {
        canonical.push_str(name);
        canonical.push_str(": ");
        canonical.push_str(value);
        canonical.push_str("\r\n");
    }
    canonical.push_str("\r\n");
    let mut msg = match catch_unwind(AssertUnwindSafe(|| parse_message(canonical.as_bytes()))) {
        Ok(Ok(msg)) => msg,
        Ok(Err(e)) => return Err(ParseError::Malformed(e.to_string())),
        Err(_) => return Err(ParseError::Malformed("parser panicked".into())),
    };
    match &mut msg {
        SipMessage::Request(r) => r.body = body.to_vec(),
        SipMessage::Response(r) => r.body = body.to_vec(),
    }
    Ok(msg)
}

/// Validates the start line; returns its canonical form and, for a request, the method.
fn start_line_parts(line: &str) -> Result<(String, Option<String>), ParseError> {
    let bad = || ParseError::BadStartLine(line.to_string());
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad());
    }
    let line = line.trim_matches([' ', '\t']);
    let (first, rest) = split_ws(line).ok_or_else(bad)?;
    if first.len() >= 4
        && first
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        check_version(first)?;
        let (code, reason) = split_ws(rest).unwrap_or((rest, ""));
        let ok = code.len() == 3
            && code.bytes().all(|b| b.is_ascii_digit())
            && code.starts_with(['1', '2', '3', '4', '5', '6']);
        if !ok {
            return Err(bad());
        }
        return Ok((format!("SIP/2.0 {code} {reason}"), None));
    }
    let (uri, version) = split_ws(rest).ok_or_else(bad)?;
    // More than three elements means whitespace inside the Request-URI (RFC 4475 §3.1.2.7).
    if uri.is_empty() || version.is_empty() || split_ws(version).is_some() {
        return Err(bad());
    }
    if !is_token(first) {
        return Err(bad());
    }
    check_version(version)?;
    if !Method::all().iter().any(|m| m.to_string() == first) {
        return Err(ParseError::UnknownMethod(first.to_string()));
    }
    Ok((format!("{first} {uri} SIP/2.0"), Some(first.to_string())))
}

/// Splits off the first whitespace-delimited element, skipping any run of SP/HTAB after it.
fn split_ws(s: &str) -> Option<(&str, &str)> {
    let (a, b) = s.split_once([' ', '\t'])?;
    Some((a, b.trim_start_matches([' ', '\t'])))
}

/// Accepts `SIP/2.0` (the protocol name is case-insensitive) and nothing else.
fn check_version(v: &str) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        Ok(())
    } else {
        Err(ParseError::BadVersion(v.to_string()))
    }
}

/// Unfolds continuation lines and splits each header into (name, value).
fn unfold<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Vec<(&'a str, String)>, ParseError> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    for line in lines {
        let bad = || ParseError::BadHeaderLine(line.to_string());
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(bad());
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers.last_mut().ok_or_else(bad)?;
            let more = line.trim_matches([' ', '\t']);
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(bad)?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(bad());
        }
        headers.push((name, value.trim_matches([' ', '\t']).to_string()));
    }
    Ok(headers)
}

/// Checks the mandatory headers, CSeq and Content-Length; returns the body.
fn check_headers<'a>(
    headers: &[(&str, String)],
    request_method: Option<&str>,
    rest: &'a [u8],
) -> Result<&'a [u8], ParseError> {
    let single = |long: &'static str, short: &str| -> Result<Option<&str>, ParseError> {
        let mut found = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(long) || n.eq_ignore_ascii_case(short));
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(ParseError::DuplicateHeader(long));
        }
        Ok(first)
    };
    let required = |long: &'static str, short: &str| -> Result<&str, ParseError> {
        match single(long, short)? {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ParseError::MissingHeader(long)),
        }
    };
    let via = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Via") || n.eq_ignore_ascii_case("v"))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or(ParseError::MissingHeader("Via"))?;
    if !via_ok(via) {
        return Err(ParseError::BadVia);
    }
    required("From", "f")?;
    required("To", "t")?;
    required("Call-ID", "i")?;
    let cseq = required("CSeq", "CSeq")?;
    let mut parts = cseq.split_ascii_whitespace();
    let (seq, method) = (parts.next(), parts.next());
    let seq_ok =
        seq.is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok());
    let method = method.filter(|m| is_token(m) && seq_ok && parts.next().is_none());
    let method = method.ok_or(ParseError::BadCSeq)?;
    if let Some(request) = request_method.filter(|r| *r != method) {
        return Err(ParseError::CSeqMethodMismatch {
            request: request.to_string(),
            cseq: method.to_string(),
        });
    }
    let Some(length) = single("Content-Length", "l")? else {
        // RFC 3261 §18.3: without Content-Length a datagram's body runs to its end.
        return Ok(rest);
    };
    let declared: usize = match length.bytes().all(|b| b.is_ascii_digit()) {
        true => length.parse().map_err(|_| ParseError::BadContentLength)?,
        false => return Err(ParseError::BadContentLength),
    };
    // RFC 3261 §18.3: bytes beyond Content-Length are discarded.
    rest.get(..declared)
        .ok_or(ParseError::BodyShorterThanContentLength {
            declared,
            actual: rest.len(),
        })
}

/// Whether a Via value starts with `SIP / 2.0 / transport` followed by a sent-by.
fn via_ok(value: &str) -> bool {
    let mut parts = value.splitn(3, '/');
    let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let rest = rest.trim_start();
    let (transport, sent_by) = split_ws(rest).unwrap_or((rest, ""));
    name.trim().eq_ignore_ascii_case("SIP")
        && version.trim() == "2.0"
        && is_token(transport)
        && !sent_by.trim().is_empty()
}

/// Whether `s` is a non-empty RFC 3261 token.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// The position of the first occurrence of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
