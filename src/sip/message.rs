//! The SIP message model: the rsip lineage (`rsipstack::sip`) behind our own names, with the
//! strict checks and fast accessors the core needs on every message.

pub use rsipstack::sip::headers;
pub use rsipstack::sip::{
    HasHeaders, Header, Headers, HeadersExt, Method, Request, Response, SipMessage, StatusCode,
    Uri, Version,
};

pub use super::parse::{parse, ParseError};

/// Returns the value of the first header for which `pick` returns a value.
pub fn first_header<'a, T>(
    headers: &'a Headers,
    pick: impl Fn(&'a Header) -> Option<T>,
) -> Option<T> {
    headers.iter().find_map(pick)
}

/// The Call-ID of a message.
pub fn call_id(headers: &Headers) -> Option<&str> {
    first_header(headers, |h| match h {
        Header::CallId(v) => Some(v.value()),
        _ => None,
    })
}

/// The CSeq of a message as (sequence number, method name).
pub fn cseq(headers: &Headers) -> Option<(u32, &str)> {
    let value = first_header(headers, |h| match h {
        Header::CSeq(v) => Some(v.value()),
        _ => None,
    })?;
    let mut parts = value.split_ascii_whitespace();
    let seq = parts.next()?.parse().ok()?;
    let method = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    Some((seq, method))
}

/// The seconds of a `Retry-After` header (RFC 3261 §20.33: delta-seconds, then optional
/// comment and parameters), if present and well formed.
pub fn retry_after(headers: &Headers) -> Option<u32> {
    headers.iter().find_map(|h| match h {
        Header::RetryAfter(v) => leading_seconds(v.value()),
        Header::Other(name, v) if name.eq_ignore_ascii_case("Retry-After") => leading_seconds(v),
        _ => None,
    })
}

fn leading_seconds(value: &str) -> Option<u32> {
    let digits: &str = value
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?;
    digits.parse().ok()
}

/// The raw value of the topmost Via (first entry of the first Via header).
pub fn top_via(headers: &Headers) -> Option<&str> {
    let value = first_header(headers, |h| match h {
        Header::Via(v) => Some(v.value()),
        _ => None,
    })?;
    Some(split_list(value).next().unwrap_or(value))
}

/// The `branch` parameter of the topmost Via.
pub fn top_via_branch(headers: &Headers) -> Option<&str> {
    param(top_via(headers)?, "branch")
}

/// The `tag` parameter of the From header.
pub fn from_tag(headers: &Headers) -> Option<&str> {
    let value = first_header(headers, |h| match h {
        Header::From(v) => Some(v.value()),
        _ => None,
    })?;
    name_addr_param(value, "tag")
}

/// The `tag` parameter of the To header.
pub fn to_tag(headers: &Headers) -> Option<&str> {
    let value = first_header(headers, |h| match h {
        Header::To(v) => Some(v.value()),
        _ => None,
    })?;
    name_addr_param(value, "tag")
}

/// A header parameter (`;name=value`) of a name-addr value, looking only after the `>` when the
/// URI is bracketed so that URI parameters are not mistaken for header parameters.
pub fn name_addr_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let after_uri = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    param(after_uri, name)
}

/// Finds `;name=value` (case-insensitive name) in a header value; a bare `;name` yields "".
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split(';').skip(1).find_map(|p| {
        let p = p.trim();
        let (k, v) = match p.find('=') {
            Some(i) => (p[..i].trim(), p[i + 1..].trim()),
            None => (p, ""),
        };
        k.eq_ignore_ascii_case(name).then_some(v.trim_matches('"'))
    })
}

/// Splits a comma-separated header list, ignoring commas inside quotes and angle brackets.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut depth_angle = false;
    let mut in_quotes = false;
    let bytes = value.as_bytes();
    let mut pieces = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'<' if !in_quotes => depth_angle = true,
            b'>' if !in_quotes => depth_angle = false,
            b',' if !in_quotes && !depth_angle => {
                pieces.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(value[start..].trim());
    pieces.into_iter().filter(|p| !p.is_empty())
}

/// A request as it goes on the wire, written into one buffer sized for a typical message
/// (the same bytes as `Request::to_bytes`, without a string per header and a join).
pub fn request_bytes(request: &Request) -> Vec<u8> {
    use std::fmt::Write;
    let mut head = String::with_capacity(HEAD_CAPACITY + request.body.len());
    let _ = write!(
        head,
        "{} {} {}\r\n",
        request.method, request.uri, request.version
    );
    finish(head, &request.headers, &request.body)
}

/// A response as it goes on the wire (the same bytes as `Response::to_bytes`).
pub fn response_bytes(response: &Response) -> Vec<u8> {
    use std::fmt::Write;
    let mut head = String::with_capacity(HEAD_CAPACITY + response.body.len());
    let _ = write!(
        head,
        "{} {} {}\r\n",
        response.version,
        response.status_code.code(),
        response.status_code.text()
    );
    finish(head, &response.headers, &response.body)
}

/// Room for a start line and headers: most messages fit without growing the buffer.
const HEAD_CAPACITY: usize = 1024;

fn finish(mut head: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    use std::fmt::Write;
    for header in headers.iter() {
        let _ = write!(head, "{header}\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_written_as_rsip_writes_them() {
        let invite = "INVITE sip:+15550001@127.0.0.1:5080 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
            Max-Forwards: 70\r\n\
            From: <sip:ringmaster@127.0.0.1>;tag=a1\r\n\
            To: <sip:+15550001@127.0.0.1>\r\n\
            Call-ID: c1@127.0.0.1\r\n\
            CSeq: 1 INVITE\r\n\
            Contact: <sip:ringmaster@127.0.0.1:5060>\r\n\
            Content-Type: application/sdp\r\n\
            Content-Length: 9\r\n\r\nv=0\r\no=x\r\n";
        let SipMessage::Request(request) = parse(invite.as_bytes()).expect("invite") else {
            panic!("not a request")
        };
        assert_eq!(request_bytes(&request), request.to_bytes());
        let ok = "SIP/2.0 200 OK\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
            From: <sip:ringmaster@127.0.0.1>;tag=a1\r\n\
            To: <sip:+15550001@127.0.0.1>;tag=b2\r\n\
            Call-ID: c1@127.0.0.1\r\n\
            CSeq: 1 INVITE\r\n\
            Content-Length: 0\r\n\r\n";
        let SipMessage::Response(response) = parse(ok.as_bytes()).expect("200") else {
            panic!("not a response")
        };
        assert_eq!(response_bytes(&response), response.to_bytes());
        assert_eq!(response_bytes(&response), ok.as_bytes());
    }

    #[test]
    fn params_are_found_case_insensitively_and_outside_the_uri() {
        let to = "\"Bob\" <sip:bob@example.com;tag=uri-param>;TAG=abc";
        assert_eq!(name_addr_param(to, "tag"), Some("abc"));
        assert_eq!(
            param("SIP/2.0/UDP h;branch=z9hG4bK1;rport", "rport"),
            Some("")
        );
    }

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        let v = "\"a, b\" <sip:x@y>, <sip:z@w;lr>";
        let parts: Vec<_> = split_list(v).collect();
        assert_eq!(parts, vec!["\"a, b\" <sip:x@y>", "<sip:z@w;lr>"]);
    }
}
