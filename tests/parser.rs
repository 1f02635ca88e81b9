//! Parser tests: the message model accepts valid SIP, including the odd-but-legal forms of
//! RFC 4475, reads the transaction and dialog keys right, and rejects invalid input with an
//! error, never a panic.

use ringmaster::sip::message::{
    call_id, cseq, from_tag, parse, to_tag, top_via_branch, HasHeaders, Method, ParseError,
    SipMessage,
};

#[path = "parser/invalid.rs"]
mod invalid;
#[path = "parser/mutation.rs"]
mod mutation;

/// The keys the transaction and dialog layers read from every message.
#[derive(Debug, PartialEq)]
pub struct Keys {
    call_id: Option<String>,
    cseq: Option<(u32, String)>,
    branch: Option<String>,
    from_tag: Option<String>,
    to_tag: Option<String>,
}

/// Reads the keys of a parsed message through the public accessors.
pub fn keys(msg: &SipMessage) -> Keys {
    let h = match msg {
        SipMessage::Request(r) => r.headers(),
        SipMessage::Response(r) => r.headers(),
    };
    Keys {
        call_id: call_id(h).map(str::to_string),
        cseq: cseq(h).map(|(n, m)| (n, m.to_string())),
        branch: top_via_branch(h).map(str::to_string),
        from_tag: from_tag(h).map(str::to_string),
        to_tag: to_tag(h).map(str::to_string),
    }
}

/// Builds the expected keys.
fn expect(call: &str, seq: u32, method: &str, branch: &str, from: &str, to: Option<&str>) -> Keys {
    Keys {
        call_id: Some(call.into()),
        cseq: Some((seq, method.into())),
        branch: Some(branch.into()),
        from_tag: Some(from.into()),
        to_tag: to.map(str::to_string),
    }
}

/// Parses a message the test expects to be valid.
fn ok(raw: &str) -> SipMessage {
    parse(raw.as_bytes()).unwrap_or_else(|e| panic!("rejected valid message: {e}\n{raw}"))
}

/// The body of a parsed message.
fn body(msg: &SipMessage) -> &[u8] {
    match msg {
        SipMessage::Request(r) => &r.body,
        SipMessage::Response(r) => &r.body,
    }
}

#[test]
fn a_plain_invite_parses_and_its_keys_are_read() {
    let raw = "INVITE sip:+15551234567@127.0.0.1:5080 SIP/2.0\r\n\
               Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc;rport\r\n\
               Max-Forwards: 70\r\n\
               From: <sip:ringmaster@127.0.0.1>;tag=f1\r\n\
               To: <sip:+15551234567@127.0.0.1>\r\n\
               Call-ID: c1@127.0.0.1\r\n\
               CSeq: 1 INVITE\r\n\
               Content-Length: 0\r\n\r\n";
    let msg = ok(raw);
    let SipMessage::Request(req) = &msg else {
        panic!("expected a request")
    };
    assert_eq!(req.method, Method::Invite);
    assert_eq!(
        keys(&msg),
        expect("c1@127.0.0.1", 1, "INVITE", "z9hG4bKabc", "f1", None)
    );
}

#[test]
fn compact_header_names_are_understood() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\n";
    let raw = format!(
        "INVITE sip:bob@biloxi.example SIP/2.0\r\n\
         v: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKcompact\r\n\
         f: \"Carol\" <sip:carol@chicago.example>;tag=cc1\r\n\
         t: <sip:bob@biloxi.example>\r\n\
         i: compact-1@192.0.2.7\r\n\
         CSeq: 42 INVITE\r\n\
         m: <sip:carol@192.0.2.7>\r\n\
         k: timer, 100rel\r\n\
         s: a call with compact headers\r\n\
         c: application/sdp\r\n\
         l: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    let msg = ok(&raw);
    assert_eq!(
        keys(&msg),
        expect(
            "compact-1@192.0.2.7",
            42,
            "INVITE",
            "z9hG4bKcompact",
            "cc1",
            None
        )
    );
    assert_eq!(body(&msg), sdp.as_bytes());
}

#[test]
fn folded_lines_and_unusual_whitespace_are_unfolded() {
    let raw = "OPTIONS   sip:pbx.example;transport=udp    SIP/2.0  \r\n\
               Via  :  SIP / 2.0 / UDP\r\n\t 192.0.2.1:5060\r\n  ;branch=z9hG4bKfold\r\n\
               From:\t<sip:probe@192.0.2.1>\r\n ;tag=ws-1\r\n\
               To   :<sip:pbx.example>\r\n\
               Call-ID:ws-call\r\n\
               CSeq:\t\t7\t  OPTIONS \r\n\
               Subject: first part\r\n\t  second part\r\n\
               Content-Length  :   0   \r\n\r\n";
    let msg = ok(raw);
    assert_eq!(
        keys(&msg),
        expect("ws-call", 7, "OPTIONS", "z9hG4bKfold", "ws-1", None)
    );
    let SipMessage::Request(req) = &msg else {
        panic!("expected a request")
    };
    assert_eq!(req.method, Method::Options);
    assert!(req.to_string().contains("first part second part"));
}

