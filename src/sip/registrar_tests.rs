//! Tests for the registrar on a simulated clock: challenge and answer, the nonce's age, the
//! checks that refuse, the Contact rules of RFC 3261 §10.3 and the bound on failures.

use super::*;
use crate::sip::auth::{authorization, pick_challenge, Credentials};
use crate::sip::message::SipMessage;

const REALM: &str = "ringmaster";
const SOURCE: &str = "127.0.0.1:25090";
const AGENT: Uuid = Uuid::from_u128(0xa6e47);

fn registrar() -> Registrar {
    let mut r = Registrar::new(RegistrarConfig::default(), NonceKey::from_bytes([9; 32]));
    r.set_credential(Credential::from_password(AGENT, "agent1", REALM, "secret"));
    r
}

fn source() -> SocketAddr {
    SOURCE.parse().expect("addr")
}

/// A REGISTER for `user` with the given extra header lines (each ending in CRLF).
fn register(user: &str, call_id: &str, cseq: u32, extra: &str) -> Request {
    let text = format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:25090;branch=z9hG4bK{call_id}{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@127.0.0.1>;tag=f1\r\n\
         To: <sip:{user}@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    );
    match message::parse(text.as_bytes()) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn challenges_of(outcome: &RegisterOutcome) -> Vec<String> {
    outcome
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::WwwAuthenticate(v) => Some(v.value().to_string()),
            _ => None,
        })
        .collect()
}

fn contacts_of(outcome: &RegisterOutcome) -> Vec<String> {
    outcome
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Contact(v) => Some(v.value().to_string()),
            _ => None,
        })
        .collect()
}

/// The Authorization line answering the first challenge of `challenge` (SHA-256) as `user`.
fn answer(challenge: &RegisterOutcome, user: &str, password: &str) -> String {
    answer_with(&challenges_of(challenge)[0], user, password)
}

fn answer_with(challenge: &str, user: &str, password: &str) -> String {
    let c = pick_challenge([challenge]).expect("a challenge");
    let creds = Credentials {
        username: user.into(),
        password: password.into(),
    };
    let value = authorization(&c, &creds, "REGISTER", "sip:127.0.0.1:5060", 1, "cn0nce");
    format!("Authorization: {value}\r\n")
}

