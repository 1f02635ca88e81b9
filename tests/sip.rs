//! ringmaster against SIPp: SIPp plays the trunk or the callee (`sip-test/scenarios/`),
//! ringmaster places the call through `ringmaster call`, the command a user runs, over UDP and
//! over TCP. Each test checks the JSON line ringmaster prints and that SIPp saw the whole
//! exchange its scenario describes (SIPp exits 0 only then). Every test uses its own SIP and
//! control ports, so they run in parallel.

#[path = "sip/helpers.rs"]
mod helpers;

#[path = "sip/flood.rs"]
mod flood;

#[path = "sip/registrar.rs"]
mod registrar;

#[path = "sip/baresip.rs"]
mod baresip;

use helpers::{call, ringmaster, sipp, Logged, Report, SippRun, Transport};
use std::collections::HashMap;
use std::time::Duration;

/// How long SIPp may take to end after ringmaster is done (its UDP linger included).
const SIPP_END: Duration = Duration::from_secs(15);

/// Generates `name::udp` and `name::tcp` tests from `fn name(Transport)`.
macro_rules! over_udp_and_tcp {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn udp() {
                    super::$name(super::Transport::Udp)
                }
                #[test]
                fn tcp() {
                    super::$name(super::Transport::Tcp)
                }
            }
        )*
    };
}

over_udp_and_tcp!(
    answered_then_ringmaster_hangs_up,
    answered_then_the_callee_hangs_up,
    busy_486,
    busy_600,
    no_answer_cancels_at_the_dial_timeout,
    an_answer_that_crosses_the_cancel_is_acked_and_hung_up,
    rejected_403,
    invalid_number_404,
    failed_503,
    answered_after_a_407_challenge,
    unauthorized_when_the_407_challenge_comes_back,
    answered_after_a_401_challenge_checked_by_sipp,
    unauthorized_when_sipp_finds_the_password_wrong,
    forbidden_after_credentials_is_rejected,
);

fn assert_unanswered(r: &Report, disposition: &str, code: u16) {
    assert_eq!(r.disposition, disposition, "{r:?}");
    assert_eq!(r.sip_code, Some(code), "{r:?}");
    assert_eq!(r.hangup_by, None, "{r:?}");
    assert_eq!(r.talk_ms, 0, "{r:?}");
    assert!(r.setup_ms < 2_000, "setup took {} ms: {r:?}", r.setup_ms);
}

/// The exchange of an answered call, as SIPp saw it: one INVITE (no retransmission on
/// loopback), ACKed once, then a BYE in the dialog the 200 created.
fn assert_answered_exchange(run: &SippRun) {
    let ok = run
        .sent("SIP/2.0 200")
        .into_iter()
        .next()
        .expect("SIPp sent a 200");
    let to = ok.header("To").expect("To in the 200");
    let ack = run.received("ACK");
    assert_eq!(ack.len(), 1, "one ACK for the 200");
    assert_eq!(
        ack[0].header("To"),
        Some(to),
        "the ACK is in the 200's dialog"
    );
    assert_eq!(ack[0].header("CSeq"), Some("1 ACK"));
}

fn answered_then_ringmaster_hangs_up(t: Transport) {
    let sipp = sipp("uas_answer_wait_bye.xml", t)
        .set("linger_ms", "200")
        .start();
    let r = call(&sipp, &["--hangup-after-ms", "300"]);
    assert_eq!(r.disposition, "answered", "{r:?}");
    assert_eq!(r.sip_code, Some(200));
    assert_eq!(r.hangup_by.as_deref(), Some("local"));
    assert_eq!(r.reason, "normal clearing");
    assert!(r.setup_ms < 2_000, "setup took {} ms", r.setup_ms);
    assert!(
        (300..2_000).contains(&r.talk_ms),
        "hung up after 300 ms, talk_ms {}",
        r.talk_ms
    );
    let run = sipp.finish(SIPP_END);
    run.assert_success();
    assert_answered_exchange(&run);
    let bye = run.received("BYE");
    assert_eq!(bye.len(), 1, "one BYE");
    assert_eq!(bye[0].header("CSeq"), Some("2 BYE"));
    assert_eq!(bye[0].header("Call-ID"), Some(r.call_id.as_str()));
}

