//! The registrar over real sockets: SIPp (`agent_register.xml`) and baresip register with
//! digest authentication at an endpoint on 127.0.0.1 holding one agent's credential; the
//! endpoint's Registration events and bindings show what each achieved.

use crate::helpers::{sipp, Transport};
use ringmaster::sip::auth::Algorithm;
use ringmaster::sip::registrar::{Credential, RegistrarConfig, Registration};
use ringmaster::sip::transport::{self, EndpointHandle, TransportConfig};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use uuid::Uuid;

const AGENT: Uuid = Uuid::from_u128(0x5eed);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An endpoint on 127.0.0.1 (UDP and TCP) where `user` may register with `password`,
/// challenging with `algorithms`.
async fn registrar(user: &str, password: &str, algorithms: &[Algorithm]) -> EndpointHandle {
    let endpoint = transport::start(TransportConfig {
        udp_bind: "127.0.0.1:0".parse().expect("addr"),
        tcp_bind: Some("127.0.0.1:0".parse().expect("addr")),
        registrar: RegistrarConfig {
            algorithms: algorithms.to_vec(),
            ..RegistrarConfig::default()
        },
        ..TransportConfig::default()
    })
    .await
    .expect("endpoint");
    let realm = TransportConfig::default().registrar.realm;
    endpoint
        .set_credential(Credential::from_password(AGENT, user, &realm, password))
        .await
        .expect("credential set");
    endpoint
}

/// The registration changes received within `within`, stopping early once `enough` of them.
async fn changes(
    rx: &mut broadcast::Receiver<Registration>,
    within: Duration,
    enough: usize,
) -> Vec<Registration> {
    let deadline = tokio::time::Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < enough {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(change)) => out.push(change),
            _ => break,
        }
    }
    out
}

/// SIPp registers `agent1` with `password` over `transport` (then unregisters when let in).
fn sipp_register(
    transport: Transport,
    password: &str,
    endpoint: &EndpointHandle,
) -> crate::helpers::Sipp {
    let target = match transport {
        Transport::Udp => endpoint.udp_addr(),
        Transport::Tcp => endpoint.tcp_addr().expect("TCP listening"),
    };
    sipp("agent_register.xml", transport)
        .arg("-au")
        .arg("agent1")
        .arg("-ap")
        .arg(password)
        .arg("-s")
        .arg("agent1")
        .arg(&target.to_string())
        .start()
}

fn sipp_registers_then_unregisters(transport: Transport) {
    runtime().block_on(async {
        // SIPp 3.6.1 answers only the first challenge, and only with MD5.
        let endpoint = registrar("agent1", "secret", &[Algorithm::Md5]).await;
        let mut rx = endpoint.registrations();
        let run = tokio::task::spawn_blocking({
            let endpoint = endpoint.clone();
            move || sipp_register(transport, "secret", &endpoint).finish(Duration::from_secs(20))
        });
        let registered = changes(&mut rx, Duration::from_secs(10), 1).await;
        assert_eq!(registered.len(), 1, "a registration: {registered:?}");
        assert_eq!(registered[0].owner, AGENT);
        assert_eq!(registered[0].username, "agent1");
        let bound = endpoint.bindings("agent1").await.expect("bindings");
        assert_eq!(bound.len(), 1, "{bound:?}");
        assert_eq!(bound[0].flow.ip().to_string(), "127.0.0.1");
        assert!(bound[0]
            .contact
            .as_str()
            .starts_with("sip:agent1@127.0.0.1:"));
        let left = bound[0].remaining(Instant::now());
        assert!((100..=120).contains(&left), "{left} s left of 120");
        let unregistered = changes(&mut rx, Duration::from_secs(10), 1).await;
        assert_eq!(unregistered.len(), 1, "the unregistration");
        assert!(unregistered[0].contacts.is_empty());
        let run = run.await.expect("SIPp thread");
        run.assert_success();
        let oks = run.received("SIP/2.0 200");
        assert_eq!(oks.len(), 2, "two 200s");
        assert!(oks[0].text.contains(";expires=120"), "{}", oks[0].text);
        assert!(
            !oks[1].text.to_ascii_lowercase().contains("\ncontact"),
            "{}",
            oks[1].text
        );
        let challenge = &run.received("SIP/2.0 401")[0].text;
        assert!(challenge.contains("algorithm=MD5") && challenge.contains("qop=\"auth\""));
        assert!(endpoint
            .bindings("agent1")
            .await
            .expect("bindings")
            .is_empty());
        endpoint.shutdown().await;
    });
}

#[test]
fn sipp_registers_with_digest_and_unregisters_over_udp() {
    sipp_registers_then_unregisters(Transport::Udp);
}

#[test]
fn sipp_registers_with_digest_and_unregisters_over_tcp() {
    sipp_registers_then_unregisters(Transport::Tcp);
}

#[test]
fn sipp_with_a_wrong_password_gets_403_and_no_binding() {
    runtime().block_on(async {
        // SIPp 3.6.1 answers only the first challenge, and only with MD5.
        let endpoint = registrar("agent1", "secret", &[Algorithm::Md5]).await;
        let mut rx = endpoint.registrations();
        let run = tokio::task::spawn_blocking({
            let endpoint = endpoint.clone();
            move || {
                sipp_register(Transport::Udp, "wrong", &endpoint).finish(Duration::from_secs(20))
            }
        })
        .await
        .expect("SIPp thread");
        run.assert_success();
        assert_eq!(run.received("SIP/2.0 403").len(), 1);
        assert!(run.received("SIP/2.0 200").is_empty());
        assert!(changes(&mut rx, Duration::from_millis(200), 1)
            .await
            .is_empty());
        assert!(endpoint
            .bindings("agent1")
            .await
            .expect("bindings")
            .is_empty());
        let stats = endpoint.stats().await.expect("stats");
        assert!(stats.refused_in >= 1, "{stats:?}");
        endpoint.shutdown().await;
    });
}
