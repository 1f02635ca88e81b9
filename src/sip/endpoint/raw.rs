//! Answers to requests too broken to parse (RFC 3261 §21.4.1: 400 Bad Request), built from
//! their raw header lines so that the sender learns what went wrong instead of retransmitting
//! into silence. Broken responses are only dropped.

use std::net::SocketAddr;

/// The mandatory headers a reply must echo, by full and compact name.
const ECHOED: &[(&str, &str)] = &[
    ("via", "v"),
    ("from", "f"),
    ("to", "t"),
    ("call-id", "i"),
    ("cseq", ""),
];

/// A `400 Bad Request` (or `501 Not Implemented` for an unknown method) for an unparsable
/// request, or `None` when the data is a response or lacks the headers a reply needs.
pub(super) fn bad_request_reply(data: &[u8], why: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let head = text.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n");
    let start = lines.next()?;
    if start.starts_with("SIP/") || !start.ends_with("SIP/2.0") {
        return None;
    }
    let method = start.split(' ').next().unwrap_or_default();
    if method == "ACK" {
        return None; // never answer an ACK
    }
    let known = [
        "INVITE",
        "ACK",
        "CANCEL",
        "BYE",
        "OPTIONS",
        "INFO",
        "UPDATE",
        "REGISTER",
        "MESSAGE",
        "NOTIFY",
        "SUBSCRIBE",
        "PUBLISH",
        "REFER",
        "PRACK",
    ];
    let (code, phrase) = if !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_uppercase())
        && !known.contains(&method)
    {
        (501, "Not Implemented")
    } else {
        (400, "Bad Request")
    };
    let mut out = format!("SIP/2.0 {code} {phrase}\r\n");
    let mut found = [false; 5];
    for line in lines {
        let Some((name, _)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if let Some(i) = ECHOED
            .iter()
            .position(|(full, short)| name == *full || (!short.is_empty() && name == *short))
        {
            found[i] = true;
            out.push_str(line);
            if i == 2 && !line.contains("tag=") {
                out.push_str(";tag=rm400");
            }
            out.push_str("\r\n");
        }
    }
    if !found.iter().all(|f| *f) {
        return None;
    }
    let why: String = why
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    out.push_str(&format!(
        "Warning: 399 ringmaster \"{why}\"\r\nContent-Length: 0\r\n\r\n"
    ));
    Some(out.into_bytes())
}

/// Whether `data` looks like a request outside any dialog: a request line and a To header
/// without a tag. Read from the raw bytes, so that a flood of such requests from one source can
/// be rate-limited before it costs a parse; anything else (responses, requests with a To tag,
/// whatever does not look like SIP) gets `false` and is parsed first.
pub(super) fn is_out_of_dialog_request(data: &[u8]) -> bool {
    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len());
    let mut lines = data[..head_end].split(|b| *b == b'\n');
    let Some(start) = lines.next() else {
        return false;
    };
    let start = start.strip_suffix(b"\r").unwrap_or(start);
    if start.starts_with(b"SIP/") || !start.ends_with(b" SIP/2.0") {
        return false;
    }
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"to") || name.eq_ignore_ascii_case(b"t") {
            let value = line[colon + 1..].to_ascii_lowercase();
            return !value.windows(4).any(|w| w == b"tag=");
        }
    }
    false
}

/// Replies to broken requests go back to where they came from.
pub(super) fn reply_destination(_data: &[u8], from: SocketAddr) -> SocketAddr {
    from
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_with_a_broken_cseq_gets_a_400_echoing_its_headers() {
        let raw = b"INVITE sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n\
            f: <sip:a@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: c\r\nCSeq: banana\r\n\r\n";
        let reply = String::from_utf8(bad_request_reply(raw, "bad CSeq").unwrap()).unwrap();
        assert!(reply.starts_with("SIP/2.0 400 Bad Request\r\n"));
        assert!(reply.contains("To: <sip:x@h>;tag=rm400\r\n"));
        assert!(reply.contains("CSeq: banana\r\n"));
    }

    #[test]
    fn out_of_dialog_requests_are_told_apart_from_the_raw_bytes() {
        let options = b"OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\
            From: <sip:a@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert!(is_out_of_dialog_request(options));
        let bye = b"BYE sip:x@h SIP/2.0\r\nt: <sip:x@h>;TAG=ours\r\n\r\n";
        assert!(!is_out_of_dialog_request(bye));
        assert!(!is_out_of_dialog_request(
            b"SIP/2.0 200 OK\r\nTo: <sip:x@h>\r\n\r\n"
        ));
        assert!(!is_out_of_dialog_request(b"\x01 not SIP at all"));
        assert!(!is_out_of_dialog_request(
            b"OPTIONS sip:x@h SIP/2.0\r\n\r\nTo: <sip:x@h>"
        ));
    }

    #[test]
    fn unknown_methods_get_501_and_responses_or_acks_get_nothing() {
        let raw = b"FROB sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: c\r\nCSeq: 1 FROB\r\n\r\n";
        let reply = String::from_utf8(bad_request_reply(raw, "unknown").unwrap()).unwrap();
        assert!(reply.starts_with("SIP/2.0 501 Not Implemented"));
        assert!(bad_request_reply(b"SIP/2.0 200 OK\r\n\r\n", "x").is_none());
        assert!(bad_request_reply(b"ACK sip:x@h SIP/2.0\r\n\r\n", "x").is_none());
        assert!(bad_request_reply(&[0xff, 0xfe, 0x00], "x").is_none());
    }
}