fn answered_then_the_callee_hangs_up(t: Transport) {
    let sipp = sipp("uas_answer_hangup.xml", t)
        .set("hold_ms", "500")
        .start();
    let trunk = sipp.trunk();
    let run = ringmaster(&[
        "call",
        helpers::DESTINATION,
        "--trunk",
        &trunk,
        "--hangup-after-ms",
        "10000",
    ]);
    let r = run.report();
    assert_eq!(r.disposition, "answered", "{r:?}");
    assert_eq!(r.sip_code, Some(200));
    assert_eq!(r.hangup_by.as_deref(), Some("remote"));
    assert!(
        (450..3_000).contains(&r.talk_ms),
        "the callee hung up after 500 ms, talk_ms {}",
        r.talk_ms
    );
    assert!(
        run.elapsed < Duration::from_secs(8),
        "ringmaster waited {:?}: it did not end the call on the callee's BYE",
        run.elapsed
    );
    let sipp_run = sipp.finish(SIPP_END);
    sipp_run.assert_success(); // SIPp got the 200 for its BYE
    assert_answered_exchange(&sipp_run);
    assert!(
        sipp_run.received("BYE").is_empty(),
        "ringmaster sent a BYE of its own"
    );
}

/// SIPp's uas_busy.xml answers `code`; ringmaster reports `disposition` and ACKs.
fn refused(t: Transport, code: u16, disposition: &str) {
    let sipp = sipp("uas_busy.xml", t)
        .set("code", &code.to_string())
        .start();
    let r = call(&sipp, &[]);
    assert_unanswered(&r, disposition, code);
    let run = sipp.finish(SIPP_END);
    run.assert_success(); // includes the ACK of the final response
    let ack = run.received("ACK");
    assert_eq!(ack.len(), 1);
    let invite = run.received("INVITE");
    assert_eq!(
        ack[0].header("Via"),
        invite[0].header("Via"),
        "the ACK of a non-2xx reuses the INVITE's branch"
    );
}

fn busy_486(t: Transport) {
    refused(t, 486, "busy");
}

fn busy_600(t: Transport) {
    refused(t, 600, "busy");
}

fn rejected_403(t: Transport) {
    refused(t, 403, "rejected");
}

fn invalid_number_404(t: Transport) {
    refused(t, 404, "invalid_number");
}

fn failed_503(t: Transport) {
    refused(t, 503, "failed");
}

fn no_answer_cancels_at_the_dial_timeout(t: Transport) {
    let sipp = sipp("uas_no_answer.xml", t).start();
    let r = call(&sipp, &["--dial-timeout-ms", "500"]);
    assert_eq!(r.disposition, "no_answer", "{r:?}");
    assert_eq!(r.sip_code, Some(487));
    assert_eq!(r.reason, "dial timeout");
    assert_eq!(r.hangup_by, None);
    assert_eq!(r.talk_ms, 0);
    assert!(
        (500..2_500).contains(&r.setup_ms),
        "CANCEL at 500 ms, 487 after {} ms",
        r.setup_ms
    );
    let run = sipp.finish(SIPP_END);
    run.assert_success();
    let invite = run.received("INVITE");
    let cancel = run.received("CANCEL");
    assert_eq!(cancel.len(), 1, "one CANCEL");
    assert_eq!(cancel[0].header("Via"), invite[0].header("Via"));
    assert_eq!(cancel[0].header("CSeq"), Some("1 CANCEL"));
    assert_eq!(run.received("ACK").len(), 1, "the 487 is ACKed");
}

/// The callee answers as the CANCEL of the dial timeout reaches it (its 200 OK crosses the
/// CANCEL): the 200 is ACKed and the call hung up at once with a BYE in its dialog (RFC 3261
/// §9.1), and the attempt is not an answer: nobody was there to talk.
fn an_answer_that_crosses_the_cancel_is_acked_and_hung_up(t: Transport) {
    let sipp = sipp("uas_answer_cancel.xml", t).start();
    let r = call(&sipp, &["--dial-timeout-ms", "500"]);
    assert_eq!(r.disposition, "no_answer", "{r:?}");
    assert_eq!(r.sip_code, Some(200), "{r:?}");
    assert_eq!(r.reason, "answered after CANCEL", "{r:?}");
    assert_eq!(r.hangup_by.as_deref(), Some("local"), "{r:?}");
    assert_eq!(r.talk_ms, 0, "{r:?}");
    assert!((500..2_500).contains(&r.setup_ms), "{r:?}");
    let run = sipp.finish(SIPP_END);
    run.assert_success();
    let invite = run.received("INVITE");
    assert_eq!(run.received("CANCEL").len(), 1, "one CANCEL");
    let (ack, bye) = (run.received("ACK"), run.received("BYE"));
    assert_eq!(
        (ack.len(), bye.len()),
        (1, 1),
        "the 2xx ACKed once, one BYE"
    );
    assert_ne!(
        ack[0].header("Via"),
        invite[0].header("Via"),
        "the ACK of a 2xx is a transaction of its own"
    );
    let to_tag = |m: &Logged| {
        m.header("To")
            .and_then(|to| to.split_once(";tag="))
            .map(|(_, tag)| tag.to_string())
    };
    assert!(
        to_tag(ack[0]).is_some(),
        "the ACK is in the answer's dialog"
    );
    assert_eq!(
        to_tag(bye[0]),
        to_tag(ack[0]),
        "the BYE is in the answer's dialog"
    );
    assert_eq!(bye[0].header("Call-ID"), invite[0].header("Call-ID"));
}