#[test]
fn escaped_uris_tel_uris_and_ipv6_hosts_parse() {
    let raw = "INVITE sip:%61lice@atlanta.example;param=%20x SIP/2.0\r\n\
               Via: SIP/2.0/UDP [2001:db8::10]:5070;branch=z9hG4bKv6;received=[2001:db8::9]\r\n\
               From: <tel:+1-555-0100;phone-context=example.com>;tag=tel-1\r\n\
               To: <sip:%61lice@atlanta.example;param=%20x>\r\n\
               Call-ID: esc@[2001:db8::10]\r\n\
               CSeq: 3 INVITE\r\n\
               Contact: <sip:caller@[2001:db8::10]:5070;transport=udp>\r\n\
               Content-Length: 0\r\n\r\n";
    let msg = ok(raw);
    assert_eq!(
        keys(&msg),
        expect(
            "esc@[2001:db8::10]",
            3,
            "INVITE",
            "z9hG4bKv6",
            "tel-1",
            None
        )
    );
    let SipMessage::Request(req) = &msg else {
        panic!("expected a request")
    };
    // The user part is kept as received (escapes are not decoded).
    let user = req.uri.auth.as_ref().map(|a| a.user.as_str());
    assert_eq!(user, Some("%61lice"));

    let tel = "BYE tel:+15550100 SIP/2.0\r\n\
               Via: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bKtel\r\n\
               From: <sip:a@[2001:db8::1]>;tag=a\r\n\
               To: <tel:+15550100>;tag=b\r\n\
               Call-ID: tel-call\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        keys(&ok(tel)),
        expect("tel-call", 9, "BYE", "z9hG4bKtel", "a", Some("b"))
    );
    let v6_ruri = tel.replacen("tel:+15550100", "sip:bob@[2001:db8::10]:5070", 1);
    assert!(parse(v6_ruri.as_bytes()).is_ok());
}

#[test]
fn several_vias_in_one_header_yield_the_topmost_branch() {
    let raw = "SIP/2.0 180 Ringing\r\n\
               Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKtop, \
               SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsecond;received=192.0.2.1\r\n\
               Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKthird\r\n\
               From: \"J. \\\"Bob\\\" Smith, Jr.\" <sip:bob@biloxi.example>;tag=q1\r\n\
               To: \"Quoted \\\\ Back\" <sip:x@y.example;tag=not-this>;tag=callee\r\n\
               Call-ID: vias\r\nCSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n";
    let msg = ok(raw);
    assert_eq!(
        keys(&msg),
        expect("vias", 5, "INVITE", "z9hG4bKtop", "q1", Some("callee"))
    );
    let SipMessage::Response(resp) = &msg else {
        panic!("expected a response")
    };
    assert_eq!(resp.status_code.code(), 180);
}

#[test]
fn unknown_headers_and_long_values_are_kept() {
    let long = "x".repeat(8000);
    let raw = format!(
        "MESSAGE sip:bob@biloxi.example SIP/2.0\r\n\
         Via: SIP/2.0/UDP h.example;branch=z9hG4bKlong\r\n\
         From: <sip:a@h.example>;tag=l1\r\nTo: <sip:bob@biloxi.example>\r\n\
         Call-ID: {long}\r\nCSeq: 1 MESSAGE\r\n\
         NewFangledHeader: newfangled value, more\r\n\
         !interesting-Header%~*: odd but legal\r\n\
         X-Long: {long}\r\nContent-Length: 0\r\n\r\n"
    );
    let msg = ok(&raw);
    assert_eq!(keys(&msg).call_id.as_deref(), Some(long.as_str()));
    let text = msg.to_string();
    assert!(text.contains("NewFangledHeader: newfangled value, more"));
    assert!(text.contains("!interesting-Header%~*: odd but legal"));
}

#[test]
fn an_unknown_method_is_reported_so_it_can_be_answered_501() {
    let raw = "NEWMETHOD sip:bob@biloxi.example SIP/2.0\r\n\
               Via: SIP/2.0/UDP h.example;branch=z9hG4bKnew\r\n\
               From: <sip:a@h.example>;tag=n1\r\nTo: <sip:bob@biloxi.example>\r\n\
               Call-ID: new\r\nCSeq: 1 NEWMETHOD\r\nContent-Length: 0\r\n\r\n";
    assert!(matches!(
        parse(raw.as_bytes()),
        Err(ParseError::UnknownMethod(m)) if m == "NEWMETHOD"
    ));
    // A response to an extension method is fine: only its CSeq names the method.
    let resp = "SIP/2.0 501 Not Implemented\r\n\
                Via: SIP/2.0/UDP h.example;branch=z9hG4bKnew\r\n\
                From: <sip:a@h.example>;tag=n1\r\nTo: <sip:bob@biloxi.example>;tag=t\r\n\
                Call-ID: new\r\nCSeq: 1 NEWMETHOD\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        keys(&ok(resp)),
        expect("new", 1, "NEWMETHOD", "z9hG4bKnew", "n1", Some("t"))
    );
}

#[test]
fn the_body_is_cut_at_content_length_or_runs_to_the_datagram_end() {
    let head = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n\
                From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: b\r\n\
                CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n";
    let exact = ok(&format!("{head}Content-Length: 5\r\n\r\nv=0\r\n"));
    assert_eq!(body(&exact), b"v=0\r\n");
    let longer = ok(&format!("{head}Content-Length: 3\r\n\r\nv=0\r\nextra"));
    assert_eq!(body(&longer), b"v=0");
    let zero = ok(&format!("{head}Content-Length: 0\r\n\r\nstray"));
    assert_eq!(body(&zero), b"");
    let absent = ok(&format!("{head}\r\nv=0\r\n"));
    assert_eq!(body(&absent), b"v=0\r\n");
}

#[test]
fn leading_crlfs_and_a_lower_case_version_are_tolerated() {
    let raw = "\r\n\r\nsip/2.0 100 Trying\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKt\r\n\
               From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: t\r\nCSeq: 2 INVITE\r\n\
               Content-Length: 0\r\n\r\n";
    assert_eq!(
        keys(&ok(raw)),
        expect("t", 2, "INVITE", "z9hG4bKt", "1", None)
    );
}
