//! Unwanted traffic over real UDP sockets: garbage, a stranger's INVITE and a flood of OPTIONS
//! sent from 127.0.0.2 (not a trunk) at an endpoint on 127.0.0.1, while SIPp plays the callee.

use crate::helpers::{sipp, Transport};
use ringmaster::call::{run_one, OneCall};
use ringmaster::domain::{Disposition, HangupBy};
use ringmaster::sip::endpoint::{EndpointStats, Limits};
use ringmaster::sip::transaction::TimerConfig;
use ringmaster::sip::transport::{self, EndpointHandle, TransportConfig};
use ringmaster::trunk::{Trunk, TrunkConfig};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where unwanted traffic comes from: a loopback address that is not the trunk's.
const STRANGER: &str = "127.0.0.2:0";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Polls the endpoint's counters until `done` holds (at most `within`).
async fn stats_until(
    endpoint: &EndpointHandle,
    within: Duration,
    done: impl Fn(&EndpointStats) -> bool,
) -> EndpointStats {
    let deadline = Instant::now() + within;
    loop {
        let stats = endpoint.stats().await.expect("stats");
        if done(&stats) || Instant::now() >= deadline {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An OPTIONS from `from`, its branch and Call-ID made of `n`.
fn options(from: SocketAddr, n: u32) -> String {
    format!(
        "OPTIONS sip:ringmaster@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bKflood{n};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:scanner@{from}>;tag=f{n}\r\nTo: <sip:ringmaster@127.0.0.1>\r\n\
         Call-ID: flood-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// A writer that keeps what the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.contains("ringmaster::sip"))
            .map(str::to_string)
            .collect()
    }
}

/// 20,000 datagrams of garbage in a burst are a handful of log lines, not one each.
#[test]
fn a_burst_of_garbage_is_logged_in_a_few_lines() {
    const DATAGRAMS: u32 = 20_000;
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The driver runs on this thread (a current-thread runtime), under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let stats = runtime.block_on(async {
        let endpoint = transport::start(TransportConfig {
            limits: Limits {
                unwanted_log_interval: Duration::from_millis(500),
                ..Limits::default()
            },
            ..TransportConfig::default()
        })
        .await
        .expect("endpoint");
        let to = endpoint.udp_addr();
        // Paced (1,000 every 20 ms) so that the socket buffer keeps most of them.
        let sender = std::thread::spawn(move || {
            let socket = UdpSocket::bind(STRANGER).expect("stranger socket");
            for batch in 0..DATAGRAMS / 1000 {
                for i in 0..1000 {
                    let garbage = format!("\u{1}\u{2} not SIP {batch}-{i} \u{7f}");
                    let _ = socket.send_to(garbage.as_bytes(), to);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        tokio::task::spawn_blocking(move || sender.join().expect("sender"))
            .await
            .expect("join");
        // Whatever is still in the socket buffer is read by now.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let drained = endpoint.stats().await.expect("stats");
        // The interval open when the burst ended gets its summary too; nothing comes after.
        let stats = stats_until(&endpoint, Duration::from_secs(3), |s| {
            s.unwanted_summaries > drained.unwanted_summaries
        })
        .await;
        endpoint.shutdown().await;
        stats
    });
    assert!(
        stats.malformed_in >= u64::from(DATAGRAMS) * 9 / 10,
        "only {} of {DATAGRAMS} datagrams arrived",
        stats.malformed_in
    );
    let lines = log.lines();
    assert!(
        (1..=8).contains(&lines.len()),
        "{} log lines for {} datagrams:\n{}",
        lines.len(),
        stats.malformed_in,
        lines.join("\n")
    );
    let counted: u64 = lines
        .iter()
        .filter_map(|l| l.split("unparsable=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, stats.malformed_in, "{}", lines.join("\n"));
    // Each interval: its summary, and its first datagram in full at DEBUG (a subscriber set
    // for one thread may miss these while other tests run: not counted on).
    let summaries = lines
        .iter()
        .filter(|l| l.contains("unwanted SIP traffic in the last"))
        .count();
    assert_eq!(
        summaries as u64,
        stats.unwanted_summaries,
        "{}",
        lines.join("\n")
    );
    assert!(lines.len() <= 2 * summaries, "{}", lines.join("\n"));
}

/// A stranger's INVITE gets one 403 and nothing else: no retransmission towards a source that
/// may be spoofed, and its ACK draws no answer.
#[test]
fn a_strangers_invite_gets_exactly_one_response() {
    let runtime = runtime();
    runtime.block_on(async {
        let endpoint = transport::start(TransportConfig {
            // Timer G would re-send a kept 403 at 50, 150, 350, 750, 1550 ms ...
            timers: TimerConfig {
                t1: Duration::from_millis(50),
                ..TimerConfig::default()
            },
            ..TransportConfig::default()
        })
        .await
        .expect("endpoint");
        let to = endpoint.udp_addr();
        let socket = tokio::net::UdpSocket::bind(STRANGER)
            .await
            .expect("stranger socket");
        let me = socket.local_addr().expect("address");
        let invite = format!(
            "INVITE sip:+15551234567@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKstranger;rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:scanner@{me}>;tag=s1\r\nTo: <sip:+15551234567@{to}>\r\n\
             Call-ID: stranger-1\r\nCSeq: 1 INVITE\r\nContact: <sip:scanner@{me}>\r\nContent-Length: 0\r\n\r\n"
        );
        socket.send_to(invite.as_bytes(), to).await.expect("send");
        let mut responses = Vec::new();
        let mut buf = vec![0u8; 65_536];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Ok((n, _))) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await {
            responses.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(responses.len(), 1, "{responses:#?}");
        assert!(responses[0].starts_with("SIP/2.0 403 "), "{}", responses[0]);
        let to_tag = responses[0]
            .lines()
            .find(|l| l.starts_with("To:"))
            .and_then(|l| l.split("tag=").nth(1))
            .expect("a To tag")
            .trim()
            .to_string();
        let ack = format!(
            "ACK sip:+15551234567@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKstranger;rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:scanner@{me}>;tag=s1\r\nTo: <sip:+15551234567@{to}>;tag={to_tag}\r\n\
             Call-ID: stranger-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        );
        socket.send_to(ack.as_bytes(), to).await.expect("send");
        let after_ack =
            tokio::time::timeout(Duration::from_millis(500), socket.recv_from(&mut buf)).await;
        assert!(after_ack.is_err(), "the ACK drew an answer");
        let stats = endpoint.stats().await.expect("stats");
        assert_eq!(stats.server_transactions, 0);
        assert_eq!(stats.refused_in, 1);
        endpoint.shutdown().await;
    });
}

/// 20,000 OPTIONS in about a second from twenty strangers (127.0.0.2 to 127.0.0.21) while
/// calls go to SIPp: every call is answered and hung up, each stranger is cut to its rate
/// (dropped before a parse), those admitted beyond the bound on server transactions get a
/// stateless 503, and the endpoint never holds more server transactions than its bound.
#[test]
fn calls_go_through_a_flood_of_options_within_the_limits() {
    const CALLS: u32 = 20;
    const SOURCES: u8 = 20;
    const FLOOD: u32 = 20_000;
    const BOUND: usize = 1_000;
    let sipp = sipp("uas_answer_wait_bye.xml", Transport::Udp)
        .calls(CALLS)
        .start();
    let runtime = runtime();
    let (reports, max_held, stats) = runtime.block_on(async {
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
        let limits = Limits {
            max_server_transactions: BOUND,
            ..Limits::default()
        };
        // Twenty sources, each allowed its burst at once: more than the bound between them.
        assert!(usize::from(SOURCES) * limits.source_burst as usize > BOUND);
        let endpoint = transport::start(TransportConfig {
            trunks: vec![trunk.peer.ip()],
            limits,
            ..TransportConfig::default()
        })
        .await
        .expect("endpoint");
        let to = endpoint.udp_addr();
        let flood = std::thread::spawn(move || {
            let sockets: Vec<UdpSocket> = (0..SOURCES)
                .map(|i| UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 2 + i), 0)))
                .collect::<Result<_, _>>()
                .expect("flood sockets");
            let addrs: Vec<SocketAddr> = sockets
                .iter()
                .map(|s| s.local_addr().expect("address"))
                .collect();
            for batch in 0..FLOOD / 200 {
                for i in 0..200 {
                    let n = batch * 200 + i;
                    let k = n as usize % sockets.len();
                    let _ = sockets[k].send_to(options(addrs[k], n).as_bytes(), to);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let flood_over = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (endpoint, flood_over) = (endpoint.clone(), flood_over.clone());
            tokio::spawn(async move {
                let mut max_held = 0;
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline && !flood_over.load(Ordering::Relaxed) {
                    let stats = endpoint.stats().await.expect("stats");
                    max_held = max_held.max(stats.server_transactions);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                max_held
            })
        };
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
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        let mut reports = Vec::new();
        for c in calls {
            reports.push(c.await.expect("call task").expect("call"));
        }
        tokio::task::spawn_blocking(move || flood.join().expect("flood"))
            .await
            .expect("join");
        flood_over.store(true, Ordering::Relaxed);
        let max_held = watcher.await.expect("watcher");
        let stats = endpoint.stats().await.expect("stats");
        endpoint.shutdown().await;
        (reports, max_held, stats)
    });
    let run = sipp.finish(Duration::from_secs(40));
    for r in &reports {
        assert_eq!(
            r.disposition,
            Disposition::Answered,
            "{r:?}\n{stats:?}\n{}",
            run.errors
        );
        assert_eq!(r.sip_code, Some(200), "{r:?}");
        assert_eq!(r.hangup_by, Some(HangupBy::Local), "{r:?}");
    }
    assert!(
        max_held <= BOUND && stats.server_transactions <= BOUND,
        "{max_held} server transactions held (bound {BOUND}): {stats:?}"
    );
    assert!(
        stats.rate_limited_in > 0,
        "no source was limited: {stats:?}"
    );
    assert!(
        stats.overloaded_in > 0,
        "the bound was never reached: {stats:?}"
    );
    run.assert_success();
    assert_eq!(run.stat("SuccessfulCall(C)"), u64::from(CALLS));
}