/// The parameters of a `Digest a=b, c="d"` header value.
fn digest_params(value: &str) -> HashMap<String, String> {
    let rest = value
        .trim()
        .strip_prefix("Digest")
        .unwrap_or_else(|| panic!("not a Digest header: {value}"));
    let mut params = HashMap::new();
    let mut add = |item: &str| {
        if let Some((k, v)) = item.split_once('=') {
            params.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            );
        }
    };
    let (mut item, mut quoted) = (String::new(), false);
    for c in rest.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                item.push(c);
            }
            ',' if !quoted => {
                add(&item);
                item.clear();
            }
            _ => item.push(c),
        }
    }
    add(&item);
    params
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    format!("{:x}", Md5::digest(s.as_bytes()))
}

/// Checks the credentials ringmaster sent in answer to SIPp's first challenge and tells whether
/// their response is the RFC 2617 `qop=auth` digest of `password`. Realm and nonce are taken
/// from the challenge SIPp sent (not from what the client echoes), the URI from the
/// Request-URI of the INVITE that carries them.
fn digest_is_for(run: &SippRun, challenge: u16, user: &str, password: &str) -> bool {
    let (status, offered, answered) = match challenge {
        407 => ("SIP/2.0 407", "Proxy-Authenticate", "Proxy-Authorization"),
        _ => ("SIP/2.0 401", "WWW-Authenticate", "Authorization"),
    };
    let sent = run.sent(status);
    let offer = digest_params(
        sent.first()
            .and_then(|m| m.header(offered))
            .expect("SIPp's challenge"),
    );
    let invite = run
        .received("INVITE")
        .into_iter()
        .find(|m| m.header(answered).is_some())
        .unwrap_or_else(|| panic!("no INVITE with {answered}"));
    let cred = digest_params(invite.header(answered).expect("credentials"));
    let uri = invite.start_line().split(' ').nth(1).expect("Request-URI");
    assert_eq!(cred["username"], user);
    assert_eq!(cred["realm"], offer["realm"]);
    assert_eq!(cred["nonce"], offer["nonce"]);
    assert_eq!(cred["uri"], uri);
    assert_eq!(cred["qop"], "auth");
    assert_eq!(cred["nc"], "00000001");
    assert!(!cred["cnonce"].is_empty());
    let ha1 = md5_hex(&format!("{user}:{}:{password}", offer["realm"]));
    let ha2 = md5_hex(&format!("INVITE:{uri}"));
    let response = md5_hex(&format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        offer["nonce"], cred["nc"], cred["cnonce"]
    ));
    cred["response"] == response
}

fn answered_after_a_407_challenge(t: Transport) {
    let sipp = sipp("uas_challenge_407.xml", t)
        .set("user", "acme")
        .set("password", "s3cret")
        .start();
    let r = call(
        &sipp,
        &[
            "--username",
            "acme",
            "--password",
            "s3cret",
            "--hangup-after-ms",
            "200",
        ],
    );
    assert_eq!(r.disposition, "answered", "{r:?}");
    assert_eq!(r.sip_code, Some(200));
    assert_eq!(r.hangup_by.as_deref(), Some("local"));
    let run = sipp.finish(SIPP_END);
    run.assert_success(); // the scenario checked the retried INVITE's shape
    assert!(
        digest_is_for(&run, 407, "acme", "s3cret"),
        "the Proxy-Authorization digest is not the password's"
    );
    let invites = run.received("INVITE");
    assert_eq!(invites.len(), 2, "the INVITE and one retry");
    assert_eq!(invites[0].header("Call-ID"), invites[1].header("Call-ID"));
    assert_eq!(invites[1].header("CSeq"), Some("2 INVITE"));
    assert_eq!(
        run.received("ACK").len(),
        2,
        "the 407 and the 200 are both ACKed"
    );
}

