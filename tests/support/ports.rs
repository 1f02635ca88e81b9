//! Ports for the test binaries: free ports in a range of their own, whether a port is bound
//! yet (read without taking it), and the wait for a child process to bind its own.

use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Ports come from 10000–19999: below ringmaster's default RTP range (20000–30000) and the
/// kernel's ephemeral range (32768 and up), so that no socket bound to port 0 and no RTP port
/// of a node under test takes one between the check and the bind of the process it is for.
const PORT_LOW: u32 = 10_000;
const PORT_SPAN: u32 = 10_000;

/// A port free for both UDP and TCP on every address, never handed out twice by this process
/// (tests in other processes start elsewhere in the range: the start depends on the pid).
pub fn free_port() -> u16 {
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU32::new(std::process::id().wrapping_mul(97)));
    for _ in 0..PORT_SPAN {
        let port = (PORT_LOW + next.fetch_add(1, Ordering::Relaxed) % PORT_SPAN) as u16;
        if is_free(port) {
            return port;
        }
    }
    panic!(
        "no free port between {PORT_LOW} and {}",
        PORT_LOW + PORT_SPAN
    );
}

fn is_free(port: u16) -> bool {
    UdpSocket::bind(("0.0.0.0", port)).is_ok() && TcpListener::bind(("0.0.0.0", port)).is_ok()
}

/// A port for SIPp's `-mp`: SIPp binds it for audio and the one two up for video, and exits
/// if either is taken.
#[allow(dead_code)] // not every test binary starts SIPp with media
pub fn sipp_media_port() -> u16 {
    for _ in 0..1_000 {
        let port = free_port();
        if port.checked_add(2).is_some_and(is_free) {
            return port;
        }
    }
    panic!("no free port whose port two up is free too");
}

/// Of the ports [`free_port`] gives, a SIP port whose next one up is free too, for UDP and TCP
/// (libre, baresip's SIP stack, binds its TLS transport on the port after its `sip_listen`),
/// and the first of two RTP ports clear of both.
#[allow(dead_code)] // not every test binary starts baresip
pub fn sip_and_rtp() -> (u16, u16) {
    for _ in 0..1_000 {
        let sip = free_port();
        let next = sip.saturating_add(1);
        if !is_free(next) {
            continue;
        }
        for _ in 0..1_000 {
            let rtp = free_port();
            if rtp > next || rtp.saturating_add(1) < sip {
                return (sip, rtp);
            }
        }
    }
    panic!("no free SIP port whose next one up is free too");
}

/// Whether something listens on `port` (TCP) or has it bound (UDP), on any address, read
/// from /proc/net so that checking never takes the port itself.
pub fn bound(port: u16, tcp: bool) -> bool {
    let (file, state) = if tcp {
        ("/proc/net/tcp", Some("0A")) // 0A: LISTEN
    } else {
        ("/proc/net/udp", None)
    };
    let table = fs::read_to_string(file).unwrap_or_default();
    let want = format!(":{port:04X}");
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols.get(1).is_some_and(|local| local.ends_with(&want))
            && state.is_none_or(|s| cols.get(3) == Some(&s))
    })
}

/// How a child started: see [`wait_bound`].
pub enum Start {
    /// It has bound its port (and was still running `confirm` later).
    Bound,
    /// It ended first (by itself, or because a port of its was taken).
    Exited(ExitStatus),
    /// Neither within 10 s.
    TimedOut,
}

/// Waits until `child` has bound `port` and is still running `confirm` later (so that the
/// port is its own, not one it failed to take), or has ended.
pub fn wait_bound(child: &mut Child, port: u16, tcp: bool, confirm: Duration) -> Start {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut bound_at: Option<Instant> = None;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Start::Exited(status);
        }
        if bound_at.is_none() && bound(port, tcp) {
            bound_at = Some(Instant::now());
        }
        if bound_at.is_some_and(|at| at.elapsed() >= confirm) {
            return Start::Bound;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Start::TimedOut
}
