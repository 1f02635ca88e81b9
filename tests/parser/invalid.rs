//! Invalid messages: each is rejected with the error that names what is wrong.

use super::{parse, ParseError};

/// A valid INVITE whose lines the cases below edit.
const BASE: &str = "INVITE sip:bob@biloxi.example SIP/2.0\r\n\
                    Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbad\r\n\
                    Max-Forwards: 70\r\n\
                    From: <sip:alice@atlanta.example>;tag=a1\r\n\
                    To: <sip:bob@biloxi.example>\r\n\
                    Call-ID: bad-1\r\n\
                    CSeq: 1 INVITE\r\n\
                    Content-Length: 4\r\n\r\nbody";

/// Parses BASE with `from` replaced by `to`, asserting the replacement happened.
fn edited(from: &str, to: &str) -> Result<(), ParseError> {
    assert!(BASE.contains(from), "{from:?} not in base message");
    parse(BASE.replacen(from, to, 1).as_bytes()).map(|_| ())
}

#[test]
fn the_base_message_is_valid() {
    assert!(edited("Call-ID", "Call-ID").is_ok());
}

#[test]
fn missing_mandatory_headers_are_named() {
    for (line, name) in [
        ("Call-ID: bad-1\r\n", "Call-ID"),
        ("CSeq: 1 INVITE\r\n", "CSeq"),
        ("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbad\r\n", "Via"),
        ("From: <sip:alice@atlanta.example>;tag=a1\r\n", "From"),
        ("To: <sip:bob@biloxi.example>\r\n", "To"),
    ] {
        assert!(
            matches!(edited(line, ""), Err(ParseError::MissingHeader(n)) if n == name),
            "{name}"
        );
    }
    assert!(matches!(
        edited("Call-ID: bad-1", "Call-ID:   "),
        Err(ParseError::MissingHeader("Call-ID"))
    ));
    // Max-Forwards is tolerated when absent.
    assert!(edited("Max-Forwards: 70\r\n", "").is_ok());
}

#[test]
fn single_valued_headers_may_not_repeat() {
    assert!(matches!(
        edited("Call-ID: bad-1\r\n", "Call-ID: bad-1\r\ni: other\r\n"),
        Err(ParseError::DuplicateHeader("Call-ID"))
    ));
    assert!(matches!(
        edited("CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nCSeq: 2 INVITE\r\n"),
        Err(ParseError::DuplicateHeader("CSeq"))
    ));
}

#[test]
fn bad_cseq_values_are_rejected() {
    for cseq in [
        "CSeq: one INVITE",
        "CSeq: INVITE",
        "CSeq: 1",
        "CSeq: -1 INVITE",
        "CSeq: +1 INVITE",
        "CSeq: 4294967296 INVITE",
        "CSeq: 1 INVITE extra",
        "CSeq: 1 INV<ITE",
    ] {
        assert!(
            matches!(edited("CSeq: 1 INVITE", cseq), Err(ParseError::BadCSeq)),
            "{cseq:?}"
        );
    }
    assert!(edited("CSeq: 1 INVITE", "CSeq: 4294967295 INVITE").is_ok());
    assert!(matches!(
        edited("CSeq: 1 INVITE", "CSeq: 1 BYE"),
        Err(ParseError::CSeqMethodMismatch { request, cseq }) if request == "INVITE" && cseq == "BYE"
    ));
    assert!(matches!(
        edited("CSeq: 1 INVITE", "CSeq: 1 invite"),
        Err(ParseError::CSeqMethodMismatch { .. })
    ));
}

#[test]
fn bad_content_lengths_are_rejected() {
    for cl in ["-4", "four", "4x", "0x4", "", "99999999999999999999999"] {
        assert!(
            matches!(
                edited("Content-Length: 4", &format!("Content-Length: {cl}")),
                Err(ParseError::BadContentLength)
            ),
            "{cl:?}"
        );
    }
    assert!(matches!(
        edited("Content-Length: 4", "Content-Length: 40"),
        Err(ParseError::BodyShorterThanContentLength {
            declared: 40,
            actual: 4
        })
    ));
    assert!(matches!(
        edited("Content-Length: 4\r\n", "Content-Length: 4\r\nl: 4\r\n"),
        Err(ParseError::DuplicateHeader("Content-Length"))
    ));
}

#[test]
fn broken_framing_and_header_lines_are_rejected() {
    assert!(matches!(
        edited("\r\n\r\nbody", "\r\nbody"),
        Err(ParseError::NoHeaderEnd)
    ));
    assert!(matches!(
        parse(BASE.replace("\r\n", "\n").as_bytes()),
        Err(ParseError::NoHeaderEnd)
    ));
    for (from, to) in [
        ("Max-Forwards: 70", "Max-Forwards 70"),
        ("Max-Forwards: 70", "Max Forwards: 70"),
        ("Max-Forwards: 70", ": 70"),
        ("Max-Forwards: 70", "Max-Forwards: 7\x000"),
        ("Max-Forwards: 70", "Max-Forwards: 7\n0"),
        ("SIP/2.0\r\nVia", "SIP/2.0\r\n folded-too-early\r\nVia"),
    ] {
        assert!(
            matches!(edited(from, to), Err(ParseError::BadHeaderLine(_))),
            "{to:?}"
        );
    }
    let mut latin1 = BASE.as_bytes().to_vec();
    let at = BASE.find("bad-1").unwrap();
    latin1[at] = 0xe9;
    assert!(matches!(parse(&latin1), Err(ParseError::Malformed(_))));
}

#[test]
fn bad_start_lines_and_versions_are_rejected() {
    let line = "INVITE sip:bob@biloxi.example SIP/2.0";
    for bad in [
        "INVITE sip:bob@biloxi.example",
        "INVITE",
        "INVITE sip:bob@biloxi.example; lr SIP/2.0",
        "INVITE  SIP/2.0",
        "INV;ITE sip:bob@biloxi.example SIP/2.0",
        "SIP/2.0 2000 OK",
        "SIP/2.0 099 Odd",
        "SIP/2.0 OK",
        "INVITE sip:bob@biloxi\x00.example SIP/2.0",
        "SIP/2.0 200 O\x07K",
    ] {
        assert!(
            matches!(edited(line, bad), Err(ParseError::BadStartLine(_))),
            "{bad:?}"
        );
    }
    for bad in [
        "INVITE sip:bob@biloxi.example SIP/7.0",
        "INVITE sip:bob@biloxi.example SIP/2.00",
        "INVITE sip:bob@biloxi.example HTTP/1.1",
        "SIP/7.0 200 OK",
    ] {
        assert!(
            matches!(edited(line, bad), Err(ParseError::BadVersion(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        edited(line, "INVITE sip:bob@ SIP/2.0"),
        Err(ParseError::Malformed(_))
    ));
    assert!(matches!(
        edited("SIP/2.0/UDP 192.0.2.1;", "SIP/3.0/UDP 192.0.2.1;"),
        Err(ParseError::BadVia)
    ));
}

#[test]
fn empty_truncated_and_binary_input_is_rejected() {
    assert!(matches!(parse(b""), Err(ParseError::Empty)));
    assert!(matches!(parse(b"\r\n\r\n"), Err(ParseError::Empty)));
    for cut in [1, 10, 30, BASE.find("\r\n\r\n").unwrap() + 2] {
        assert!(parse(&BASE.as_bytes()[..cut]).is_err(), "cut at {cut}");
    }
    let mut garbage = Vec::new();
    let mut x = 0x2545_f491_u32;
    for _ in 0..2048 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    garbage.extend_from_slice(b"\r\n\r\n");
    assert!(parse(&garbage).is_err());
}
