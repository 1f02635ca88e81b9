//! Ports for baresip, shared by the test binaries that start it.

use std::net::{TcpListener, UdpSocket};

/// Of the ports `free_port` gives, a SIP port whose next one up is free too, for UDP and TCP
/// (libre, baresip's SIP stack, binds its TLS transport on the port after its `sip_listen`),
/// and the first of two RTP ports clear of both.
pub fn sip_and_rtp(free_port: impl Fn() -> u16) -> (u16, u16) {
    for _ in 0..1_000 {
        let sip = free_port();
        let next = sip.saturating_add(1);
        if UdpSocket::bind(("127.0.0.1", next)).is_err()
            || TcpListener::bind(("127.0.0.1", next)).is_err()
        {
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
