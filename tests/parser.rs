//! Parser tests: the message model accepts valid SIP and never panics on invalid input.

use ringmaster::sip::message::{call_id, cseq, from_tag, top_via_branch, HasHeaders, SipMessage};

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
    let msg = SipMessage::try_from(raw).expect("valid INVITE parses");
    let SipMessage::Request(req) = msg else {
        panic!("expected a request")
    };
    let h = req.headers();
    assert_eq!(call_id(h), Some("c1@127.0.0.1"));
    assert_eq!(cseq(h), Some((1, "INVITE")));
    assert_eq!(top_via_branch(h), Some("z9hG4bKabc"));
    assert_eq!(from_tag(h), Some("f1"));
}
