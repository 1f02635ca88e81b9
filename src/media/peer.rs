//! Whose datagrams a session takes as the far end's, and where it sends: the address in the
//! far end's SDP, never an arbitrary first sender. With latching on (`[media] rtp_latching`),
//! the first valid RTP packet from the SDP's IP may name another port, and that source is
//! then the far end for receiving and sending until the SDP names a new address (pure: no
//! socket, no clock).

use std::net::{IpAddr, SocketAddr};

/// The negotiated far end of one RTP session.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The address the far end's SDP last named (a hold with `c=0.0.0.0` keeps the one
    /// before: packets may still come from there, and a resume usually names it again).
    announced: Option<SocketAddr>,
    /// The SDP's current connection address is `0.0.0.0`: nothing is sent.
    on_hold: bool,
    /// Whether the first packet from the SDP's IP may move the far end to its source port.
    latching: bool,
    /// The source the far end was latched onto; the latch is decided by the first packet
    /// from the SDP's IP after each new address, and final until the next one.
    latched: Option<SocketAddr>,
}

impl Peer {
    /// The far end at `addr` (from the SDP; `on_hold` for `c=0.0.0.0`).
    pub fn new(addr: SocketAddr, on_hold: bool, latching: bool) -> Peer {
        Peer {
            announced: (!on_hold).then_some(canonical(addr)),
            on_hold,
            latching,
            latched: None,
        }
    }

    /// The far end's new SDP. A new address starts again from it (and, with latching, lets
    /// its first packet decide again); the same address, or a hold, keeps what was learnt.
    pub fn update(&mut self, addr: SocketAddr, on_hold: bool) {
        self.on_hold = on_hold;
        if on_hold {
            return;
        }
        let addr = canonical(addr);
        if self.announced != Some(addr) {
            self.announced = Some(addr);
            self.latched = None;
        }
    }

    /// Whether a datagram from `from` is the far end's. Everything else is to be dropped
    /// (and counted): it may be an attempt to inject digits or to capture the call's audio.
    pub fn accepts(&self, from: SocketAddr) -> bool {
        let from = canonical(from);
        let Some(announced) = self.announced else {
            return false;
        };
        match self.latched {
            Some(latched) => from == latched,
            None => from == announced || (self.latching && from.ip() == announced.ip()),
        }
    }

    /// A valid RTP packet came from `from`, which [`accepts`](Peer::accepts) took: with
    /// latching on, the first one decides the far end's port.
    pub fn heard(&mut self, from: SocketAddr) {
        if self.latching && self.latched.is_none() && self.accepts(from) {
            self.latched = Some(canonical(from));
        }
    }

    /// Where packets go: the latched source if any, else the SDP's address; nowhere while
    /// the SDP says `c=0.0.0.0`.
    pub fn target(&self) -> Option<SocketAddr> {
        if self.on_hold {
            return None;
        }
        self.latched.or(self.announced)
    }
}