fn unauthorized_when_the_407_challenge_comes_back(t: Transport) {
    // SIPp cannot check a Proxy-Authorization (its verifyauth reads only Authorization), so
    // the scenario is told to refuse and the digest is checked here.
    let sipp = sipp("uas_challenge_407.xml", t)
        .set("user", "acme")
        .set("password", "s3cret")
        .set("reject", "yes")
        .set("bad_auth", "rechallenge")
        .start();
    let r = call(&sipp, &["--username", "acme", "--password", "wrong"]);
    assert_unanswered(&r, "unauthorized", 407);
    let run = sipp.finish(SIPP_END);
    run.assert_success();
    assert!(!digest_is_for(&run, 407, "acme", "s3cret"));
    assert!(
        digest_is_for(&run, 407, "acme", "wrong"),
        "the digest is not that of the password ringmaster was given"
    );
    assert_eq!(
        run.received("INVITE").len(),
        2,
        "a fresh challenge after our credentials is not answered again"
    );
}

fn answered_after_a_401_challenge_checked_by_sipp(t: Transport) {
    let sipp = sipp("uas_challenge_407.xml", t)
        .set("challenge", "401")
        .set("user", "acme")
        .set("password", "s3cret")
        .start();
    let r = call(
        &sipp,
        &[
            "--username",
            "acme",
            "--password",
            "s3cret",
            "--hangup-after-ms",
            "200",
        ],
    );
    assert_eq!(r.disposition, "answered", "{r:?}");
    let run = sipp.finish(SIPP_END);
    run.assert_success();
    assert!(digest_is_for(&run, 401, "acme", "s3cret"));
}

fn unauthorized_when_sipp_finds_the_password_wrong(t: Transport) {
    let sipp = sipp("uas_challenge_407.xml", t)
        .set("challenge", "401")
        .set("user", "acme")
        .set("password", "s3cret")
        .set("bad_auth", "rechallenge")
        .start();
    let r = call(&sipp, &["--username", "acme", "--password", "wrong"]);
    assert_unanswered(&r, "unauthorized", 401);
    let run = sipp.finish(SIPP_END);
    run.assert_success();
    assert!(digest_is_for(&run, 401, "acme", "wrong"));
}

/// A 403 in answer to our credentials is reported as the 403 it is: `rejected`
/// (`unauthorized` is kept for a challenge that comes back).
fn forbidden_after_credentials_is_rejected(t: Transport) {
    let sipp = sipp("uas_challenge_407.xml", t)
        .set("challenge", "401")
        .set("user", "acme")
        .set("password", "s3cret")
        .start();
    let r = call(&sipp, &["--username", "acme", "--password", "wrong"]);
    assert_unanswered(&r, "rejected", 403);
    sipp.finish(SIPP_END).assert_success();
}

#[test]
fn the_transport_flag_overrides_the_trunk_uri() {
    let sipp = sipp("uas_answer_wait_bye.xml", Transport::Tcp).start();
    let trunk = format!("sip:127.0.0.1:{}", sipp.port());
    let r = ringmaster(&[
        "call",
        helpers::DESTINATION,
        "--trunk",
        &trunk,
        "--transport",
        "tcp",
        "--hangup-after-ms",
        "100",
    ])
    .report();
    assert_eq!(r.disposition, "answered", "{r:?}");
    sipp.finish(SIPP_END).assert_success();
}