/// Registers `contact_lines` as agent1 through a challenge; returns the final outcome.
fn register_authenticated(
    r: &mut Registrar,
    now: Instant,
    call_id: &str,
    cseq: u32,
    contact_lines: &str,
) -> RegisterOutcome {
    let first = r.handle(
        now,
        &register("agent1", call_id, cseq, contact_lines),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(first.code, 401);
    let auth = answer(&first, "agent1", "secret");
    r.handle(
        now,
        &register(
            "agent1",
            call_id,
            cseq + 1,
            &format!("{auth}{contact_lines}"),
        ),
        source(),
        TransportKind::Udp,
    )
}

#[test]
fn the_challenge_offers_sha256_then_md5_and_each_answer_registers() {
    let now = Instant::now();
    for (i, alg) in ["SHA-256", "MD5"].into_iter().enumerate() {
        let mut r = registrar();
        let contact = "Contact: <sip:agent1@127.0.0.1:25090>\r\n";
        let first = r.handle(
            now,
            &register("agent1", "c1", 1, contact),
            source(),
            TransportKind::Udp,
        );
        assert_eq!(first.code, 401);
        let offered = challenges_of(&first);
        assert!(
            offered[0].contains("SHA-256") && offered[1].contains("MD5"),
            "{offered:?}"
        );
        assert!(offered[i].contains(&format!("algorithm={alg}")));
        let auth = answer_with(&offered[i], "agent1", "secret");
        let req = register("agent1", "c1", 2, &format!("{auth}{contact}"));
        let ok = r.handle(now, &req, source(), TransportKind::Udp);
        assert_eq!(ok.code, 200, "{alg}");
        let change = ok.change.clone().expect("a new binding");
        assert_eq!(change.owner, AGENT);
        assert_eq!(change.contacts.len(), 1);
        assert_eq!(change.contacts[0].flow, source());
        assert_eq!(
            contacts_of(&ok),
            vec!["<sip:agent1@127.0.0.1:25090>;expires=3600".to_string()]
        );
    }
}

#[test]
fn a_wrong_password_an_unknown_user_and_a_wrong_realm_get_403() {
    let now = Instant::now();
    let mut r = registrar();
    let first = r.handle(
        now,
        &register("agent1", "c", 1, ""),
        source(),
        TransportKind::Udp,
    );
    let wrong = answer(&first, "agent1", "guess");
    let out = r.handle(
        now,
        &register("agent1", "c", 2, &wrong),
        source(),
        TransportKind::Udp,
    );
    assert_eq!((out.code, out.refused.is_some()), (403, true));
    let stranger = answer(&first, "nobody", "secret");
    let out = r.handle(
        now,
        &register("nobody", "c", 3, &stranger),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    let other_realm =
        answer(&first, "agent1", "secret").replace("realm=\"ringmaster\"", "realm=\"other\"");
    let out = r.handle(
        now,
        &register("agent1", "c", 4, &other_realm),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    assert!(r.bindings("agent1").is_empty());
}

#[test]
fn an_altered_or_replayed_answer_does_not_register() {
    let now = Instant::now();
    let mut r = registrar();
    let contact = "Contact: <sip:agent1@127.0.0.1:25090>\r\n";
    let first = r.handle(
        now,
        &register("agent1", "c", 1, contact),
        source(),
        TransportKind::Udp,
    );
    let auth = answer(&first, "agent1", "secret");
    // The same answer with another nonce count: the digest no longer matches.
    let altered = auth.replace("nc=00000001", "nc=00000002");
    let out = r.handle(
        now,
        &register("agent1", "c", 2, &format!("{altered}{contact}")),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    // The right answer from another address: the nonce is not that address's.
    let elsewhere: SocketAddr = "127.0.0.9:5060".parse().expect("addr");
    let req = register("agent1", "c", 3, &format!("{auth}{contact}"));
    let out = r.handle(now, &req, elsewhere, TransportKind::Udp);
    assert_eq!(out.code, 401);
    // Accepted once; the same request again (same Call-ID and CSeq) changes nothing.
    assert_eq!(r.handle(now, &req, source(), TransportKind::Udp).code, 200);
    assert_eq!(r.handle(now, &req, source(), TransportKind::Udp).code, 500);
    // Replayed after the nonce's lifetime: only a new challenge.
    let later = now + Duration::from_secs(31);
    let req = register("agent1", "c", 9, &format!("{auth}{contact}"));
    let out = r.handle(later, &req, source(), TransportKind::Udp);
    assert_eq!(out.code, 401);
    assert!(challenges_of(&out).iter().all(|c| c.contains("stale=true")));
}

#[test]
fn a_stale_nonce_with_a_wrong_password_is_still_forbidden() {
    let now = Instant::now();
    let mut r = registrar();
    let first = r.handle(
        now,
        &register("agent1", "c", 1, ""),
        source(),
        TransportKind::Udp,
    );
    let wrong = answer(&first, "agent1", "guess");
    let later = now + Duration::from_secs(60);
    let out = r.handle(
        later,
        &register("agent1", "c", 2, &wrong),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
}

#[test]
fn the_to_user_must_be_the_authenticated_user() {
    let now = Instant::now();
    let mut r = registrar();
    r.set_credential(Credential::from_password(
        Uuid::nil(),
        "agent2",
        REALM,
        "other",
    ));
    let first = r.handle(
        now,
        &register("agent2", "c", 1, ""),
        source(),
        TransportKind::Udp,
    );
    let auth = answer(&first, "agent1", "secret");
    let contact = "Contact: <sip:agent2@127.0.0.1:25090>\r\n";
    let out = r.handle(
        now,
        &register("agent2", "c", 2, &format!("{auth}{contact}")),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    assert!(r.bindings("agent2").is_empty() && r.bindings("agent1").is_empty());
}

#[test]
fn too_short_is_423_with_min_expires_and_too_long_is_clamped() {
    let now = Instant::now();
    let mut r = registrar();
    let short = register_authenticated(
        &mut r,
        now,
        "c",
        1,
        "Contact: <sip:a@127.0.0.1:1>\r\nExpires: 10\r\n",
    );
    assert_eq!(short.code, 423);
    let min = short.headers.iter().find_map(|h| match h {
        Header::MinExpires(v) => Some(v.value().to_string()),
        _ => None,
    });
    assert_eq!(min.as_deref(), Some("60"));
    assert!(r.bindings("agent1").is_empty());
    let long = register_authenticated(
        &mut r,
        now,
        "c",
        3,
        "Contact: <sip:a@127.0.0.1:1>;expires=99999\r\n",
    );
    assert_eq!(long.code, 200);
    assert_eq!(
        contacts_of(&long),
        vec!["<sip:a@127.0.0.1:1>;expires=3600".to_string()]
    );
}

#[test]
fn several_contacts_then_expires_0_then_star() {
    let now = Instant::now();
    let mut r = registrar();
    let two = "Contact: <sip:a@127.0.0.1:1>;expires=120, <sip:b@127.0.0.1:2>\r\nExpires: 600\r\n";
    let out = register_authenticated(&mut r, now, "c", 1, two);
    assert_eq!(out.code, 200);
    assert_eq!(
        contacts_of(&out),
        vec![
            "<sip:a@127.0.0.1:1>;expires=120".to_string(),
            "<sip:b@127.0.0.1:2>;expires=600".to_string()
        ]
    );
    // Another phone of the same agent, from another Call-ID.
    let out = register_authenticated(&mut r, now, "d", 1, "Contact: <sip:c@127.0.0.1:3>\r\n");
    assert_eq!(out.change.expect("changed").contacts.len(), 3);
    // A query (no Contact) lists them and changes nothing.
    let out = register_authenticated(&mut r, now + Duration::from_secs(20), "e", 1, "");
    assert_eq!(out.code, 200);
    assert!(out.change.is_none());
    assert!(contacts_of(&out).contains(&"<sip:a@127.0.0.1:1>;expires=100".to_string()));
    let out = register_authenticated(
        &mut r,
        now,
        "c",
        3,
        "Contact: <sip:a@127.0.0.1:1>;expires=0\r\n",
    );
    let left: Vec<String> = out
        .change
        .expect("changed")
        .contacts
        .iter()
        .map(|b| b.contact.to_string())
        .collect();
    assert_eq!(left, vec!["sip:b@127.0.0.1:2", "sip:c@127.0.0.1:3"]);
    // `*` needs Expires: 0.
    let out = register_authenticated(&mut r, now, "c", 5, "Contact: *\r\n");
    assert_eq!(out.code, 400);
    let out = register_authenticated(&mut r, now, "c", 7, "Contact: *\r\nExpires: 0\r\n");
    assert_eq!(out.code, 200);
    assert_eq!(out.change.clone().expect("changed").contacts, Vec::new());
    assert!(contacts_of(&out).is_empty());
    assert!(r.bindings("agent1").is_empty());
}

#[test]
fn an_older_cseq_of_the_same_call_id_is_refused() {
    let now = Instant::now();
    let mut r = registrar();
    let contact = "Contact: <sip:a@127.0.0.1:1>\r\n";
    assert_eq!(
        register_authenticated(&mut r, now, "c", 10, contact).code,
        200
    );
    // CSeq 5 and 6 of the same Call-ID come after 11.
    assert_eq!(
        register_authenticated(&mut r, now, "c", 5, contact).code,
        500
    );
    // Another Call-ID may replace it whatever its CSeq.
    assert_eq!(
        register_authenticated(&mut r, now, "x", 1, contact).code,
        200
    );
}

#[test]
fn bindings_lapse_by_themselves() {
    let now = Instant::now();
    let mut r = registrar();
    let lines = "Contact: <sip:a@127.0.0.1:1>;expires=60, <sip:b@127.0.0.1:2>;expires=120\r\n";
    register_authenticated(&mut r, now, "c", 1, lines);
    assert_eq!(r.next_expiry(), Some(now + Duration::from_secs(60)));
    assert!(r.expire(now + Duration::from_secs(59)).is_empty());
    let changes = r.expire(now + Duration::from_secs(60));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].contacts.len(), 1);
    let changes = r.expire(now + Duration::from_secs(120));
    assert_eq!(changes[0].contacts, Vec::new());
    assert!(!r.has_bindings());
    assert_eq!(r.next_expiry(), None);
}

#[test]
fn two_unanswered_qualifies_in_a_row_remove_a_contact() {
    let now = Instant::now();
    let mut r = registrar();
    register_authenticated(&mut r, now, "c", 1, "Contact: <sip:a@127.0.0.1:1>\r\n");
    let target = r.qualify_targets().pop().expect("one target");
    assert_eq!(target.flow, source());
    assert_eq!(r.qualified("agent1", &target.contact, false), None);
    assert_eq!(r.qualified("agent1", &target.contact, true), None);
    assert_eq!(r.qualified("agent1", &target.contact, false), None);
    let gone = r
        .qualified("agent1", &target.contact, false)
        .expect("removed");
    assert!(gone.contacts.is_empty());
    assert!(r.bindings("agent1").is_empty());
}

#[test]
fn ten_failures_lock_the_source_out_for_a_while() {
    let now = Instant::now();
    let mut r = registrar();
    let first = r.handle(
        now,
        &register("agent1", "c", 1, ""),
        source(),
        TransportKind::Udp,
    );
    let wrong = answer(&first, "agent1", "guess");
    for i in 0..10 {
        let out = r.handle(
            now,
            &register("agent1", "c", 2 + i, &wrong),
            source(),
            TransportKind::Udp,
        );
        assert_eq!(out.code, 403);
    }
    // Locked out: even the right password is refused unchecked, and no challenge is given.
    let right = answer(&first, "agent1", "secret");
    let lines = format!("{right}Contact: <sip:a@127.0.0.1:1>\r\n");
    let out = r.handle(
        now,
        &register("agent1", "c", 20, &lines),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    assert_eq!(out.refused, Some("REGISTER from a locked-out source"));
    assert!(out.stateless, "a locked-out source costs no transaction");
    let out = r.handle(
        now,
        &register("agent1", "c", 21, ""),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    // Another source is not affected.
    let other: SocketAddr = "127.0.0.2:5060".parse().expect("addr");
    assert_eq!(
        r.handle(
            now,
            &register("agent1", "o", 1, ""),
            other,
            TransportKind::Udp
        )
        .code,
        401
    );
    // After the lockout, a fresh challenge and the right answer work.
    let later = now + Duration::from_secs(300);
    assert_eq!(
        register_authenticated(&mut r, later, "n", 1, "Contact: <sip:a@127.0.0.1:1>\r\n").code,
        200
    );
}

#[test]
fn failures_spread_beyond_the_window_do_not_lock_out() {
    let now = Instant::now();
    let mut r = registrar();
    let first = r.handle(
        now,
        &register("agent1", "c", 1, ""),
        source(),
        TransportKind::Udp,
    );
    for i in 0..20u32 {
        // A fresh nonce every 7 s, 9 failures per minute at most.
        let at = now + Duration::from_secs(u64::from(i) * 7);
        let ch = r.handle(
            at,
            &register("agent1", "c", 100 + i * 2, ""),
            source(),
            TransportKind::Udp,
        );
        assert_eq!(ch.code, 401, "attempt {i}");
        let wrong = answer(&ch, "agent1", "guess");
        let out = r.handle(
            at,
            &register("agent1", "c", 101 + i * 2, &wrong),
            source(),
            TransportKind::Udp,
        );
        assert_eq!(out.code, 403);
    }
    drop(first);
}

#[test]
fn removing_a_credential_unbinds_its_user() {
    let now = Instant::now();
    let mut r = registrar();
    register_authenticated(&mut r, now, "c", 1, "Contact: <sip:a@127.0.0.1:1>\r\n");
    let change = r.remove_credential("agent1").expect("was bound");
    assert_eq!((change.owner, change.contacts.len()), (AGENT, 0));
    assert!(r.bindings("agent1").is_empty());
}

#[test]
fn with_md5_alone_only_md5_is_challenged_and_accepted() {
    let now = Instant::now();
    let config = RegistrarConfig {
        algorithms: vec![Algorithm::Md5],
        ..RegistrarConfig::default()
    };
    let mut r = Registrar::new(config, NonceKey::from_bytes([3; 32]));
    r.set_credential(Credential::from_password(AGENT, "agent1", REALM, "secret"));
    let first = r.handle(
        now,
        &register("agent1", "c", 1, ""),
        source(),
        TransportKind::Udp,
    );
    let offered = challenges_of(&first);
    assert_eq!(offered.len(), 1);
    assert!(offered[0].contains("algorithm=MD5"), "{offered:?}");
    // A SHA-256 answer to a nonce of ours is refused: SHA-256 was not offered.
    let sha = digest_server::challenges(
        REALM,
        &first_nonce(&offered[0]),
        false,
        &[Algorithm::Sha256],
    );
    let auth = answer_with(&sha[0], "agent1", "secret");
    let out = r.handle(
        now,
        &register("agent1", "c", 2, &auth),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 403);
    let auth = answer_with(&offered[0], "agent1", "secret");
    let out = r.handle(
        now,
        &register("agent1", "c", 3, &auth),
        source(),
        TransportKind::Udp,
    );
    assert_eq!(out.code, 200);
}

fn first_nonce(challenge: &str) -> String {
    pick_challenge([challenge]).expect("a challenge").nonce
}
