//! Deterministic mutation test: thousands of damaged messages, none may panic the parser or the
//! accessors.

use super::{keys, parse, SipMessage};

/// xorshift64*: a tiny seeded generator so every run mutates the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: [&str; 6] = [
    "INVITE sip:bob@biloxi.example;transport=udp SIP/2.0\r\n\
     Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKm1;rport, SIP/2.0/TCP p.example;branch=z9hG4bKm0\r\n\
     Max-Forwards: 70\r\nFrom: \"A \\\"q\\\" B\" <sip:alice@atlanta.example>;tag=m1\r\n\
     To: <sip:bob@biloxi.example>\r\nCall-ID: m1@192.0.2.1\r\nCSeq: 1 INVITE\r\n\
     Contact: <sip:alice@192.0.2.1:5060>\r\nContent-Type: application/sdp\r\n\
     Content-Length: 10\r\n\r\nv=0\r\ns=-\r\n",
    "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP [2001:db8::10]:5070;branch=z9hG4bKm2\r\n\
     f: <sip:alice@[2001:db8::10]>;tag=m2\r\nt: <tel:+15550100>;tag=m2b\r\ni: m2\r\n\
     CSeq: 2 INVITE\r\nm: <sip:bob@[2001:db8::20]:5080>\r\nl: 0\r\n\r\n",
    "BYE sip:%61lice@atlanta.example;param=%20 SIP/2.0\r\n\
     Via: SIP / 2.0 / UDP\r\n 192.0.2.2;branch=z9hG4bKm3\r\nFrom: <sip:b@b.example>;tag=m3\r\n\
     To: <sip:%61lice@atlanta.example>;tag=m3b\r\nCall-ID: m3\r\nCSeq:   3\t BYE\r\n\
     Content-Length: 0\r\n\r\n",
    "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm4\r\n\
     From: <sip:a@h>;tag=m4\r\nTo: <sip:a@h>;tag=m4b\r\nCall-ID: m4\r\nCSeq: 4 REGISTER\r\n\
     WWW-Authenticate: Digest realm=\"h\", nonce=\"abc\", qop=\"auth\", algorithm=SHA-256\r\n\
     Content-Length: 0\r\n\r\n",
    "OPTIONS tel:+15550100 SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKm5\r\n\
     From: <sip:a@h>;tag=m5\r\nTo: <tel:+15550100>\r\nCall-ID: m5\r\nCSeq: 5 OPTIONS\r\n\
     Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\nX-Unknown: stuff\r\n\r\n",
    "SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm6\r\n\
     From: <sip:a@h>;tag=m6\r\nTo: <sip:b@h>;tag=m6b\r\nCall-ID: m6\r\nCSeq: 6 INVITE\r\n\
     Require: 100rel\r\nRSeq: 1\r\nContent-Length: 3\r\n\r\nabc",
];

/// Bytes that are structurally meaningful to a SIP parser.
const INTERESTING: &[&[u8]] = &[
    b"\r\n",
    b":",
    b";",
    b"<",
    b">",
    b"%",
    b"\0",
    b"\"",
    b"\\",
    b",",
    b"=",
    b" ",
    b"\t",
    b"[",
    b"]",
    b"@",
    b"\r\n ",
    b"\xff",
    b"\xc3",
    b"99999999999",
];

/// Applies one random mutation.
fn mutate(rng: &mut Rng, msg: &mut Vec<u8>) {
    if msg.is_empty() {
        msg.push(b'x');
        return;
    }
    let at = rng.below(msg.len());
    match rng.below(6) {
        0 => msg[at] ^= 1 << rng.below(8),
        1 => msg.truncate(at),
        2 => {
            let end = (at + 1 + rng.below(8)).min(msg.len());
            msg.drain(at..end);
        }
        3 => msg[at] = rng.below(256) as u8,
        _ => {
            let piece = INTERESTING[rng.below(INTERESTING.len())];
            msg.splice(at..at, piece.iter().copied());
        }
    }
}

/// Exercises everything a caller would read from a parsed message.
fn read_all(msg: &SipMessage) {
    let _ = keys(msg);
    let _ = msg.to_string();
    let _ = msg.to_bytes();
}

#[test]
fn twenty_thousand_mutations_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..20_000 {
        let mut msg = SEEDS[i % SEEDS.len()].as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut msg);
        }
        match parse(&msg) {
            Ok(parsed) => {
                read_all(&parsed);
                accepted += 1;
            }
            Err(e) => {
                let _ = e.to_string();
                rejected += 1;
            }
        }
    }
    // Both outcomes occur: the mutations neither leave everything valid nor break everything.
    assert!(
        accepted > 1_000 && rejected > 1_000,
        "{accepted} / {rejected}"
    );
}