/// `addr` with an IPv4-mapped IPv6 address as plain IPv4, so a dual-stack socket's view of a
/// sender compares equal to the SDP's `IN IP4` address.
fn canonical(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    SocketAddr::new(ip, addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// What the session does with an RTP packet from `from`: whether it is taken.
    fn packet(peer: &mut Peer, from: &str) -> bool {
        let taken = peer.accepts(a(from));
        if taken {
            peer.heard(a(from));
        }
        taken
    }

    #[test]
    fn without_latching_only_the_sdp_address_is_the_far_end() {
        let mut peer = Peer::new(a("192.0.2.10:4000"), false, false);
        assert!(!packet(&mut peer, "198.51.100.7:4000"), "another host");
        assert!(
            !packet(&mut peer, "192.0.2.10:4002"),
            "another port of its host"
        );
        assert!(packet(&mut peer, "192.0.2.10:4000"));
        assert!(
            !packet(&mut peer, "192.0.2.10:4002"),
            "still not after it sent"
        );
        assert_eq!(peer.target(), Some(a("192.0.2.10:4000")));
        assert!(
            packet(&mut peer, "[::ffff:192.0.2.10]:4000"),
            "as seen by a v6 socket"
        );
    }

    #[test]
    fn an_injector_that_sends_first_is_neither_heard_nor_answered() {
        for latching in [false, true] {
            let mut peer = Peer::new(a("192.0.2.10:4000"), false, latching);
            assert!(
                !packet(&mut peer, "203.0.113.66:5000"),
                "latching {latching}"
            );
            assert_eq!(peer.target(), Some(a("192.0.2.10:4000")));
            assert!(packet(&mut peer, "192.0.2.10:4000"));
            assert!(!packet(&mut peer, "203.0.113.66:5000"));
            assert_eq!(peer.target(), Some(a("192.0.2.10:4000")));
        }
    }

    #[test]
    fn latching_takes_the_first_port_at_the_sdp_ip_and_keeps_it() {
        let mut peer = Peer::new(a("192.0.2.10:4000"), false, true);
        assert!(packet(&mut peer, "192.0.2.10:31000"));
        assert_eq!(peer.target(), Some(a("192.0.2.10:31000")));
        // Decided: neither another port nor the SDP's own port moves it again.
        assert!(!packet(&mut peer, "192.0.2.10:31002"));
        assert!(!packet(&mut peer, "192.0.2.10:4000"));
        assert_eq!(peer.target(), Some(a("192.0.2.10:31000")));
    }

    #[test]
    fn latching_onto_the_sdp_address_itself_closes_the_window_too() {
        let mut peer = Peer::new(a("192.0.2.10:4000"), false, true);
        assert!(packet(&mut peer, "192.0.2.10:4000"));
        assert!(!packet(&mut peer, "192.0.2.10:31000"));
        assert_eq!(peer.target(), Some(a("192.0.2.10:4000")));
    }

    #[test]
    fn a_new_address_starts_again_and_the_same_one_keeps_the_latch() {
        let mut peer = Peer::new(a("192.0.2.10:4000"), false, true);
        assert!(packet(&mut peer, "192.0.2.10:31000"));
        peer.update(a("192.0.2.10:4000"), false);
        assert_eq!(
            peer.target(),
            Some(a("192.0.2.10:31000")),
            "same SDP address"
        );
        peer.update(a("192.0.2.20:6000"), false);
        assert_eq!(peer.target(), Some(a("192.0.2.20:6000")));
        assert!(
            !packet(&mut peer, "192.0.2.10:31000"),
            "the old source is gone"
        );
        assert!(packet(&mut peer, "192.0.2.20:6002"));
        assert_eq!(peer.target(), Some(a("192.0.2.20:6002")));
    }

    #[test]
    fn a_hold_sends_nowhere_but_keeps_hearing_the_far_end() {
        let mut peer = Peer::new(a("192.0.2.10:4000"), false, false);
        peer.update(a("0.0.0.0:4000"), true);
        assert_eq!(peer.target(), None);
        assert!(packet(&mut peer, "192.0.2.10:4000"));
        assert!(!packet(&mut peer, "0.0.0.0:4000"));
        peer.update(a("192.0.2.10:4000"), false);
        assert_eq!(peer.target(), Some(a("192.0.2.10:4000")));
    }

    #[test]
    fn only_valid_rtp_latches() {
        let mut peer = Peer::new(a("192.0.2.10:4000"), false, true);
        // A datagram that does not parse is dropped by the session without `heard`.
        assert!(peer.accepts(a("192.0.2.10:31000")));
        assert!(packet(&mut peer, "192.0.2.10:4000"));
        assert!(!peer.accepts(a("192.0.2.10:31000")));
    }

    #[test]
    fn an_answer_on_hold_from_the_start_accepts_nothing_until_an_address_comes() {
        let mut peer = Peer::new(a("0.0.0.0:4000"), true, true);
        assert_eq!(peer.target(), None);
        assert!(!packet(&mut peer, "192.0.2.10:4000"));
        peer.update(a("192.0.2.10:4000"), false);
        assert!(packet(&mut peer, "192.0.2.10:4000"));
    }
}