#[test]
fn a_refused_tcp_connection_fails_the_call_at_once() {
    let port = helpers::free_port(); // nobody listens there
    let trunk = format!("sip:127.0.0.1:{port};transport=tcp");
    let run = ringmaster(&["call", helpers::DESTINATION, "--trunk", &trunk]);
    let r = run.report();
    assert_eq!(r.disposition, "failed", "{r:?}");
    assert_eq!(r.sip_code, None);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["call", "+15551234567", "--trunk", "nonsense"],
            "--trunk \"nonsense\" is neither a sip: URI nor a configured trunk name",
        ),
        (
            &[
                "call",
                "+15551234567",
                "--trunk",
                "sip:127.0.0.1:5060",
                "--username",
                "acme",
            ],
            "--username and --password go together",
        ),
        (
            &["call", "bob@example.com", "--trunk", "sip:127.0.0.1:5060"],
            "must be a number, SIP user part or SIP URI",
        ),
        (
            &[
                "call",
                "sip:sip:bob@127.0.0.1",
                "--trunk",
                "sip:127.0.0.1:5060",
            ],
            "must be a number, SIP user part or SIP URI",
        ),
        (
            &[
                "call",
                "+1555\r\nX-Evil: 1",
                "--trunk",
                "sip:127.0.0.1:5060",
            ],
            "contains a control character",
        ),
        (
            &["call", "+15551234567", "--trunk", "sip:"],
            "is not a sip: URI with a host",
        ),
    ];
    for (args, message) in cases {
        let run = ringmaster(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains(message),
            "{args:?}: {:?} lacks {message:?}",
            run.stderr
        );
    }
}

/// SIPp drops 10 % of what it sends and receives: every call must still be answered and
/// hung up, through INVITE, 200, ACK and BYE retransmissions.
#[test]
fn every_call_is_answered_when_sipp_loses_ten_percent() {
    use ringmaster::call::{run_one, OneCall};
    use ringmaster::domain::{Disposition, HangupBy};
    use ringmaster::sip::transport::{self, TransportConfig};
    use ringmaster::trunk::{Trunk, TrunkConfig};

    const CALLS: u32 = 20;
    // The linger (8 s) covers four BYE attempts (0, 0.5, 1.5, 3.5 s after the first).
    let sipp = sipp("uas_answer_wait_bye.xml", Transport::Udp)
        .calls(CALLS)
        .lost(10)
        .set("linger_ms", "8000")
        .start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (reports, stats) = runtime.block_on(async {
        let trunk = Trunk::resolve(TrunkConfig {
            name: "sipp".into(),
            uri: sipp.trunk(),
            username: None,
            password: None,
            caller_id: "ringmaster".into(),
            caller_name: None,
            asserted_identity: false,
            max_cps: 100,
            max_concurrent: 100,
            max_setup: 0,
            keepalive_secs: 0,
        })
        .await
        .expect("trunk");
        let endpoint = transport::start(TransportConfig::default())
            .await
            .expect("endpoint");
        let mut calls = Vec::new();
        for i in 0..CALLS {
            let (endpoint, trunk) = (endpoint.clone(), trunk.clone());
            calls.push(tokio::spawn(async move {
                let call = OneCall {
                    destination: ringmaster::domain::Dialable::Number(
                        format!("+1555000{i:04}").parse().expect("E.164"),
                    ),
                    dial_timeout: Duration::from_secs(30),
                    hangup_after: Duration::from_millis(300),
                };
                run_one(&endpoint, &trunk, &call).await
            }));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut reports = Vec::new();
        for c in calls {
            reports.push(c.await.expect("call task").expect("call"));
        }
        let stats = endpoint.stats().await.expect("stats");
        endpoint.shutdown().await;
        (reports, stats)
    });
    for r in &reports {
        assert_eq!(r.disposition, Disposition::Answered, "{r:?}");
        assert_eq!(r.sip_code, Some(200), "{r:?}");
        assert_eq!(r.hangup_by, Some(HangupBy::Local), "{r:?}");
    }
    let run = sipp.finish(Duration::from_secs(40));
    run.assert_success();
    assert!(
        stats.messages_out >= 3 * u64::from(CALLS),
        "ringmaster sent {} messages for {CALLS} calls",
        stats.messages_out
    );
    // Every INVITE or BYE that SIPp dropped on receipt was sent again (a dropped ACK need not
    // be: the scenario takes the BYE without it).
    let dropped: Vec<_> = run.messages.iter().filter(|m| m.dropped).collect();
    assert!(
        !dropped.is_empty() || run.lost_sent > 0,
        "SIPp dropped nothing of {} messages: -lost not in effect?",
        run.messages.len()
    );
    for m in dropped
        .iter()
        .filter(|m| !m.start_line().starts_with("ACK"))
    {
        let copies = run
            .messages
            .iter()
            .filter(|o| {
                o.received
                    && o.header("Call-ID") == m.header("Call-ID")
                    && o.header("CSeq") == m.header("CSeq")
            })
            .count();
        assert!(copies >= 2, "dropped and never sent again:\n{}", m.text);
    }
    assert_eq!(run.stat("SuccessfulCall(C)"), u64::from(CALLS));
}
